"""Write the transfer tree: every held-out kind rendered on the clean frames of a synthetic split.

Output under ``out_dir`` (Cityscapes-style, read by the project's dataset classes with
``layout='cityscapes', weathers=[kind, ...]``)::

    leftImg8bit/{split}/{city}/{frame}_leftImg8bit.png                 clean frame (copied; kind 'clean')
    leftImg8bit_{kind}/{split}/{city}/{frame}_leftImg8bit_{kind}.png   every other kind
    gtFine/{split}/{city}/{frame}_gtFine_*                             copied from the source
    annotations/instancesonly_filtered_gtFine_{split}.json            the source's, for the kept frames
    transfer_meta.json                                                 kinds, families, splits, parameters

Every image is a pure function of ``(seed, split, frame, kind)``: the same files whatever the number of
workers or the other kinds written.
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from ..layouts import (
    CLEAN_TAG,
    DatasetLayoutError,
    cityscapes_clean_path,
    cityscapes_gt_path,
    generic_cityscapes_weather,
    list_pairs,
)
from ..parallel import track_spawn_parallel
from ..synthetic.generator import _init_worker, _seed, _write_png, depth_path, read_depth
from .external import library_versions
from .registry import KINDS, get_kind
from .splits import split_of

__all__ = ['transfer_image_path', 'source_frames', 'write_transfer_set']

GT_KINDS = ('labelTrainIds', 'instanceIds', 'polygons')


def transfer_image_path(root: str, split: str, frame_key: str, kind: str) -> str:
    """Where the writer puts ``kind`` of a ``'{city}/{frame}'`` key (the clean frame for ``'clean'``)."""
    if kind == CLEAN_TAG:
        return cityscapes_clean_path(root, split, frame_key)
    city, frame = frame_key.split('/')
    spec = generic_cityscapes_weather(kind)
    return osp.join(root, spec.folder, split, city, spec.file_name(frame))


def source_frames(src: str, split: str, num: Optional[int] = None) -> List[str]:
    """``'{city}/{frame}'`` keys of the clean frames of ``src`` (sorted), the first ``num`` of them;
    fails naming the file when one has no depth map."""
    keys = sorted(r.frame for r in list_pairs('cityscapes', src, split, [CLEAN_TAG]))
    keys = keys[:num] if num is not None else keys
    missing = [depth_path(src, split, k) for k in keys if not osp.isfile(depth_path(src, split, k))]
    if missing:
        raise DatasetLayoutError(f'{missing[0]}: depth map missing ({len(missing)} of {len(keys)} frames '
                                 f'have none; the synthetic generator writes them)')
    return keys


def _read_rgb(path: str) -> np.ndarray:
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f'{path}: cannot read the clean frame (missing, truncated or not an image)')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _render_frame(task: tuple) -> int:
    """Render every kind of one frame (picklable worker); returns the number of images written."""
    src, out_dir, split, key, kinds, seed = task
    image = _read_rgb(cityscapes_clean_path(src, split, key))
    distance = read_depth(depth_path(src, split, key))
    if distance.shape != image.shape[:2]:
        raise DatasetLayoutError(f'{depth_path(src, split, key)}: depth map {distance.shape} does not match '
                                 f'its frame {image.shape[:2]}')
    written = 0
    for kind in kinds:
        if kind == CLEAN_TAG:
            continue
        rng = np.random.default_rng(_seed(seed, split, key, kind))
        _write_png(transfer_image_path(out_dir, split, key, kind), get_kind(kind)(image, distance, rng))
        written += 1
    return written


def _copy_annotations(src: str, out_dir: str, split: str, keys: Sequence[str]) -> bool:
    """The source's COCO json restricted to the kept frames (False when the source has none)."""
    name = osp.join('annotations', f'instancesonly_filtered_gtFine_{split}.json')
    if not osp.isfile(osp.join(src, name)):
        return False
    with open(osp.join(src, name)) as f:
        coco = json.load(f)
    kept = {f'{k}_leftImg8bit.png' for k in keys}
    coco['images'] = [im for im in coco['images'] if im['file_name'] in kept]
    ids = {im['id'] for im in coco['images']}
    coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] in ids]
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    with open(osp.join(out_dir, name), 'w') as f:
        json.dump(coco, f)
    return True


def write_transfer_set(src: str, out_dir: str, kinds: Optional[Sequence[str]] = None,
                       num: Optional[int] = None, seed: int = 0, split: str = 'val',
                       workers: int = 1) -> Dict[str, object]:
    """Render ``kinds`` (default: all registered) on the first ``num`` clean frames of ``src/split``.

    Args:
        src: A synthetic tree (``tools/dataset_converters/make_synthetic_cityscapes.py``): clean frames,
            depth maps, gtFine and COCO annotations.
        out_dir: Output root (created; existing kind folders are overwritten file by file).
        kinds: Kind names (:data:`mmmofme.datasets.transfer.KINDS`).
        num: Frames to use (default all).
        seed: Global seed.
        split: Source split (the frames the perception models and the restorer never trained on).
        workers: Processes (1: in this process).

    Returns:
        The metadata written to ``transfer_meta.json``.
    """
    kinds = list(kinds) if kinds is not None else list(KINDS)
    for kind in kinds:
        get_kind(kind)  # unknown names fail before any work
    keys = source_frames(src, split, num)
    for key in keys:
        shutil.copyfile(cityscapes_clean_path(src, split, key),
                        _made(cityscapes_clean_path(out_dir, split, key)))
        for gt in GT_KINDS:
            if osp.isfile(cityscapes_gt_path(src, split, key, gt)):
                shutil.copyfile(cityscapes_gt_path(src, split, key, gt),
                                _made(cityscapes_gt_path(out_dir, split, key, gt)))
    has_coco = _copy_annotations(src, out_dir, split, keys)
    tasks = [(src, out_dir, split, key, kinds, seed) for key in keys]
    images = sum(track_spawn_parallel(_render_frame, tasks, workers, initializer=_init_worker))
    meta = dict(source=osp.abspath(src), split=split, seed=seed, frames=len(keys), images=images,
                coco_annotations=has_coco, libraries=library_versions(),
                kinds={k: dict(family=KINDS[k].family, splits=list(split_of(k)), renderer=KINDS[k].renderer,
                               params=_jsonable(KINDS[k].params), description=KINDS[k].description)
                       for k in kinds})
    with open(osp.join(out_dir, 'transfer_meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    return meta


def _made(path: str) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    return path


def _jsonable(params) -> dict:
    return json.loads(json.dumps(params, default=str))
