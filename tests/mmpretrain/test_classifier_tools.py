"""tools/train.py and tools/test.py on the shipped MoFME-ViT config, shrunk, on generated CIFAR-10 files."""
import json
import re
from pathlib import Path

import pytest
from cifar_helpers import write_fake_cifar10

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'configs' / 'classification' / 'mofme-vit-e8-top2_cifar10-32.py'
pytestmark = pytest.mark.slow

# A 32-wide, two-block MoFME-ViT, 6 epochs of 5 iterations at a constant learning rate, no workers.
# (A missing folder's one-line error is tested on the dataset: test_cifar10_folder.py.)
SHRINK = ['model.backbone.embed_dim=32', 'model.backbone.depth=2', 'model.backbone.num_heads=2',
          'model.backbone.head_dim=16', 'model.backbone.mlp_ratio=2.0', 'model.backbone.num_experts=4',
          'model.backbone.moe_blocks=[1]', 'model.head.in_channels=32', 'train_cfg.max_epochs=6',
          'train_cfg.val_interval=100', 'default_hooks.logger.interval=5',
          'default_hooks.checkpoint.interval=6', 'default_hooks.checkpoint.save_best=None',
          'param_scheduler=[]', 'optim_wrapper.optimizer.lr=4e-3', 'randomness.seed=0']


def data_options(data_root: Path) -> list:
    options = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [f'{loader}.dataset.data_root={data_root}', f'{loader}.dataset.verify_md5=False',
                    f'{loader}.batch_size=20', f'{loader}.num_workers=0']
    return options


def test_train_then_test_the_classifier(run_python, tmp_path):
    data_root = write_fake_cifar10(tmp_path / 'cifar10', per_batch=20, test=40)
    work_dir = tmp_path / 'work'
    train = run_python(str(ROOT / 'tools' / 'train.py'), str(CONFIG), '--work-dir', str(work_dir),
                       '--cfg-options', *SHRINK, *data_options(data_root), cwd=tmp_path)
    assert train.returncode == 0, train.stderr[-3000:]
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    rows = [json.loads(line) for line in scalars.read_text().splitlines()]
    losses = [r['loss'] for r in rows if 'loss' in r]  # the Runner's total: CE + λ1 L_lb + λ2 L_uc
    assert len(losses) == 6 and losses[-1] < 0.7 * losses[0], losses
    assert all(r['loss_lb'] > 0 and r['loss_uc'] > 0 for r in rows if 'loss' in r)  # UaR in training
    ckpt = work_dir / 'epoch_6.pth'
    assert ckpt.is_file()

    test = run_python(str(ROOT / 'tools' / 'test.py'), str(CONFIG), str(ckpt), '--work-dir',
                      str(tmp_path / 'test'), '--cfg-options', *SHRINK, *data_options(data_root),
                      cwd=tmp_path)
    assert test.returncode == 0, test.stderr[-3000:]
    top1 = re.findall(r'accuracy/top1: ([0-9.]+)', test.stdout + test.stderr)
    assert top1, (test.stdout + test.stderr)[-3000:]
    assert 30.0 < float(top1[-1]) <= 100.0  # ten colour classes: well above chance (10 %) after training

