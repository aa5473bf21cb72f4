"""WeatherCityscapesDetDataset (mmdet): variants share the frame's instances; CocoMetric; errors."""
import os
import shutil

import pytest
import torch
from mmdet.evaluation import CocoMetric
from mmdet.registry import TRANSFORMS
from mmengine.structures import InstanceData
from weather_data_helpers import TRAIN_FRAMES, VAL_FRAMES, VARIANTS, truncate

from mmmofme.datasets import DatasetLayoutError, ImageLoadError
from mmmofme.mmdet.datasets import WeatherCityscapesDetDataset

META = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'weather', 'instances')


def _pipeline():
    return [TRANSFORMS.build(t) for t in (dict(type='LoadImageFromFile'), dict(type='LoadAnnotations',
                                                                               with_bbox=True),
                                          dict(type='PackDetInputs', meta_keys=META))]


def test_variants_share_instances(synthetic_root):
    ds = WeatherCityscapesDetDataset(synthetic_root, split='train', pipeline=_pipeline())
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    frames = {i['frame'] for i in infos}
    assert len(ds) == len(frames) * sum(VARIANTS.values()) and len(frames) <= TRAIN_FRAMES
    assert len({i['img_id'] for i in infos}) == len(ds)  # unique ids: variants never merge in evaluation
    for frame in frames:
        same = [i for i in infos if i['frame'] == frame]
        assert len({i['ori_img_id'] for i in same}) == 1
        assert all(i['instances'] == same[0]['instances'] for i in same)
        assert sorted(i['weather'] for i in same) == sorted(t for t, n in VARIANTS.items() for _ in range(n))
    assert ds.metainfo['classes'] == ('person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
                                      'bicycle')
    out = ds[0]
    boxes = out['data_samples'].gt_instances.bboxes.tensor
    h, w = out['data_samples'].ori_shape
    assert len(boxes) > 0 and (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= w).all() and (boxes[:,
                                                                                               3] <= h).all()
    assert out['data_samples'].metainfo['weather'] == infos[0]['weather']


def test_coco_metric_on_perfect_predictions(synthetic_root):
    ds = WeatherCityscapesDetDataset(synthetic_root, split='val', weathers=['rain', 'fog'], test_mode=True,
                                     pipeline=_pipeline())
    assert len(ds) == VAL_FRAMES * (VARIANTS['rain'] + VARIANTS['fog'])
    metric = CocoMetric(ann_file=None, metric='bbox')
    metric.dataset_meta = ds.metainfo
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        gt = sample.gt_instances
        pred = InstanceData(bboxes=gt.bboxes.clone(), labels=gt.labels.clone(), scores=torch.ones(len(gt)))
        metric.process({}, [dict(sample.to_dict(), pred_instances=pred.to_dict())])
    res = metric.evaluate(len(ds))
    assert res['coco/bbox_mAP_50'] == pytest.approx(1.0) and res['coco/bbox_mAP'] == pytest.approx(1.0)


def test_clean_view(synthetic_root):
    ds = WeatherCityscapesDetDataset(synthetic_root, split='val', clean=True, test_mode=True)
    assert len(ds) == VAL_FRAMES and ds.get_data_info(0)['img_path'].endswith('_leftImg8bit.png')


def test_missing_annotation_file(tmp_path):
    with pytest.raises(DatasetLayoutError, match='instancesonly_filtered_gtFine_val.json does not exist'):
        WeatherCityscapesDetDataset(str(tmp_path), split='val')


def test_truncated_image_is_named(synthetic_root, tmp_path):
    root = str(tmp_path / 'syn')
    shutil.copytree(synthetic_root, root)
    ds = WeatherCityscapesDetDataset(root, split='val', weathers=['snow'], test_mode=True,
                                     pipeline=_pipeline())
    bad = ds.get_data_info(0)['img_path']
    truncate(bad)
    with pytest.raises(ImageLoadError, match=f'cannot read {bad}'):
        ds[0]
    clean = ds.get_data_info(0)['clean_path']
    os.remove(clean)
    with pytest.raises(DatasetLayoutError, match=f'have no clean partner: {clean}'):  # caught at start-up
        WeatherCityscapesDetDataset(root, split='val', weathers=['snow'], test_mode=True)
