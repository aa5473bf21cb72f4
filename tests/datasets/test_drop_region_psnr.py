"""DropRegionPSNR / mmmofme.evaluation.drop_region: PSNR inside the drops on hand-built frames."""
import math

import numpy as np
import pytest
import torch

from mmmofme.evaluation.drop_region import drop_mask, masked_sse, pooled_psnr
from mmmofme.mmagic.metrics import DropRegionPSNR


def psnr_of_mse(mse):
    return 10 * math.log10(255 ** 2 / mse)


def frame(drops, errors, size=4, outside_error=50.0):
    """(input, gt, pred) (3, size, size) of a grey gt: ``drops`` = {(y, x): input change in channel 1},
    ``errors`` = {(y, x): prediction error on every channel}; the prediction is off by ``outside_error``
    everywhere else (outside the drops: never scored)."""
    gt = torch.full((3, size, size), 100.0)
    weathered = gt.clone()
    for (y, x), change in drops.items():
        weathered[1, y, x] += change
    pred = gt + outside_error
    for (y, x), err in errors.items():
        pred[:, y, x] = gt[:, y, x] + err
    return weathered.to(torch.uint8), gt.to(torch.uint8), pred


def run(metric, frames):
    """Process ``frames`` one batch each (list inputs, as mmengine's pseudo_collate), then evaluate."""
    for weathered, gt, pred in frames:
        metric.process(dict(inputs=[weathered]), [dict(gt_img=gt, output=dict(pred_img=pred))])
    return metric.compute_metrics(metric.results)


def test_known_mask_and_errors_give_the_exact_psnr():
    # (0, 0) and (2, 2) change by more than 8 grey levels; (1, 1) by exactly 8: outside the mask
    weathered, gt, pred = frame({(0, 0): 20, (1, 1): 8, (2, 2): 9}, {(0, 0): 3.0, (2, 2): 0.0})
    assert drop_mask(weathered.numpy(), gt.numpy(), channel_axis=-3).sum() == 2
    res = run(DropRegionPSNR(), [(weathered, gt, pred)])
    assert res['PSNR_drops'] == pytest.approx(psnr_of_mse(3 * 9 / 6), abs=1e-9)  # 2 pixels x 3 channels


def test_squared_errors_are_pooled_over_frames_by_their_pixels():
    one = frame({(0, 0): 30}, {(0, 0): 2.0})  # 1 drop pixel, error 2
    three = frame({(0, 0): 30, (1, 2): 30, (3, 3): 30}, {(0, 0): 10.0, (1, 2): 10.0, (3, 3): 10.0})
    res = run(DropRegionPSNR(), [one, three])
    pooled = (3 * 2 ** 2 + 9 * 10 ** 2) / 12
    assert res['PSNR_drops'] == pytest.approx(psnr_of_mse(pooled), abs=1e-9)
    per_frame_mean = (psnr_of_mse(4) + psnr_of_mse(100)) / 2
    assert abs(res['PSNR_drops'] - per_frame_mean) > 3  # not the mean of per-frame PSNRs


def test_frames_without_drop_pixels_add_nothing_and_none_at_all_gives_no_key():
    dry = frame({(1, 1): 8}, {})  # below the threshold: no mask pixel
    wet = frame({(0, 0): 30}, {(0, 0): 5.0})
    assert run(DropRegionPSNR(), [dry, wet, dry])['PSNR_drops'] == pytest.approx(psnr_of_mse(25), abs=1e-9)
    assert run(DropRegionPSNR(), [dry, dry]) == {}
    assert math.isnan(pooled_psnr(0.0, 0))


def test_threshold_option_and_stacked_inputs():
    weathered, gt, pred = frame({(0, 0): 20, (2, 2): 9}, {(0, 0): 3.0, (2, 2): 6.0})
    metric = DropRegionPSNR(threshold=10)  # only (0, 0) is in
    metric.process(dict(inputs=weathered[None]), [dict(gt_img=gt, output=dict(pred_img=pred))])
    assert metric.compute_metrics(metric.results)['PSNR_drops'] == pytest.approx(psnr_of_mse(9), abs=1e-9)


def test_input_is_brought_to_the_channel_order_of_the_gt():
    """At test time mmagic's preprocessor turns gt to BGR while the raw input stays as loaded (RGB)."""
    gt_bgr = torch.tensor([10.0, 100.0, 200.0])[:, None, None].expand(3, 4, 4).clone()
    weathered_rgb = gt_bgr.flip(0).clone()
    weathered_rgb[0, 0, 0] += 30  # one drop pixel (R channel)
    pred = gt_bgr + 4
    sample = dict(gt_img=gt_bgr, output=dict(pred_img=pred), img_channel_order='rgb',
                  gt_img_output_channel_order='BGR')
    metric = DropRegionPSNR()
    metric.process(dict(inputs=[weathered_rgb.to(torch.uint8)]), [sample])
    assert metric.results[0]['PSNR_drops'] == (16.0 * 3, 3)  # one pixel, not the whole frame
    assert metric.compute_metrics(metric.results)['PSNR_drops'] == pytest.approx(psnr_of_mse(16), abs=1e-9)


def test_needs_the_inputs():
    weathered, gt, pred = frame({(0, 0): 20}, {})
    with pytest.raises(ValueError, match='inputs'):
        DropRegionPSNR().process(None, [dict(gt_img=gt, output=dict(pred_img=pred))])


def test_helpers_agree_across_channel_layouts():
    """The demo's (H, W, C) frames and the metric's (C, H, W) tensors give the same numbers."""
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 256, (5, 6, 3)).astype(np.uint8)
    weathered = np.clip(clean.astype(int) + rng.integers(-12, 13, clean.shape), 0, 255).astype(np.uint8)
    restored = np.clip(clean.astype(int) + rng.integers(-3, 4, clean.shape), 0, 255).astype(np.uint8)
    hwc = drop_mask(weathered, clean)
    chw = drop_mask(weathered.transpose(2, 0, 1), clean.transpose(2, 0, 1), channel_axis=-3)
    assert 0 < hwc.sum() < hwc.size and np.array_equal(hwc, chw)
    assert masked_sse(restored, clean, hwc) == masked_sse(restored.transpose(2, 0, 1),
                                                           clean.transpose(2, 0, 1), chw, channel_axis=-3)
    sse, count = masked_sse(restored, clean, hwc)
    expected = ((restored.astype(float) - clean)[hwc] ** 2).sum()  # uint8 inputs do not wrap around
    assert sse == pytest.approx(expected) and count == 3 * hwc.sum()
