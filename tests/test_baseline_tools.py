"""M³ViT, MoWE and OneS through tools/train.py and tools/test.py on generated data (tiny models)."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from test_tools import data_options, logged, make_pairs

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / 'tests' / 'configs'
pytestmark = pytest.mark.slow

# training names tagged by ALLWEATHER_TRAIN_RULES: rain+fog, raindrop, snow
TRAIN_NAMES = [f'im_{i:04d}_s80_a04.png' for i in range(3)] + [f'{i}_rain.png' for i in range(3)] + \
    [f'city_{i:05d}.png' for i in range(3)]
TEST_NAMES = {'test_rain': ['im_0100_s85_a05.png'], 'test_snow': ['snow_00100.png'],
              'test_raindrop': ['100_rain.png']}


def make_allweather(root: Path) -> float:
    """A tiny All-Weather tree of hazy / clean pairs; returns the inputs' mean PSNR on the test sets."""
    pairs = root / 'pairs'
    make_pairs(pairs, n=len(TRAIN_NAMES) + 3)
    sources = sorted((pairs / 'input').iterdir())
    psnrs = []
    splits = [('train', name) for name in TRAIN_NAMES]
    splits += [(split, name) for split, names in TEST_NAMES.items() for name in names]
    for (split, name), src in zip(splits, sources):
        gt_name = name.replace('_rain.png', '_clean.png') if split == 'test_raindrop' else name
        for kind, file_name in (('input', name), ('gt', gt_name)):
            (root / split / kind).mkdir(parents=True, exist_ok=True)
            (root / split / kind / file_name).write_bytes((pairs / kind / src.name).read_bytes())
        if split != 'train':
            a, b = (cv2.imread(str(pairs / k / src.name)).astype(np.float64) for k in ('input', 'gt'))
            psnrs.append(10 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2)))
    return float(np.mean(psnrs))


def train_and_test(run_python, tmp_path: Path, config: Path, options: list) -> str:
    work_dir = tmp_path / 'work'
    train = run_python(str(ROOT / 'tools' / 'train.py'), str(config), '--work-dir', str(work_dir),
                       '--cfg-options', *options, cwd=tmp_path)
    assert train.returncode == 0, train.stderr[-3000:]
    ckpt = work_dir / 'iter_40.pth'
    assert ckpt.is_file()
    test = run_python(str(ROOT / 'tools' / 'test.py'), str(config), str(ckpt), '--work-dir',
                      str(tmp_path / 'test'), '--cfg-options', *options, cwd=tmp_path)
    assert test.returncode == 0, test.stderr[-3000:]
    return test.stdout + test.stderr


@pytest.mark.parametrize('generator', [
    "experts=dict(type='FFNExperts'), router=dict(_delete_=True, type='TaskConditionedRouter')",
    "experts=dict(type='MultiScaleExperts'), router=dict(_delete_=True, type='WeatherAwareRouter')",
], ids=['m3vit', 'mowe'])
def test_weather_baselines_train_then_test(run_python, tmp_path, generator):
    data_root = tmp_path / 'allweather'
    input_psnr = make_allweather(data_root)
    config = tmp_path / 'baseline.py'
    config.write_text(f"_base_ = ['{CONFIGS / 'tiny_weather_restorer.py'}']\n"
                      f"model = dict(generator=dict({generator}),\n"
                      "             aux_loss_weights=dict(loss_lb=1e-2, loss_uc=5e-3, loss_wcl=1e-2))\n")
    out = train_and_test(run_python, tmp_path, config, data_options(data_root))
    work_dir = tmp_path / 'work'
    losses = logged(work_dir, 'loss_pix')
    assert len(losses) >= 4 and losses[-1] < 0.85 * losses[0], losses
    if 'WeatherAware' in generator:  # the tags reach the router: WGF-CL is trained
        assert all(v > 0 for v in logged(work_dir, 'loss_wcl'))
    for weather in ('rain+fog', 'snow', 'raindrop'):
        assert f'{weather}/PSNR:' in out
    psnr = float(out.split('PSNR:')[-1].split()[0])  # the mean over the weathers
    assert psnr > input_psnr + 1.0, (psnr, input_psnr)


def test_ones_distils_through_the_tools(run_python, load_tool, tmp_path):
    from mmengine.config import Config
    from mmengine.registry import MODELS
    data_root = tmp_path / 'pairs'
    make_pairs(data_root)
    cfg = Config.fromfile(str(CONFIGS / 'tiny_ones.py'))
    teacher_cfg = dict(cfg.model.teacher)
    teacher_cfg.pop('init_cfg')
    torch.manual_seed(0)
    teacher = MODELS.build(teacher_cfg)
    teacher_path, init_path = tmp_path / 'teacher.pth', tmp_path / 'student_init.pth'
    torch.save({'state_dict': {f'generator.{k}': v for k, v in teacher.state_dict().items()}}, teacher_path)
    assert load_tool('model_converters/moe_to_dense').main([str(teacher_path), str(init_path)]) == 0

    # the teacher is untrained, so the ground truth would pull the student away from it: distil only
    options = data_options(data_root) + [f'model.teacher.init_cfg.checkpoint={teacher_path}',
                                         f'model.generator.init_cfg.checkpoint={init_path}',
                                         'model.pixel_loss.loss_weight=0.0']
    out = train_and_test(run_python, tmp_path, CONFIGS / 'tiny_ones.py', options)
    work_dir = tmp_path / 'work'
    for key in ('loss_kd_pix', 'loss_kd_feat'):
        values = logged(work_dir, key)
        assert len(values) >= 4 and values[-1] < 0.8 * values[0], (key, values)
    # the student started from the gathered experts; the teacher stayed as loaded
    trained = torch.load(work_dir / 'iter_40.pth', weights_only=False)['state_dict']
    for key, value in teacher.state_dict().items():
        torch.testing.assert_close(trained[f'teacher.{key}'], value, rtol=0, atol=0)
    assert 'PSNR:' in out and 'SSIM:' in out
    assert np.isfinite(float(out.split('PSNR:')[-1].split()[0]))
