"""``external`` kinds: weather from independent renderers in maintained libraries on the registry.

* ``albumentations`` (Buslaev et al., 2020): ``RandomRain``, ``RandomFog``, ``RandomSnow``,
  ``RandomSunFlare`` (image-space effects, no depth);
* ``imagecorruptions`` (Michaelis et al., 2019; the ImageNet-C corruptions of Hendrycks & Dietterich,
  ICLR 2019): ``fog`` (plasma-fractal haze), ``snow``, ``frost`` (photographed ice textures),
  ``spatter`` (mud / water splashes), at a severity 1..5.

imagecorruptions draws from the global ``numpy.random`` state, albumentations from a generator of each
transform; :func:`seeded_global_state` seeds all of them from the kind's own generator (and restores the
global state afterwards), so every image is a pure function of its (seed, frame, kind) like the
project's own renderers.
"""
import random
from contextlib import contextmanager
from importlib.metadata import version
from typing import Iterator

import numpy as np

from .registry import register_kind

FAMILY = 'external'


@contextmanager
def seeded_global_state(rng: np.random.Generator) -> Iterator[int]:
    """Seed ``random`` and ``numpy.random`` from ``rng`` for the block (which gets the seed); restore
    both afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    seed = int(rng.integers(1 << 31))
    random.seed(seed)
    np.random.seed(seed)
    try:
        yield seed
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def library_versions() -> dict:
    """Versions of the external renderers (recorded in the tree's metadata and the docs)."""
    return {lib: version(lib) for lib in ('albumentations', 'imagecorruptions')}


# ---------------------------------------------------------------------------------------------------
# albumentations
# ---------------------------------------------------------------------------------------------------
def _albumentations(transform: str, image: np.ndarray, rng: np.random.Generator, **kwargs) -> np.ndarray:
    import albumentations as A  # deferred: heavy import, only the writer needs it
    augment = getattr(A, transform)(p=1.0, **kwargs)
    with seeded_global_state(rng) as seed:
        augment.set_random_seed(seed)
        return augment(image=image)['image']


def _scaled(value: float, image: np.ndarray, ref: int = 256) -> int:
    """A size in px given at 256 rows, scaled to the image height."""
    return max(1, int(round(value * image.shape[0] / ref)))


@register_kind('alb-rain', FAMILY, 'albumentations', 'RandomRain, heavy type: straight grey streaks over a '
               'darkened, blurred frame', slant=(-15, 15), drop_length=20, drop_width=1,
               drop_color=(200, 200, 200), blur_value=5, brightness_coefficient=0.7, rain_type='heavy')
def alb_rain(image, distance, rng, slant, drop_length, drop_width, drop_color, blur_value,
             brightness_coefficient, rain_type):
    return _albumentations('RandomRain', image, rng, slant_range=slant,
                           drop_length=_scaled(drop_length, image), drop_width=drop_width,
                           drop_color=drop_color, blur_value=blur_value,
                           brightness_coefficient=brightness_coefficient, rain_type=rain_type)


@register_kind('alb-fog', FAMILY, 'albumentations', 'RandomFog: overlapping blurred white blobs (no depth)',
               fog_coef=(0.8, 1.0), alpha_coef=0.3)
def alb_fog(image, distance, rng, fog_coef, alpha_coef):
    return _albumentations('RandomFog', image, rng, fog_coef_range=fog_coef, alpha_coef=alpha_coef)


@register_kind('alb-snow', FAMILY, 'albumentations', 'RandomSnow, bleach method: lighter surfaces bleached '
               'white (snow cover), no flakes', snow_point=(0.2, 0.4), brightness_coeff=2.0)
def alb_snow(image, distance, rng, snow_point, brightness_coeff):
    return _albumentations('RandomSnow', image, rng, snow_point_range=snow_point,
                           brightness_coeff=brightness_coeff, method='bleach')


@register_kind('alb-sunflare', FAMILY, 'albumentations', 'RandomSunFlare, physics-based: glare of a low sun '
               'in the upper half with lens-flare ghosts', flare_roi=(0.0, 0.0, 1.0, 0.5), src_radius=250,
               num_flare_circles=(4, 8), method='physics_based')
def alb_sunflare(image, distance, rng, flare_roi, src_radius, num_flare_circles, method):
    return _albumentations('RandomSunFlare', image, rng, flare_roi=flare_roi,
                           src_radius=_scaled(src_radius, image), num_flare_circles_range=num_flare_circles,
                           method=method)


# ---------------------------------------------------------------------------------------------------
# imagecorruptions (ImageNet-C)
# ---------------------------------------------------------------------------------------------------
def corrupt(image: np.ndarray, rng: np.random.Generator, corruption: str, severity: int) -> np.ndarray:
    """``imagecorruptions.corrupt`` of an RGB uint8 image, seeded from ``rng``."""
    from imagecorruptions import corrupt as ic_corrupt  # deferred: imports scikit-image and scipy
    with seeded_global_state(rng):
        out = ic_corrupt(image, corruption_name=corruption, severity=severity)
    return np.ascontiguousarray(out[:image.shape[0], :image.shape[1]], dtype=np.uint8)


def _register_corruption(name: str, corruption: str, severity: int, description: str,
                         family: str = FAMILY) -> None:
    register_kind(name, family, 'imagecorruptions', description, corruption=corruption,
                  severity=severity)(lambda image, distance, rng, corruption, severity:
                                     corrupt(image, rng, corruption, severity))


_register_corruption('ic-fog-3', 'fog', 3, 'ImageNet-C fog: plasma-fractal haze, severity 3 (no depth)')
_register_corruption('ic-snow-3', 'snow', 3, 'ImageNet-C snow: motion-blurred flake field over a whitened '
                     'frame, severity 3')
_register_corruption('ic-frost-3', 'frost', 3, 'ImageNet-C frost: photographed ice on the lens, severity 3')
_register_corruption('ic-spatter-3', 'spatter', 3, 'ImageNet-C spatter: water splashes on the lens, '
                     'severity 3')
