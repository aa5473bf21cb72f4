"""tools/train.py and tools/test.py end to end on the tiny MoFME restorer config (generated pairs)."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / 'tests' / 'configs' / 'tiny_restorer.py'
pytestmark = pytest.mark.slow


def make_pairs(root: Path, n: int = 8, size=(40, 56)) -> float:
    """Write smooth clean images and a hazy version of each (a veil the tiny model can learn to remove).

    Returns the mean PSNR of the hazy inputs against their clean images.
    """
    rng = np.random.default_rng(0)
    (root / 'input').mkdir(parents=True)
    (root / 'gt').mkdir()
    psnrs = []
    for i in range(n):
        small = rng.integers(0, 256, (5, 7, 3)).astype(np.float32)
        clean = cv2.resize(small, size[::-1], interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)
        hazy = (0.55 * clean + 0.45 * 230).astype(np.uint8)
        cv2.imwrite(str(root / 'gt' / f'{i:03d}.png'), clean)
        cv2.imwrite(str(root / 'input' / f'{i:03d}.png'), hazy)
        mse = np.mean((clean.astype(np.float64) - hazy) ** 2)
        psnrs.append(10 * np.log10(255.0 ** 2 / mse))
    return float(np.mean(psnrs))


def data_options(data_root: Path) -> list:
    return [f'{loader}.dataset.data_root={data_root}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]


def logged(work_dir: Path, key: str) -> list:
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    rows = [json.loads(line) for line in scalars.read_text().splitlines()]
    return [r[key] for r in rows if key in r]


@pytest.mark.parametrize('router', ['TopKRouter', 'UncertaintyAwareRouter'])
def test_train_then_test_tiny_restorer(run_python, tmp_path, router):
    data_root = tmp_path / 'pairs'
    input_psnr = make_pairs(data_root)
    work_dir = tmp_path / 'work'
    config = tmp_path / 'tiny_with_router.py'  # a user's config swapping the router
    config.write_text(f"_base_ = ['{CONFIG}']\n"
                      f"model = dict(generator=dict(router=dict(_delete_=True, type='{router}')))\n")
    train = run_python(str(ROOT / 'tools' / 'train.py'), str(config), '--work-dir', str(work_dir),
                     '--cfg-options', *data_options(data_root), cwd=tmp_path)
    assert train.returncode == 0, train.stderr[-3000:]
    ckpt = work_dir / 'iter_40.pth'
    assert ckpt.is_file()
    losses = logged(work_dir, 'loss_pix')  # windowed means, logged every 10 iterations
    assert len(losses) >= 4 and losses[-1] < 0.7 * losses[0], losses
    assert all(v > 0 for v in logged(work_dir, 'loss_lb'))
    uncertainty = logged(work_dir, 'loss_uc')  # MC-dropout variance: only the UaR router has one
    uar = router == 'UncertaintyAwareRouter'
    assert all(v > 0 for v in uncertainty) if uar else all(v == 0 for v in uncertainty)

    test = run_python(str(ROOT / 'tools' / 'test.py'), str(config), str(ckpt), '--work-dir',
                    str(tmp_path / 'test'), '--cfg-options', *data_options(data_root), cwd=tmp_path)
    assert test.returncode == 0, test.stderr[-3000:]
    out = test.stdout + test.stderr
    assert 'PSNR:' in out and 'SSIM:' in out
    psnr = float(out.split('PSNR:')[-1].split()[0])
    assert psnr > input_psnr + 3.0, (psnr, input_psnr)


def test_resume_continues_from_the_latest_checkpoint(run_python, tmp_path):
    data_root = tmp_path / 'pairs'
    make_pairs(data_root)
    work_dir = tmp_path / 'work'
    common = ['--work-dir', str(work_dir), '--cfg-options', *data_options(data_root)]
    first = run_python(str(ROOT / 'tools' / 'train.py'), str(CONFIG), *common,
                     'train_cfg.max_iters=20', 'default_hooks.checkpoint.interval=20', cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = run_python(str(ROOT / 'tools' / 'train.py'), str(CONFIG), '--resume', *common,
                       'train_cfg.max_iters=30', 'default_hooks.checkpoint.interval=10', cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    out = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 0, iter: 20' in out
    assert (work_dir / 'iter_30.pth').is_file()


def test_test_tool_names_a_bad_checkpoint(run_python, tmp_path):
    bad = tmp_path / 'broken.pth'
    bad.write_bytes(b'not a checkpoint')
    result = run_python(str(ROOT / 'tools' / 'test.py'), str(CONFIG), str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f'error: {bad}:')


def test_train_tool_names_a_missing_config(run_python, tmp_path):
    result = run_python(str(ROOT / 'tools' / 'train.py'), str(tmp_path / 'nope.py'), cwd=tmp_path)
    assert result.returncode == 2
    assert 'nope.py: config file not found' in result.stderr
