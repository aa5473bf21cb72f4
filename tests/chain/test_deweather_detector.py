"""DeweatherDetector around the installed Cityscapes Faster R-CNN config, on generated batches."""
import copy

import pytest
import torch
from chain_stand_ins import MEAN, STD, H, W, bgr_batch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from mmmofme.mmdet import DeweatherDetector
from mmmofme.models.chain import PerceptionSpec

FASTER_RCNN = 'mmdet::cityscapes/faster-rcnn_r50_fpn_1x_cityscapes.py'


def det_batch(n: int = 2, seed: int = 0) -> dict:
    images = bgr_batch(n, seed=seed)
    samples = []
    for i in range(n):
        sample = DetDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W), scale_factor=(1.0, 1.0),
                                             img_id=i, img_path=f'frame_{i}.png'))
        boxes = torch.tensor([[10.0, 8.0, 60.0, 50.0], [70.0, 20.0, 120.0, 60.0]])
        sample.gt_instances = InstanceData(bboxes=boxes, labels=torch.tensor([0, 2]))
        samples.append(sample)
    return dict(inputs=images, data_samples=samples)


@pytest.fixture(scope='module')
def detector_cfg() -> dict:
    # fewer proposals / sampled RoIs than the upstream 1000 / 512: same code paths, a tenth of the CPU time
    few_rois = dict(train_cfg=dict(rpn_proposal=dict(nms_pre=200, max_per_img=100),
                                   rcnn=dict(sampler=dict(num=64))),
                    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100)))
    return PerceptionSpec.resolve(dict(cfg_path=FASTER_RCNN, **few_rois), library='mmdet').model_cfg


@pytest.fixture(scope='module')
def bare_and_chain(detector_cfg):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        bare = MODELS.build(detector_cfg)
    chain = DeweatherDetector(restorer=dict(type='ChainTestIdentity'), detector=detector_cfg)
    chain.detector.load_state_dict(bare.state_dict())
    return bare.eval(), chain.eval()


def test_identity_restorer_gives_the_bare_detector_predictions(bare_and_chain):
    bare, chain = bare_and_chain
    data = det_batch()
    with torch.no_grad():
        expected = bare.test_step(copy.deepcopy(data))
        got = chain.test_step(copy.deepcopy(data))
    for e, g in zip(expected, got):
        assert len(g.pred_instances) == len(e.pred_instances) > 0
        torch.testing.assert_close(g.pred_instances.bboxes, e.pred_instances.bboxes, atol=1e-2, rtol=1e-4)
        torch.testing.assert_close(g.pred_instances.scores, e.pred_instances.scores, atol=1e-4, rtol=1e-4)
        assert torch.equal(g.pred_instances.labels, e.pred_instances.labels)
        assert g.img_id == e.img_id  # metas pass through for CocoMetric


def test_detector_sees_its_own_normalisation(bare_and_chain):
    bare, chain = bare_and_chain
    seen_bare, seen_chain = [], []
    hooks = [bare.backbone.register_forward_pre_hook(lambda _, a: seen_bare.append(a[0].clone())),
             chain.detector.backbone.register_forward_pre_hook(lambda _, a: seen_chain.append(a[0].clone()))]
    data = det_batch()
    with torch.no_grad():
        bare.test_step(copy.deepcopy(data))
        chain.test_step(copy.deepcopy(data))
    for hook in hooks:
        hook.remove()
    torch.testing.assert_close(seen_chain[0], seen_bare[0], atol=1e-4, rtol=1e-5)


def test_outer_preprocessor_is_derived_from_the_detectors(bare_and_chain):
    _, chain = bare_and_chain
    pp = chain.data_preprocessor
    assert pp.mean.flatten().tolist() == [0, 0, 0] and pp.std.flatten().tolist() == [255, 255, 255]
    assert pp._channel_conversion and pp.pad_size_divisor == 32 and pp.pad_value == 0
    assert chain.perception_mean.flatten().tolist() == pytest.approx(MEAN)
    assert chain.perception_std.flatten().tolist() == pytest.approx(STD)
    processed = pp(det_batch(), training=False)
    assert processed['data_samples'][0].batch_input_shape == (H, W)


def test_frozen_restorer_gets_no_gradient_and_stays_in_eval(detector_cfg):
    chain = DeweatherDetector(restorer=dict(type='ChainTestIdentity'), detector=detector_cfg)
    chain.train()
    assert chain.detector.training and not chain.restorer.training
    optim = OptimWrapper(torch.optim.SGD([p for p in chain.parameters() if p.requires_grad], lr=0.01))
    fc_cls_before = chain.detector.roi_head.bbox_head.fc_cls.weight.detach().clone()
    log_vars = chain.train_step(det_batch(), optim)
    assert {'loss_rpn_cls', 'loss_cls', 'loss_bbox'} <= set(log_vars)
    assert chain.restorer.gain.grad is None and chain.restorer.gain.item() == 1.0
    assert chain.restorer.seen_training == [False]
    assert not torch.equal(chain.detector.roi_head.bbox_head.fc_cls.weight, fc_cls_before)


def test_slide_restore_keeps_predictions_with_a_per_pixel_restorer(detector_cfg):
    whole = DeweatherDetector(restorer=dict(type='ChainTestPixelRestorer'), detector=detector_cfg).eval()
    slide = DeweatherDetector(restorer=dict(type='ChainTestPixelRestorer'), detector=detector_cfg,
                              restore_cfg=dict(mode='slide', crop_size=(32, 48), stride=(24, 40))).eval()
    slide.load_state_dict(whole.state_dict())
    data = det_batch(1)
    with torch.no_grad():
        a, b = whole.test_step(copy.deepcopy(data))[0], slide.test_step(copy.deepcopy(data))[0]
    torch.testing.assert_close(b.pred_instances.bboxes, a.pred_instances.bboxes, atol=1e-3, rtol=1e-4)
    assert {shape[-2:] for shape in slide.restorer.tile_shapes} == {(32, 48)}
