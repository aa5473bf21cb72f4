"""How a chain (or ``init_restorer``) restores full frames: whole, or tile by tile (``restore_cfg``)."""
from typing import Callable, Optional

from torch import Tensor


def parse_restore_cfg(restore_cfg: Optional[dict]) -> dict:
    """Validate ``restore_cfg`` and fill defaults.

    Args:
        restore_cfg: ``dict(mode='whole')`` (default) or ``dict(mode='slide', crop_size=(h, w),
            stride=(h, w), max_batch=8)``; ``stride`` defaults to ``crop_size`` (no overlap, as the
            paper tests), ``max_batch`` (tiles per restorer call) bounds peak memory. Either mode takes
            ``precision='fp32'`` (default) or ``'bf16'``: inference under bf16 autocast
            (:class:`mmmofme.deploy.AutocastRestorer`).

    Returns:
        A new dict with every key of its mode set (``precision`` only when given).
    """
    from ...deploy.autocast import check_precision  # deferred: mmmofme.deploy imports the model packages
    cfg = dict(restore_cfg or dict(mode='whole'))
    mode = cfg.setdefault('mode', 'whole')
    # absent = fp32, so existing configs' dicts stay as they were
    check_precision(cfg.get('precision', 'fp32'), 'restore_cfg precision')
    if mode == 'whole':
        unknown = set(cfg) - {'mode', 'precision'}
    elif mode == 'slide':
        if 'crop_size' not in cfg:
            raise ValueError("restore_cfg mode='slide' needs crop_size=(h, w)")
        cfg.setdefault('stride', cfg['crop_size'])
        cfg.setdefault('max_batch', 8)
        unknown = set(cfg) - {'mode', 'crop_size', 'stride', 'max_batch', 'precision'}
    else:
        raise ValueError(f"restore_cfg mode must be 'whole' or 'slide', got {mode!r}")
    if unknown:
        raise ValueError(f'restore_cfg has unknown keys {sorted(unknown)} for mode {mode!r}')
    return cfg


def restore_images(restore_fn: Callable[[Tensor], Tensor], images: Tensor, restore_cfg: dict) -> Tensor:
    """Run ``restore_fn`` on the whole ``(B, C, H, W)`` batch or tile by tile, as ``restore_cfg`` says."""
    if restore_cfg['mode'] == 'whole':
        return restore_fn(images)
    from ...apis.inference import tiled_restore  # deferred: mmmofme.apis imports this package
    return tiled_restore(restore_fn, images, restore_cfg['crop_size'], restore_cfg['stride'],
                         max_batch=restore_cfg['max_batch'])
