"""tools/dist_train.sh on CPU (gloo, torchrun, 2 processes): identical weights on every rank, equal to one
process with the same global batch; load-balance loss reduced over ranks; 2-process evaluation equal
to 1-process evaluation."""
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from reliability_helpers import make_pairs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
GLOBAL_BATCH, STEPS = 4, 4
# Float32 sums in another order (two half-batch means averaged by DDP vs one batch mean) over 4 AdamW
# steps: measured max |Δw| = 2.1e-6 (docs/reliability.md); stated tolerance 1e-5.
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
# evaluation: All-Weather's test layout, per-weather PSNR / SSIM (3 weathers x 3 images: 9 over 2 ranks)
test_pipeline = pipeline[:2] + [dict(type='PackInputs', meta_keys=['weather', 'task_id'])]
test_dataloader = dict(_delete_=True, batch_size=1, num_workers=0, persistent_workers=False,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(type='WeatherPairedDataset', layout='allweather', split='test',
                                    data_root='{data_root}/allweather', test_mode=True,
                                    pipeline=test_pipeline))
test_evaluator = [dict(type='PerWeatherMetric', sample_metrics=[dict(type='PSNR'), dict(type='SSIM')])]
train_cfg = dict(max_iters={STEPS}, val_interval={STEPS + 1})  # evaluated by the tools below
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={STEPS}))
""")


def environment(port_offset: int = 0) -> dict:
    venv_bin = str(Path(sys.executable).parent)
    return dict(os.environ, PYTHONPATH=f'{ROOT}{os.pathsep}{ROOT / "tests" / "reliability"}',
                PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1',
                PORT=str(29500 + os.getpid() % 1000 + port_offset),
                PATH=f'{venv_bin}{os.pathsep}{os.environ["PATH"]}')


def write_allweather_test(root: Path) -> None:
    """All-Weather's test layout, 3 pairs per weather (names as the layout's rules expect)."""
    names = {'test_rain': [(f'im_000{i}_s80_a04.png',) * 2 for i in range(3)],
             'test_snow': [(f'snow_{i}.png',) * 2 for i in range(3)],
             'test_raindrop': [(f'{i}_rain.png', f'{i}_clean.png') for i in range(3)]}
    rng = np.random.default_rng(1)
    for split, pairs in names.items():
        for sub in ('input', 'gt'):
            (root / split / sub).mkdir(parents=True)
        for degraded, clean in pairs:
            for sub, name in (('gt', clean), ('input', degraded)):
                cv2.imwrite(str(root / split / sub / name), rng.integers(0, 256, (32, 48, 3), dtype=np.uint8))


def evaluation_metrics(output: str) -> dict:
    """The metrics of the last ``Iter(test)`` line: ``{'rain+fog/PSNR': '...', ...}``."""
    lines = [line for line in output.splitlines() if 'Iter(test)' in line]
    assert lines, output[-2000:]
    metrics = dict(re.findall(r'(\S+/\S+|PSNR|SSIM): ([0-9.]+)', lines[-1]))
    assert {'rain+fog/PSNR', 'snow/PSNR', 'raindrop/SSIM', 'PSNR'} <= set(metrics), lines[-1]
    return metrics


def test_two_cpu_processes_train_like_one_and_evaluate_like_one(tmp_path):
    data = tmp_path / 'pairs'
    make_pairs(data, 8, (32, 32))
    write_allweather_test(data / 'allweather')
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
    gap = max((value - single['state_dict'][key]).abs().max().item()
              for key, value in rank0['state_dict'].items())
    print(f'max |w(2 processes) - w(1 process)| after {STEPS} steps: {gap:.1e}')  # pytest -s shows it
    assert gap <= WEIGHT_TOLERANCE
    assert len(rank0['losses']) == len(single['losses']) == STEPS
    for step0, step1, step in zip(rank0['losses'], rank1['losses'], single['losses']):
        # the load-balance loss is over the global batch: the same on both ranks and in one process
        assert step0['loss_lb'] == step1['loss_lb']
        assert abs(step0['loss_lb'] - step['loss_lb']) < 1e-5
        # the pixel loss is each rank's own half; DDP averages the gradients, so their mean is global
        assert abs((step0['loss_pix'] + step1['loss_pix']) / 2 - step['loss_pix']) < 1e-5
    # tools/dist_test.sh with 2 processes and tools/test.py with one give the same per-weather metrics
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
    assert evaluation_metrics(two_test_output) == evaluation_metrics(one_test.stdout + one_test.stderr)


def segmentation_metrics(output: str) -> tuple:
    found = re.findall(r'aAcc: ([0-9.]+)\s+mIoU: ([0-9.]+)\s+mAcc: ([0-9.]+)', output)
    assert found, output[-2000:]
    return found[-1]


def test_a_chained_segmentor_evaluates_the_same_in_two_processes(tmp_path):
    from test_chain_test_tool import PSPNET, write_cityscapes_val  # tests/chain (on the path: conftest)

    from mmmofme.mmseg import DeweatherSegmentor
    data_root = tmp_path / 'cityscapes'
    write_cityscapes_val(data_root, n=4)
    config = tmp_path / 'chain_pspnet.py'
    config.write_text(f"""
_base_ = '{PSPNET}'
custom_imports = dict(imports=['mmmofme.mmseg', 'chain_stand_ins'])
model = dict(_delete_=True, type='DeweatherSegmentor', segmentor={{{{_base_.model}}}},
             restorer=dict(type='ChainTestPixelRestorer'), restore_cfg=dict(mode='slide', crop_size=(32, 64)))
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{data_root}'))
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(128, 64), keep_ratio=True),
                 dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
test_dataloader.update(dataset=dict(data_root='{data_root}', pipeline=test_pipeline))
""")
    torch.manual_seed(0)
    chain = DeweatherSegmentor(restorer=dict(type='ChainTestPixelRestorer'), segmentor=dict(cfg_path=PSPNET))
    checkpoint = tmp_path / 'chain.pth'
    torch.save(dict(state_dict=chain.state_dict()), checkpoint)
    env = environment(port_offset=2)
    env['PYTHONPATH'] += f'{os.pathsep}{ROOT / "tests" / "chain"}'
    two = subprocess.Popen(['bash', str(ROOT / 'tools' / 'dist_test.sh'), str(config), str(checkpoint), '2',
                            '--work-dir', str(tmp_path / 't2')], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    one = subprocess.run([sys.executable, str(ROOT / 'tools' / 'test.py'), str(config), str(checkpoint),
                          '--work-dir', str(tmp_path / 't1')], env=env, capture_output=True, text=True)
    two_output = two.communicate()[0]
    assert two.returncode == 0, two_output[-4000:]
    assert one.returncode == 0, one.stderr[-3000:]
    assert segmentation_metrics(two_output) == segmentation_metrics(one.stdout + one.stderr)
