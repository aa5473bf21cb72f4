"""The dataset CLIs and the dataset base configs, end to end on tiny generated data."""
import filecmp
import glob
import importlib
import os.path as osp
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from weather_data_helpers import VAL_FRAMES, VARIANTS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs' / '_base_' / 'datasets'


@pytest.fixture
def _run(run_python):
    def run(*args):
        res = run_python(*args, clean_env=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        return res.stdout
    return run


def test_make_synthetic_cli_twice_identical_with_preview(_run, tmp_path):
    args = ['tools/dataset_converters/make_synthetic_cityscapes.py', '--num-train', '2', '--num-val', '1',
            '--size', '96x48', '--seed', '5', '--workers', '2', '--rain-patterns', '3', '--fog-betas', '0.02',
            '--snow-levels', 'light', '--raindrop-levels', 'light', '--preview', '1']
    _run(*args, '--out', str(tmp_path / 'a'))
    out = _run(*args, '--out', str(tmp_path / 'b'))
    assert 'wrote 3 frames' in out
    files = sorted(osp.relpath(p, tmp_path / 'a') for p in glob.glob(str(tmp_path / 'a' / '**' / '*'),
                                                                     recursive=True)
                   if osp.isfile(p))
    assert files and not filecmp.cmpfiles(tmp_path / 'a', tmp_path / 'b', files, shallow=False)[1]
    assert len([f for f in files if f.startswith('preview/')]) == 2  # first frame of each split
    assert len([f for f in files if f.startswith('leftImg8bit_rain/train/')]) == 2 * 2  # 2 pairs x 1 pattern


def test_cityscapes_to_coco_cli(_run, synthetic_root, tmp_path):
    out = _run('tools/dataset_converters/cityscapes_to_coco.py', synthetic_root, '--splits', 'val',
               '--out-dir',
               str(tmp_path), '--nproc', '1')
    assert f'val: {VAL_FRAMES} images' in out
    assert (tmp_path / 'instancesonly_filtered_gtFine_val.json').is_file()


def _config(name, root):
    """A dataset base config with every dataloader pointed at ``root``."""
    cfg = Config.fromfile(CONFIGS / f'{name}.py')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key]['dataset']['data_root'] = root
    return cfg


def _build_train_val(library, cfg):
    """Train and val datasets of a dataset config (its val metric built too), in ``library``'s scope."""
    registry = importlib.import_module(f'{library}.registry')
    importlib.import_module(f'mmmofme.{library}')
    evaluator = cfg.val_evaluator[0] if isinstance(cfg.val_evaluator, list) else cfg.val_evaluator
    with DefaultScope.overwrite_default_scope(library):
        train = registry.DATASETS.build(cfg.train_dataloader.dataset)
        val = registry.DATASETS.build(cfg.val_dataloader.dataset)
        registry.METRICS.build(evaluator)
    return train, val


@pytest.mark.parametrize('name, n_val', [('synthetic_restoration', VAL_FRAMES * sum(VARIANTS.values())),
                                         ('raincityscapes', VAL_FRAMES * VARIANTS['rain']),
                                         ('foggy_cityscapes', VAL_FRAMES),
                                         ('rain_haze_cityscapes', VAL_FRAMES * (VARIANTS['rain'] + 1))])
def test_restoration_configs_build_and_load(synthetic_root, name, n_val):
    cfg = _config(name, synthetic_root)
    cfg.train_dataloader.dataset.pipeline[2]['gt_patch_size'] = 32  # tiny frames
    train, val = _build_train_val('mmagic', cfg)
    sample = train[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 32) and 'task_id' in sample['data_samples'].metainfo
    assert len(val) == n_val and val[0]['data_samples'].metainfo['weather'] in VARIANTS


def test_allweather_config(allweather_root):
    cfg = _config('allweather', allweather_root)
    cfg.train_dataloader.dataset.pipeline[2]['gt_patch_size'] = 16
    train, val = _build_train_val('mmagic', cfg)
    assert len(train) == 4 and len(val) == 6


@pytest.mark.parametrize('name', ['synthetic_seg', 'raincityscapes_seg', 'foggy_cityscapes_seg'])
def test_seg_configs(synthetic_root, name):
    train, val = _build_train_val('mmseg', _config(name, synthetic_root))
    assert train[0]['data_samples'].gt_sem_seg is not None
    assert 'weather' in val[0]['data_samples'].metainfo


@pytest.mark.parametrize('name', ['synthetic_det', 'raincityscapes_det'])
def test_det_configs(synthetic_root, name):
    train, val = _build_train_val('mmdet', _config(name, synthetic_root))
    assert len(train[0]['data_samples'].gt_instances) > 0
    assert {'weather', 'instances'} <= set(val[0]['data_samples'].metainfo)


def test_the_mixed_config_packs_both_parts_metainfo_in_one_key_order(synthetic_root):
    """mofme-mixdr_synthetic.py batches fixed pairs with randomised ones; mmagic's DataSample.stack compares
    the samples' metainfo key lists, whose order follows the order PackInputs meets the keys in."""
    from mmagic.registry import DATASETS, MODELS
    from mmagic.structures import DataSample

    import mmmofme.mmagic  # noqa: F401  (registers WeatherPairedDataset and RandomWeather)
    cfg = Config.fromfile(str(ROOT / 'configs' / 'synthetic' / 'mofme-mixdr_synthetic.py'))
    fixed_cfg, randomised_cfg = cfg.train_dataloader.dataset.datasets
    for part in (fixed_cfg, randomised_cfg.dataset):
        part.data_root = synthetic_root
        next(t for t in part.pipeline if t.type == 'PairedRandomCrop').gt_patch_size = 16  # tiny frames
    with DefaultScope.overwrite_default_scope('mmagic'):
        train = DATASETS.build(cfg.train_dataloader.dataset)
    fixed, randomised = train.datasets[0], train.datasets[1].dataset

    def packed_key_order(dataset):
        results = dataset.get_data_info(0)
        for transform in dataset.pipeline.transforms[:-1]:  # all but PackInputs
            results = transform(results)
        pack = dataset.pipeline.transforms[-1]
        return [key for key in results if key in DataSample.META_KEYS or key in pack.meta_keys]

    assert packed_key_order(fixed) == packed_key_order(randomised)
    samples = [fixed[0]['data_samples'], randomised[0]['data_samples']]
    assert samples[1].metainfo['weather'] in ('rain', 'fog', 'snow', 'raindrop', 'clean')
    assert DataSample.stack(samples).gt_img.shape == (2, 3, 16, 16)
    with DefaultScope.overwrite_default_scope('mmagic'):  # and the config's preprocessor stacks them
        preprocessor = MODELS.build(cfg.model.data_preprocessor)
    inputs = [fixed[0]['inputs'], randomised[0]['inputs']]
    batch = preprocessor(dict(inputs=inputs, data_samples=samples), True)
    assert batch['data_samples'].gt_img.shape == (2, 3, 16, 16)
