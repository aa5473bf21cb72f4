"""COCO instance json of the generator and of the gtFine converter (pycocotools, boxes, consistency)."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from mmmofme.datasets.cityscapes_annotations import (
    gtfine_to_coco,
    instance_annotations,
    rasterize_polygons,
    rle_encode,
)
from mmmofme.datasets.cityscapes_labels import INSTANCE_CLASSES


def _load(path):
    coco = COCO(path)  # must load in pycocotools
    return coco


def test_generator_json_is_valid_coco(synthetic_root):
    coco = _load(osp.join(synthetic_root, 'annotations', 'instancesonly_filtered_gtFine_train.json'))
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(INSTANCE_CLASSES)
    assert len(coco.getImgIds()) == 3 and len(coco.getAnnIds()) > 0
    for ann in coco.loadAnns(coco.getAnnIds()):
        img = coco.loadImgs(ann['image_id'])[0]
        x, y, w, h = ann['bbox']
        assert 0 <= x and 0 <= y and w >= 1 and h >= 1 and x + w <= img['width'] and y + h <= img['height']
        m = coco.annToMask(ann)
        assert m.sum() == ann['area']
        ys, xs = np.nonzero(m)
        assert [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1] == ann['bbox']
        assert osp.isfile(osp.join(synthetic_root, 'leftImg8bit', 'train', img['file_name']))


def test_rle_roundtrip():
    rng = np.random.default_rng(0)
    for _ in range(5):
        m = rng.random((13, 17)) > 0.6
        rle = mask_utils.frPyObjects(rle_encode(m), 13, 17)
        np.testing.assert_array_equal(mask_utils.decode(rle).astype(bool), m)
    assert rle_encode(np.ones((2, 2), bool))['counts'] == [0, 4]


def test_rasterize_follows_drawing_order_and_crowds():
    polys = dict(imgHeight=20, imgWidth=20, objects=[
        dict(label='road', polygon=[[0, 0], [19, 0], [19, 19], [0, 19]]),
        dict(label='car', polygon=[[2, 2], [12, 2], [12, 12], [2, 12]]),
        dict(label='person', polygon=[[8, 8], [16, 8], [16, 16], [8, 16]]),  # occludes the car's corner
        dict(label='cargroup', polygon=[[0, 15], [4, 15], [4, 19], [0, 19]]),
        dict(label='car', polygon=[[17, 0], [19, 0], [19, 2]], deleted=1),
    ])
    inst = rasterize_polygons(polys)
    assert inst[0, 0] == 7 and inst[5, 5] == 26000 and inst[10, 10] == 24000 and inst[17, 1] == 26
    anns = instance_annotations(inst)
    assert [(a['category_id'], a['bbox']) for a in anns] == [(24, [8.0, 8.0, 9.0, 9.0]), (26, [2.0, 2.0, 11.0,
                                                                                               11.0])]


def _boxes_by_file(coco: dict) -> dict:
    names = {img['id']: img['file_name'] for img in coco['images']}
    out = {name: [] for name in names.values()}
    for a in coco['annotations']:
        out[names[a['image_id']]].append((a['category_id'], a['bbox']))
    return out


def test_converter_matches_generator(synthetic_root):
    """gtFine -> COCO: exact from instanceIds; from polygons up to contour approximation."""
    with open(osp.join(synthetic_root, 'annotations', 'instancesonly_filtered_gtFine_train.json')) as f:
        written = _boxes_by_file(json.load(f))
    assert _boxes_by_file(gtfine_to_coco(synthetic_root, 'train', 'instanceIds')) == written
    ours = _boxes_by_file(gtfine_to_coco(synthetic_root, 'train', 'polygons'))
    assert ours.keys() == written.keys()
    n_ours, n_written = sum(map(len, ours.values())), sum(map(len, written.values()))
    assert abs(n_ours - n_written) <= max(2, n_written // 10)
    ious = [max([_iou(box, b) for c, b in ours[name] if c == cat] or [0.0])
            for name, anns in written.items() for cat, box in anns]
    assert np.mean(ious) > 0.85


def _iou(p, q):
    x0, y0 = max(p[0], q[0]), max(p[1], q[1])
    x1, y1 = min(p[0] + p[2], q[0] + q[2]), min(p[1] + p[3], q[1] + q[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (p[2] * p[3] + q[2] * q[3] - inter)


def test_converter_errors(tmp_path, synthetic_root):
    with pytest.raises(FileNotFoundError, match='0 files match'):
        gtfine_to_coco(str(tmp_path), 'train')
    with pytest.raises(ValueError, match='source'):
        gtfine_to_coco(synthetic_root, 'train', source='labels')
    assert glob.glob(osp.join(synthetic_root, 'gtFine', 'train', '*', '*_polygons.json'))
