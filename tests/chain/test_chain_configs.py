"""Chaining a restorer in front of installed upstream configs (mmseg:: / mmdet::) in a few lines."""
import copy
import textwrap

import pytest
import torch
from chain_stand_ins import H, W, bgr_batch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from mmengine.structures import PixelData
from mmseg.evaluation import IoUMetric
from mmseg.structures import SegDataSample

PSPNET = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
FASTER_RCNN = 'mmdet::cityscapes/faster-rcnn_r50_fpn_1x_cityscapes.py'


def chained_config(tmp_path, base: str, body: str) -> Config:
    """Write ``_base_`` + ``body`` as a user's config file; the body is what chaining adds."""
    added = textwrap.dedent(body).strip()
    assert len(added.splitlines()) <= 5
    path = tmp_path / 'chained.py'
    path.write_text(f"_base_ = '{base}'\n{added}\n")
    return Config.fromfile(str(path))


def build(cfg: Config):
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(cfg.model).eval()


def test_pspnet_cityscapes_config_chained_in_five_lines_predicts_and_evaluates(tmp_path):
    cfg = chained_config(tmp_path, PSPNET, """
        custom_imports = dict(imports=['mmmofme.mmseg'])
        model = dict(_delete_=True, type='DeweatherSegmentor', segmentor={{_base_.model}},
                     restorer=dict(type='ChainTestPixelRestorer'),
                     restore_cfg=dict(mode='slide', crop_size=(32, 64), stride=(32, 64)))
    """)
    model = build(cfg)
    assert type(model).__name__ == 'DeweatherSegmentor'
    assert type(model.segmentor).__name__ == 'EncoderDecoder'
    assert model.segmentor.decode_head.num_classes == 19
    # the test pipeline is the upstream one (it does not pad); the outer preprocessor keeps its padding
    assert tuple(model.data_preprocessor.size) == (512, 1024)
    samples = []
    for i in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W), img_path=f'{i}.png'))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, H, W)))
        samples.append(sample)
    with torch.no_grad():  # mmseg's preprocessor tests one image at a time
        outputs = [model.test_step(dict(inputs=[img], data_samples=[sample]))[0]
                   for img, sample in zip(bgr_batch(2), samples)]
    assert [tuple(o.pred_sem_seg.shape) for o in outputs] == [(H, W)] * 2
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=[str(i) for i in range(19)])
    metric.process(dict(), [o.to_dict() for o in outputs])
    results = metric.compute_metrics(metric.results)
    assert {'aAcc', 'mIoU', 'mAcc'} <= set(results)


def test_cfg_path_form_with_overrides():
    from mmmofme.mmseg import DeweatherSegmentor

    model = DeweatherSegmentor(restorer=dict(type='ChainTestIdentity'),
                               segmentor=dict(cfg_path=PSPNET, decode_head=dict(num_classes=5),
                                              auxiliary_head=None))
    assert model.segmentor.decode_head.num_classes == 5 and not model.segmentor.with_auxiliary_head
    assert model.perception_mean.flatten().tolist() == pytest.approx([123.675, 116.28, 103.53])


def test_faster_rcnn_cityscapes_config_chained_in_five_lines_predicts(tmp_path):
    cfg = chained_config(tmp_path, FASTER_RCNN, """
        custom_imports = dict(imports=['mmmofme.mmdet'])
        model = dict(_delete_=True, type='DeweatherDetector', detector={{_base_.model}},
                     restorer=dict(type='ChainTestPixelRestorer'))
    """)
    model = build(cfg)
    assert type(model.detector).__name__ == 'FasterRCNN'
    sample = DetDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W), scale_factor=(1.0, 1.0)))
    with torch.no_grad():
        outputs = model.test_step(dict(inputs=bgr_batch(1), data_samples=[copy.deepcopy(sample)]))
    pred = outputs[0].pred_instances
    assert pred.bboxes.shape[1] == 4 and len(pred.bboxes) == len(pred.scores) == len(pred.labels)
    assert pred.labels.max() < 8
