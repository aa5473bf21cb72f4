"""model-index.yml and the config families' metafile.yml files (OpenMMLab model-index format).

The files are read twice: with ``yaml`` following the format (``Import:`` lists metafiles, each with
``Collections:`` and ``Models:``), and with ``modelindex``, the reader ``mim search`` uses.
"""
from pathlib import Path

import pytest
import torch
import yaml
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ['mofme', 'baselines', 'synthetic', 'chain', 'classification']
# The paper-size restorers are built on the meta device (no weights allocated, cheap at any size); the
# small synthetic models on the CPU (the chain wrappers read tensor values when they are built).
CHEAP_FAMILIES = {'mofme': 'meta', 'baselines': 'meta', 'synthetic': 'cpu', 'classification': 'meta'}


def read_index() -> list:
    """Every model of every imported metafile: dicts with Name, In Collection, Config, Metadata, ..."""
    index = yaml.safe_load((ROOT / 'model-index.yml').read_text())
    models = []
    for metafile in index['Import']:
        meta = yaml.safe_load((ROOT / metafile).read_text())
        names = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in names, (metafile, model['Name'])
            models.append(model)
    return models


MODELS_INDEX = read_index()


def test_model_index_imports_one_metafile_per_family():
    index = yaml.safe_load((ROOT / 'model-index.yml').read_text())
    assert sorted(index['Import']) == sorted(f'configs/{f}/metafile.yml' for f in FAMILIES)
    for family in FAMILIES:
        assert (ROOT / 'configs' / family / 'README.md').is_file()


def test_every_config_is_listed_once_and_every_listed_config_exists():
    listed = [m['Config'] for m in MODELS_INDEX]
    assert len(listed) == len(set(listed)), 'a config is listed twice'
    assert len({m['Name'] for m in MODELS_INDEX}) == len(listed), 'a model name is used twice'
    for config in listed:
        assert (ROOT / config).is_file(), config
    on_disk = sorted(str(p.relative_to(ROOT)) for f in FAMILIES for p in (ROOT / 'configs' / f).glob('*.py'))
    assert sorted(listed) == on_disk


def test_every_model_has_parameters_and_results():
    for model in MODELS_INDEX:
        assert isinstance(model['Metadata']['Parameters'], int), model['Name']
        for result in model['Results']:
            assert result['Task'] and result['Dataset'] and isinstance(result['Metrics'], dict)


def build_model(config: str, device: str) -> torch.nn.Module:
    """The config's model, in its default scope after its custom imports (follows the configs' syntax)."""
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.utils import import_modules_from_strings

    import mmmofme.mmagic  # noqa: F401
    cfg = Config.fromfile(str(ROOT / config))
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')), torch.device(device):
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('model', [m for m in MODELS_INDEX
                                   if m['Config'].split('/')[1] in CHEAP_FAMILIES],
                         ids=lambda m: m['Name'])
def test_metafile_parameters_match_the_built_model(model):
    built = build_model(model['Config'], CHEAP_FAMILIES[model['Config'].split('/')[1]])
    assert sum(p.numel() for p in built.parameters()) == model['Metadata']['Parameters']


def test_model_stats_counts_a_config_like_the_metafiles():
    """``model_stats.py --configs`` (the command the READMEs give) on the tiny restorer config."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'model_stats', ROOT / 'tools' / 'analysis_tools' / 'model_stats.py')
    stats = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stats)
    config = 'tests/configs/tiny_restorer.py'
    row, = stats.main(['--configs', str(ROOT / config)])
    assert row['params'] == row['restorer_params'] == sum(
        p.numel() for p in build_model(config, 'cpu').parameters())
    assert row['crop'] == 32 and row['gmac'] > 0


def test_the_model_index_reader_of_mim_lists_every_config():
    from modelindex.load_model_index import load
    index = load(str(ROOT / 'model-index.yml'))
    listed = {Path(model.config).as_posix() for model in index.models}
    assert listed == {m['Config'] for m in MODELS_INDEX}
    assert all((ROOT / config).is_file() for config in listed)
