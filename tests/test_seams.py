"""Seam visibility: 1 for smooth errors, large for a per-tile offset, smaller with feathered overlap."""
import math

import torch

from mmmofme.apis.inference import tiled_restore
from mmmofme.evaluation import seam_visibility, tile_borders


def test_tile_borders_lists_starts_and_ends_inside_the_image():
    assert tile_borders(96, 32, 32) == [32, 64]
    assert tile_borders(96, 32, 16) == [16, 32, 48, 64, 80]
    assert tile_borders(30, 32, 16) == []


def test_a_smooth_error_has_no_visible_seam():
    clean = torch.rand(1, 3, 64, 96)
    ramp = torch.linspace(0, 0.1, 96).expand(1, 3, 64, 96) + torch.linspace(0, 0.2, 64)[:, None]
    assert abs(seam_visibility(clean + ramp, clean, 32) - 1.0) < 1e-3


def test_a_per_tile_offset_is_visible_and_feathering_reduces_it():
    torch.manual_seed(0)
    clean = torch.linspace(0, 0.5, 128).expand(1, 3, 64, 128) + 0.05 * torch.rand(1, 3, 64, 128)
    noisy = clean + 0.01 * torch.randn_like(clean)

    def per_tile_offset(tiles):  # a restorer whose error depends on the tile's content (its mean)
        return tiles + 0.5 * tiles.mean(dim=(1, 2, 3), keepdim=True)

    hard = tiled_restore(per_tile_offset, noisy, 32)
    soft = tiled_restore(per_tile_offset, noisy, 32, stride=16)
    assert seam_visibility(hard, clean, 32) > 2.0
    assert seam_visibility(soft, clean, 32, 16) < seam_visibility(hard, clean, 32)


def test_one_tile_gives_nan():
    x = torch.rand(1, 3, 16, 16)
    assert math.isnan(seam_visibility(x, x, 32))
