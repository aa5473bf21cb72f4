"""The environment `make env` builds: compiled mmcv ops and the four OpenMMLab libraries.

That the installed versions are the pinned ones is checked by `tools/setup_env.sh` itself (its import
check step reads requirements/constraints.txt), where a mismatch can still be fixed.
"""
import importlib

import pytest
import torch


@pytest.mark.parametrize('module', ['mmagic.models', 'mmseg.models', 'mmdet.models', 'mmagic.evaluation',
                                    'mmseg.evaluation', 'mmdet.evaluation', 'mmpretrain.models',
                                    'mmpretrain.evaluation'])
def test_openmmlab_libraries_import(module):
    importlib.import_module(module)


def test_mmcv_nms_suppresses_overlapping_box():
    from mmcv.ops import nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.], [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]  # IoU(box0, box1) = 81/119 > 0.5
    assert torch.allclose(dets[:, 4], torch.tensor([0.9, 0.7]))


def test_mmcv_roi_align_averages_constant_region():
    from mmcv.ops import RoIAlign
    feat = torch.zeros(1, 1, 8, 8)
    feat[..., :4, :4] = 3.0
    rois = torch.tensor([[0., 0., 0., 3., 3.], [0., 4., 4., 7., 7.]])
    out = RoIAlign(output_size=(2, 2), spatial_scale=1.0, sampling_ratio=2, aligned=False)(feat, rois)
    assert out.shape == (2, 1, 2, 2)
    assert torch.allclose(out[0], torch.full((1, 2, 2), 3.0))
    assert torch.allclose(out[1], torch.zeros(1, 2, 2))
