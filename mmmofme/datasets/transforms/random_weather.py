"""Domain randomisation: physical weather rendered on the clean target at load time.

Pre-rendered training sets hold a handful of parameter settings per weather (RainCityscapes: 36 rain
settings, Foggy Cityscapes: three fog densities), and a restorer trained on them learns those settings:
it dehazes a light fog as if it were the densest one it saw. :class:`RandomWeather` draws every
physical parameter from a continuous range that starts at the clear-weather limit, so the restorer sees
every strength from none to heavy, and a fresh rendering (streak texture, flakes, drops, airlight tint)
every time a frame is loaded.

The ranges stay inside the phenomena of :mod:`mmmofme.datasets.synthetic.weather_render` (homogeneous
fog up to visibility 150 m, white rain streaks within ±25° of vertical, dry snow, lens drops, one
weather per frame), so denser or patchy fog, other streak angles or colours, wet snow and mixed weather
remain unseen for transfer tests.
"""
import os.path as osp
from typing import Dict, Mapping, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS

from ..synthetic.weather_render import (
    SNOW_LEVELS,
    estimate_airlight,
    rain_streak_layer,
    render_fog,
    render_rain,
    render_raindrops,
    render_snow,
)
from .worker_rng import worker_rng

__all__ = ['WEATHER_RANGES', 'LoadSyntheticDepth', 'RandomWeather', 'sample_weather']

# (low, high) of each physical parameter; 'log' marks log-uniform draws (fog density spans 20x).
WEATHER_RANGES: Dict[str, Dict[str, tuple]] = {
    'fog': dict(beta=(0.001, 0.02, 'log'), airlight_tint=(0.9, 1.05)),
    'rain': dict(alpha=(0.005, 0.03), beta=(0.0, 0.012), dropsize=(0.002, 0.01), density=(0.5, 3.0)),
    'snow': dict(flake_scale=(0.2, 1.0), veil_beta=(0.0, 0.012)),
    'raindrop': dict(count=(3, 32), radius_low=(0.03, 0.045), radius_high=(0.07, 0.12)),
    'clean': {},
}


def _draw(rng: np.random.Generator, spec: tuple) -> float:
    low, high = spec[0], spec[1]
    if len(spec) > 2 and spec[2] == 'log':
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return float(rng.uniform(low, high))


def sample_weather(kind: str, image: np.ndarray, distance: np.ndarray, rng: np.random.Generator,
                   ranges: Optional[Mapping[str, Mapping[str, tuple]]] = None) -> Tuple[np.ndarray, dict]:
    """Render one ``kind`` of weather with parameters drawn from ``ranges``.

    Args:
        kind: ``'fog'``, ``'rain'``, ``'snow'``, ``'raindrop'`` or ``'clean'`` (the image itself).
        image: Clear ``(H, W, 3)`` uint8 RGB image.
        distance: ``(H, W)`` metres from the camera.
        rng: Random generator (parameters and rendering).
        ranges: Per-kind parameter ranges (default :data:`WEATHER_RANGES`).

    Returns:
        The weathered ``(H, W, 3)`` uint8 image and the drawn parameters.
    """
    ranges = WEATHER_RANGES if ranges is None else ranges
    if kind not in ranges:
        raise ValueError(f'unknown weather kind {kind!r}; known: {sorted(ranges)}')
    p = {name: _draw(rng, spec) for name, spec in ranges[kind].items()}
    h, w = image.shape[:2]
    if kind == 'clean':
        return image.copy(), p
    if kind == 'raindrop':
        count = int(round(p['count']))
        return render_raindrops(image, rng, count=count, radius=(p['radius_low'], p['radius_high'])), p
    airlight = estimate_airlight(image) * p.pop('airlight_tint', 1.0)
    if kind == 'fog':
        return render_fog(image, distance, p['beta'], np.clip(airlight, 0, 255)), p
    if kind == 'rain':
        pattern = int(rng.integers(1 << 30))  # a fresh streak texture and wind angle every time
        streaks = rain_streak_layer(h, w, pattern, p['dropsize'], density=p['density'])
        return render_rain(image, distance, p['alpha'], p['beta'], streaks, airlight), p
    flakes = tuple(int(round(n * p['flake_scale'])) for n in SNOW_LEVELS['heavy']['flakes'])
    return render_snow(image, distance, rng, flakes=flakes, veil_beta=p['veil_beta']), p


@TRANSFORMS.register_module()
class LoadSyntheticDepth(BaseTransform):
    """Load the metric depth map the synthetic generator writes beside each clean frame.

    ``{root}/leftImg8bit/{split}/{city}/{frame}_leftImg8bit.png`` → ``{root}/depth/{split}/{city}/
    {frame}_depth.png``, read as metres into ``results['depth']`` (H, W) float32.

    Args:
        key: Results key of the clean image path's owner (``'gt'`` reads ``results['gt_path']``).
    """

    def __init__(self, key: str = 'gt') -> None:
        self.key = key

    def transform(self, results: dict) -> dict:
        from ..synthetic.generator import read_depth
        clean = results[f'{self.key}_path']
        folder, name = osp.split(clean)
        parts = folder.replace('\\', '/').split('/')
        if 'leftImg8bit' not in parts or not name.endswith('_leftImg8bit.png'):
            raise ValueError(f'{clean}: not a clean Cityscapes-layout frame (.../leftImg8bit/<split>/<city>/'
                             f'<frame>_leftImg8bit.png); depth maps exist for the synthetic default only')
        parts[len(parts) - 1 - parts[::-1].index('leftImg8bit')] = 'depth'
        path = osp.join('/'.join(parts), name.replace('_leftImg8bit.png', '_depth.png'))
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: depth map missing (make the data with '
                                    f'tools/dataset_converters/make_synthetic_cityscapes.py)')
        results['depth'] = read_depth(path)
        return results


@TRANSFORMS.register_module()
class RandomWeather(BaseTransform):
    """Render random weather on the clean ``gt`` into ``img`` (domain randomisation of the renderer).

    Each call draws a kind by ``kind_weights`` (``'clean'`` makes an identity pair) and every physical
    parameter from ``ranges`` (see :data:`WEATHER_RANGES`). Needs ``results['depth']``
    (:class:`LoadSyntheticDepth`). Sets ``results['weather']`` to the drawn kind and
    ``results['weather_params']`` to its parameters. Photometric changes of ``gt`` made before this
    transform (exposure, white balance) are kept in both images: they teach the restorer to remove
    weather under any lighting and to leave lighting alone.

    Args:
        kind_weights: Relative frequency of each kind.
        ranges: Overrides of :data:`WEATHER_RANGES`, per kind and parameter, e.g.
            ``dict(fog=dict(beta=(0.005, 0.02, 'log')))``.
        seed: Seed of the transform's generator, combined with the dataloader worker id so workers draw
            different weather. ``None`` seeds from numpy's global generator, which mmengine seeds per
            worker from the run's ``randomness.seed``.
    """

    def __init__(self, kind_weights: Optional[Mapping[str, float]] = None,
                 ranges: Optional[Mapping[str, Mapping[str, tuple]]] = None,
                 seed: Optional[int] = None) -> None:
        self.ranges = {kind: dict(spec) for kind, spec in WEATHER_RANGES.items()}
        for kind, spec in (ranges or {}).items():
            if kind not in self.ranges:
                raise ValueError(f'RandomWeather: unknown kind {kind!r} in ranges; '
                                 f'known: {sorted(self.ranges)}')
            unknown = set(spec) - set(self.ranges[kind])
            if unknown:
                raise ValueError(f'RandomWeather: unknown {kind} parameters {sorted(unknown)}; known: '
                                 f'{sorted(self.ranges[kind])}')
            self.ranges[kind].update({name: tuple(v) for name, v in spec.items()})
        weights = dict(kind_weights or {kind: 1.0 for kind in self.ranges})
        unknown = set(weights) - set(self.ranges)
        if unknown or not weights or min(weights.values()) < 0 or sum(weights.values()) <= 0:
            raise ValueError(f'RandomWeather: kind_weights must be non-negative weights of '
                             f'{sorted(self.ranges)}, got {weights}')
        self.kinds = list(weights)
        self.probs = np.asarray([weights[k] for k in self.kinds], np.float64) / sum(weights.values())
        self.seed = seed
        self._rng: Optional[np.random.Generator] = None

    @property
    def rng(self) -> np.random.Generator:
        # Created lazily so each dataloader worker (a forked copy) seeds its own stream.
        if self._rng is None:
            self._rng = worker_rng(self.seed)
        return self._rng

    def transform(self, results: dict) -> dict:
        if 'depth' not in results:
            raise KeyError('RandomWeather needs results["depth"]: put LoadSyntheticDepth before it')
        clean = results['gt']
        if not clean.flags.writeable:  # e.g. ColorJitter returns a read-only view of a PIL image
            clean = results['gt'] = clean.copy()
        kind = self.kinds[int(self.rng.choice(len(self.kinds), p=self.probs))]
        results['img'], params = sample_weather(kind, clean, results['depth'], self.rng, self.ranges)
        results['weather'] = kind
        results['weather_params'] = params
        # The rendered input inherits the target's loading record: mmagic's data preprocessor reads
        # `img_channel_order` to decide whether to swap channels (a missing key means BGR).
        for key in ('channel_order', 'color_type'):
            if f'gt_{key}' in results:
                results[f'img_{key}'] = results[f'gt_{key}']
        if 'ori_gt_shape' in results:
            results['ori_img_shape'] = results['ori_gt_shape']
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(kinds={dict(zip(self.kinds, self.probs.round(3).tolist()))}, '
                f'seed={self.seed})')
