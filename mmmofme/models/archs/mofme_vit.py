"""MoFMEViT: the deweathering restorer of MoFME (AAAI 2024) and its MoE baselines.

CNN stem → p×p patch embedding + LayerNorm → learned position embedding → L pre-norm transformer blocks
whose FFN is the chosen MoE kind → per-token Linear to p²·C values → residual conv tail → sigmoid.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from ..layers import (
    ConvStem,
    LinearUnpatchify,
    PatchEmbed,
    PositionEmbedding,
    PreNormAttention,
    PreNormFeedForward,
    ResidualTail,
    TransformerBlock,
)
from ..moe import FeatureModulationExperts, FFNExperts, MoELayer, TopKRouter, UncertaintyAwareRouter

MOE_TYPES = ('dense', 'moe', 'mofme', 'mmoe', 'prmoe')
ROUTERS = ('topk', 'uar')


def pyramid_expert_counts(num_experts: int, depth: int, min_experts: int) -> List[int]:
    """Split ``num_experts`` over ``depth`` layers, doubling with depth (PR-MoE's pyramid).

    E.g. 16 experts over 2 layers → [5, 11]; every layer gets at least ``min_experts`` (= top_k).
    """
    shares = [2**layer for layer in range(depth)]
    counts = [max(min_experts, round(num_experts * s / sum(shares))) for s in shares[:-1]]
    counts.append(max(min_experts, num_experts - sum(counts)))
    return counts


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    h, w = size
    return int(h), int(w)


@MODELS.register_module()
class MoFMEViT(BaseModule):
    """The MoFME restorer; ``moe_type`` picks the FFN of every transformer block.

    * ``'dense'``: plain pre-norm FFN (the paper's baseline ViT).
    * ``'moe'``: E FFN experts (each with its own LayerNorm), top-k routed.
    * ``'mofme'``: Feature Modulated Experts + one shared FFN (paper Eq. 6).
    * ``'mmoe'``: FFN experts, one gate per weather task (``task_ids``); mean of the gates without.
    * ``'prmoe'``: dense FFN + residual FFN-expert MoE, more experts in deeper layers.

    Args:
        moe_type: One of ``MOE_TYPES``.
        router: ``'topk'`` (Eq. 1–2) or ``'uar'`` (Uncertainty-aware Router, Eq. 7; plain top-k at
            eval). Ignored by ``'dense'``.
        num_experts: E, experts per MoE layer (for ``'prmoe'`` the total over layers, see
            ``prmoe_num_experts``).
        top_k: Experts per token.
        embed_dim: Token dimension D.
        depth: Number of transformer blocks L.
        patch_size: Patch side p.
        img_size: Training crop (int or (H, W)); sizes the position embedding, which is interpolated for
            other token grids.
        num_heads: Attention heads.
        head_dim: Width per head (inner attention width = num_heads × head_dim).
        mlp_ratio: FFN hidden ratio.
        dropout: Dropout probability in attention output and FFNs.
        stem_channels: Channels of the CNN stem.
        head_channels: Channels C of the unpatchified feature map (the tail halves them once).
        renormalize: Renormalise the k router weights to sum to 1.
        num_tasks: Number of weather tasks (gates) for ``'mmoe'``.
        prmoe_num_experts: Experts per layer for ``'prmoe'``; default splits ``num_experts`` over the
            layers, doubling with depth.
        uar_samples: MC-dropout passes M of the UaR.
        uar_dropout: Dropout probability of the UaR's MC passes.
        uar_eps: ε added to the variance in Eq. 7.
        uar_calibrate: ``'probs'`` or ``'logits'``: what Eq. 7 is applied to.
        image_residual: Add the tail's output to the input image instead of ending in a sigmoid (the
            released code's residual option, which its scripts disable). The tail starts at zero, so
            the model starts as the identity: useful for short trainings (the CPU demo); callers clamp.
        init_cfg: mmengine init config.

    Shapes:
        x: (B, 3, H, W) in [0, 1], any H × W; task_ids: (B,) long or None → (B, 3, H, W) in [0, 1]
        (unbounded with ``image_residual``).
    """

    def __init__(self,
                 moe_type: str = 'mofme',
                 router: str = 'topk',
                 num_experts: int = 16,
                 top_k: int = 2,
                 embed_dim: int = 384,
                 depth: int = 2,
                 patch_size: int = 8,
                 img_size: Union[int, Sequence[int]] = 240,
                 num_heads: int = 8,
                 head_dim: int = 64,
                 mlp_ratio: float = 4.0,
                 dropout: float = 0.1,
                 stem_channels: int = 32,
                 head_channels: int = 128,
                 renormalize: bool = True,
                 num_tasks: int = 3,
                 prmoe_num_experts: Optional[Sequence[int]] = None,
                 uar_samples: int = 5,
                 uar_dropout: float = 0.1,
                 uar_eps: float = 1e-6,
                 uar_calibrate: str = 'probs',
                 image_residual: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if moe_type not in MOE_TYPES:
            raise ValueError(f'moe_type must be one of {MOE_TYPES}, got {moe_type!r}')
        if moe_type != 'dense' and router not in ROUTERS:
            raise ValueError(f'router must be one of {ROUTERS}, got {router!r}')
        if moe_type != 'dense' and num_experts < 1:
            raise ValueError(f'num_experts must be >= 1, got {num_experts}')
        if moe_type != 'dense' and not 1 <= top_k <= num_experts:
            raise ValueError(f'top_k must be in [1, num_experts={num_experts}], got {top_k}')
        img_h, img_w = _pair(img_size)
        if img_h % patch_size or img_w % patch_size:
            raise ValueError(f'img_size {img_size} must be a multiple of patch_size {patch_size}')
        if moe_type == 'prmoe':
            if prmoe_num_experts is None:
                prmoe_num_experts = pyramid_expert_counts(num_experts, depth, top_k)
            if len(prmoe_num_experts) != depth or min(prmoe_num_experts) < top_k:
                raise ValueError(f'prmoe_num_experts must list {depth} (depth) counts, each >= top_k '
                                 f'({top_k}), got {list(prmoe_num_experts)}')
        self.moe_type = moe_type
        self.router_type = router
        self.num_experts = num_experts
        self.top_k = top_k
        self.num_tasks = num_tasks if moe_type == 'mmoe' else 1
        self.patch_size = patch_size
        self.img_size = (img_h, img_w)
        self.prmoe_num_experts = list(prmoe_num_experts) if prmoe_num_experts else None
        self._router_cfg = dict(renormalize=renormalize)
        if router == 'uar':
            self._router_cfg.update(
                mc_samples=uar_samples, mc_dropout=uar_dropout, eps=uar_eps, calibrate=uar_calibrate)

        self.stem = ConvStem(3, stem_channels, num_blocks=2)
        self.patch_embed = PatchEmbed(stem_channels, embed_dim, patch_size)
        self.pos_embed = PositionEmbedding(embed_dim, (img_h // patch_size, img_w // patch_size))
        self.blocks = nn.ModuleList([
            TransformerBlock(
                PreNormAttention(embed_dim, num_heads, head_dim, dropout),
                self._build_ffn(layer, embed_dim, mlp_ratio, dropout)) for layer in range(depth)
        ])
        self.unpatchify = LinearUnpatchify(embed_dim, head_channels, patch_size)
        self.image_residual = image_residual
        self.tail = ResidualTail(head_channels, 3, sigmoid=not image_residual)

    @classmethod
    def tiny(cls, **overrides) -> 'MoFMEViT':
        """A few-thousand-token toy variant for tests and CPU demos (D=32, L=1, 32×32 crops)."""
        cfg = dict(embed_dim=32, depth=1, patch_size=8, img_size=32, num_heads=2, head_dim=16,
                   stem_channels=8, head_channels=16, num_experts=4, top_k=2)
        cfg.update(overrides)
        return cls(**cfg)

    def _build_router(self, dim: int, num_experts: int) -> TopKRouter:
        router_cls = UncertaintyAwareRouter if self.router_type == 'uar' else TopKRouter
        return router_cls(dim, num_experts, self.top_k, num_tasks=self.num_tasks, **self._router_cfg)

    def _build_ffn(self, layer: int, dim: int, mlp_ratio: float, dropout: float) -> nn.Module:
        if self.moe_type == 'dense':
            return PreNormFeedForward(dim, mlp_ratio, dropout)
        if self.moe_type == 'mofme':
            experts = FeatureModulationExperts(dim, self.num_experts, mlp_ratio, dropout)
            return MoELayer(self._build_router(dim, self.num_experts), experts)
        if self.moe_type == 'prmoe':
            num_experts = self.prmoe_num_experts[layer]
            experts = FFNExperts(dim, num_experts, mlp_ratio, dropout)
            return MoELayer(self._build_router(dim, num_experts), experts,
                            residual=PreNormFeedForward(dim, mlp_ratio, dropout))
        # 'moe' and 'mmoe' differ only by the router's number of gates.
        experts = FFNExperts(dim, self.num_experts, mlp_ratio, dropout)
        return MoELayer(self._build_router(dim, self.num_experts), experts)

    def moe_layers(self) -> List[MoELayer]:
        """The MoE layers, in depth order (empty for ``'dense'``)."""
        return [block.ffn for block in self.blocks if isinstance(block.ffn, MoELayer)]

    def _check_task_ids(self, task_ids: Optional[Tensor], batch: int,
                        device: torch.device) -> Optional[Tensor]:
        if task_ids is None or self.num_tasks == 1:
            return None
        task_ids = torch.as_tensor(task_ids, dtype=torch.long, device=device).reshape(-1)
        if task_ids.numel() != batch:
            raise ValueError(f'task_ids must hold one task per sample ({batch}), got {task_ids.numel()}')
        if int(task_ids.min()) < 0 or int(task_ids.max()) >= self.num_tasks:
            raise ValueError(f'task_ids must be in [0, num_tasks={self.num_tasks}), got {task_ids.tolist()}')
        return task_ids

    def forward_with_aux(self,
                         x: Tensor,
                         task_ids: Optional[Tensor] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Restore ``x`` and return the unweighted auxiliary losses summed over the MoE layers.

        Returns:
            The restored (B, 3, H, W) image in [0, 1] and ``{'loss_lb': (), 'loss_uc': ()}`` (zeros
            where a loss does not apply: dense model, or L_uc without the UaR in training).
        """
        b, _, h, w = x.shape
        task_ids = self._check_task_ids(task_ids, b, x.device)
        p = self.patch_size
        pad_h, pad_w = (-h) % p, (-w) % p
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode='replicate')
        grid = (x.shape[2] // p, x.shape[3] // p)

        feats = self.stem(x * 2.0 - 1.0)  # the released code feeds [-1, 1] images
        tokens = self.pos_embed(self.patch_embed(feats), grid)
        aux = {'loss_lb': x.new_zeros(()), 'loss_uc': x.new_zeros(())}
        for block in self.blocks:
            tokens, layer_aux = block(tokens, task_ids)
            for name, value in layer_aux.items():
                aux[name] = aux[name] + value
        out = self.tail(self.unpatchify(tokens, *grid))
        if self.image_residual:
            out = out + x
        return out[:, :, :h, :w], aux

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        """Restore ``x`` (B, 3, H, W) in [0, 1] → (B, 3, H, W) in [0, 1]."""
        return self.forward_with_aux(x, task_ids)[0]
