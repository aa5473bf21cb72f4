"""Fall back to the input where the restorer is unsure: ``out = x + c · (restored − x)``.

A deweathering stage in front of a driving stack must not damage frames unlike its training weather.
:class:`MCDropoutGate` wraps any restorer and measures its uncertainty per pixel as the spread of M
Monte-Carlo dropout passes (Gal & Ghahramani, ICML 2016 — the estimator the uncertainty-aware router
uses for its gates), turning it into a confidence ``c = clamp(1 − σ / σ_max, 0, 1)`` that blends the
mean restoration with the input. Beyond the paper; measured against the plain output in
``docs/transfer.md``.
"""
from typing import Dict, Optional, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from ..layers import blend_with_input

__all__ = ['blend_with_input', 'MCDropoutGate']


@MODELS.register_module()
class MCDropoutGate(BaseModule):
    """A restorer whose output falls back to its input where MC-dropout passes disagree.

    At eval, the wrapped restorer runs ``samples`` times with its ``nn.Dropout`` layers active (all
    other layers, the routers' top-k included, stay in eval mode); ``σ`` is the per-pixel standard
    deviation of the passes averaged over channels, smoothed by ``blur`` (average pool) so isolated
    pixels do not flicker. In training the gate is transparent (the wrapped restorer trains as usual).

    Args:
        restorer: The restorer (config dict or module), ``(B, 3, H, W) → (B, 3, H, W)``.
        samples: MC passes M (≥ 2).
        sigma_max: σ at and above which the output is the input (in [0, 1] image units).
        blur: Side of the box filter over σ (odd; 1 = none).

    Shapes:
        x: (B, 3, H, W) in [0, 1] → (B, 3, H, W).
    """

    def __init__(self, restorer: Union[dict, nn.Module], samples: int = 4, sigma_max: float = 0.02,
                 blur: int = 9, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if samples < 2:
            raise ValueError(f'MCDropoutGate: samples must be >= 2 to measure a spread, got {samples}')
        if sigma_max <= 0 or blur < 1 or blur % 2 == 0:
            raise ValueError(f'MCDropoutGate: sigma_max must be > 0 and blur odd >= 1, '
                             f'got {sigma_max}, {blur}')
        self.restorer = MODELS.build(restorer) if isinstance(restorer, dict) else restorer
        self.dropouts = [m for m in self.restorer.modules() if isinstance(m, nn.Dropout) and m.p > 0]
        if not self.dropouts:
            raise ValueError(f'MCDropoutGate: {type(self.restorer).__name__} has no dropout layer to sample')
        self.samples = samples
        self.sigma_max = sigma_max
        self.blur = blur

    def confidence(self, passes: Tensor) -> Tensor:
        """Per-pixel confidence from M passes (M, B, C, H, W) → (B, 1, H, W) in [0, 1]."""
        sigma = passes.std(dim=0).mean(dim=1, keepdim=True)
        if self.blur > 1:
            sigma = nn.functional.avg_pool2d(sigma, self.blur, stride=1, padding=self.blur // 2,
                                             count_include_pad=False)
        return (1 - sigma / self.sigma_max).clamp(0, 1)

    def forward_with_aux(self, x: Tensor,
                         task_ids: Optional[Tensor] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        if self.training:
            return self.restorer.forward_with_aux(x, task_ids)
        for m in self.dropouts:
            m.train()
        try:
            passes = torch.stack([self.restorer(x, task_ids) for _ in range(self.samples)])
        finally:
            for m in self.dropouts:
                m.eval()
        return blend_with_input(x, passes.mean(dim=0), self.confidence(passes)), {}

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        return self.forward_with_aux(x, task_ids)[0]
