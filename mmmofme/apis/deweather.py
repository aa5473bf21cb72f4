"""Restoring whole frames with a restorer taken from any project config (restorer or chain config).

Shared by ``tools/deweather.py`` and the demo's side-by-side PNGs.
"""
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config

from .chain import restore_images


def restorer_and_tiling(cfg: Config) -> Tuple[dict, Optional[dict]]:
    """The restorer config and the config's own test tiling (``None`` if it has none)."""
    model = cfg.get('model')
    if model is None:
        raise ValueError(f'{cfg.filename}: config has no model')
    if 'restorer' in model:  # chain config (DeweatherSegmentor / DeweatherDetector)
        tiling = model.get('restore_cfg')
        return model.restorer, tiling if tiling and tiling.get('mode') == 'slide' else None
    if 'generator' in model:  # mmagic restorer config (MoFMERestorer)
        test_cfg = model.get('test_cfg') or {}
        if not test_cfg.get('crop_size'):
            return model.generator, None
        return model.generator, dict(mode='slide', crop_size=test_cfg['crop_size'],
                                     stride=test_cfg.get('stride'))
    raise ValueError(f'{cfg.filename}: model has neither `restorer` (chain config) nor `generator` '
                     f'(restorer config)')



class Deweatherer:
    """Restores BGR uint8 frames with a tiled restorer."""

    def __init__(self, restorer: torch.nn.Module, restore_cfg: dict, device: str) -> None:
        self.restorer = restorer.to(device).eval()
        self.restore_cfg = restore_cfg
        self.device = device

    @torch.no_grad()
    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        rgb = torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).to(self.device)
        x = rgb.permute(2, 0, 1)[None].float() / 255
        y = restore_images(self.restorer, x, self.restore_cfg).clamp(0, 1)
        out = (y[0].permute(1, 2, 0) * 255).round().byte().cpu().numpy()
        return np.ascontiguousarray(out[..., ::-1])
