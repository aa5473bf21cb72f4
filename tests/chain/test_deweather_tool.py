"""tools/deweather.py: folders with a corrupt file, side-by-side output, videos, bad checkpoints."""
import cv2
import numpy as np
import pytest
import torch
from chain_stand_ins import ChainTestPixelRestorer

from mmmofme.apis.restorer import resolve_tiling, restorer_and_tiling


@pytest.fixture(scope='module')
def deweather(load_tool):
    return load_tool('deweather')


@pytest.fixture
def restorer_files(tmp_path):
    """A restorer config (mmagic layout, 32-pixel test tiles) and an mmagic-style checkpoint."""
    config = tmp_path / 'restorer_cfg.py'
    config.write_text("model = dict(type='MoFMERestorer',\n"
                      "             generator=dict(type='ChainTestPixelRestorer', seed=3),\n"
                      "             test_cfg=dict(crop_size=32, stride=None))\n")
    restorer = ChainTestPixelRestorer(seed=3)
    checkpoint = tmp_path / 'restorer.pth'
    torch.save(dict(state_dict={f'generator.{k}': v for k, v in restorer.state_dict().items()}), checkpoint)
    return str(config), str(checkpoint), restorer


def expected_output(restorer: torch.nn.Module, bgr: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(bgr[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        y = restorer(x)[0].permute(1, 2, 0).mul(255).round().byte().numpy()
    return y[..., ::-1]


def test_folder_with_a_corrupt_file(deweather, restorer_files, tmp_path, capsys):
    config, checkpoint, restorer = restorer_files
    folder = tmp_path / 'in'
    (folder / 'sub').mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = {'a.png': rng.integers(0, 256, (40, 70, 3), dtype=np.uint8),
              'sub/b.jpg': rng.integers(0, 256, (33, 50, 3), dtype=np.uint8)}
    for name, image in images.items():
        cv2.imwrite(str(folder / name), image)
    (folder / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    (folder / 'notes.txt').write_text('not an image: ignored')
    out = tmp_path / 'out'

    code = deweather.main([str(folder), '--config', config, '--checkpoint', checkpoint, '--out', str(out),
                           '--side-by-side', '--device', 'cpu'])
    err = capsys.readouterr().err
    assert code == 1
    assert 'broken.png' in err and '1 of 3 inputs' in err
    # tiles overlap at the borders and are averaged: allow one grey level of rounding
    restored = cv2.imread(str(out / 'a.png')).astype(int)
    assert np.abs(restored - expected_output(restorer, images['a.png'])).max() <= 1
    decoded_b = cv2.imread(str(folder / 'sub/b.jpg'))  # jpg: compare with what was actually decoded
    restored_b = cv2.imread(str(out / 'sub/b.png')).astype(int)
    assert np.abs(restored_b - expected_output(restorer, decoded_b)).max() <= 1
    side = cv2.imread(str(out / 'side_by_side' / 'a.png'))
    assert side.shape == (40, 140, 3)
    assert not (out / 'broken.png').exists()


def test_video(deweather, restorer_files, tmp_path, capsys):
    config, checkpoint, _ = restorer_files
    video = tmp_path / 'clip.mp4'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5, (64, 48))
    if not writer.isOpened():
        pytest.skip('this OpenCV build cannot write mp4v')
    for i in range(3):
        writer.write(np.full((48, 64, 3), 60 * i, dtype=np.uint8))
    writer.release()
    out = tmp_path / 'out'
    code = deweather.main([str(video), '--config', config, '--checkpoint', checkpoint, '--out', str(out),
                           '--side-by-side', '--crop-size', '32', '--stride', '16', '--device', 'cpu'])
    assert code == 0, capsys.readouterr().err
    for path, width in ((out / 'clip.mp4', 64), (out / 'side_by_side' / 'clip.mp4', 128)):
        capture = cv2.VideoCapture(str(path))
        assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 3 and capture.get(cv2.CAP_PROP_FRAME_WIDTH) == width
        capture.release()


def test_tiling_flags_and_defaults(deweather):
    required = ['x', '--config', 'c', '--checkpoint', 'k', '--out', 'o']
    flags = lambda *extra: deweather.tiling_overrides(deweather.parse_args(required + list(extra)))
    assert resolve_tiling(dict(img_size=64), None, flags())['crop_size'] == (64, 64)
    config_tiling = dict(crop_size=(32, 48), stride=(16, 24))
    assert resolve_tiling({}, config_tiling, flags()) == dict(mode='slide', crop_size=(32, 48),
                                                              stride=(16, 24), max_batch=8)
    given = flags('--crop-size', '40', '80', '--max-batch', '2')
    tiling = resolve_tiling(dict(img_size=64), config_tiling, given)
    assert tiling == dict(mode='slide', crop_size=(40, 80), stride=(40, 80), max_batch=2)


def test_reads_the_restorer_and_tiling_of_a_chain_config():
    from mmengine.config import Config

    chain = Config(dict(model=dict(type='DeweatherSegmentor', restorer=dict(type='MoFMEViT', img_size=32),
                                   restore_cfg=dict(mode='slide', crop_size=(32, 32), stride=(16, 16)))))
    restorer, tiling = restorer_and_tiling(chain)
    assert restorer['type'] == 'MoFMEViT' and tiling['stride'] == (16, 16)
    with pytest.raises(ValueError, match='neither'):
        restorer_and_tiling(Config(dict(model=dict(type='EncoderDecoder'))))


def test_mofme_restores_an_image_to_its_size(deweather, tmp_path):
    from mmmofme.models.archs.mofme_vit import MoFMEViT

    tiny = dict(experts=dict(type='FeatureModulationExperts'), num_experts=4, top_k=2, embed_dim=32, depth=1,
                img_size=32)
    config = tmp_path / 'mofme_cfg.py'
    config.write_text(f"model = dict(generator=dict(type='MoFMEViT', **{tiny!r}))\n")
    checkpoint = tmp_path / 'mofme.pth'
    torch.save(MoFMEViT(**tiny).state_dict(), checkpoint)
    image = tmp_path / 'rainy.png'
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 256, (50, 90, 3), dtype=np.uint8))
    code = deweather.main([str(image), '--config', str(config), '--checkpoint', str(checkpoint),
                           '--out', str(tmp_path / 'out'), '--device', 'cpu'])
    assert code == 0
    assert cv2.imread(str(tmp_path / 'out' / 'rainy.png')).shape == (50, 90, 3)


def test_bad_checkpoint_stops_before_any_input(deweather, restorer_files, tmp_path, capsys):
    config, _, _ = restorer_files
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'garbage')
    image = tmp_path / 'a.png'
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    code = deweather.main([str(image), '--config', config, '--checkpoint', str(bad),
                           '--out', str(tmp_path / 'o'), '--device', 'cpu'])
    assert code == 2 and str(bad) in capsys.readouterr().err
