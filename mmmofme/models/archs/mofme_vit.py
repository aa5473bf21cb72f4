"""MoFMEViT: the deweathering restorer of MoFME (AAAI 2024) and its MoE baselines.

CNN stem → p×p patch embedding + LayerNorm → learned position embedding → L pre-norm transformer blocks
whose FFN is a dense FFN or an MoE layer (a router and an expert set built from config dicts) →
per-token Linear to p²·C values → residual conv tail → sigmoid.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from ..layers import (
    ConfidenceHead,
    ConvStem,
    LinearUnpatchify,
    PatchEmbed,
    PositionEmbedding,
    PreNormAttention,
    ResidualTail,
    TransformerBlock,
    blend_with_input,
    frame_gate_weight,
    gate_stitched_frames,
    rescale_confidence,
)
from ..moe import MoELayer, check_task_ids, is_tracing
from ..moe.ffn_branch import build_ffn_branch, run_blocks

#: The defaults: MoFME's expert set (paper Eq. 4–6) behind the plain top-k router (Eq. 1–2).
DEFAULT_EXPERTS = dict(type='FeatureModulationExperts')
DEFAULT_ROUTER = dict(type='TopKRouter')


def pyramid_expert_counts(num_experts: int, depth: int, min_experts: int) -> List[int]:
    """Split ``num_experts`` over ``depth`` layers, doubling with depth (PR-MoE's pyramid).

    E.g. 16 experts over 2 layers → [5, 11]; every layer gets at least ``min_experts`` (= top_k).
    """
    shares = [2**layer for layer in range(depth)]
    counts = [max(min_experts, round(num_experts * s / sum(shares))) for s in shares[:-1]]
    counts.append(max(min_experts, num_experts - sum(counts)))
    return counts


def _unit_range(name: str, value: Tuple[float, float]) -> Tuple[float, float]:
    low, high = value
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f'{name} must be (low, high) with 0 <= low < high <= 1, got {value}')
    return float(low), float(high)


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    h, w = size
    return int(h), int(w)


def layer_expert_counts(num_experts: Union[int, Sequence[int]], depth: int, top_k: int,
                        expert_pyramid: bool) -> List[int]:
    """Experts of each of the ``depth`` MoE layers, checked against ``top_k`` (errors name the key)."""
    if isinstance(num_experts, int):
        counts = (pyramid_expert_counts(num_experts, depth, top_k) if expert_pyramid else
                  [num_experts] * depth)
    elif expert_pyramid:
        raise ValueError(f'expert_pyramid splits an int num_experts; got the list {list(num_experts)}')
    else:
        counts = [int(n) for n in num_experts]
    if len(counts) != depth:
        raise ValueError(f'num_experts must list {depth} (depth) counts, got {counts}')
    if min(counts) < 1:
        raise ValueError(f'num_experts must be >= 1, got {num_experts}')
    if not 1 <= top_k <= min(counts):
        raise ValueError(f'top_k must be in [1, num_experts={min(counts)}], got {top_k}')
    return counts


@MODELS.register_module()
class MoFMEViT(BaseModule):
    """The MoFME restorer and its baselines; ``experts`` and ``router`` pick the FFN of every block.

    The variants differ only by their parts (``mmmofme.models.archs.variants`` lists them):

    * dense (the paper's baseline ViT): ``experts=None``, a plain pre-norm FFN;
    * MoE: ``experts=dict(type='FFNExperts')`` (E FFN experts, each with its own LayerNorm);
    * MoFME: ``experts=dict(type='FeatureModulationExperts')`` (γ/β experts + one shared FFN, Eq. 6),
      usually with ``router=dict(type='UncertaintyAwareRouter')`` (Eq. 7; plain top-k at eval);
    * MMoE: FFN experts with ``num_tasks`` gates, one per weather task (``task_ids``);
    * PR-MoE: FFN experts + ``residual_ffn=True`` (a dense FFN added to the mixture) +
      ``expert_pyramid=True`` (more experts in deeper layers).

    Args:
        experts: Expert-set config (a registered :class:`~mmmofme.models.moe.ExpertsBase`), or None for
            the dense FFN. The network fills in ``dim``, ``num_experts``, ``mlp_ratio``, ``dropout``.
        router: Router config (a registered :class:`~mmmofme.models.moe.TopKRouter`), e.g.
            ``dict(type='UncertaintyAwareRouter', mc_samples=5, mc_dropout=0.1)``. The network fills in
            ``dim``, ``num_experts``, ``top_k``, ``num_tasks``. Ignored when ``experts`` is None.
        num_experts: E, experts per MoE layer; a list gives one count per layer; with ``expert_pyramid``
            the total over the layers.
        top_k: Experts per token.
        num_tasks: Router gates, one per weather task (MMoE); 1 for an ordinary router.
        residual_ffn: Add a dense pre-norm FFN to every MoE layer's mixture (PR-MoE).
        expert_pyramid: Split ``num_experts`` over the layers, doubling with depth (PR-MoE).
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
        confidence_head: Blend the output with the input by a learned per-pixel confidence
            (:class:`ConfidenceHead`; its logits of the last call in ``last_confidence_logits``, which
            ``MoFMERestorer`` supervises with where input and target differ).
        confidence_range: ``(low, high)``: at eval the confidence is re-scaled so that ``low`` and
            below give the input exactly and ``high`` and above the full restoration (linear between);
            ``(0, 1)`` keeps it as learned. Training always uses the learned confidence.
        frame_gate: ``(low, high)`` or None: at eval the blend weight is also multiplied by the frame's
            mean confidence re-scaled by ``(low, high)`` (:func:`frame_gate_weight`), so frames with no
            weather at all keep the input exactly. The mean is over the whole frame: tiled restoration
            (``restore_images``, ``MoFMERestorer``'s test mode) stitches :meth:`tile_outputs` and calls
            :meth:`gate_frames`; a plain call gates over its own input.
        image_residual: Add the tail's output to the input image instead of ending in a sigmoid (the
            released code's residual option, which its scripts disable). The tail starts at zero, so
            the model starts as the identity: useful for short trainings (the CPU demo); callers clamp.
        init_cfg: mmengine init config.

    Shapes:
        x: (B, 3, H, W) in [0, 1], any H × W; task_ids: (B,) long or None → (B, 3, H, W) in [0, 1]
        (unbounded with ``image_residual``).
    """

    def __init__(self,
                 experts: Optional[dict] = DEFAULT_EXPERTS,
                 router: dict = DEFAULT_ROUTER,
                 num_experts: Union[int, Sequence[int]] = 16,
                 top_k: int = 2,
                 num_tasks: int = 1,
                 residual_ffn: bool = False,
                 expert_pyramid: bool = False,
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
                 image_residual: bool = False,
                 confidence_head: bool = False,
                 confidence_range: Tuple[float, float] = (0.0, 1.0),
                 frame_gate: Optional[Tuple[float, float]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        img_h, img_w = _pair(img_size)
        if img_h % patch_size or img_w % patch_size:
            raise ValueError(f'img_size {img_size} must be a multiple of patch_size {patch_size}')
        if num_tasks < 1:
            raise ValueError(f'num_tasks must be >= 1, got {num_tasks}')
        dense = experts is None
        counts = [] if dense else layer_expert_counts(num_experts, depth, top_k, expert_pyramid)
        self.num_tasks = 1 if dense else num_tasks
        self.patch_size = patch_size
        self.img_size = (img_h, img_w)

        self.stem = ConvStem(3, stem_channels, num_blocks=2)
        self.patch_embed = PatchEmbed(stem_channels, embed_dim, patch_size)
        self.pos_embed = PositionEmbedding(embed_dim, (img_h // patch_size, img_w // patch_size))
        self.blocks = nn.ModuleList([
            TransformerBlock(
                PreNormAttention(embed_dim, num_heads, head_dim, dropout),
                build_ffn_branch(None if dense else experts, router, embed_dim, 0 if dense else counts[layer],
                                 top_k, mlp_ratio, dropout, num_tasks, residual_ffn))
            for layer in range(depth)
        ])
        self.unpatchify = LinearUnpatchify(embed_dim, head_channels, patch_size)
        self.image_residual = image_residual
        self.tail = ResidualTail(head_channels, 3, sigmoid=not image_residual)
        # Beyond the paper: a per-pixel confidence blending the restoration with the input, so what the
        # restorer should leave alone (clean frames, clean parts of a frame) passes through unchanged.
        self.confidence = ConfidenceHead(head_channels) if confidence_head else None
        self.confidence_range = _unit_range('confidence_range', confidence_range)
        self.frame_gate = None if frame_gate is None else _unit_range('frame_gate', frame_gate)
        if self.frame_gate is not None and self.confidence is None:
            raise ValueError('frame_gate needs confidence_head=True: the gate is the mean confidence')
        self.last_confidence_logits: Optional[Tensor] = None

    @classmethod
    def tiny(cls, **overrides) -> 'MoFMEViT':
        """A few-thousand-token toy variant for tests and CPU demos (D=32, L=1, 32×32 crops)."""
        cfg = dict(embed_dim=32, depth=1, patch_size=8, img_size=32, num_heads=2, head_dim=16,
                   stem_channels=8, head_channels=16, num_experts=4, top_k=2)
        cfg.update(overrides)
        return cls(**cfg)

    def moe_layers(self) -> List[MoELayer]:
        """The MoE layers, in depth order (empty for ``'dense'``)."""
        return [block.ffn for block in self.blocks if isinstance(block.ffn, MoELayer)]

    def _check_task_ids(self, task_ids: Optional[Tensor], batch: int,
                        device: torch.device) -> Optional[Tensor]:
        if task_ids is None or self.num_tasks == 1:
            return None
        return check_task_ids(task_ids, batch, self.num_tasks, device)

    def restore_with_confidence(
            self,
            x: Tensor,
            task_ids: Optional[Tensor] = None) -> Tuple[Tensor, Optional[Tensor], Dict[str, Tensor]]:
        """The restoration before any blend, the learned confidence, and the auxiliary losses.

        Returns:
            The restored (B, 3, H, W) image; the confidence (B, 1, H, W) in [0, 1] as learned (not
            re-scaled by ``confidence_range``), or ``None`` without a confidence head; the unweighted
            auxiliary losses summed over the MoE layers, ``{'loss_lb': (), 'loss_uc': ()}`` (zeros
            where a loss does not apply: dense model, or L_uc without the UaR in training).
        """
        b, _, h, w = x.shape
        task_ids = self._check_task_ids(task_ids, b, x.device)
        p = self.patch_size
        pad_h, pad_w = (-h) % p, (-w) % p
        if is_tracing() or pad_h or pad_w:  # traced with symbolic H, W: always pad (maybe by 0)
            x = F.pad(x, (0, pad_w, 0, pad_h), mode='replicate')
        grid = (x.shape[2] // p, x.shape[3] // p)

        feats = self.stem(x * 2.0 - 1.0)  # the released code feeds [-1, 1] images
        tokens = self.pos_embed(self.patch_embed(feats), grid)
        tokens, aux = run_blocks(self.blocks, tokens, task_ids, grid)
        head_feats = self.unpatchify(tokens, *grid)
        out = self.tail(head_feats)
        if self.image_residual:
            out = out + x
        confidence = None
        if self.confidence is not None:
            logits = self.confidence(head_feats)[:, :, :h, :w]
            self.last_confidence_logits = logits
            confidence = torch.sigmoid(logits)
        return out[:, :, :h, :w], confidence, aux

    def forward_with_aux(self,
                         x: Tensor,
                         task_ids: Optional[Tensor] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Restore ``x`` and return the unweighted auxiliary losses summed over the MoE layers.

        Returns:
            The restored (B, 3, H, W) image in [0, 1] (blended with ``x`` by the confidence, re-scaled
            by ``confidence_range`` at eval) and the auxiliary losses of :meth:`restore_with_confidence`.
        """
        out, confidence, aux = self.restore_with_confidence(x, task_ids)
        if confidence is not None:
            weight = confidence
            if not self.training:
                weight = rescale_confidence(confidence, *self.confidence_range)
                if self.frame_gate is not None:
                    weight = weight * frame_gate_weight(confidence, *self.frame_gate)
            out = blend_with_input(x, out, weight)
        return out, aux

    @property
    def gates_frames(self) -> bool:
        """True at eval with a frame gate: tiled callers use :meth:`tile_outputs` + :meth:`gate_frames`."""
        return self.frame_gate is not None and not self.training

    def tile_outputs(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        """Per tile, for stitching: the output blended by the re-scaled confidence (no frame gate yet)
        and the learned confidence as a fourth channel.

        Shapes:
            x: (B, 3, h, w) tiles → (B, 4, h, w).
        """
        out, confidence, _ = self.restore_with_confidence(x, task_ids)
        if confidence is None:
            raise ValueError('tile_outputs needs confidence_head=True')
        blended = blend_with_input(x, out, rescale_confidence(confidence, *self.confidence_range))
        return torch.cat([blended, confidence], dim=1)

    def gate_frames(self, x: Tensor, stitched: Tensor) -> Tensor:
        """Apply the frame gate to stitched :meth:`tile_outputs`: ``x + g · (blended − x)``, ``g`` from
        the mean of the stitched confidence over each whole frame.

        Shapes:
            x: (B, 3, H, W) frames; stitched: (B, 4, H, W) → (B, 3, H, W).
        """
        return gate_stitched_frames(x, stitched, self.frame_gate)

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        """Restore ``x`` (B, 3, H, W) in [0, 1] → (B, 3, H, W) in [0, 1]."""
        return self.forward_with_aux(x, task_ids)[0]
