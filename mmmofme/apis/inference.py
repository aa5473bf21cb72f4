"""The one tiling function for restoring images larger than the restorer's crop.

Used by ``MoFMERestorer``'s test mode, the chain wrappers' ``restore_cfg`` and ``tools/deweather.py``,
so the three agree on padding, tile placement and overlap blending. Overlapping tiles are cross-faded
with feathered weights (a linear ramp over each overlap band) rather than averaged flat: a flat
average still jumps where a tile's edge ends inside its neighbour, a ramp does not.
"""
from typing import Callable, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

IntPair = Union[int, Tuple[int, int]]


def _pair(v: IntPair) -> Tuple[int, int]:
    if isinstance(v, int):
        return v, v
    h, w = v
    return int(h), int(w)


def tile_starts(length: int, tile: int, stride: int) -> List[int]:
    """Start offsets of tiles of size ``tile`` covering ``[0, length)``; ``length >= tile``.

    Tiles step by ``stride``; the last tile is aligned to the end so no tile leaves the image.
    """
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def feather_window(tile: int, stride: int) -> Tensor:
    """Per-pixel blending weight along one tile side: a linear ramp over the overlap, flat inside.

    With overlap ``o = tile - stride`` the weight of pixel ``i`` is ``min(1, (i + 1) / (o + 1),
    (tile - i) / (o + 1))``: neighbouring tiles cross-fade over their shared band instead of meeting at a
    hard seam. Every weight is > 0, so a pixel covered by one tile only (an image border) keeps its
    value after normalisation. ``stride == tile`` gives all ones (no overlap, nothing to blend).

    Shapes:
        → (tile,) float32.
    """
    ramp = torch.arange(1, tile + 1, dtype=torch.float32) / (tile - stride + 1)
    return torch.minimum(torch.ones(()), torch.minimum(ramp, ramp.flip(0)))


def tile_plan(size: Tuple[int, int], tile: Tuple[int, int],
              stride: Tuple[int, int]) -> Tuple[List[Tuple[int, int]], Tensor, Tensor]:
    """Where the tiles of a ``size`` canvas go and how they are blended.

    Returns:
        ``boxes``: ``[(y, x), ...]`` tile origins; ``window``: (tile_h, tile_w) feathered weight of one
        tile; ``coverage``: (H, W) sum of the windows over all tiles. A tile at ``(y, x)`` contributes
        ``window / coverage[y:y + th, x:x + tw]``, so the contributions at every pixel sum to one. Only
        one window and one canvas are held (not one weight map per tile): memory stays bounded for
        very large frames.
    """
    (h, w), (th, tw), (sh, sw) = size, tile, stride
    boxes = [(y, x) for y in tile_starts(h, th, sh) for x in tile_starts(w, tw, sw)]
    window = feather_window(th, sh)[:, None] * feather_window(tw, sw)[None, :]
    coverage = torch.zeros(h, w)
    for y, x in boxes:
        coverage[y:y + th, x:x + tw] += window
    return boxes, window, coverage


class TaskRestorer:
    """A task-gated restorer with its task ids bound, as :func:`tiled_restore` calls a restorer: on tiles.

    ``tiled_restore`` batches the tiles of B images box by box (box 0 of every image, then box 1, ...),
    so the ids of the B images, repeated once per box, are the tiles' ids. Frame-gated restorers keep
    their ``tile_outputs`` / ``gate_frames`` protocol. Works for the PyTorch restorer and for
    :class:`mmmofme.deploy.OnnxRestorer` alike (both are called as ``restorer(x, task_ids)``).

    Args:
        restorer: called as ``restorer(tiles, task_ids)``.
        task_ids: (B,) long, one per image of the batch being restored.
    """

    def __init__(self, restorer: Callable[..., Tensor], task_ids: Tensor) -> None:
        self.restorer = restorer
        self.task_ids = task_ids

    @property
    def gates_frames(self) -> bool:
        return getattr(self.restorer, 'gates_frames', False)

    def tile_ids(self, tiles: Tensor) -> Tensor:
        """(n,) ids of ``n`` tiles: the images' ids once per box."""
        boxes, rest = divmod(tiles.shape[0], len(self.task_ids))
        if rest:
            raise ValueError(f'{tiles.shape[0]} tiles are not a whole number of boxes of '
                             f'{len(self.task_ids)} images')
        return self.task_ids.to(tiles.device).repeat(boxes)

    def __call__(self, tiles: Tensor) -> Tensor:
        return self.restorer(tiles, self.tile_ids(tiles))

    def tile_outputs(self, tiles: Tensor) -> Tensor:
        return self.restorer.tile_outputs(tiles, self.tile_ids(tiles))

    def gate_frames(self, images: Tensor, stitched: Tensor) -> Tensor:
        return self.restorer.gate_frames(images, stitched)


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
            paper). A smaller stride overlaps tiles and cross-fades them with :func:`feather_window`
            weights (the released code averages overlaps flat).
        max_batch: tiles restored per ``restore_fn`` call, which bounds peak memory.

    A ``restore_fn`` whose ``gates_frames`` is true (``MoFMEViT`` at eval with a ``frame_gate``) is run
    through its ``tile_outputs`` and ``gate_frames``, so its frame gate sees the whole frame. Task ids
    are bound to a restorer with :class:`TaskRestorer`.

    Returns:
        ``(B, C', H, W)`` restored images (``C'`` as returned by ``restore_fn``). Gradients flow
        when the caller enables them; wrap in ``torch.no_grad()`` for inference.
    """
    if img.dim() != 4:
        raise ValueError(f'tiled_restore expects a (B, C, H, W) tensor, got shape {tuple(img.shape)}')
    if getattr(restore_fn, 'gates_frames', False):
        # a frame gate needs the whole frame's confidence: stitch blended tiles + confidence, then gate
        stitched = tiled_restore(restore_fn.tile_outputs, img, crop_size, stride, max_batch)
        return restore_fn.gate_frames(img, stitched)
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
    boxes, window, coverage = tile_plan((ph, pw), (th, tw), (sh, sw))
    window, coverage = window.to(img), coverage.to(img)

    out = None
    step = max(1, max_batch // b)
    for i in range(0, len(boxes), step):
        chunk = boxes[i:i + step]
        tiles = torch.cat([img[..., y:y + th, x:x + tw] for y, x in chunk])
        restored = restore_fn(tiles)
        if restored.shape[-2:] != (th, tw):
            raise ValueError(f'restore_fn returned tiles of size {tuple(restored.shape[-2:])}, '
                             f'expected {(th, tw)}')
        if out is None:
            out = img.new_zeros(b, restored.shape[1], ph, pw)
        for j, (y, x) in enumerate(chunk):
            weight = window / coverage[y:y + th, x:x + tw]
            out[..., y:y + th, x:x + tw] += restored[j * b:(j + 1) * b] * weight
    return out[..., :h, :w]
