"""Physical limits of the weather renderers."""
import numpy as np
import pytest

from mmmofme.datasets.synthetic import weather_render as W


@pytest.fixture
def scene():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (48, 96, 3), dtype=np.uint8)
    dist = np.tile(np.linspace(2.0, 600.0, 96, dtype=np.float32), (48, 1))
    return img, dist


def _valid(out, img):
    assert out.dtype == np.uint8 and out.shape == img.shape  # uint8 is [0, 255] by construction


@pytest.mark.parametrize('beta', [0.0, 0.005, 0.02, 1.0])
def test_transmission_in_unit_interval(beta):
    d = np.array([0.0, 1.0, 50.0, 600.0, 1e6, -5.0], np.float32)
    t = W.transmission(d, beta)
    assert np.all((t >= 0) & (t <= 1))
    assert t[0] == 1.0 and t[-1] == 1.0  # no distance: no attenuation
    assert np.all(np.diff(t[:5]) <= 0)  # monotone in distance
    if beta > 0:
        np.testing.assert_allclose(t[2], np.exp(-beta * 50.0), rtol=1e-6)


def test_negative_beta_rejected():
    with pytest.raises(ValueError, match='>= 0'):
        W.transmission(np.ones(3), -0.1)


def test_fog_limits(scene):
    img, dist = scene
    np.testing.assert_array_equal(W.render_fog(img, dist, 0.0), img)  # beta = 0: unchanged
    a = np.array([200.0, 210.0, 220.0])
    dense = W.render_fog(img, dist, 5.0, airlight=a)  # t ~ 0 everywhere: pure airlight
    np.testing.assert_array_equal(dense, np.broadcast_to(np.round(a).astype(np.uint8), img.shape))
    mid = W.render_fog(img, dist, 0.01, airlight=a)
    _valid(mid, img)
    # Koschmieder exactly: I = J t + A (1 - t)
    t = np.exp(-0.01 * dist)[..., None]
    np.testing.assert_allclose(mid, img * t + a * (1 - t), atol=0.51)
    # far pixels are closer to the airlight than near ones
    err = np.abs(mid.astype(float) - a).mean(axis=(0, 2))
    assert err[-1] < err[0]


def test_airlight_from_brightest_dark_channel():
    img = np.full((64, 64, 3), 40, np.uint8)
    img[:20, :20] = (230, 235, 240)  # a bright hazy patch (sky)
    np.testing.assert_allclose(W.estimate_airlight(img), (230, 235, 240), atol=1)


def test_rain_limits(scene):
    img, dist = scene
    zero = np.zeros(img.shape[:2], np.float32)
    np.testing.assert_array_equal(W.render_rain(img, dist, 0.02, 0.0, zero), img)  # no veil, no streaks
    np.testing.assert_array_equal(W.render_rain(img, dist, 0.02, 0.01, zero, airlight=(200, 200, 200)),
                                  W.render_fog(img, dist, 0.01, airlight=(200, 200, 200)))  # veil = fog
    streaks = W.rain_streak_layer(48, 96, pattern=3, dropsize=0.01)
    assert streaks.dtype == np.float32 and streaks.min() >= 0 and streaks.max() <= 1 and streaks.max() > 0.3
    np.testing.assert_array_equal(streaks, W.rain_streak_layer(48, 96, 3,
                                                               0.01))  # a pattern is a fixed texture
    assert not np.array_equal(streaks, W.rain_streak_layer(48, 96, 4, 0.01))
    assert not W.rain_streak_layer(48, 96, 3, 0.0).any()
    out = W.render_rain(img, dist, 0.02, 0.0, streaks)
    _valid(out, img)
    assert (out.astype(int) >= img).all() and (out > img).any()  # streaks only add light without veil
    # streaks fade with depth (alpha): compare the brightening near vs far
    flat = np.full_like(img, 60)
    gain = W.render_rain(flat, dist, 0.02, 0.0, np.ones_like(zero)).astype(float) - 60
    assert gain[:, 0].mean() > gain[:, -1].mean() + 50


def test_snow_limits(scene):
    img, dist = scene
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(W.render_snow(img, dist, rng, flakes=(0, 0, 0), veil_beta=0.0), img)
    for level, cfg in W.SNOW_LEVELS.items():
        out = W.render_snow(img, dist, np.random.default_rng(1), **cfg)
        _valid(out, img)
        assert out.astype(float).mean() > img.astype(float).mean()  # snow and its veil brighten
    # flakes of a layer hide only what lies behind them: nothing lands on a surface at 1 m
    near = np.full(img.shape[:2], 1.0, np.float32)
    only_near_layer = W.render_snow(img, near, np.random.default_rng(2), flakes=(500, 200, 0), veil_beta=0.0)
    np.testing.assert_array_equal(only_near_layer, img)


def test_raindrop_limits(scene):
    img, _ = scene
    np.testing.assert_array_equal(W.render_raindrops(img, np.random.default_rng(0), count=0), img)
    out = W.render_raindrops(img, np.random.default_rng(0), count=6, radius=(0.1, 0.2))
    _valid(out, img)
    changed = (out != img).any(axis=2).mean()
    assert 0.02 < changed < 0.9


@pytest.mark.parametrize('fn', ['render_fog', 'render_rain', 'render_snow', 'render_raindrops'])
def test_renderers_reject_non_uint8(fn, scene):
    img, dist = scene
    bad = img.astype(np.float32)
    args = {'render_fog': (bad, dist, 0.01), 'render_rain': (bad, dist, 0.01, 0.01, np.zeros(img.shape[:2])),
            'render_snow': (bad, dist, np.random.default_rng(0)),
            'render_raindrops': (bad, np.random.default_rng(0))}[fn]
    with pytest.raises(ValueError, match='uint8'):
        getattr(W, fn)(*args)
