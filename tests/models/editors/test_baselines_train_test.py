"""Each baseline restorer trains through tools/train.py on generated pairs and is scored by tools/test.py,
from its shipped synthetic config with widths, crops and the schedule shrunk by ``--cfg-options``."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow

# Smallest faithful networks: every part of each model is still there.
TINY_GENERATORS = {
    'prenet': ['model.generator.mid_channels=8', 'model.generator.num_stages=3',
               'model.generator.num_res_blocks=1'],
    'rescan': ['model.generator.mid_channels=8', 'model.generator.depth=4', 'model.generator.num_stages=2',
               'model.generator.se_hidden=2'],
    'ffa-net': ['model.generator.mid_channels=16', 'model.generator.num_groups=2',
                'model.generator.num_blocks=1', 'model.generator.reduction=4'],
    'transweather': ['model.generator.embed_dims=[8,16,16,32]', 'model.generator.num_heads=[1,1,2,2]',
                     'model.generator.depths=[1,1,1,1]', 'model.generator.decoder_depth=1',
                     'model.generator.decoder_num_heads=2', 'model.generator.num_queries=4',
                     'model.generator.tail_dims=[8,8]'],
}
CROP = 32


def shrunk_run(data_root: str) -> list:
    """Options that turn the paper's 200-epoch recipe into a seconds-long CPU run on ``data_root``."""
    loaders = [f'{name}.{key}' for name in ('train_dataloader', 'val_dataloader', 'test_dataloader')
               for key in ('num_workers=0', 'persistent_workers=False', f'dataset.data_root={data_root}')]
    return [*loaders, 'train_dataloader.batch_size=4',
            f'train_dataloader.dataset.pipeline.2.gt_patch_size={CROP}', f'model.test_cfg.crop_size={CROP}',
            'train_cfg.max_epochs=12', 'train_cfg.val_interval=100', 'optim_wrapper.optimizer.lr=2e-3',
            'param_scheduler.0.start_factor=1.0', 'default_hooks.logger.interval=6',
            'log_processor.window_size=6', 'default_hooks.checkpoint.interval=12',
            'default_hooks.checkpoint.save_best=None']


def logged(work_dir: Path, key: str) -> list:
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    return [row[key] for row in map(json.loads, scalars.read_text().splitlines()) if key in row]


# Both tools run as ``__main__`` with their own command line, one model after the other, in a single
# interpreter: the stack's imports (most of a tool run's time here) are paid once for the eight runs.
DRIVER = """
import json, runpy, sys
for argv in json.loads(sys.argv[1]):
    sys.argv = argv
    runpy.run_path(argv[0], run_name='__main__')
"""


@pytest.fixture(scope='module')
def tool_runs(run_python, tmp_path_factory, tiny_synthetic_root):
    """Train then test every baseline on the tiny tree; (completed process, {name: run dir})."""
    base = tmp_path_factory.mktemp('baseline_runs')
    runs, argvs = {}, []
    for name, generator in sorted(TINY_GENERATORS.items()):
        config = str(ROOT / 'configs' / 'baselines' / f'{name}_synthetic-256.py')
        options = ['--cfg-options', *shrunk_run(tiny_synthetic_root), *generator]
        runs[name] = base / name
        argvs.append([str(ROOT / 'tools' / 'train.py'), config, '--work-dir', str(runs[name] / 'train'),
                      *options])
        argvs.append([str(ROOT / 'tools' / 'test.py'), config, str(runs[name] / 'train' / 'epoch_12.pth'),
                      '--work-dir', str(runs[name] / 'test'), *options])
    return run_python('-c', DRIVER, json.dumps(argvs), cwd=base, timeout=1800), runs


@pytest.mark.parametrize('name', sorted(TINY_GENERATORS))
def test_baseline_trains_and_tests_through_the_tools(tool_runs, name):
    process, runs = tool_runs
    work_dir, test_dir = runs[name] / 'train', runs[name] / 'test'
    assert (work_dir / 'epoch_12.pth').is_file(), process.stderr[-3000:]
    losses = logged(work_dir, 'loss_pix')  # windowed means, logged at every epoch end (2 iterations each)
    assert len(losses) == 12 and losses[-1] < 0.8 * losses[0], losses
    assert not logged(work_dir, 'loss_lb')  # a plain generator: no MoE aux loss terms

    results = sorted(test_dir.glob('*/*.json'))
    assert results, process.stderr[-3000:]
    metrics = json.loads(results[-1].read_text())
    weathers = ('rain', 'fog', 'snow', 'raindrop')
    for weather in weathers:
        assert 5 < metrics[f'{weather}/PSNR'] < 60 and 0 < metrics[f'{weather}/SSIM'] <= 1, metrics
    assert metrics['PSNR'] == pytest.approx(sum(metrics[f'{w}/PSNR'] for w in weathers) / 4, rel=1e-4)
