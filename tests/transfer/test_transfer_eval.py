"""transfer_eval end to end on a tiny tree: an identity restorer recovers nothing and keeps PSNR; a
darkening one harms; the tool's bad input gives one line naming the problem."""
import dataclasses
import importlib.util
import json
from pathlib import Path

import cv2
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS
from transfer_helpers import SIZE, VAL_FRAMES

from mmmofme.apis.demo_dir import demo_blend
from mmmofme.datasets.transfer.writer import write_transfer_set
from mmmofme.evaluation.transfer_eval import build_models, evaluate_transfer
from mmmofme.evaluation.transfer_report import PSNR_CAP

ROOT = Path(__file__).resolve().parents[2]
KINDS = ['clean', 'fog-dense', 'jpeg']
spec = importlib.util.spec_from_file_location('transfer_eval_tool',
                                              ROOT / 'tools/analysis_tools/transfer_eval.py')
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


@MODELS.register_module(force=True)
class TransferTestDarken(torch.nn.Module):
    """Halves the input: a restorer that harms every frame."""

    def forward(self, x):
        return x * 0.5


def restorer_config(generator: str) -> Config:
    return Config(dict(model=dict(type='MoFMERestorer', generator=dict(type=generator))))


@pytest.fixture(scope='module')
def tree(synthetic_val, tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp('transfer_eval_tree'))
    write_transfer_set(synthetic_val, out, KINDS, seed=0)
    return out


@pytest.fixture(scope='module')
def perception():
    """Randomly initialised Fast-SCNN and RTMDet-tiny of the synthetic configs (no checkpoint), fed the
    tiny frames at their own size (the configs resize to 512x256: 16 times the work)."""
    seg = Config.fromfile(str(ROOT / 'configs/synthetic/fastscnn_synthetic.py'))
    det = Config.fromfile(str(ROOT / 'configs/synthetic/rtmdet-tiny_synthetic.py'))
    for pipeline in (seg.test_pipeline, det.test_dataloader.dataset.pipeline):
        resize = next(t for t in pipeline if t['type'] == 'Resize')
        resize['scale'] = (SIZE['width'], SIZE['height'])
    return dict(seg_cfg=seg, seg_ckpt=None, det_cfg=det, det_ckpt=None)


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """One torch thread: on busy shared cores two OpenMP threads per process run ten times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def models(perception):
    return build_models(restorer_config('IdentityRestorer'), None, **perception)


def test_identity_restorer_recovers_nothing_and_keeps_psnr(tree, models, tmp_path):
    assert models.restore_cfg['mode'] == 'slide' and tuple(models.restore_cfg['crop_size']) == (128, 128)
    res = evaluate_transfer(tree, models, out_dir=str(tmp_path))
    assert list(res['kinds']) == KINDS and res['settings']['frames'] == VAL_FRAMES
    for kind, row in res['kinds'].items():
        assert row['psnr_out'] == row['psnr_in'] and row['ssim_out'] == row['ssim_in'], kind
        for key in ('mIoU', 'mAcc', 'mAP50'):
            assert row[key]['restored'] == row[key]['weathered'], (kind, key)
            assert row[key]['clean'] == res['clean'][key]
        assert all(share in (None, 0.0) for share in row['recovered'].values()), kind
        assert row['no_harm'], kind
    assert res['kinds']['clean']['psnr_in'] == PSNR_CAP and res['kinds']['clean']['ssim_in'] == 1.0
    assert res['kinds']['clean']['mIoU']['weathered'] == res['clean']['mIoU']
    assert res['kinds']['fog-dense']['psnr_in'] < 20 < res['kinds']['jpeg']['psnr_in'] < PSNR_CAP
    assert res['summary']['report']['all']['kinds'] == 3 and res['summary']['selection']['all']['kinds'] == 2
    assert res['summary']['report']['all']['no_harm'] == 3

    md = (tmp_path / 'transfer.md').read_text()
    assert '### selection split' in md and '### report split' in md
    assert '| fog-dense | generator-heldout |' in md
    assert json.loads((tmp_path / 'transfer.json').read_text())['kinds']['jpeg']['family'] == 'near-clean'
    assert cv2.imread(str(tmp_path / 'transfer_bars.png')) is not None
    mosaic = cv2.imread(str(tmp_path / 'transfer_examples.png'))
    assert mosaic.shape[0] == len(KINDS) * 128 and mosaic.shape[1] == 3 * 256  # 256-px tiles, frames at 2:1


def test_a_harmful_restorer_fails_no_harm(tree, models):
    darken = dataclasses.replace(models, restorer=TransferTestDarken(), restore_cfg=dict(mode='whole'))
    res = evaluate_transfer(tree, darken, kinds=['clean', 'jpeg'], num=1)
    for row in res['kinds'].values():
        assert row['psnr_out'] < row['psnr_in'] - 3 and not row['no_harm']


def test_tool_errors_are_one_line(tmp_path, capsys):
    assert tool.main(['--demo-dir', str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f'error: {tmp_path}/restorer/restorer_demo.py: missing (run the demo first: make demo)\n'
    cfg = str(ROOT / 'configs/synthetic/fastscnn_synthetic.py')
    args = ['--data', str(tmp_path), '--restorer', cfg, cfg, '--segmentor', cfg, cfg, '--detector', cfg, cfg]
    assert tool.main(args) == 2
    assert capsys.readouterr().err == (f'error: {tmp_path}/transfer_meta.json: missing; {tmp_path} is not a '
                                       f'transfer tree (write one with tools/dataset_converters/'
                                       f'make_transfer_set.py)\n')


def test_demo_dir_evaluates_the_blend_the_demo_calibrated(tmp_path):
    """``--demo-dir`` scores the restorer as the demo does: with the range and gate of its calibration."""
    cfg = str(ROOT / 'configs/synthetic/mofme_synthetic.py')
    assert demo_blend(tmp_path, cfg) == cfg  # no calibration: the config as it is
    (tmp_path / 'calibration').mkdir()
    result = tmp_path / 'calibration' / 'confidence_calibration.json'
    result.write_text(json.dumps(dict(range=[0.2, 0.4], frame_gate=[0.5, 0.7], feasible=True)))
    generator = demo_blend(tmp_path, cfg).model.generator
    assert (generator.confidence_range, generator.frame_gate) == ((0.2, 0.4), (0.5, 0.7))
    result.write_text(json.dumps(dict(range=[0.0, 0.1], frame_gate=None)))
    assert demo_blend(tmp_path, cfg).model.generator.frame_gate is None
    result.write_text('{"range": [0.2')
    with pytest.raises(ValueError, match=r'confidence_calibration.json: not a calibration result'):
        demo_blend(tmp_path, cfg)
