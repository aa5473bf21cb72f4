"""``near-clean`` kinds: not weather. A deweathering stage in front of a driving stack must leave these
frames alone (or improve them): the clean frame itself, faint fog, and everyday camera effects.

Photometric shifts act on linear light (sRGB decoded with its standard transfer curve, IEC 61966-2-1).
"""
import cv2
import numpy as np

from ..synthetic.weather_render import _motion_kernel, render_fog
from .external import corrupt
from .registry import register_kind

FAMILY = 'near-clean'


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    """uint8 sRGB -> linear light in [0, 1] (float32)."""
    x = image.astype(np.float32) / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light (clipped to [0, 1]) -> uint8 sRGB."""
    x = np.clip(linear, 0.0, 1.0)
    x = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


@register_kind('clean', FAMILY, 'none', 'the clean frame itself')
def clean(image, distance, rng):
    return image.copy()


@register_kind('fog-faint', FAMILY, 'weather_render', 'very mild homogeneous fog (visibility 1.5 km)',
               beta=0.002)
def fog_faint(image, distance, rng, beta):
    return render_fog(image, distance, beta)


@register_kind('ic-fog-1', FAMILY, 'imagecorruptions', 'ImageNet-C fog at severity 1 (the mildest)',
               corruption='fog', severity=1)
def ic_fog_1(image, distance, rng, corruption, severity):
    return corrupt(image, rng, corruption, severity)


@register_kind('exposure-up', FAMILY, 'linear light', 'over-exposure: linear light x 2^0.5', ev=0.5)
def exposure_up(image, distance, rng, ev):
    return linear_to_srgb(srgb_to_linear(image) * 2.0 ** ev)


@register_kind('exposure-down', FAMILY, 'linear light', 'under-exposure: linear light x 2^-0.5', ev=-0.5)
def exposure_down(image, distance, rng, ev):
    return linear_to_srgb(srgb_to_linear(image) * 2.0 ** ev)


@register_kind('white-balance', FAMILY, 'linear light', 'white-balance error: red / blue gains of a '
               'warm (tungsten preset) or cool cast, drawn per frame', gains=((1.15, 1.0, 0.85),
                                                                             (0.87, 1.0, 1.15)))
def white_balance(image, distance, rng, gains):
    gain = np.asarray(gains[int(rng.integers(len(gains)))], np.float32).reshape(1, 1, 3)
    return linear_to_srgb(srgb_to_linear(image) * gain)


@register_kind('sensor-noise', FAMILY, 'linear light', 'Poisson shot noise (full well 1000 e- at white) '
               'plus Gaussian read noise (3 e-) on linear light', full_well=1000.0, read_noise=3.0)
def sensor_noise(image, distance, rng, full_well, read_noise):
    electrons = rng.poisson(srgb_to_linear(image) * full_well).astype(np.float32)
    electrons += rng.normal(0.0, read_noise, electrons.shape).astype(np.float32)
    return linear_to_srgb(electrons / full_well)


@register_kind('jpeg', FAMILY, 'opencv', 'JPEG compression at quality 30 (OpenCV / libjpeg)', quality=30)
def jpeg(image, distance, rng, quality):
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError('OpenCV could not encode a JPEG')
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@register_kind('motion-blur', FAMILY, 'opencv', 'camera motion blur: a 7 px line kernel (at 256 rows) at '
               '60-120 deg from vertical', length=7.0, angle=(60.0, 120.0))
def motion_blur(image, distance, rng, length, angle):
    kernel = _motion_kernel(length * image.shape[0] / 256, float(rng.uniform(*angle)))
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT)
