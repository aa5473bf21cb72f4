"""Shared inputs of the transfer-protocol tests: one street scene with its depth, and a tiny synthetic
val split (clean frames, labels, instances, depth; no weathers) to write transfer trees from."""
import numpy as np
import pytest
from transfer_helpers import SIZE, VAL_FRAMES

from mmmofme.datasets.synthetic import SyntheticConfig, generate_synthetic_cityscapes, render_street_scene


@pytest.fixture(scope='session')
def street():
    """``(clean RGB, distance)`` of one 256x128 scene (kinds scale their sizes with the frame)."""
    scene = render_street_scene(256, 128, np.random.default_rng(7))
    return scene.image, scene.distance


@pytest.fixture(scope='session')
def synthetic_val(tmp_path_factory) -> str:
    """A synthetic tree holding only clean val frames with their ground truth and depth (read-only)."""
    root = str(tmp_path_factory.mktemp('synthetic_val'))
    generate_synthetic_cityscapes(root, {'val': VAL_FRAMES},
                                  SyntheticConfig(seed=5, rain=[], fog_betas=(), snow_levels=(),
                                                  raindrop_levels=(), **SIZE), workers=1)
    return root
