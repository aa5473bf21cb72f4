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
