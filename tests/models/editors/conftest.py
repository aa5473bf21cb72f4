"""A tiny generated synthetic tree for the baseline restorers' train / test runs."""
import pytest

from mmmofme.datasets.synthetic.generator import SyntheticConfig, generate_synthetic_cityscapes


@pytest.fixture(scope='session')
def tiny_synthetic_root(tmp_path_factory) -> str:
    """2 train and 1 val frames at 128x64, one variant of each weather (8 train pairs, 4 val pairs)."""
    root = str(tmp_path_factory.mktemp('synthetic_baselines'))
    cfg = SyntheticConfig(seed=5, width=128, height=64,
                          rain=[dict(alpha=0.01, beta=0.005, dropsize=0.01, pattern=1)], fog_betas=(0.02, ),
                          snow_levels=('heavy', ), raindrop_levels=('heavy', ))
    generate_synthetic_cityscapes(root, {'train': 2, 'val': 1}, cfg, workers=1)
    return root
