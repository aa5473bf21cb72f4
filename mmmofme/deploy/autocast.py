"""bf16 inference through autocast: about half the fp32 time of a full frame on CPUs with bf16 dot products.

The restorer's weights stay float32; ``torch.autocast`` runs its convolutions and matrix products in
bfloat16 (oneDNN's AVX-512 BF16 / AMX kernels on CPU) and the rest in float32. This is a different
precision, not the fast path's re-layout: outputs differ from fp32 by about 60 dB PSNR on [0, 1] images
(max abs difference ~5e-3, under 2 grey levels of 255; docs/benchmarks.md), so it is opt-in
(``init_restorer(..., precision='bf16')``, ``tools/deweather.py --precision bf16``).
"""
from typing import Any

import torch
from torch import Tensor, nn

#: The precisions a PyTorch restorer can run at, and the autocast dtype of each (None: plain fp32).
PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16}


class AutocastRestorer(nn.Module):
    """``restorer`` called under autocast at ``dtype``, its outputs returned as float32.

    Keeps the calling protocol of the restorers :func:`mmmofme.apis.tiled_restore` drives: task ids are
    passed on, and a frame-gated restorer keeps ``tile_outputs`` / ``gate_frames`` (the gate itself is
    computed in float32). ``restore_cfg`` and ``cfg`` set on the source are kept.

    Shapes:
        x: (B, 3, H, W) float32 → (B, 3, H, W) float32 (``tile_outputs``: (B, 4, H, W)).
    """

    def __init__(self, restorer: nn.Module, dtype: torch.dtype = torch.bfloat16) -> None:
        super().__init__()
        self.restorer = restorer
        self.dtype = dtype
        for name in ('restore_cfg', 'cfg'):
            if hasattr(restorer, name):
                setattr(self, name, getattr(restorer, name))

    def _autocast(self, x: Tensor) -> torch.autocast:
        return torch.autocast(x.device.type, dtype=self.dtype)

    def forward(self, x: Tensor, *args: Any) -> Tensor:
        with self._autocast(x):
            return self.restorer(x, *args).float()

    @property
    def gates_frames(self) -> bool:
        return getattr(self.restorer, 'gates_frames', False)

    def tile_outputs(self, x: Tensor, *args: Any) -> Tensor:
        with self._autocast(x):
            return self.restorer.tile_outputs(x, *args).float()

    def gate_frames(self, images: Tensor, stitched: Tensor) -> Tensor:
        return self.restorer.gate_frames(images, stitched)


def check_precision(precision: str, name: str = 'precision') -> str:
    """``precision`` itself if it is one of :data:`PRECISIONS`, else a one-line ValueError naming ``name``."""
    if precision not in PRECISIONS:
        raise ValueError(f'{name} {precision!r}: choose one of {sorted(PRECISIONS)}')
    return precision


def with_precision(restorer: nn.Module, precision: str) -> nn.Module:
    """``restorer`` itself for ``'fp32'``, an :class:`AutocastRestorer` for ``'bf16'``."""
    dtype = PRECISIONS[check_precision(precision)]
    return restorer if dtype is None else AutocastRestorer(restorer, dtype)


__all__ = ['AutocastRestorer', 'PRECISIONS', 'check_precision', 'with_precision']
