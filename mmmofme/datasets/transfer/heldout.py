"""``generator-heldout`` kinds: the project's own weather physics (``synthetic/weather_render.py``) outside
the ranges and phenomena the restorer trains on.

Training (``synthetic/generator.py`` defaults): homogeneous fog beta in {0.005, 0.01, 0.02} 1/m; white
rain streaks at -25..25 deg from vertical, drop size 0.01, density 1..2.5 per 1000 px, rain veil beta
<= 0.01; dry snow (small opaque flakes, wind -35..35 deg); raindrops on the lens. Each kind below leaves
those ranges in one named way.
"""
import cv2
import numpy as np

from ..synthetic.weather_render import (
    estimate_airlight,
    rain_streak_layer,
    render_fog,
    render_rain,
    render_snow,
)
from .registry import register_kind

FAMILY = 'generator-heldout'
RENDERER = 'weather_render'


def smooth_noise(height: int, width: int, rng: np.random.Generator, cell: float) -> np.ndarray:
    """A smooth random field in [0, 1]: value noise on a grid of ``cell`` px, bicubic up-sampled."""
    gh, gw = int(np.ceil(height / cell)) + 3, int(np.ceil(width / cell)) + 3
    grid = rng.uniform(0.0, 1.0, (gh, gw)).astype(np.float32)
    field = cv2.resize(grid, (int(gw * cell), int(gh * cell)), interpolation=cv2.INTER_CUBIC)
    field = cv2.GaussianBlur(field, (0, 0), cell / 4)
    y0, x0 = int(cell), int(cell)
    field = field[y0:y0 + height, x0:x0 + width]
    lo, hi = float(field.min()), float(field.max())
    return (field - lo) / max(hi - lo, 1e-6)


@register_kind('fog-dense', FAMILY, RENDERER, 'homogeneous fog 1.5-3x denser than the densest trained '
               '(visibility 50-100 m)', beta=(0.03, 0.06))
def fog_dense(image, distance, rng, beta):
    return render_fog(image, distance, float(rng.uniform(*beta)))


@register_kind('fog-patchy', FAMILY, RENDERER, 'non-homogeneous fog: beta modulated by a smooth noise '
               'field (banks of fog next to clear air)', beta=0.02, modulation=(0.1, 2.0), cell_frac=0.25)
def fog_patchy(image, distance, rng, beta, modulation, cell_frac):
    h, w = distance.shape
    field = smooth_noise(h, w, rng, cell=max(4.0, cell_frac * w))
    beta_map = beta * (modulation[0] + (modulation[1] - modulation[0]) * field)
    return render_fog(image, distance, beta_map.astype(np.float32))


@register_kind('rain-slant', FAMILY, RENDERER, 'wind-driven rain: streaks at 40-55 deg from vertical, '
               '1.6x longer than trained', angle=(40.0, 55.0), dropsize=0.02, alpha=0.01, beta=0.005)
def rain_slant(image, distance, rng, angle, dropsize, alpha, beta):
    h, w = distance.shape
    side = 1 if rng.uniform() < 0.5 else -1
    streaks = rain_streak_layer(h, w, int(rng.integers(1 << 30)), dropsize,
                                angle=side * float(rng.uniform(*angle)))
    return render_rain(image, distance, alpha, beta, streaks)


@register_kind('rain-tinted', FAMILY, RENDERER, 'dense short drizzle streaks lit orange by sodium street '
               'lamps', colour=(255, 165, 70), dropsize=0.004, density=3.5, alpha=0.01, beta=0.008)
def rain_tinted(image, distance, rng, colour, dropsize, density, alpha, beta):
    h, w = distance.shape
    streaks = rain_streak_layer(h, w, int(rng.integers(1 << 30)), dropsize, density=density)
    return render_rain(image, distance, alpha, beta, streaks, streak_colour=colour)


@register_kind('snow-wet', FAMILY, RENDERER, 'wet snow: few large, soft, translucent flakes, grey veil',
               flakes=(250, 70), layers=(((1.5, 3.0), 1.2, 10.0), ((4.0, 7.0), 3.0, 3.0)), opacity=0.5,
               veil_beta=0.006, colour=(215, 218, 224))
def snow_wet(image, distance, rng, flakes, layers, opacity, veil_beta, colour):
    return render_snow(image, distance, rng, flakes=flakes, veil_beta=veil_beta, colour=colour, layers=layers,
                       opacity=opacity)


@register_kind('snow-blizzard', FAMILY, RENDERER, 'dry blizzard: twice the heaviest trained flake count, '
               'wind 55-75 deg, dense veil', flakes=(3000, 800, 60), veil_beta=0.02, wind=(55.0, 75.0))
def snow_blizzard(image, distance, rng, flakes, veil_beta, wind):
    side = 1 if rng.uniform() < 0.5 else -1
    lo, hi = sorted((side * wind[0], side * wind[1]))
    return render_snow(image, distance, rng, flakes=flakes, veil_beta=veil_beta, wind=(lo, hi))


@register_kind('rain-fog', FAMILY, RENDERER, 'mixed weather: fog of beta 0.015-0.03 behind trained-like '
               'rain streaks', fog_beta=(0.015, 0.03), dropsize=0.01, alpha=0.01, beta=0.005)
def rain_fog(image, distance, rng, fog_beta, dropsize, alpha, beta):
    h, w = distance.shape
    airlight = estimate_airlight(image)
    foggy = render_fog(image, distance, float(rng.uniform(*fog_beta)), airlight)
    streaks = rain_streak_layer(h, w, int(rng.integers(1 << 30)), dropsize)
    return render_rain(foggy, distance, alpha, beta, streaks, airlight)
