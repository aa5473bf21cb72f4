"""PerWeatherMetric: mmagic PSNR / SSIM per weather on images of known PSNR."""
import math

import numpy as np
import pytest
import torch

from mmmofme.mmagic.metrics import PerWeatherMetric


def _sample(weather, offset, seed):
    rng = np.random.default_rng(seed)
    gt = torch.from_numpy(rng.integers(20, 200, (3, 16, 16)).astype(np.float32))
    return dict(gt_img=gt, output=dict(pred_img=gt + offset), weather=weather)


def psnr_of_offset(offset):
    return 20 * math.log10(255 / offset)


def test_per_weather_psnr_and_average():
    metric = PerWeatherMetric()
    metric.dataset_meta = dict(weathers=('rain', 'fog', 'snow'))
    batch = [_sample('fog', 4.0, 0), _sample('rain', 10.0, 1), _sample('rain', 10.0, 2)]
    metric.process(None, batch)
    metric.process(None, [_sample('fog', 16.0, 3)])
    res = metric.evaluate(4)
    rain, fog = psnr_of_offset(10), (psnr_of_offset(4) + psnr_of_offset(16)) / 2  # mmagic averages per image
    assert res['rain/PSNR'] == pytest.approx(rain, abs=1e-4)
    assert res['fog/PSNR'] == pytest.approx(fog, abs=1e-4)
    assert res['PSNR'] == pytest.approx((rain + fog) / 2, abs=1e-4)  # each weather counts once
    assert 'snow/PSNR' not in res
    assert list(res) == ['rain/PSNR', 'fog/PSNR', 'PSNR', 'rain/SSIM', 'fog/SSIM', 'SSIM']  # dataset order
    assert 0 < res['fog/SSIM'] < 1 and res['rain/SSIM'] < 1
    assert metric.results == []  # evaluate() resets, ready for the next validation


def test_custom_metrics_and_prefix():
    metric = PerWeatherMetric(sample_metrics=[dict(type='PSNR', convert_to='Y'), dict(type='MAE')],
                              prefix='restore')
    metric.process(None, [_sample('snow', 8.0, 0)])
    res = metric.evaluate(1)
    assert set(res) == {'restore/snow/PSNR', 'restore/PSNR', 'restore/snow/MAE', 'restore/MAE'}
    assert res['restore/snow/MAE'] == pytest.approx(8.0 / 255, rel=1e-3)


def test_missing_weather_is_explained():
    metric = PerWeatherMetric()
    sample = _sample('rain', 1.0, 0)
    del sample['weather']
    with pytest.raises(KeyError, match=r"PackInputs\(meta_keys="):
        metric.process(None, [sample])


def _wet(weather, offset, seed, drop=None):
    """A ``_sample`` and its input: the gt, with ``drop`` = ((y, x), change) added to one pixel."""
    sample = _sample(weather, offset, seed)
    weathered = sample['gt_img'].clone()
    if drop is not None:
        (y, x), change = drop
        weathered[:, y, x] += change
    return weathered.to(torch.uint8), sample


def test_drop_psnr_only_for_raindrop_and_old_keys_unchanged():
    frames = [_wet('rain', 10.0, 1, ((0, 0), 30)), _wet('raindrop', 4.0, 2, ((3, 3), 30)),
              _wet('raindrop', 4.0, 3), _wet('fog', 16.0, 4, ((5, 5), 30))]
    plain = PerWeatherMetric()
    drops = PerWeatherMetric(
        sample_metrics=[dict(type='PSNR'), dict(type='SSIM'), dict(type='DropRegionPSNR')],
        metric_weathers=dict(PSNR_drops=['raindrop']))
    for metric in (plain, drops):
        metric.dataset_meta = dict(weathers=('rain', 'fog', 'snow', 'raindrop'))
        for weathered, sample in frames:
            metric.process(dict(inputs=[weathered]), [sample])
    old, new = plain.evaluate(len(frames)), drops.evaluate(len(frames))
    assert list(new) == list(old) + ['raindrop/PSNR_drops']  # no mean key, no other weather
    assert all(new[k] == old[k] for k in old)  # 'PSNR', 'SSIM' and every weather's value as before
    # one drop pixel (the second raindrop frame has none), off by 4 on every channel
    assert new['raindrop/PSNR_drops'] == pytest.approx(psnr_of_offset(4), abs=1e-9)


def test_drop_psnr_absent_when_raindrop_has_no_drop_pixel():
    metric = PerWeatherMetric(sample_metrics=[dict(type='PSNR'), dict(type='DropRegionPSNR')],
                              metric_weathers=dict(PSNR_drops=['raindrop']))
    for weathered, sample in (_wet('raindrop', 4.0, 0), _wet('rain', 2.0, 1, ((0, 0), 30))):
        metric.process(dict(inputs=[weathered]), [sample])
    res = metric.evaluate(2)
    assert set(res) == {'raindrop/PSNR', 'rain/PSNR', 'PSNR'}
    assert res['raindrop/PSNR'] == pytest.approx(psnr_of_offset(4), abs=1e-4)


def test_metric_weathers_names_an_inner_metric():
    with pytest.raises(ValueError, match='PSNR_drops'):
        PerWeatherMetric(metric_weathers=dict(PSNR_drops=['raindrop']))


def test_limited_metric_sees_only_its_weathers_in_a_mixed_batch():
    """One batch of rain + raindrop: the drop metric scores the raindrop sample alone;
    the rain sample's input (here of another size) is never read."""
    rain, raindrop = _wet('rain', 10.0, 1), _wet('raindrop', 2.0, 2, ((1, 2), 30))
    metric = PerWeatherMetric(sample_metrics=[dict(type='PSNR'), dict(type='DropRegionPSNR')],
                              metric_weathers=dict(PSNR_drops=['raindrop']))
    inputs = [torch.zeros(3, 8, 8, dtype=torch.uint8), raindrop[0]]
    metric.process(dict(inputs=inputs, data_samples=[None, None]), [rain[1], raindrop[1]])
    assert [set(r) for r in metric.results] == [{'PSNR', 'weather'}, {'PSNR', 'PSNR_drops', 'weather'}]
    assert metric.results[1]['PSNR_drops'] == (3 * 2.0 ** 2, 3)
    res = metric.evaluate(2)
    assert res['raindrop/PSNR_drops'] == pytest.approx(psnr_of_offset(2), abs=1e-9)
    assert res['PSNR'] == pytest.approx((psnr_of_offset(10) + psnr_of_offset(2)) / 2, abs=1e-4)
