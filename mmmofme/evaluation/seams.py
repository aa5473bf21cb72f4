"""How visible tile seams are in a tiled restoration.

A seam is a step in the restoration error where one tile ends and the next begins. With ``E = restored −
clean``, the seam visibility along one axis is the mean ``|E[b] − E[b − 1]|`` over the tile borders ``b``
divided by the same mean over every other pair of neighbouring rows (columns): 1.0 means a border is as
smooth as anywhere else; 2.0 means the error jumps twice as much at borders. Using the error rather than
the output keeps the scene's own edges out of the number.
"""
from typing import List, Optional

import torch
from torch import Tensor

from ..apis.inference import IntPair, _pair, tile_starts

__all__ = ['tile_borders', 'seam_visibility']

def tile_borders(length: int, tile: int, stride: int) -> List[int]:
    """Indices ``b`` where a tile starts or ends inside ``(0, length)`` (the step lies between b−1 and b)."""
    starts = tile_starts(length, tile, stride)
    return sorted({s for s in starts if 0 < s < length} | {s + tile for s in starts if 0 < s + tile < length})


def _axis_ratio(error: Tensor, dim: int, borders: List[int]) -> Optional[float]:
    steps = error.diff(dim=dim).abs()  # step i lies between i and i + 1: border b is step b - 1
    steps = steps.movedim(dim, 0).reshape(steps.shape[dim], -1).mean(dim=1)
    mask = torch.zeros(steps.shape[0], dtype=torch.bool)
    mask[[b - 1 for b in borders]] = True
    if not mask.any() or mask.all():
        return None
    return float(steps[mask].mean() / steps[~mask].mean().clamp_min(1e-12))


def seam_visibility(restored: Tensor, clean: Tensor, crop_size: IntPair,
                    stride: Optional[IntPair] = None) -> float:
    """Mean over both axes of (error step at tile borders) / (error step elsewhere); 1.0 = invisible seams.

    Args:
        restored: (B, C, H, W) tiled restoration.
        clean: (B, C, H, W) reference.
        crop_size: The tiling's tile size.
        stride: The tiling's stride (``None``: ``crop_size``).

    Returns:
        The ratio, or ``nan`` when the image holds no tile border (one tile).
    """
    if restored.shape != clean.shape or restored.dim() != 4:
        raise ValueError(f'seam_visibility needs two (B, C, H, W) tensors of one shape, got '
                         f'{tuple(restored.shape)} and {tuple(clean.shape)}')
    (th, tw), (sh, sw) = _pair(crop_size), _pair(stride if stride is not None else crop_size)
    error = (restored - clean).float()
    h, w = error.shape[-2:]
    ratios = [r for r in (_axis_ratio(error, 2, tile_borders(h, th, sh)),
                          _axis_ratio(error, 3, tile_borders(w, tw, sw))) if r is not None]
    return sum(ratios) / len(ratios) if ratios else float('nan')
