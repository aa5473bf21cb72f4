"""``MoEVisionTransformer``: the paper's Table 5 classifier backbone (ViT / MoE-ViT / MoFME-ViT)."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ..models.layers import PatchEmbed, PositionEmbedding, PreNormAttention, TransformerBlock
from ..models.moe import MoELayer
from ..models.moe.ffn_branch import build_ffn_branch, run_blocks

__all__ = ['MoEVisionTransformer']


@MODELS.register_module()
class MoEVisionTransformer(BaseBackbone):
    """A pre-norm ViT whose FFNs in ``moe_blocks`` are MoE layers built from the restorer's parts.

    p×p patch embedding + LayerNorm → learned position embedding → a class token → ``depth`` blocks
    (the restorer's :class:`PreNormAttention` and dense or MoE FFN branches) → LayerNorm of the class
    token. The variants of Table 5 differ only by their parts:

    * ViT: ``experts=None``;
    * MoE-ViT: ``experts=dict(type='FFNExperts')``, ``router=dict(type='TopKRouter')``;
    * MoFME-ViT: ``experts=dict(type='FeatureModulationExperts')``,
      ``router=dict(type='UncertaintyAwareRouter')``.

    Args:
        experts: Expert-set config of the MoE blocks, or None for a dense ViT.
        router: Router config of the MoE blocks.
        num_experts: E, experts per MoE block.
        top_k: Experts per token.
        moe_blocks: Indices of the blocks whose FFN is an MoE layer; None: every other block, starting
            with the second (the V-MoE / M³ViT placement).
        embed_dim: Token dimension D.
        depth: Number of blocks.
        num_heads: Attention heads.
        head_dim: Width per head.
        mlp_ratio: FFN hidden ratio (dense FFNs, FFN experts and FME's shared FFN alike).
        dropout: Dropout after the attention projection and in the FFNs.
        patch_size: Patch side p.
        img_size: Input side the position table is learned for (other sizes are interpolated).
        in_channels: Input channels.
        init_cfg: mmengine init config.

    Shapes:
        x: (B, C, H, W), H and W multiples of p → ``((B, D),)`` (the normalised class token).
    """

    def __init__(self,
                 experts: Optional[dict] = None,
                 router: dict = dict(type='TopKRouter'),
                 num_experts: int = 8,
                 top_k: int = 2,
                 moe_blocks: Optional[Sequence[int]] = None,
                 embed_dim: int = 384,
                 depth: int = 4,
                 num_heads: int = 8,
                 head_dim: int = 64,
                 mlp_ratio: float = 8.0,
                 dropout: float = 0.1,
                 patch_size: int = 4,
                 img_size: int = 32,
                 in_channels: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if img_size % patch_size:
            raise ValueError(f'img_size {img_size} must be a multiple of patch_size {patch_size}')
        moe_blocks = range(1, depth, 2) if moe_blocks is None else moe_blocks
        self.moe_blocks = sorted({int(i) for i in moe_blocks}) if experts is not None else []
        if any(not 0 <= i < depth for i in self.moe_blocks):
            raise ValueError(f'moe_blocks must be indices in [0, depth={depth}), got {list(moe_blocks)}')
        self.patch_size = patch_size
        self.patch_embed = PatchEmbed(in_channels, embed_dim, patch_size)
        self.pos_embed = PositionEmbedding(embed_dim, (img_size // patch_size, img_size // patch_size))
        # the class token carries no position entry: its own learned value already plays that role
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.blocks = nn.ModuleList([
            TransformerBlock(
                PreNormAttention(embed_dim, num_heads, head_dim, dropout),
                build_ffn_branch(experts if i in self.moe_blocks else None, router, embed_dim, num_experts,
                                 top_k, mlp_ratio, dropout)) for i in range(depth)
        ])
        self.norm = nn.LayerNorm(embed_dim)

    def moe_layers(self) -> Sequence[MoELayer]:
        """The MoE layers, in depth order (empty for the dense ViT)."""
        return [block.ffn for block in self.blocks if isinstance(block.ffn, MoELayer)]

    def forward_with_aux(self, x: Tensor) -> Tuple[Tuple[Tensor], Dict[str, Tensor]]:
        """Features and the unweighted aux losses summed over the MoE layers.

        Returns:
            ``((B, D),)`` and ``{'loss_lb': (), 'loss_uc': ()}`` (zeros where a loss does not apply:
            dense model, or L_uc without the UaR in training).
        """
        b, _, h, w = x.shape
        p = self.patch_size
        if h % p or w % p:
            raise ValueError(f'{type(self).__name__}: input {h}x{w} is not a multiple of patch_size {p}')
        tokens = self.pos_embed(self.patch_embed(x), (h // p, w // p))
        tokens = torch.cat([self.cls_token.expand(b, -1, -1), tokens], dim=1)
        tokens, aux = run_blocks(self.blocks, tokens)
        return (self.norm(tokens[:, 0]), ), aux

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return self.forward_with_aux(x)[0]
