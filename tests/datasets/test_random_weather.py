"""Domain-randomised weather at load time: every kind renders, parameters stay in range, clean is identity."""
import numpy as np
import pytest

from mmmofme.datasets.transforms import WEATHER_RANGES, LoadSyntheticDepth, RandomWeather, sample_weather


def scene(h: int = 64, w: int = 128):
    rng = np.random.default_rng(0)
    image = rng.integers(40, 200, (h, w, 3), dtype=np.uint8)
    distance = np.tile(np.linspace(5, 200, h, dtype=np.float32)[:, None], (1, w))
    return image, distance


@pytest.mark.parametrize('kind', ['fog', 'rain', 'snow', 'raindrop'])
def test_every_kind_changes_the_image_and_keeps_shape_and_dtype(kind):
    image, distance = scene()
    out, params = sample_weather(kind, image, distance, np.random.default_rng(1))
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - image).mean() > 0.5
    for name, value in params.items():
        low, high = WEATHER_RANGES[kind][name][:2]
        assert low <= value <= high, (name, value)


def test_clean_is_an_identity_pair():
    image, distance = scene()
    out, _ = sample_weather('clean', image, distance, np.random.default_rng(0))
    assert np.array_equal(out, image) and out is not image


def test_fog_density_is_drawn_log_uniformly_over_its_range():
    image, distance = scene(8, 8)
    betas = [sample_weather('fog', image, distance, np.random.default_rng(i))[1]['beta'] for i in range(400)]
    low, high = WEATHER_RANGES['fog']['beta'][:2]
    assert min(betas) >= low and max(betas) <= high
    # log-uniform: half of the draws below the geometric mean of the bounds
    assert abs(np.mean(np.asarray(betas) < np.sqrt(low * high)) - 0.5) < 0.08


def test_transform_draws_kinds_by_weight_and_tags_the_sample():
    image, distance = scene(32, 32)
    t = RandomWeather(kind_weights=dict(fog=3, clean=1), seed=0)
    kinds = [t(dict(gt=image, depth=distance))['weather'] for _ in range(200)]
    assert set(kinds) == {'fog', 'clean'}
    assert abs(kinds.count('fog') / 200 - 0.75) < 0.08
    out = t(dict(gt=image, depth=distance))
    assert out['img'].shape == image.shape and out['gt'] is image


def test_a_read_only_target_is_copied_so_later_in_place_flips_work():
    image, distance = scene(16, 16)
    image.flags.writeable = False
    out = RandomWeather(kind_weights=dict(clean=1), seed=0)(dict(gt=image, depth=distance))
    assert out['gt'].flags.writeable and out['img'].flags.writeable
    np.testing.assert_array_equal(out['gt'], image)


def test_transform_range_overrides_apply():
    image, distance = scene(16, 16)
    t = RandomWeather(kind_weights=dict(fog=1), ranges=dict(fog=dict(beta=(0.01, 0.01))), seed=0)
    assert t(dict(gt=image, depth=distance))['weather_params']['beta'] == pytest.approx(0.01)


@pytest.mark.parametrize('kwargs, message', [
    (dict(kind_weights=dict(hail=1)), 'kind_weights'), (dict(kind_weights=dict(fog=-1)), 'kind_weights'),
    (dict(ranges=dict(hail=dict(beta=(0, 1)))), "unknown kind 'hail'"),
    (dict(ranges=dict(fog=dict(density=(0, 1)))), 'unknown fog parameters')])
def test_bad_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RandomWeather(**kwargs)


def test_missing_depth_is_a_clear_error():
    with pytest.raises(KeyError, match='LoadSyntheticDepth'):
        RandomWeather(seed=0)(dict(gt=scene()[0]))


def test_depth_is_found_beside_a_synthetic_frame(tmp_path):
    import cv2
    frame = tmp_path / 'leftImg8bit/train/city/c_000000_leftImg8bit.png'
    depth = tmp_path / 'depth/train/city/c_000000_depth.png'
    depth.parent.mkdir(parents=True)
    cv2.imwrite(str(depth), np.full((4, 6), 2560, np.uint16))
    from mmmofme.datasets.synthetic.generator import read_depth
    out = LoadSyntheticDepth()(dict(gt_path=str(frame)))
    np.testing.assert_array_equal(out['depth'], read_depth(str(depth)))
    with pytest.raises(FileNotFoundError, match='depth map missing'):
        LoadSyntheticDepth()(dict(gt_path=str(tmp_path / 'leftImg8bit/val/city/x_leftImg8bit.png')))
    with pytest.raises(ValueError, match='not a clean Cityscapes-layout frame'):
        LoadSyntheticDepth()(dict(gt_path=str(tmp_path / 'frame.png')))


def test_the_rendered_input_inherits_the_targets_channel_order():
    """mmagic's preprocessor swaps channels of an input without `img_channel_order` (BGR assumed)."""
    image, distance = scene(16, 16)
    out = RandomWeather(kind_weights=dict(fog=1), seed=0)(
        dict(gt=image, depth=distance, gt_channel_order='rgb', gt_color_type='color',
             ori_gt_shape=(16, 16, 3)))
    assert (out['img_channel_order'], out['img_color_type']) == ('rgb', 'color')
    assert out['ori_img_shape'] == (16, 16, 3)


def test_dr_config_feeds_the_model_the_rendered_frame_in_rgb():
    """Through the shipped config and mmagic's preprocessor an identity draw reaches the model unswapped
    (the target is loaded as in the fixed-weather config, so both share RGB)."""
    import torch
    from mmagic.registry import MODELS
    from mmengine.config import Config
    from mmengine.dataset import Compose
    from mmengine.registry import DefaultScope

    import mmmofme.mmagic  # noqa: F401
    cfg = Config.fromfile('configs/synthetic/mofme-dr_synthetic.py')
    pipeline = [t for t in cfg.train_dataloader.dataset.pipeline
                if t['type'] not in ('LoadImageFromFile', 'LoadSyntheticDepth', 'ColorJitter', 'Flip')]
    for t in pipeline:
        if t['type'] == 'RandomWeather':
            t['kind_weights'] = dict(clean=1)
    image, distance = scene(128, 128)
    image = image.copy()
    image[..., 0] = 250  # a strongly red frame: a channel swap would show
    with DefaultScope.overwrite_default_scope('mmagic'):
        data = Compose(pipeline)(dict(gt=image, depth=distance, gt_channel_order='rgb', gt_color_type='color',
                                      ori_gt_shape=image.shape, scale=1, task_id=0))
        preprocessor = MODELS.build(cfg.model.data_preprocessor)
    batch = preprocessor(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]))
    expected = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    torch.testing.assert_close(batch['inputs'], expected)
