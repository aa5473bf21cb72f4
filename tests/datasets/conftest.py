"""Tiny generated trees shared by the dataset tests (a few frames at 128x64: fast on 2 busy cores)."""
import os.path as osp

import pytest
from weather_data_helpers import TINY, TINY_WEATHER, TRAIN_FRAMES, VAL_FRAMES, write_png

from mmmofme.datasets.synthetic.generator import SyntheticConfig, generate_synthetic_cityscapes


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> str:
    """A generated synthetic tree (read-only for the tests: copy before damaging it)."""
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_cityscapes(root, {'train': TRAIN_FRAMES, 'val': VAL_FRAMES},
                                  SyntheticConfig(seed=3, **TINY, **TINY_WEATHER), workers=1)
    return root


@pytest.fixture
def allweather_root(tmp_path) -> str:
    """All-Weather as the released code reads it: train + three test sets (2 pairs each)."""
    root = str(tmp_path / 'allweather')
    train = ['im_0001_s80_a04.png', '3_rain.png', 'city_read_00001.jpg', 'beautiful_smile_00002.jpg']
    for name in train:
        write_png(osp.join(root, 'train', 'input', name))
        write_png(osp.join(root, 'train', 'gt', name))
    for split, names in {'test_rain': ['im_0001_s80_a04.png', 'im_0002_s85_a05.png'],
                         'test_snow': ['a_00001.jpg', 'b_00002.jpg'],
                         'test_raindrop': ['0_rain.png', '1_rain.png']}.items():
        for name in names:
            write_png(osp.join(root, split, 'input', name))
            gt = name.replace('_rain.png', '_clean.png') if split == 'test_raindrop' else name
            write_png(osp.join(root, split, 'gt', gt))
    return root
