"""Physical weather rendering on a clean RGB image with its metric distance map.

Each model follows the dataset it imitates; all take and return ``(H, W, 3)`` uint8 RGB images, keep
the shape, and reduce exactly to the input in their clear-weather limit (``beta=0``, no streaks, no
flakes, no drops).

* Fog (Foggy Cityscapes; Sakaridis, Dai, Van Gool, "Semantic Foggy Scene Understanding with Synthetic
  Data", IJCV 2018, Sec. 3): Koschmieder's law ``I = J * t + L * (1 - t)``, ``t = exp(-beta * l)``
  with ``l`` the distance of the scene point from the camera and ``beta`` in {0.005, 0.01, 0.02} 1/m
  (visibility 600 m, 300 m, 150 m). The atmospheric light ``L`` is estimated from the clear image with
  the dark channel prior (He, Sun, Tang, CVPR 2009), as they do.
* Rain (RainCityscapes; Hu, Fu, Zhu, Heng, "Depth-attentional Features for Single-image Rain
  Removal", CVPR 2019, Sec. 3): rain-streak layers whose visibility decays with depth,
  ``S(x) = s(x) * exp(-alpha * max(d1, d(x)))`` (far streaks are hidden by the rain's fog), and rain
  accumulation/veiling ``t = exp(-beta * d)``, composed as in the heavy-rain model of Yang et al.
  (JORDER, CVPR 2017) ``I = t * (J + sum_i S_i) + (1 - t) * A``. The file-name parameters map as:
  ``alpha`` streak attenuation (1/m), ``beta`` veil density (1/m), ``dropsize`` streak size (streak
  length ~ ``H * (0.03 + 4 * dropsize)``), ``pattern`` the seed of a reusable streak texture (like
  RainCityscapes' 12 patterns shared by all frames).
* Snow (Snow100K; Liu et al., "DesnowNet", TIP 2018): flake masks of three sizes, motion-blurred along
  the wind, composited as ``I = z * C + (1 - z) * J'`` (``z`` flake opacity, ``C`` snow colour); the
  snowfall veil ``J' = Koschmieder(J, beta_veil, bright airlight)`` follows the veiling term of Chen et
  al. (JSTASR, ECCV 2020; CSD, ICCV 2021). Each flake layer sits at a nominal distance and only
  covers scene points behind it.
* Raindrops on the lens (RainDrop; Qian et al., "Attentive GAN for Raindrop Removal", CVPR 2018):
  ``I = (1 - M) * B + M * R`` with ``M`` the soft drop mask and ``R`` the light seen through each drop:
  a drop acts as a small fish-eye lens showing an inverted, minified, defocused view of its
  surroundings (Roser & Geiger, "Video-based raindrop detection", ICCV-W 2009), darker at the rim.
"""
import zlib
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

__all__ = ['SNOW_LEVELS', 'SNOW_LAYERS', 'RAINDROP_LEVELS', 'transmission', 'estimate_airlight',
           'koschmieder', 'render_fog', 'rain_streak_layer', 'render_rain', 'render_snow', 'render_raindrops']

ArrayLike = Union[np.ndarray, Sequence[float]]

SNOW_LEVELS: Dict[str, dict] = {
    # flakes per 512x256 image for (small, medium, large) layers, and the snowfall veil (1/m)
    'light': dict(flakes=(500, 120, 15), veil_beta=0.004),
    'medium': dict(flakes=(900, 250, 30), veil_beta=0.007),
    'heavy': dict(flakes=(1500, 420, 55), veil_beta=0.012),
}
RAINDROP_LEVELS: Dict[str, dict] = {
    # drops per 512x256 image, and drop radius range as a fraction of the image height
    'light': dict(count=(6, 12), radius=(0.035, 0.08)),
    'medium': dict(count=(12, 20), radius=(0.04, 0.10)),
    'heavy': dict(count=(20, 32), radius=(0.045, 0.12)),
}
#: (radius range px at 256 rows, defocus blur px, nominal distance m) of the far, mid and near flake layer
SNOW_LAYERS: Tuple[Tuple[Tuple[float, float], float, float], ...] = (
    ((0.5, 1.0), 0.0, 25.0), ((1.0, 2.0), 0.6, 8.0), ((2.2, 4.0), 1.5, 2.0))
_STREAK_MIN_DEPTH = 3.0  # d1 of Hu et al.: streaks closer than this are not brighter
_STREAK_GAIN = 0.85  # peak streak radiance relative to white


def _check_image(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'expected an (H, W, 3) uint8 image, got {image.dtype} {image.shape}')
    return image


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def transmission(distance: np.ndarray, beta: Union[float, np.ndarray]) -> np.ndarray:
    """``exp(-beta * distance)`` in [0, 1] (distance in metres, beta in 1/m; negative distances count as 0).

    ``beta`` is one coefficient (homogeneous fog) or an ``(H, W)`` map of them (non-homogeneous fog: the
    mean attenuation along each pixel's ray).

    Raises:
        ValueError: If ``beta`` is negative anywhere.
    """
    if np.any(np.asarray(beta) < 0):
        raise ValueError(f'attenuation coefficient must be >= 0, got min {np.min(beta)}')
    return np.exp(-beta * np.maximum(distance, 0).astype(np.float32)).astype(np.float32)


def estimate_airlight(image: np.ndarray, patch: Optional[int] = None, top: float = 0.001) -> np.ndarray:
    """Atmospheric light by the dark channel prior (He et al. 2009).

    The mean colour of the ``top`` fraction of pixels with the brightest dark channel (min over colour
    channels and a ``patch`` x ``patch`` window; default 15 px at 1024 rows, scaled with the height).

    Returns:
        ``(3,)`` float32 RGB in 0..255.
    """
    image = _check_image(image)
    h = image.shape[0]
    patch = patch or max(3, int(round(15 * h / 1024)) | 1)
    dark = cv2.erode(image.min(axis=2), np.ones((patch, patch), np.uint8))
    n = max(1, int(dark.size * top))
    idx = np.argpartition(dark.ravel(), -n)[-n:]
    return image.reshape(-1, 3)[idx].astype(np.float32).mean(axis=0)


def koschmieder(image: np.ndarray, t: np.ndarray, airlight: ArrayLike) -> np.ndarray:
    """``I = J * t + A * (1 - t)`` for a transmission map ``t`` (H, W) and RGB airlight ``A``."""
    j = _check_image(image).astype(np.float32)
    t3 = np.clip(t, 0.0, 1.0)[..., None]
    a = np.asarray(airlight, np.float32).reshape(1, 1, -1)
    return _to_uint8(j * t3 + a * (1.0 - t3))


def render_fog(image: np.ndarray, distance: np.ndarray, beta: Union[float, np.ndarray],
               airlight: Optional[ArrayLike] = None) -> np.ndarray:
    """Homogeneous fog of attenuation ``beta`` (1/m) as in Foggy Cityscapes.

    Args:
        image: Clear ``(H, W, 3)`` uint8 RGB image.
        distance: ``(H, W)`` metres from the camera.
        beta: Attenuation coefficient; 0 returns the image unchanged. An ``(H, W)`` map gives
            non-homogeneous fog (see :func:`transmission`).
        airlight: RGB atmospheric light (default: dark-channel estimate from ``image``).
    """
    if airlight is None:
        airlight = estimate_airlight(image)
    return koschmieder(image, transmission(distance, beta), airlight)


def _motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    """Normalised line kernel of ``length`` px at ``angle_deg`` from vertical (motion blur)."""
    size = max(3, int(np.ceil(length)) | 1)
    k = np.zeros((size, size), np.float32)
    c = size // 2
    dx = np.sin(np.deg2rad(angle_deg)) * (length / 2)
    dy = np.cos(np.deg2rad(angle_deg)) * (length / 2)
    cv2.line(k, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))), 1.0, 1,
             cv2.LINE_AA)
    return k / max(float(k.sum()), 1e-6)


def _pattern_seed(pattern: Union[int, str]) -> int:
    text = str(pattern)
    return int(text) if text.isdigit() else zlib.crc32(text.encode())


def rain_streak_layer(height: int, width: int, pattern: Union[int, str], dropsize: float,
                      density: Optional[float] = None, angle: Optional[float] = None) -> np.ndarray:
    """A rain-streak texture in [0, 1], a pure function of its arguments (one per RainCityscapes pattern).

    Two layers are summed: a near one (longer, brighter, sparser) and a far one (short, dim, dense),
    both slanted by the pattern's wind angle and motion-blurred along it.

    Args:
        height: Image height in pixels.
        width: Image width in pixels.
        pattern: Pattern id (seeds angle, density and streak positions).
        dropsize: Streak size parameter of the RainCityscapes names (0.002..0.01); 0 gives no streaks.
        density: Streaks per 1000 pixels (default drawn from the pattern, 1.0..2.5).
        angle: Wind angle of the streaks in degrees from vertical (default drawn from the pattern,
            -25..25).
    """
    if dropsize <= 0:
        return np.zeros((height, width), np.float32)
    rng = np.random.default_rng([_pattern_seed(pattern), int(round(dropsize * 1e6)), height, width])
    drawn_angle = rng.uniform(-25.0, 25.0)  # drawn even when given: the streak positions stay the same
    angle = drawn_angle if angle is None else angle
    density = rng.uniform(1.0, 2.5) if density is None else density
    base_len = height * (0.03 + 4.0 * dropsize)
    layer = np.zeros((height, width), np.float32)
    for frac, len_scale, gain, thick in ((0.25, 1.0, 1.0, 1 + (height >= 512)), (0.75, 0.45, 0.5, 1)):
        n = int(density * frac * height * width / 1000)
        xs, ys = rng.uniform(0, width, n), rng.uniform(0, height, n)
        lengths = base_len * len_scale * rng.uniform(0.6, 1.4, n)
        vals = gain * rng.uniform(0.5, 1.0, n)
        ang = np.deg2rad(angle + rng.uniform(-3, 3, n))
        dx, dy = np.sin(ang) * lengths / 2, np.cos(ang) * lengths / 2
        canvas = np.zeros_like(layer)
        for x, y, hx, hy, v in zip(xs, ys, dx, dy, vals):
            cv2.line(canvas, (int(x - hx), int(y - hy)), (int(x + hx), int(y + hy)), float(v), thick,
                     cv2.LINE_AA)
        canvas = cv2.filter2D(canvas, -1, _motion_kernel(max(3.0, base_len * len_scale * 0.3), angle))
        layer += cv2.GaussianBlur(canvas, (0, 0), 0.6)
    return np.clip(layer * 2.0, 0.0, 1.0)


def render_rain(image: np.ndarray, distance: np.ndarray, alpha: float, beta: float, streaks: np.ndarray,
                airlight: Optional[ArrayLike] = None,
                streak_colour: Optional[ArrayLike] = None) -> np.ndarray:
    """RainCityscapes-style rain: depth-attenuated streaks plus rain veil.

    Args:
        image: Clear ``(H, W, 3)`` uint8 RGB image.
        distance: ``(H, W)`` metres from the camera.
        alpha: Streak attenuation with depth (1/m).
        beta: Veil (rain accumulation) attenuation (1/m).
        streaks: ``(H, W)`` streak layer in [0, 1] (:func:`rain_streak_layer`); zeros give pure veil.
        airlight: RGB atmospheric light (default: dark-channel estimate from ``image``).
        streak_colour: RGB radiance of a streak at full strength (default white: streaks lit by
            daylight; e.g. orange under sodium street lamps).
    """
    j = _check_image(image).astype(np.float32)
    if airlight is None:
        airlight = estimate_airlight(image)
    t = transmission(distance, beta)[..., None]
    s = (np.clip(streaks, 0, 1) * transmission(np.maximum(distance, _STREAK_MIN_DEPTH), alpha))[..., None]
    a = np.asarray(airlight, np.float32).reshape(1, 1, -1)
    radiance = 255.0 if streak_colour is None else np.asarray(streak_colour, np.float32).reshape(1, 1, -1)
    return _to_uint8(t * (j + radiance * _STREAK_GAIN * s) + (1.0 - t) * a)


def _flake_layer(height: int, width: int, count: int, radius: tuple, blur: float, wind: float,
                 rng: np.random.Generator, opacity: float = 1.0) -> np.ndarray:
    canvas = np.zeros((height, width), np.float32)
    xs, ys = rng.integers(0, width, count), rng.integers(0, height, count)
    rs = rng.uniform(radius[0], radius[1], count)
    op = rng.uniform(0.6, 1.0, count) * opacity
    for x, y, r, o in zip(xs, ys, rs, op):
        cv2.circle(canvas, (int(x), int(y)), max(1, int(round(r))), float(o), -1, cv2.LINE_AA)
    canvas = cv2.filter2D(canvas, -1, _motion_kernel(max(3.0, 3.0 * radius[1]), wind))
    if blur > 0:
        canvas = cv2.GaussianBlur(canvas, (0, 0), blur)
    return np.clip(canvas * 1.6, 0, 1)


def render_snow(image: np.ndarray, distance: np.ndarray, rng: np.random.Generator,
                flakes: Sequence[int] = SNOW_LEVELS['medium']['flakes'],
                veil_beta: float = SNOW_LEVELS['medium']['veil_beta'],
                colour: ArrayLike = (238, 240, 245),
                layers: Sequence[Tuple[Tuple[float, float], float, float]] = SNOW_LAYERS,
                opacity: float = 1.0, wind: Tuple[float, float] = (-35.0, 35.0)) -> np.ndarray:
    """Snowfall: three motion-blurred flake layers over a bright veil.

    Args:
        image: Clear ``(H, W, 3)`` uint8 RGB image.
        distance: ``(H, W)`` metres from the camera.
        rng: Random generator (flake positions).
        flakes: Flakes per 512x256 pixels for the small (far), medium and large (near, defocused) layers;
            scaled with the image area. All zero with ``veil_beta=0`` returns the image unchanged.
        veil_beta: Attenuation of the snowfall veil (1/m).
        colour: RGB radiance of snow (flakes and veil).
        layers: ``(radius range px at 256 rows, defocus blur px, nominal distance m)`` of the layers
            ``flakes`` counts (default: dry snow, small opaque flakes; wet snow has larger, softer ones).
        opacity: Scale of the flake opacity (drawn in 0.6..1; below 1: translucent wet flakes).
        wind: Range of the wind angle (degrees from vertical) the flakes are blurred along.
    """
    j = _check_image(image)
    h, w = j.shape[:2]
    area, px = h * w / (512 * 256), h / 256
    veiled = koschmieder(j, transmission(distance, veil_beta), np.asarray(colour, np.float32) * 0.92)
    z = np.zeros((h, w), np.float32)
    angle = rng.uniform(*wind)
    if len(flakes) != len(layers):
        raise ValueError(f'{len(flakes)} flake counts for {len(layers)} layers')
    for count, (radius, blur, depth) in zip(flakes, layers):
        if count <= 0:
            continue
        layer = _flake_layer(h, w, int(round(count * area)), (radius[0] * px, radius[1] * px), blur * px,
                             angle, rng, opacity)
        z = 1 - (1 - z) * (1 - layer * (distance > depth))
    z3 = z[..., None]
    return _to_uint8(veiled.astype(np.float32) * (1 - z3) + np.asarray(colour, np.float32) * z3)


def render_raindrops(image: np.ndarray, rng: np.random.Generator, count: int = 12,
                     radius: Sequence[float] = (0.04, 0.10)) -> np.ndarray:
    """Adherent raindrops on the lens (RainDrop-style).

    Args:
        image: Clear ``(H, W, 3)`` uint8 RGB image.
        rng: Random generator (drop placement and shape).
        count: Number of drops; 0 returns the image unchanged.
        radius: Drop radius range as a fraction of the image height.
    """
    j = _check_image(image)
    if count <= 0:
        return j.copy()
    h, w = j.shape[:2]
    mapx, mapy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mask = np.zeros((h, w), np.float32)
    shade = np.ones((h, w), np.float32)
    radii = []
    for _ in range(count):
        r = rng.uniform(radius[0], radius[1]) * h
        rx, ry = r * rng.uniform(0.8, 1.2), r * rng.uniform(0.8, 1.1)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        x0, x1 = int(max(cx - rx - 1, 0)), int(min(cx + rx + 2, w))
        y0, y1 = int(max(cy - ry - 1, 0)), int(min(cy + ry + 2, h))
        if x1 <= x0 or y1 <= y0:
            continue
        gx, gy = np.arange(x0, x1, dtype=np.float32)[None, :], np.arange(y0, y1, dtype=np.float32)[:, None]
        ex, ey = (gx - cx) / rx, (gy - cy) / ry
        rho2 = ex ** 2 + ey ** 2
        inside = rho2 <= 1.0
        mag = rng.uniform(2.0, 4.0)  # minification of the view through the drop
        # Inverted, minified view of the surroundings (a ball lens flips the image), shifted upwards.
        mapx[y0:y1, x0:x1] = np.where(inside, np.clip(cx - mag * (gx - cx), 0, w - 1), mapx[y0:y1, x0:x1])
        mapy[y0:y1, x0:x1] = np.where(inside, np.clip(cy - r - mag * (gy - cy), 0, h - 1), mapy[y0:y1, x0:x1])
        mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], inside.astype(np.float32))
        rim = np.clip(1.0 + 0.12 * (1 - rho2) - 0.35 * rho2 ** 4, 0.5, 1.2)
        shade[y0:y1, x0:x1] = np.where(inside, rim, shade[y0:y1, x0:x1])
        radii.append(r)
    if not radii:
        return j.copy()
    through = cv2.remap(j, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    through = cv2.GaussianBlur(through, (0, 0), max(0.8, float(np.median(radii)) / 6))
    m = cv2.GaussianBlur(mask, (0, 0), max(0.7, h / 400))[..., None] * 0.97
    drop = through.astype(np.float32) * shade[..., None]
    return _to_uint8(j.astype(np.float32) * (1 - m) + drop * m)
