"""PairedCameraDistortion: one draw for both images of a pair, the same noise field, ranges honoured."""
import numpy as np
import pytest

from mmmofme.datasets.transforms import CAMERA_DISTORTION_RANGES, PairedCameraDistortion, distort_pair


def _frame(seed: int = 0, size=(64, 96)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = np.linspace(30, 220, size[1])[None, :, None] * np.ones((size[0], 1, 3))
    return np.clip(smooth + rng.normal(0, 20, (*size, 3)), 0, 255).astype(np.uint8)


def test_identity_pairs_stay_identity_pairs_for_every_operation():
    frame = _frame()
    rng = np.random.default_rng(1)
    for op in CAMERA_DISTORTION_RANGES:
        (img, gt), applied = distort_pair([frame, frame.copy()], rng, {op: CAMERA_DISTORTION_RANGES[op]},
                                          op_prob=1.0)
        assert list(applied) == [op]
        assert img.dtype == np.uint8 and img.shape == frame.shape
        assert np.array_equal(img, gt), op            # one draw and one noise field for both images
        assert not np.array_equal(img, frame), op     # and it changed the frame


def test_both_images_get_the_same_change():
    # a pair that differs (weather on the input): the per-pixel change equals the change of a lone image
    clean = _frame(0)
    weathered = np.clip(clean.astype(int) + 40, 0, 255).astype(np.uint8)
    ranges = dict(brightness=(1.2, 1.2), colour_gain=(0.9, 1.1))
    (img, gt), applied = distort_pair([weathered, clean], np.random.default_rng(3), ranges, op_prob=1.0)
    gains = np.asarray(applied['colour_gain'])
    expect_gt = np.clip(np.clip(clean * 1.2, 0, 255).round() * gains, 0, 255).round()
    assert np.abs(gt.astype(float) - expect_gt).max() <= 1
    expect_img = np.clip(np.clip(weathered * 1.2, 0, 255).round() * gains, 0, 255).round()
    assert np.abs(img.astype(float) - expect_img).max() <= 1


def test_noise_has_the_drawn_strength_and_blur_smooths():
    frame = np.full((128, 128, 3), 128, np.uint8)
    (noisy, _), applied = distort_pair([frame, frame], np.random.default_rng(0),
                                       dict(noise_std=(6.0, 6.0)), op_prob=1.0)
    assert applied == dict(noise_std=6.0)
    assert noisy.astype(float).std() == pytest.approx(6.0, rel=0.05)
    sharp = _frame(2)
    (blurred, _), _ = distort_pair([sharp, sharp], np.random.default_rng(0), dict(blur_sigma=(1.5, 1.5)),
                                   op_prob=1.0)
    assert np.abs(np.diff(blurred.astype(float), axis=1)).mean() < 0.6 * np.abs(
        np.diff(sharp.astype(float), axis=1)).mean()


def test_transform_probability_seed_and_bad_arguments():
    frame = _frame()
    keep = PairedCameraDistortion(prob=0.0, seed=0)(dict(img=frame.copy(), gt=frame.copy()))
    assert np.array_equal(keep['img'], frame) and keep['camera_distortion'] == {}
    runs = [PairedCameraDistortion(prob=1.0, op_prob=1.0, seed=5)(dict(img=frame.copy(), gt=frame.copy()))
            for _ in range(2)]
    assert np.array_equal(runs[0]['img'], runs[1]['img'])
    assert set(runs[0]['camera_distortion']) == set(CAMERA_DISTORTION_RANGES)
    only = PairedCameraDistortion(prob=1.0, op_prob=1.0, ranges=dict(noise_std=None, jpeg_quality=None,
                                                                      blur_sigma=None), seed=0)
    assert 'noise_std' not in only(dict(img=frame.copy(), gt=frame.copy()))['camera_distortion']
    # about half the samples are changed at prob 0.5
    t = PairedCameraDistortion(prob=0.5, seed=7)
    changed = sum(bool(t(dict(img=frame.copy(), gt=frame.copy()))['camera_distortion']) for _ in range(400))
    assert 150 < changed < 250
    with pytest.raises(ValueError, match='unknown operation'):
        PairedCameraDistortion(ranges=dict(fisheye=(0, 1)))
    with pytest.raises(ValueError, match='prob'):
        PairedCameraDistortion(prob=1.5)
    with pytest.raises(ValueError, match='differ in size'):
        distort_pair([frame, frame[:10]], np.random.default_rng(0))


def test_switched_off_it_draws_nothing_from_numpy():
    # the shipped config carries the transform at prob 0: training must stay bit-identical without it
    frame = _frame()
    np.random.seed(3)
    expected = np.random.rand(3)
    np.random.seed(3)
    out = PairedCameraDistortion(prob=0.0)(dict(img=frame.copy(), gt=frame.copy()))
    assert np.array_equal(np.random.rand(3), expected)
    assert np.array_equal(out['img'], frame) and out['camera_distortion'] == {}
