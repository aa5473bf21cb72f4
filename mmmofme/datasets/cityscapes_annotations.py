"""Cityscapes annotation formats: gtFine polygons <-> instanceIds maps -> COCO instance json.

Used by ``tools/dataset_converters/cityscapes_to_coco.py`` (real gtFine) and by the synthetic
generator (exact instance maps), so that both write the same COCO json that mmdet's ``CocoDataset`` /
``CocoMetric`` read: categories are the 8 instance classes with their Cityscapes labelIds as ids, in
mmdet's ``CityscapesDataset`` class order; image ``file_name`` is ``{city}/{frame}_leftImg8bit.png``
(relative to ``leftImg8bit/{split}/``); masks are uncompressed RLE (exact, handles occlusion holes).
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from .cityscapes_labels import CLASSES, EXTRA_LABEL_IDS, INSTANCE_CLASSES, LABEL_ID, UNLABELED_LABEL_ID
from .parallel import track_spawn_parallel

__all__ = ['coco_categories', 'rle_encode', 'instance_annotations', 'rasterize_polygons',
           'polygons_from_maps',
           'CocoBuilder', 'gtfine_to_coco']

_INSTANCE_IDS = {LABEL_ID[name] for name in INSTANCE_CLASSES}


def coco_categories() -> List[dict]:
    """COCO categories of the 8 Cityscapes instance classes (id = Cityscapes labelId)."""
    return [dict(id=LABEL_ID[name], name=name,
                 supercategory='human' if name in ('person', 'rider') else 'vehicle')
            for name in INSTANCE_CLASSES]


def rle_encode(mask: np.ndarray) -> dict:
    """Uncompressed COCO RLE (column-major run lengths, starting with a run of zeros)."""
    flat = np.asarray(mask, bool).ravel(order='F')
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate([[0], changes, [flat.size]])).tolist()
    if flat.size and flat[0]:
        runs = [0] + runs
    return dict(size=[int(mask.shape[0]), int(mask.shape[1])], counts=[int(r) for r in runs])


def instance_annotations(instance_map: np.ndarray, min_area: int = 1, crowd_below: int = 0) -> List[dict]:
    """COCO annotations (without ids) of every instance of the 8 classes in an instanceIds map.

    Args:
        instance_map: ``(H, W)`` Cityscapes instanceIds (``labelId * 1000 + k`` for instances).
        min_area: Instances with fewer visible pixels are left out.
        crowd_below: Instances with fewer visible pixels are kept as ``iscrowd=1`` (ignored by mmdet's
            training and by COCO evaluation, like Cityscapes' group regions); 0 keeps all as instances.

    Returns:
        Dicts with ``category_id``, ``bbox`` (x, y, w, h), ``area``, ``segmentation`` (RLE), ``iscrowd``.
    """
    anns = []
    for iid in np.unique(instance_map):
        if iid < 1000 or iid // 1000 not in _INSTANCE_IDS:
            continue  # stuff, or a crowd region ("cargroup" is drawn with the bare labelId)
        mask = instance_map == iid
        area = int(mask.sum())
        if area < min_area:
            continue
        ys, xs = np.nonzero(mask)
        x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())
        anns.append(dict(category_id=int(iid // 1000), bbox=[float(x0), float(y0), float(x1 - x0 + 1),
                                                             float(y1 - y0 + 1)],
                         area=float(area), segmentation=rle_encode(mask), iscrowd=int(area < crowd_below),
                         cityscapes_instance_id=int(iid)))
    return anns


def rasterize_polygons(polygons: dict) -> np.ndarray:
    """instanceIds map of a gtFine ``*_polygons.json`` (objects drawn in file order, as ``json2instanceImg``).

    Instance classes get ``labelId * 1000 + k`` (k counts per class in drawing order); their ``...group``
    labels get the bare labelId (crowd); deleted objects are skipped; unknown labels draw as unlabeled.
    """
    h, w = int(polygons['imgHeight']), int(polygons['imgWidth'])
    out = np.full((h, w), UNLABELED_LABEL_ID, np.int32)
    counts: Dict[str, int] = {}
    for obj in polygons.get('objects', []):
        if obj.get('deleted'):
            continue
        label = obj['label']
        base = label[:-len('group')] if label.endswith('group') else label
        if label in INSTANCE_CLASSES:
            k = counts.get(label, 0)
            counts[label] = k + 1
            value = LABEL_ID[label] * 1000 + k
        elif base in LABEL_ID:
            value = LABEL_ID[base]
        else:
            value = EXTRA_LABEL_IDS.get(base, UNLABELED_LABEL_ID)
            if value < 0:
                continue  # 'license plate': not drawn by the Cityscapes scripts either
        pts = np.asarray(obj['polygon'], np.float64)
        if pts.ndim != 2 or len(pts) < 3:
            continue
        cv2.fillPoly(out, [np.round(pts).astype(np.int32)], int(value))
    return out


# Background stuff is written first, as the outer contours of its visible regions; objects follow in
# painter's order with their full silhouettes, so rasterising in file order restores the visible layout.
_BACKGROUND_ORDER = ('sky', 'building', 'road', 'sidewalk', 'terrain', 'vegetation', 'wall', 'fence')


def _outline(mask: np.ndarray) -> List[List[List[int]]]:
    """Outer contours (>= 3 points) of a mask's connected regions."""
    found, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [c[:, 0, :].tolist() for c in found if len(c) >= 3]


def _silhouette(mask: np.ndarray) -> Optional[List[List[int]]]:
    """One polygon per object, as Cityscapes annotators draw it: the outer contour, or the convex hull
    of all parts when the silhouette falls apart (e.g. a bicycle's thin frame)."""
    found, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not found:
        return None
    pts = found[0] if len(found) == 1 else cv2.convexHull(np.concatenate(found))
    return pts[:, 0, :].tolist() if len(pts) >= 3 else None


def polygons_from_maps(label: np.ndarray, objects: Sequence = ()) -> dict:
    """A gtFine-style polygons json from a rendered scene.

    Args:
        label: ``(H, W)`` trainIds (background regions are traced from it).
        objects: ``(label name, full silhouette mask)`` in painter's order (one entry per instance).
    """
    h, w = label.shape
    out = []
    for name in _BACKGROUND_ORDER:
        for poly in _outline(label == CLASSES.index(name)):
            out.append(dict(label=name, polygon=poly))
    for name, mask in objects:
        poly = _silhouette(mask)
        if poly is not None:
            out.append(dict(label=name, polygon=poly))
    return dict(imgHeight=int(h), imgWidth=int(w), objects=out)


class CocoBuilder:
    """Accumulates images and their annotations into one COCO instance dict (ids from 1, in call order)."""

    def __init__(self) -> None:
        self.images: List[dict] = []
        self.annotations: List[dict] = []

    def add_image(self, file_name: str, height: int, width: int, anns: Sequence[dict]) -> int:
        """Add an image and its annotations (as from :func:`instance_annotations`); returns the image id."""
        image_id = len(self.images) + 1
        self.images.append(dict(id=image_id, file_name=file_name, height=int(height), width=int(width)))
        for ann in anns:
            self.annotations.append(dict(ann, id=len(self.annotations) + 1, image_id=image_id))
        return image_id

    def to_dict(self) -> dict:
        return dict(info=dict(description='Cityscapes-style instances (mmmofme)'), licenses=[],
                    images=self.images, annotations=self.annotations, categories=coco_categories())


def _frame_annotations(args) -> tuple:
    """(file_name, height, width, anns) of one gtFine frame (module level: picklable for worker pools)."""
    path, source = args
    city = osp.basename(osp.dirname(path))
    if source == 'polygons':
        with open(path) as f:
            inst = rasterize_polygons(json.load(f))
        frame = osp.basename(path)[:-len('_gtFine_polygons.json')]
    else:
        inst = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if inst is None:
            raise OSError(f'cannot read instance map {path} (truncated or not an image)')
        frame = osp.basename(path)[:-len('_gtFine_instanceIds.png')]
    return f'{city}/{frame}_leftImg8bit.png', inst.shape[0], inst.shape[1], instance_annotations(inst)


def gtfine_to_coco(data_root: str, split: str, source: str = 'polygons', nproc: int = 1) -> dict:
    """COCO instance dict of ``gtFine/{split}`` (every frame is an image, with or without instances).

    Args:
        data_root: Cityscapes root holding ``gtFine/``.
        split: ``'train'``, ``'val'`` or ``'test'``.
        source: ``'polygons'`` (rasterise ``*_gtFine_polygons.json``) or ``'instanceIds'`` (read the png).
        nproc: Worker processes (mmengine progress bar either way).

    Raises:
        FileNotFoundError: If the split has no such file.
    """
    suffix = '_gtFine_polygons.json' if source == 'polygons' else '_gtFine_instanceIds.png'
    if source not in ('polygons', 'instanceIds'):
        raise ValueError(f"source must be 'polygons' or 'instanceIds', got {source!r}")
    pattern = osp.join(data_root, 'gtFine', split, '*', '*' + suffix)
    files = sorted(glob.glob(pattern))
    if not files:
        raise FileNotFoundError(f'gtFine split {split!r}: 0 files match {pattern}')
    tasks = [(p, source) for p in files]
    results = track_spawn_parallel(_frame_annotations, tasks, nproc)
    coco = CocoBuilder()
    for file_name, h, w, anns in results:
        coco.add_image(file_name, h, w, anns)
    return coco.to_dict()

