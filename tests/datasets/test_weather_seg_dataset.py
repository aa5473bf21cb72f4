"""WeatherCityscapesSegDataset (mmseg): weathered images + labelTrainIds, IoUMetric, errors."""
import os
import shutil

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.evaluation import IoUMetric
from mmseg.registry import TRANSFORMS
from mmseg.structures import SegDataSample
from weather_data_helpers import TRAIN_FRAMES, VAL_FRAMES, VARIANTS, truncate

from mmmofme.datasets import DatasetLayoutError, ImageLoadError
from mmmofme.mmseg.datasets import WeatherCityscapesSegDataset

META = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip',
        'flip_direction',
        'reduce_zero_label', 'weather')


def _pipeline():
    return [TRANSFORMS.build(t) for t in (dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                                          dict(type='PackSegInputs', meta_keys=META))]


def test_samples_labels_and_weather(synthetic_root):
    ds = WeatherCityscapesSegDataset(synthetic_root, split='train', pipeline=_pipeline())
    assert len(ds) == TRAIN_FRAMES * sum(VARIANTS.values())
    assert len(ds.metainfo['classes']) == 19
    out = ds[len(ds) - 1]
    sample = out['data_samples']
    assert sample.metainfo['weather'] == 'raindrop'
    labels = sample.gt_sem_seg.data.unique().tolist()
    assert set(labels) <= set(range(19)) | {255} and len(labels) > 4
    assert tuple(out['inputs'].shape) == (3, 64, 128)
    # every variant of a frame uses that frame's labels
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    frame = infos[0]['frame']
    assert len({i['seg_map_path'] for i in infos if i['frame'] == frame}) == 1


def test_clean_and_filters(synthetic_root):
    clean = WeatherCityscapesSegDataset(synthetic_root, split='val', clean=True)
    assert len(clean) == VAL_FRAMES and clean.get_data_info(0)['weather'] == 'clean'
    fog = WeatherCityscapesSegDataset(synthetic_root, split='val', layout='foggycityscapes', betas=[0.02])
    assert len(fog) == VAL_FRAMES


def test_iou_metric_on_perfect_predictions(synthetic_root):
    ds = WeatherCityscapesSegDataset(synthetic_root, split='val', weathers=['fog'], pipeline=_pipeline())
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = ds.metainfo
    for i in range(len(ds)):
        gt = ds[i]['data_samples']
        pred = SegDataSample(metainfo=gt.metainfo)
        pred.gt_sem_seg = gt.gt_sem_seg
        pred.pred_sem_seg = PixelData(data=gt.gt_sem_seg.data.clone().long())
        metric.process([], [pred.to_dict()])
    res = metric.evaluate(len(ds))
    assert res['mIoU'] == pytest.approx(100.0) and res['aAcc'] == pytest.approx(100.0)


def test_missing_label_fails_at_construction(synthetic_root, tmp_path):
    root = str(tmp_path / 'syn')
    shutil.copytree(synthetic_root, root)
    ds = WeatherCityscapesSegDataset(root, split='val', weathers=['snow'])
    victim = ds.get_data_info(0)['seg_map_path']
    os.remove(victim)
    with pytest.raises(DatasetLayoutError,
                       match=f'1 of {VAL_FRAMES} files have no gtFine labelTrainIds partner: '
                                                 f'{victim}'):
        WeatherCityscapesSegDataset(root, split='val', weathers=['snow'])


def test_truncated_label_is_named(synthetic_root, tmp_path):
    root = str(tmp_path / 'syn')
    shutil.copytree(synthetic_root, root)
    ds = WeatherCityscapesSegDataset(root, split='val', weathers=['snow'], pipeline=_pipeline())
    bad = ds.get_data_info(1)['seg_map_path']
    truncate(bad)
    with pytest.raises(ImageLoadError, match=f'cannot read {bad}'):
        ds[1]


def test_no_labels_for_allweather(allweather_root):
    with pytest.raises(ValueError, match='no segmentation labels'):
        WeatherCityscapesSegDataset(allweather_root, split='train', layout='allweather')


def test_labels_are_cityscapes_trainids(synthetic_root):
    ds = WeatherCityscapesSegDataset(synthetic_root, split='train', clean=True, pipeline=_pipeline())
    seen = set()
    for i in range(len(ds)):
        seen |= set(torch.unique(ds[i]['data_samples'].gt_sem_seg.data).tolist())
    assert {0, 2, 10, 13, 255} <= seen and seen <= set(range(19)) | {255}
    assert np.isin(sorted(seen), list(range(19)) + [255]).all()
