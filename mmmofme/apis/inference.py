"""The one tiling function for restoring images larger than the restorer's crop.

Used by ``MoFMERestorer``'s test mode, the chain wrappers' ``restore_cfg`` and ``tools/deweather.py``,
so the three agree on padding, tile placement and overlap averaging.
"""
from typing import Callable, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

IntPair = Union[int, Tuple[int, int]]


def _pair(v: IntPair) -> Tuple[int, int]:
    if isinstance(v, int):
        return v, v
    h, w = v
    return int(h), int(w)


def tile_starts(length: int, tile: int, stride: int) -> list:
    """Start offsets of tiles of size ``tile`` covering ``[0, length)``; ``length >= tile``.

    Tiles step by ``stride``; the last tile is aligned to the end so no tile leaves the image.
    """
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def tiled_restore(restore_fn: Callable[[Tensor], Tensor],
                  img: Tensor,
                  crop_size: IntPair,
                  stride: Optional[IntPair] = None,
                  max_batch: int = 8) -> Tensor:
    """Restore ``img`` tile by tile and stitch the tiles back together.

    Args:
        restore_fn: maps a batch of tiles ``(n, C, h, w)`` to restored tiles of the same shape.
        img: ``(B, C, H, W)`` images of any size.
        crop_size: tile size ``(h, w)`` (or one int); images smaller than it are padded (reflect)
            up to it and cropped back afterwards.
        stride: step between tiles; ``None`` means ``crop_size`` (non-overlapping tiles, as in the
            paper). A smaller stride overlaps tiles and averages the overlaps (as the released code).
        max_batch: tiles restored per ``restore_fn`` call, which bounds peak memory.

    Returns:
        ``(B, C', H, W)`` restored images (``C'`` as returned by ``restore_fn``). Gradients flow
        when the caller enables them; wrap in ``torch.no_grad()`` for inference.
    """
    if img.dim() != 4:
        raise ValueError(f'tiled_restore expects a (B, C, H, W) tensor, got shape {tuple(img.shape)}')
    th, tw = _pair(crop_size)
    sh, sw = _pair(stride) if stride is not None else (th, tw)
    if min(th, tw, sh, sw) <= 0:
        raise ValueError(f'crop_size {crop_size} and stride {stride} must be positive')
    if sh > th or sw > tw:
        raise ValueError(f'stride {stride} larger than crop_size {crop_size} would leave gaps')
    b, _, h, w = img.shape
    pad_h, pad_w = max(th - h, 0), max(tw - w, 0)
    if pad_h or pad_w:
        # reflect needs pad < size; replicate covers tiny images.
        mode = 'reflect' if pad_h < h and pad_w < w else 'replicate'
        img = F.pad(img, (0, pad_w, 0, pad_h), mode=mode)
    ph, pw = img.shape[-2:]
    boxes = [(y, x) for y in tile_starts(ph, th, sh) for x in tile_starts(pw, tw, sw)]

    out = None
    weight = img.new_zeros(1, 1, ph, pw)
    for y, x in boxes:
        weight[..., y:y + th, x:x + tw] += 1
    for i in range(0, len(boxes), max(1, max_batch // b)):
        chunk = boxes[i:i + max(1, max_batch // b)]
        tiles = torch.cat([img[..., y:y + th, x:x + tw] for y, x in chunk])
        restored = restore_fn(tiles)
        if restored.shape[-2:] != (th, tw):
            raise ValueError(f'restore_fn returned tiles of size {tuple(restored.shape[-2:])}, '
                             f'expected {(th, tw)}')
        if out is None:
            out = img.new_zeros(b, restored.shape[1], ph, pw)
        for j, (y, x) in enumerate(chunk):
            out[..., y:y + th, x:x + tw] += restored[j * b:(j + 1) * b]
    out = out / weight
    return out[..., :h, :w]
