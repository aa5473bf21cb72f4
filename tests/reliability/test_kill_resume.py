"""A training killed with SIGKILL right after a checkpoint and resumed with ``tools/train.py --resume``
ends bit-identical to the uninterrupted run (weights, optimizer state, logged losses)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from reliability_helpers import make_pairs

from mmmofme.utils.checkpoint_ledger import LEDGER_NAME

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'tests' / 'configs' / 'tiny_restorer.py'
pytestmark = pytest.mark.slow
MAX_ITERS, INTERVAL = 12, 4


def train_command(work_dir: Path, data_root: Path, *extra: str) -> list:
    options = [f'{loader}.dataset.data_root={data_root}' for loader in ('train_dataloader', 'val_dataloader',
                                                                         'test_dataloader')]
    # validation at every checkpoint: it must not shift the training's random streams
    options += [f'train_cfg.max_iters={MAX_ITERS}', f'train_cfg.val_interval={INTERVAL}',
                f'default_hooks.checkpoint.interval={INTERVAL}', 'default_hooks.logger.interval=1']
    return [sys.executable, str(ROOT / 'tools' / 'train.py'), str(CONFIG), '--work-dir', str(work_dir),
            *extra, '--cfg-options', *options]


def environment() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')


def logged_losses(work_dir: Path) -> dict:
    rows = []
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        rows += [json.loads(line) for line in scalars.read_text().splitlines()]
    return {r['iter']: r['loss'] for r in rows if 'loss' in r}


def test_sigkill_after_a_checkpoint_then_resume_is_bit_identical(tmp_path):
    data = tmp_path / 'pairs'
    make_pairs(data, 6, (40, 56))
    straight, killed = tmp_path / 'straight', tmp_path / 'killed'
    log = open(tmp_path / 'straight.log', 'w')
    run = subprocess.Popen(train_command(straight, data), env=environment(), stdout=log,
                           stderr=subprocess.STDOUT)  # alongside the victim: two cores
    victim = subprocess.Popen(train_command(killed, data), env=environment(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    ledger, deadline = killed / LEDGER_NAME, time.time() + 300
    while not (ledger.is_file() and 'iter_4.pth' in ledger.read_text()) and victim.poll() is None:
        assert time.time() < deadline
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL  # killed, not finished
    assert not (killed / f'iter_{MAX_ITERS}.pth').exists()

    assert run.wait() == 0, (tmp_path / 'straight.log').read_text()[-3000:]
    log.close()
    resumed = subprocess.run(train_command(killed, data, '--resume'), env=environment(), capture_output=True,
                             text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 4' in resumed.stdout + resumed.stderr

    a = torch.load(straight / f'iter_{MAX_ITERS}.pth', weights_only=False)
    b = torch.load(killed / f'iter_{MAX_ITERS}.pth', weights_only=False)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key  # bit-identical
    for slot, state in a['optimizer']['state'].items():
        for name, value in state.items():
            assert torch.equal(value, b['optimizer']['state'][slot][name]), (slot, name)
    straight_losses, resumed_losses = logged_losses(straight), logged_losses(killed)
    assert len(straight_losses) == MAX_ITERS
    assert all(resumed_losses[i] == straight_losses[i] for i in range(INTERVAL + 1, MAX_ITERS + 1))
