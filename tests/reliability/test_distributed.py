"""tools/dist_train.sh on CPU (gloo, torchrun, 2 processes): identical weights on every rank, equal to one
process with the same global batch; load-balance loss reduced over ranks; 2-process evaluation equal
to 1-process evaluation."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from reliability_helpers import make_pairs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
GLOBAL_BATCH, STEPS = 4, 4
# Float32 sums in another order (two half-batch means averaged by DDP vs one batch mean) over 4 AdamW
# steps: measured max |Δw| = 7.5e-7 (docs/reliability.md); stated tolerance 1e-5.
WEIGHT_TOLERANCE = 1e-5


def write_config(path: Path, data_root: Path, batch_per_process: int) -> None:
    path.write_text(f"""
_base_ = ['{ROOT}/tests/configs/tiny_restorer.py']
custom_imports = dict(imports=['mmmofme.mmagic', 'rank_probe'], allow_failed_imports=False)
custom_hooks = [dict(type='RankProbeHook')]
# deterministic model and data: a top-k router (no MC dropout), no dropout, no random crop / flip
model = dict(generator=dict(dropout=0.0, router=dict(_delete_=True, type='TopKRouter')))
pipeline = [dict(type='LoadImageFromFile', key='img', color_type='color', channel_order='rgb'),
            dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
            dict(type='PackInputs')]
train_dataloader = dict(batch_size={batch_per_process},
                        dataset=dict(data_root='{data_root}', pipeline=pipeline))
val_dataloader = dict(dataset=dict(data_root='{data_root}', pipeline=pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters={STEPS}, val_interval={STEPS + 1})  # evaluated by the tools below
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={STEPS}))
""")


def environment(port_offset: int = 0) -> dict:
    venv_bin = str(Path(sys.executable).parent)
    return dict(os.environ, PYTHONPATH=f'{ROOT}{os.pathsep}{ROOT / "tests" / "reliability"}',
                PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1',
                PORT=str(29500 + os.getpid() % 1000 + port_offset),
                PATH=f'{venv_bin}{os.pathsep}{os.environ["PATH"]}')


def psnr_ssim(output: str) -> tuple:
    found = re.findall(r'PSNR: ([0-9.]+)\s+SSIM: ([0-9.]+)', output)
    assert found, output[-2000:]
    return found[-1]


def test_two_cpu_processes_train_like_one_and_evaluate_like_one(tmp_path):
    data = tmp_path / 'pairs'
    make_pairs(data, 8, (32, 32))
    write_config(tmp_path / 'two.py', data, GLOBAL_BATCH // 2)
    write_config(tmp_path / 'one.py', data, GLOBAL_BATCH)
    two = subprocess.Popen(['bash', str(ROOT / 'tools' / 'dist_train.sh'), str(tmp_path / 'two.py'), '2',
                            '--work-dir', str(tmp_path / 'w2')], env=environment(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    one = subprocess.run([sys.executable, str(ROOT / 'tools' / 'train.py'), str(tmp_path / 'one.py'),
                          '--work-dir', str(tmp_path / 'w1')], env=environment(), capture_output=True,
                         text=True)
    two_output = two.communicate()[0]
    assert two.returncode == 0, two_output[-4000:]
    assert one.returncode == 0, one.stderr[-3000:]

    rank0, rank1 = (torch.load(tmp_path / 'w2' / f'rank{r}_probe.pth', weights_only=True) for r in (0, 1))
    single = torch.load(tmp_path / 'w1' / 'rank0_probe.pth', weights_only=True)
    for key, value in rank0['state_dict'].items():
        assert torch.equal(value, rank1['state_dict'][key]), key  # DDP: the very same weights
        torch.testing.assert_close(value, single['state_dict'][key], rtol=0, atol=WEIGHT_TOLERANCE)
    assert len(rank0['losses']) == len(single['losses']) == STEPS
    for step0, step1, step in zip(rank0['losses'], rank1['losses'], single['losses']):
        # the load-balance loss is over the global batch: the same on both ranks and in one process
        assert step0['loss_lb'] == step1['loss_lb']
        assert abs(step0['loss_lb'] - step['loss_lb']) < 1e-5
        # the pixel loss is each rank's own half; DDP averages the gradients, so their mean is global
        assert abs((step0['loss_pix'] + step1['loss_pix']) / 2 - step['loss_pix']) < 1e-5
    # tools/dist_test.sh with 2 processes and tools/test.py with one give the same metrics
    checkpoint, config = tmp_path / 'w2' / f'iter_{STEPS}.pth', tmp_path / 'two.py'
    two_test = subprocess.Popen(['bash', str(ROOT / 'tools' / 'dist_test.sh'), str(config), str(checkpoint),
                                 '2', '--work-dir', str(tmp_path / 't2')], env=environment(port_offset=1),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    one_test = subprocess.run([sys.executable, str(ROOT / 'tools' / 'test.py'), str(config), str(checkpoint),
                               '--work-dir', str(tmp_path / 't1')], env=environment(), capture_output=True,
                              text=True)
    two_test_output = two_test.communicate()[0]
    assert two_test.returncode == 0, two_test_output[-4000:]
    assert one_test.returncode == 0, one_test.stderr[-3000:]
    assert psnr_ssim(two_test_output) == psnr_ssim(one_test.stdout + one_test.stderr)
