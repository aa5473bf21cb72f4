"""Every input class a camera or disk may hold, per entry point: one line naming the file, or the
correct result at the input's own size, channels and bit depth; never a partial output file."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from chain_stand_ins import ChainTestPixelRestorer
from PIL import Image

from mmmofme.utils.image_io import ImageReadError, read_image, restore_any
from mmmofme.utils.io import atomic_path

ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = ROOT / 'tests' / 'configs' / 'tiny_restorer.py'


def pixel_restore(restorer: torch.nn.Module):
    """The expected (untiled) result of a per-pixel restorer on an (H, W, 3) uint8 BGR image."""
    def run(bgr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(bgr[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            y = restorer(x).clamp(0, 1)[0].permute(1, 2, 0).mul(255).round().byte().numpy()
        return np.ascontiguousarray(y[..., ::-1])
    return run


def encoded(image: np.ndarray, ext: str) -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


@pytest.fixture
def inputs(tmp_path):
    """A folder with one file of each input class: name → (bytes written, what the test expects)."""
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (24, 30, 3), dtype=np.uint8)
    folder = tmp_path / 'in'
    folder.mkdir()
    files = {
        'empty.png': b'',
        'truncated.png': encoded(bgr, '.png')[:200],
        'truncated.jpg': encoded(bgr, '.jpg')[:-300],
        'text.jpg': b'this is not an image',
        'text.mp4': b'this is not a video',
        'colour.png': encoded(bgr, '.png'),
        'gray.png': encoded(bgr[..., 0], '.png'),
        'rgba.png': encoded(np.dstack([bgr, rng.integers(0, 256, (24, 30), dtype=np.uint8)]), '.png'),
        'deep16.png': encoded(rng.integers(0, 65536, (24, 30, 3), dtype=np.uint16), '.png'),
        'gray16.png': encoded(rng.integers(0, 65536, (24, 30), dtype=np.uint16), '.png'),
        'one_pixel.png': encoded(bgr[:1, :1], '.png'),
        'odd_257x1023.png': encoded(rng.integers(0, 256, (257, 1023, 3), dtype=np.uint8), '.png'),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    Image.fromarray(bgr[..., ::-1]).convert('P').save(folder / 'palette.png')
    return folder


BAD = {'empty.png': 'empty file', 'truncated.png': 'not a readable image', 'text.jpg': 'not a readable image',
       'truncated.jpg': 'truncated JPEG', 'text.mp4': 'not a readable video'}
IMAGES_BAD = {k: v for k, v in BAD.items() if not k.endswith('.mp4')}


def test_read_image_names_each_bad_file_in_one_line(inputs):
    for name, reason in IMAGES_BAD.items():
        with pytest.raises(ImageReadError) as info:
            read_image(str(inputs / name))
        assert str(info.value).startswith(f'{inputs / name}: {reason}') and '\n' not in str(info.value)
    with pytest.raises(ImageReadError, match='no such image file'):
        read_image(str(inputs / 'absent.png'))
    floats = inputs / 'float.tiff'
    cv2.imwrite(str(floats), np.zeros((4, 4), np.float32))
    with pytest.raises(ImageReadError, match='float32 samples are not supported'):
        read_image(str(floats))


def test_restore_any_keeps_size_channels_and_depth(inputs):
    restore = pixel_restore(ChainTestPixelRestorer(seed=2))
    for name, shape, dtype in [('colour.png', (24, 30, 3), np.uint8), ('palette.png', (24, 30, 3), np.uint8),
                               ('gray.png', (24, 30), np.uint8), ('rgba.png', (24, 30, 4), np.uint8),
                               ('deep16.png', (24, 30, 3), np.uint16), ('gray16.png', (24, 30), np.uint16),
                               ('one_pixel.png', (1, 1, 3), np.uint8)]:
        image = read_image(str(inputs / name))
        out = restore_any(image, restore)
        assert out.shape == shape and out.dtype == dtype, name
    gray = read_image(str(inputs / 'gray.png'))
    np.testing.assert_array_equal(restore_any(gray, restore),
                                  cv2.cvtColor(restore(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)),
                                               cv2.COLOR_BGR2GRAY))
    rgba = read_image(str(inputs / 'rgba.png'))
    out = restore_any(rgba, restore)
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(out[..., :3], restore(rgba[..., :3].copy()))
    deep = read_image(str(inputs / 'deep16.png'))
    eight = (deep.astype(np.float32) / 257).round().astype(np.uint8)
    np.testing.assert_array_equal(restore_any(deep, restore), restore(eight).astype(np.uint16) * 257)


def test_folder_run_goes_past_bad_files_lists_them_and_exits_1(inputs, tmp_path, load_tool, capsys):
    config = tmp_path / 'restorer_cfg.py'
    config.write_text("model = dict(type='MoFMERestorer', generator=dict(type='ChainTestPixelRestorer', "
                      "seed=3), test_cfg=dict(crop_size=32, stride=None))\n")
    restorer = ChainTestPixelRestorer(seed=3)
    checkpoint = tmp_path / 'restorer.pth'
    torch.save(dict(state_dict={f'generator.{k}': v for k, v in restorer.state_dict().items()}), checkpoint)
    out = tmp_path / 'out'
    code = load_tool('deweather').main([str(inputs), '--config', str(config), '--checkpoint', str(checkpoint),
                                        '--out', str(out), '--device', 'cpu'])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    total = len(list(inputs.iterdir()))
    assert err[-1].startswith(f'error: {len(BAD)} of {total} inputs could not be restored (skipped): ')
    assert sorted(err[-1].split('(skipped): ')[1].split(', ')) == sorted(str(inputs / n) for n in BAD)
    for name, reason in BAD.items():
        assert any(f'skipped: {inputs / name}: {reason}' in line for line in err), name
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(p.stem + '.png' for p in inputs.iterdir() if p.name not in BAD)  # no temp files
    restore = pixel_restore(restorer)
    for name in written:  # tiles meet at the aligned last tile: one grey level of rounding
        source = read_image(str(inputs / name))
        result = cv2.imread(str(out / name), cv2.IMREAD_UNCHANGED)
        assert result.shape == source.shape and result.dtype == source.dtype, name
        step = 257 if source.dtype == np.uint16 else 1
        assert np.abs(result.astype(int) - restore_any(source, restore).astype(int)).max() <= step, name


def test_the_tiny_mofme_restores_a_1x1_and_an_odd_frame_at_their_size(tmp_path, load_tool):
    from mmmofme.apis import init_restorer, restore
    model = init_restorer(str(TINY_CONFIG))
    for shape in [(1, 1, 3), (37, 71, 3)]:
        image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
        out = restore(model, image)
        assert out.shape == shape and out.dtype == np.uint8


def test_a_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / 'sub' / 'result.png'
    with pytest.raises(RuntimeError):
        with atomic_path(str(target)) as tmp:
            Path(tmp).write_bytes(b'half of an image')
            raise RuntimeError('killed mid-write')
    assert list((tmp_path / 'sub').iterdir()) == []
    with atomic_path(str(target)) as tmp:
        assert tmp.endswith('.png') and Path(tmp).parent == target.parent
        Path(tmp).write_bytes(b'done')
    assert target.read_bytes() == b'done' and [p.name for p in target.parent.iterdir()] == ['result.png']


def test_a_video_that_fails_midway_leaves_no_output(tmp_path, load_tool):
    deweather = load_tool('deweather')
    video = tmp_path / 'clip.mp4'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5, (32, 24))
    for i in range(4):
        writer.write(np.full((24, 32, 3), 40 * i, np.uint8))
    writer.release()
    calls = []

    def fails_on_third_frame(frame):
        calls.append(frame.shape)
        if len(calls) == 3:
            raise OSError('disk full')
        return frame

    out = tmp_path / 'out'
    with pytest.raises(OSError, match='disk full'):
        deweather.restore_video(fails_on_third_frame, str(video), 'clip.mp4', str(out), side_by_side=True)
    assert sorted(p.name for p in out.rglob('*') if p.is_file()) == []
    deweather.restore_video(lambda f: f, str(video), 'clip.mp4', str(out), side_by_side=True)
    written = sorted(str(p.relative_to(out)) for p in out.rglob('*.mp4'))
    assert written == ['clip.mp4', 'side_by_side/clip.mp4']
