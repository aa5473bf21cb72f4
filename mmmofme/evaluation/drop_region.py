"""PSNR inside the lens drops: the pixels a weather rendering changes, scored with a pooled MSE.

The synthetic generator does not write its drop masks, so a drop pixel is one where the weathered input
differs from the clean frame by more than ``DROP_THRESHOLD`` grey levels (max over channels, 0-255).
Squared errors are pooled over the mask pixels of all frames: a frame counts by its drop pixels.
Shared by ``mmmofme.mmagic.metrics.DropRegionPSNR`` (the Runner's validation) and ``tools/demo.py``.
"""
import math
from typing import Tuple

import numpy as np

__all__ = ['DROP_THRESHOLD', 'drop_mask', 'masked_sse', 'pooled_psnr']

DROP_THRESHOLD = 8.0  # grey levels: above the 8-bit noise of the renderings, below a faint drop


def drop_mask(weathered: np.ndarray, clean: np.ndarray, threshold: float = DROP_THRESHOLD,
              channel_axis: int = -1) -> np.ndarray:
    """Boolean mask of the pixels where any channel differs by more than ``threshold``.

    Args:
        weathered, clean: Images of one shape on the 0-255 scale, channels in the same order
            (e.g. (H, W, C) with ``channel_axis=-1``, (C, H, W) with ``channel_axis=-3``).
    Returns:
        The shape of the inputs without the channel axis.
    """
    diff = np.abs(np.asarray(weathered, np.float64) - np.asarray(clean, np.float64))
    return diff.max(axis=channel_axis) > threshold


def masked_sse(pred: np.ndarray, clean: np.ndarray, mask: np.ndarray,
               channel_axis: int = -1) -> Tuple[float, int]:
    """(sum of squared errors, number of values) of ``pred`` − ``clean`` over ``mask``'s pixels, all
    channels; ``mask`` has the images' shape without the channel axis."""
    diff = np.moveaxis(np.asarray(pred, np.float64) - np.asarray(clean, np.float64), channel_axis, -1)
    inside = diff[np.asarray(mask, bool)]  # (pixels, C)
    return float((inside ** 2).sum()), int(inside.size)


def pooled_psnr(sse: float, count: int, peak: float = 255.0) -> float:
    """PSNR of the pooled MSE ``sse / count``; capped at 100 dB (MSE 1e-10), NaN when ``count`` is 0
    (no drop pixel: nothing to score)."""
    if count <= 0:
        return float('nan')
    return 10 * math.log10(peak ** 2 / max(sse / count, 1e-10))
