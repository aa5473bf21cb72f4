"""init_restorer / restore: restorer and chain configs, Config objects, weights-only loading, tiling."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

import mmmofme  # noqa: F401
from mmmofme.apis import init_restorer, restore, tiled_restore
from mmmofme.models import MoFMEViT
from mmmofme.utils.checkpoint import CheckpointError

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(type='MoFMEViT', num_experts=4, top_k=2, embed_dim=32, depth=1, img_size=32, num_heads=2,
            head_dim=16, stem_channels=8, head_channels=16)


def _saved_weights(tmp_path, prefix: str) -> tuple:
    torch.manual_seed(1)
    model = MoFMEViT(**{k: v for k, v in TINY.items() if k != 'type'}).eval()
    path = tmp_path / 'weights.pth'
    torch.save(dict(state_dict={f'{prefix}{k}': v for k, v in model.state_dict().items()}), path)
    return model, str(path)


def test_restorer_config_file_with_an_mmagic_checkpoint(tmp_path):
    model, ckpt = _saved_weights(tmp_path, 'generator.')
    config = tmp_path / 'restorer.py'
    config.write_text(f'model = dict(type="MoFMERestorer", generator={TINY!r}, '
                      'test_cfg=dict(crop_size=32, stride=16))\n')
    restorer = init_restorer(str(config), ckpt)
    assert not restorer.training
    assert restorer.restore_cfg == dict(mode='slide', crop_size=(32, 32), stride=(16, 16), max_batch=8)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(restorer.state_dict()[key], value)

    image = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    out = restore(restorer, image)
    assert out.shape == (40, 56, 3) and out.dtype == np.uint8
    x = torch.from_numpy(image[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        expected = tiled_restore(model, x, 32, 16).clamp(0, 1)[0].permute(1, 2, 0).mul(255).round().byte()
    np.testing.assert_array_equal(out, expected.numpy()[..., ::-1])
    image_file = tmp_path / 'in.png'
    cv2.imwrite(str(image_file), image)
    np.testing.assert_array_equal(restore(restorer, image_file), out)


def test_chain_config_object_and_tiling_overrides(tmp_path):
    _, ckpt = _saved_weights(tmp_path, 'restorer.')
    chain = Config(dict(model=dict(type='DeweatherSegmentor', restorer=TINY, segmentor=dict(type='X'),
                                   restore_cfg=dict(mode='slide', crop_size=(32, 32), stride=(24, 24)))))
    restorer = init_restorer(chain, ckpt, restore_cfg=dict(max_batch=2))
    assert restorer.restore_cfg == dict(mode='slide', crop_size=(32, 32), stride=(24, 24), max_batch=2)
    assert init_restorer(chain, restore_cfg=dict(mode='whole')).restore_cfg == dict(mode='whole')


def test_errors_name_the_file(tmp_path):
    config = Config(dict(model=dict(type='MoFMERestorer', generator=TINY)))
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'garbage')
    with pytest.raises(CheckpointError, match=str(bad)):
        init_restorer(config, str(bad))
    restorer = init_restorer(config)
    assert restorer.restore_cfg['crop_size'] == (32, 32)  # no test tiling: the training crop
    with pytest.raises(ValueError, match='nope.png: no such image file'):
        restore(restorer, tmp_path / 'nope.png')
    with pytest.raises(ValueError, match=r'\(H, W, 3\) uint8'):
        restore(restorer, np.zeros((4, 4), np.uint8))


def test_task_weathers_follow_the_datasets_rule():
    from mmmofme.apis import task_weathers
    from mmmofme.datasets.layouts import DatasetLayoutError, task_weather_order

    assert task_weather_order('synthetic') == ('rain', 'fog', 'snow', 'raindrop')
    assert task_weather_order('synthetic', weathers=['snow', 'rain']) == ('snow', 'rain')
    assert task_weather_order('synthetic', weathers=[]) == ('rain', 'fog', 'snow', 'raindrop')
    assert task_weather_order('raincityscapes', ['rain'], task_weathers=['fog', 'rain']) == ('fog', 'rain')
    with pytest.raises(DatasetLayoutError, match='needs an explicit `weathers` list'):
        task_weather_order('cityscapes')

    def config(dataset):
        return Config(dict(train_dataloader=dict(dataset=dataset)))
    # the dataset's default layout when the config names none; wrappers are looked through
    assert task_weathers(config(dict(type='WeatherPairedDataset'))) == ('rain', 'fog', 'snow', 'raindrop')
    wrapped = dict(type='RepeatDataset', times=2, dataset=dict(type='mmmofme.WeatherPairedDataset',
                                                               layout='rainhazecityscapes'))
    assert task_weathers(config(wrapped)) == ('rain', 'fog')
    # a ConcatDataset's task ids are its first part's (the parts share them through task_weathers)
    concat = dict(type='ConcatDataset', datasets=[dict(type='WeatherPairedDataset', weathers=['snow', 'fog']),
                                                  wrapped])
    assert task_weathers(config(concat)) == ('snow', 'fog')
    # a chain config's perception dataset says nothing about the restorer's task ids
    chain = Config.fromfile(str(ROOT / 'configs' / 'synthetic' / 'mofme-fastscnn_synthetic.py'))
    assert chain.train_dataloader.dataset.get('weathers')  # it does name weathers, of its own
    assert task_weathers(chain) == ()
