"""Every shipped config builds, with the parameter count recorded for it; restorer configs have the paper's
schedule and (at the paper's setup) the paper's size."""
import json
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import mmmofme.mmagic  # noqa: F401  (registers MoFMERestorer)

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / 'configs'
SHIPPED = sorted(p for p in [*CONFIGS.glob('**/*.py'), *(ROOT / 'tests' / 'configs').glob('*.py')]
                 if '_base_' not in p.parts)
# Parameters of every config's model (and restorer), recorded when the configs moved to router / expert
# dicts: the migration kept every model the same.
RECORDED = json.loads((ROOT / 'tests' / 'configs' / 'param_counts.json').read_text())
RESTORER_CONFIGS = sorted([*CONFIGS.glob('mofme/*.py'), *CONFIGS.glob('baselines/*.py'),
                           CONFIGS / 'mofme_raincityscapes.py'])

# Tables 1-3 (millions of parameters, All-Weather 240x240 setup); tolerance 0.5 %.
PAPER_PARAMS = {
    'baselines/dense_allweather-240.py': 8.71,
    'baselines/moe-e16-top2_allweather-240.py': 44.19,
    'baselines/moe-e64-top2_allweather-240.py': 157.7,
    'baselines/moe-e128-top2_allweather-240.py': 309.1,
    'mofme/mofme-e16-top2_allweather-240.py': 18.53,
    'mofme/mofme-e64-top2_allweather-240.py': 47.1,
    'mofme/mofme-e128-top2_allweather-240.py': 85.2,
    'baselines/restormer_rain-haze-cityscapes-256.py': 26.13,
    'baselines/m3vit-e16-top2_allweather-240.py': 44.22,
    'baselines/m3vit-e16-top4_rain-haze-cityscapes-256.py': 44.25,
    'baselines/m3vit-fme-uar-e16-top2_allweather-240.py': 18.56,
    'baselines/mowe-e16-top2_allweather-240.py': 34.15,
    'baselines/ones_allweather-240.py': 8.71,  # the student
}


def build_generator(path: Path) -> torch.nn.Module:
    from mmagic.registry import MODELS
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(str(path))
    with DefaultScope.overwrite_default_scope(cfg.default_scope), torch.device('meta'):
        return MODELS.build(cfg.model).generator


@pytest.mark.parametrize('path', RESTORER_CONFIGS, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_restorer_config_builds_with_the_paper_schedule(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmagic' and 'mmmofme.mmagic' in cfg.custom_imports.imports
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.optim_wrapper.optimizer.lr == 0.5e-4
    assert cfg.train_cfg.max_epochs == 200
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.end) == ('LinearLR', 3)
    assert (cosine.type, cosine.eta_min) == ('CosineAnnealingLR', 1e-6)
    size_in_name = re.search(r'-(\d+)$', path.stem)  # '..._allweather-240': the crop it is built for
    crop = cfg.model.generator.get('img_size') or (int(size_in_name.group(1)) if size_in_name else 256)
    assert cfg.model.test_cfg.crop_size == crop


@pytest.mark.parametrize('name,millions', sorted(PAPER_PARAMS.items()))
def test_paper_configs_have_the_paper_parameter_count(name, millions):
    params = sum(p.numel() for p in build_generator(CONFIGS / name).parameters())
    assert abs(params / 1e6 - millions) / millions < 0.005, params


def build_model(cfg: Config) -> torch.nn.Module:
    """The config's model, in its default scope; restorer configs on the meta device (no memory)."""
    from mmengine.registry import MODELS, DefaultScope
    device = 'meta' if 'generator' in cfg.model else 'cpu'  # chain wrappers check buffers' values
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')), torch.device(device):
        return MODELS.build(cfg.model)


def test_every_shipped_config_has_a_recorded_count():
    assert sorted(RECORDED) == sorted(str(p.relative_to(ROOT)) for p in SHIPPED)


@pytest.mark.parametrize('path', SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_config_builds_with_its_recorded_parameter_count(path):
    model = build_model(Config.fromfile(str(path)))
    counts = dict(model=sum(p.numel() for p in model.parameters()))
    restorer = getattr(model, 'restorer', None) or getattr(model, 'generator', None)
    if restorer is not None:
        counts['restorer'] = sum(p.numel() for p in restorer.parameters())
    assert counts == RECORDED[str(path.relative_to(ROOT))]


@pytest.mark.parametrize('path', SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_an_epoch_loop_gets_a_sampler_whose_epochs_end(path):
    """InfiniteSampler under EpochBasedTrainLoop never ends epoch 1: training would never finish."""
    cfg = Config.fromfile(str(path))
    loop = (cfg.get('train_cfg') or {}).get('type', '')
    sampler = ((cfg.get('train_dataloader') or {}).get('sampler') or {}).get('type', '')
    assert not (loop == 'EpochBasedTrainLoop' and sampler == 'InfiniteSampler'), f'{path}: {loop} + {sampler}'


@pytest.mark.parametrize('path', SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_training_config_fixes_its_seed(path):
    """Without ``randomness.seed`` mmengine draws a seed per run: the same command trains another model."""
    cfg = Config.fromfile(str(path))
    if cfg.get('train_cfg'):
        assert (cfg.get('randomness') or {}).get('seed') is not None, f'{path}: no randomness.seed'
