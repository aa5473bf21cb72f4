"""Write a synthetic weathered-Cityscapes dataset in the trees of the real data, so the same loaders read it.

Output under ``out_dir`` (``{frame}`` = ``{city}_{seq:06d}_000019``)::

    leftImg8bit/{split}/{city}/{frame}_leftImg8bit.png                      clean RGB
    leftImg8bit_rain/{split}/{city}/{frame}_leftImg8bit_rain_alpha_{a}_beta_{b}_dropsize_{d}_pattern_{p}.png
    leftImg8bit_foggy/{split}/{city}/{frame}_leftImg8bit_foggy_beta_{b}.png
    leftImg8bit_snow/{split}/{city}/{frame}_leftImg8bit_snow_{level}.png
    leftImg8bit_raindrop/{split}/{city}/{frame}_leftImg8bit_raindrop_{level}.png
    gtFine/{split}/{city}/{frame}_gtFine_labelTrainIds.png                   uint8 trainIds, 255 ignore
    gtFine/{split}/{city}/{frame}_gtFine_instanceIds.png                     uint16 Cityscapes instanceIds
    gtFine/{split}/{city}/{frame}_gtFine_polygons.json                       Cityscapes polygons
    depth/{split}/{city}/{frame}_depth.png                                   uint16 distance in cm, see below
    annotations/instancesonly_filtered_gtFine_{split}.json                  COCO instances, 8 classes (*)
    synthetic_meta.json                                                       generator settings
    preview/{split}_{frame}.png                                               with ``preview > 0``

(*) Instances with a visible area under 100 px (at 512x256, scaled with the size) are ``iscrowd``
regions, ignored in training and evaluation, like Cityscapes' groups.

Depth maps hold the distance from the camera centre along each pixel's ray (what Koschmieder's law
uses) in centimetres: ``metres = png / 100``; 60000 (600 m) is the sky / far clip. :func:`read_depth`
decodes them.

Every frame is a pure function of ``(seed, split, index)`` and every weather variant of
``(seed, split, index, variant name)``, so runs are reproducible file for file whatever the number of
workers, and adding a variant leaves the others unchanged.
"""
import json
import os
import os.path as osp
import zlib
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..cityscapes_annotations import CocoBuilder, instance_annotations, polygons_from_maps
from ..cityscapes_labels import PALETTE
from ..layouts import CITYSCAPES_WEATHERS, cityscapes_clean_path, cityscapes_gt_path
from ..parallel import track_spawn_parallel
from .street_scene import MAX_DISTANCE, render_street_scene
from .weather_render import (
    RAINDROP_LEVELS,
    SNOW_LEVELS,
    estimate_airlight,
    rain_streak_layer,
    render_fog,
    render_rain,
    render_raindrops,
    render_snow,
)

__all__ = ['SyntheticConfig', 'default_rain_variants', 'frame_names', 'generate_synthetic_cityscapes',
           'read_depth', 'depth_path']

CITIES: Dict[str, Tuple[str, ...]] = {'train': ('synthtown', 'synthville', 'synthburg'),
                                      'val': ('synthport',), 'test': ('synthdale',)}
DEPTH_SCALE = 100.0  # png units per metre
CROWD_AREA = 100  # visible pixels at 512x256 (scaled with the size) below which an instance is a crowd


def default_rain_variants(pairs: Sequence[Tuple[float, float]] = ((0.01, 0.005), (0.02, 0.01)),
                          patterns: Sequence[int] = (1, 2),
                          dropsizes: Sequence[float] = (0.01,)) -> List[dict]:
    """Rain variants over (alpha, beta) pairs x patterns x drop sizes (default 2 x 2 x 1 = 4)."""
    return [dict(alpha=a, beta=b, dropsize=d, pattern=p)
            for a, b in pairs for p in patterns for d in dropsizes]


@dataclass
class SyntheticConfig:
    """What to render for every frame.

    Attributes:
        width: Image width.
        height: Image height.
        seed: Global seed.
        rain: Rain variants (dicts with alpha, beta, dropsize, pattern).
        fog_betas: Foggy Cityscapes attenuation coefficients (1/m).
        snow_levels: Keys of :data:`SNOW_LEVELS`.
        raindrop_levels: Keys of :data:`RAINDROP_LEVELS`.
        preview: Frames per split to write a preview mosaic for.
    """

    width: int = 512
    height: int = 256
    seed: int = 0
    rain: List[dict] = field(default_factory=default_rain_variants)
    fog_betas: Tuple[float, ...] = (0.005, 0.01, 0.02)
    snow_levels: Tuple[str, ...] = ('light', 'heavy')
    raindrop_levels: Tuple[str, ...] = ('light', 'heavy')
    preview: int = 0

    def __post_init__(self) -> None:
        for level in self.snow_levels:
            if level not in SNOW_LEVELS:
                raise ValueError(f'unknown snow level {level!r}; known: {sorted(SNOW_LEVELS)}')
        for level in self.raindrop_levels:
            if level not in RAINDROP_LEVELS:
                raise ValueError(f'unknown raindrop level {level!r}; known: {sorted(RAINDROP_LEVELS)}')
        if self.width < 32 or self.height < 16:
            raise ValueError(f'image size {self.width}x{self.height} is too small (min 32x16)')


def _fmt(value) -> str:
    """Parameter as written in file names: 0.01 -> '0.01', 1 -> '1'."""
    return f'{value:g}' if isinstance(value, (int, float)) else str(value)


def frame_names(split: str, num: int) -> List[Tuple[str, str]]:
    """``(city, frame)`` for the frames of a split, round-robin over the split's cities."""
    cities = CITIES.get(split, (f'synth{split}',))
    names = []
    for i in range(num):
        city = cities[i % len(cities)]
        names.append((city, f'{city}_{i // len(cities):06d}_000019'))
    return names


def depth_path(out_dir: str, split: str, frame_key: str) -> str:
    """``depth/{split}/{city}/{frame}_depth.png`` for a ``'{city}/{frame}'`` key."""
    return osp.join(out_dir, 'depth', split, f'{frame_key}_depth.png')


def read_depth(path: str) -> np.ndarray:
    """Distance map in metres (float32) from a depth png written by the generator."""
    png = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if png is None:
        raise OSError(f'cannot read depth map {path} (missing, truncated or not an image)')
    return png.astype(np.float32) / DEPTH_SCALE


def _seed(*parts) -> List[int]:
    return [zlib.crc32(str(p).encode()) if not isinstance(p, int) else p for p in parts]


@lru_cache(maxsize=16)
def _streaks(height: int, width: int, pattern, dropsize: float) -> np.ndarray:
    return rain_streak_layer(height, width, pattern, dropsize)


def _write_png(path: str, img: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    data = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    if not cv2.imwrite(path, data, [cv2.IMWRITE_PNG_COMPRESSION, 1]):  # fast zlib; ~25% larger than level 9
        raise OSError(f'could not write {path}')


def _weather_variants(cfg: SyntheticConfig) -> List[Tuple[str, str, dict]]:
    """``(weather tag, file name template params, render params)`` of every variant."""
    out = []
    for r in cfg.rain:
        names = {k: _fmt(r[k]) for k in ('alpha', 'beta', 'dropsize', 'pattern')}
        out.append(('rain', names, r))
    out += [('fog', dict(beta=_fmt(b)), dict(beta=b)) for b in cfg.fog_betas]
    out += [('snow', dict(level=lv), dict(level=lv)) for lv in cfg.snow_levels]
    out += [('raindrop', dict(level=lv), dict(level=lv)) for lv in cfg.raindrop_levels]
    return out


def _render_variant(tag: str, params: dict, image: np.ndarray, distance: np.ndarray, airlight: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    if tag == 'fog':
        return render_fog(image, distance, params['beta'], airlight)
    if tag == 'rain':
        # The pattern fixes the streak texture (as RainCityscapes reuses its 12); a per-frame shift keeps
        # a restorer from memorising streak positions.
        streaks = np.roll(_streaks(h, w, params['pattern'], float(params['dropsize'])),
                          (int(rng.integers(h)), int(rng.integers(w))), axis=(0, 1))
        return render_rain(image, distance, params['alpha'], params['beta'], streaks, airlight)
    if tag == 'snow':
        return render_snow(image, distance, rng, **SNOW_LEVELS[params['level']])
    level = RAINDROP_LEVELS[params['level']]
    count = int(rng.integers(level['count'][0], level['count'][1] + 1))
    return render_raindrops(image, rng, count=count, radius=level['radius'])


def _render_frame(task: tuple) -> tuple:
    """Render and write one frame with all its weathers; returns its COCO entry (picklable worker)."""
    out_dir, split, index, city, frame, cfg = task
    key = f'{city}/{frame}'
    scene = render_street_scene(cfg.width, cfg.height, np.random.default_rng(_seed(cfg.seed, split, index)))
    _write_png(cityscapes_clean_path(out_dir, split, key), scene.image)
    _write_png(cityscapes_gt_path(out_dir, split, key, 'labelTrainIds'), scene.label)
    _write_png(cityscapes_gt_path(out_dir, split, key, 'instanceIds'), scene.instance.astype(np.uint16))
    depth = np.minimum(np.rint(scene.distance * DEPTH_SCALE), MAX_DISTANCE * DEPTH_SCALE).astype(np.uint16)
    _write_png(depth_path(out_dir, split, key), depth)
    polygons = polygons_from_maps(scene.label, scene.objects)
    with open(cityscapes_gt_path(out_dir, split, key, 'polygons'), 'w') as f:
        json.dump(polygons, f)

    airlight = estimate_airlight(scene.image)
    tiles = [('clean', scene.image), ('labels', _overlay(scene.image, scene.label))]
    for tag, names, params in _weather_variants(cfg):
        spec = CITYSCAPES_WEATHERS[tag]
        name = spec.file_name(frame, **names)
        rng = np.random.default_rng(_seed(cfg.seed, split, index, name[len(frame):]))
        img = _render_variant(tag, params, scene.image, scene.distance, airlight, rng)
        _write_png(osp.join(out_dir, spec.folder, split, city, name), img)
        tiles.append((name[len(frame) + len('_leftImg8bit_'):-len('.png')], img))
    if index < cfg.preview:
        _write_png(osp.join(out_dir, 'preview', f'{split}_{frame}.png'), _mosaic(tiles))
    # Slivers (far or cut-off objects) are kept as crowd regions: neither learnt nor counted as misses.
    crowd_below = max(4, round(CROWD_AREA * cfg.width * cfg.height / (512 * 256)))
    return (f'{key}_leftImg8bit.png', cfg.height, cfg.width,
            instance_annotations(scene.instance, crowd_below=crowd_below))


def _overlay(image: np.ndarray, label: np.ndarray) -> np.ndarray:
    palette = np.zeros((256, 3), np.uint8)
    palette[:len(PALETTE)] = PALETTE
    return ((image.astype(np.uint16) + palette[label]) // 2).astype(np.uint8)


def _mosaic(tiles: Sequence[Tuple[str, np.ndarray]], cols: int = 4) -> np.ndarray:
    """Titled tiles on a grid (for the preview)."""
    h, w = tiles[0][1].shape[:2]
    rows = (len(tiles) + cols - 1) // cols
    canvas = np.zeros((rows * (h + 16), cols * w, 3), np.uint8)
    for i, (title, img) in enumerate(tiles):
        y, x = (i // cols) * (h + 16), (i % cols) * w
        canvas[y + 16:y + 16 + h, x:x + w] = img
        cv2.putText(canvas, title, (x + 2, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return canvas


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core already


def generate_synthetic_cityscapes(out_dir: str, splits: Dict[str, int], cfg: Optional[SyntheticConfig] = None,
                                  workers: int = 1) -> Dict[str, int]:
    """Generate the synthetic dataset.

    Args:
        out_dir: Output root (created).
        splits: Frames per split, e.g. ``{'train': 200, 'val': 50}``.
        cfg: What to render (default :class:`SyntheticConfig`).
        workers: Worker processes (1: in-process).

    Returns:
        Instances written per split.
    """
    cfg = cfg or SyntheticConfig()
    os.makedirs(out_dir, exist_ok=True)
    counts = {}
    for split, num in splits.items():
        tasks = [(out_dir, split, i, city, frame, cfg)
                 for i, (city, frame) in enumerate(frame_names(split, num))]
        if not tasks:
            continue
        results = track_spawn_parallel(_render_frame, tasks, workers, initializer=_init_worker)
        coco = CocoBuilder()
        for file_name, h, w, anns in results:
            coco.add_image(file_name, h, w, anns)
        ann_path = osp.join(out_dir, 'annotations', f'instancesonly_filtered_gtFine_{split}.json')
        os.makedirs(osp.dirname(ann_path), exist_ok=True)
        with open(ann_path, 'w') as f:
            json.dump(coco.to_dict(), f)
        counts[split] = len(coco.annotations)
    with open(osp.join(out_dir, 'synthetic_meta.json'), 'w') as f:
        json.dump(dict(config=asdict(cfg), splits=dict(splits), instances=counts,
                       depth=f'distance along the ray, png / {DEPTH_SCALE:g} = metres, '
                             f'{MAX_DISTANCE * DEPTH_SCALE:.0f} = sky / far clip'), f, indent=1)
    return counts
