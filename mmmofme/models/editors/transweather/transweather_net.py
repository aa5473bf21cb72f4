"""TransWeather: transformer-based restoration of images degraded by adverse weather (Valanarasu et al.,
CVPR 2022)."""
from typing import List, Sequence

import torch
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from .transweather_modules import (
    ConvProjectionTail,
    OverlapPatchEmbed,
    SpatialReductionAttention,
    TransformerBlock,
    WeatherQueryAttention,
    crop_to,
    tokens_to_map,
)


def linear_rates(top: float, count: int) -> List[float]:
    """``count`` stochastic-depth rates rising linearly from 0 to ``top`` (plain floats: meta-device safe)."""
    return [top * i / max(count - 1, 1) for i in range(count)]


@MODELS.register_module()
class TransWeather(BaseModule):
    """Hierarchical transformer encoder with intra-patch branches, a weather-query decoder, a conv tail.

    Encoder: four stages at 1/4, 1/8, 1/16, 1/32 of the input (overlapping patch embeddings, then
    spatial-reduction transformer blocks). Alongside stages 1–3 an intra-patch branch embeds the
    stage's tokens into sub-patches of the next scale, runs one transformer block on them and adds the
    result to the next stage's embedding (detail inside patches the main stages would miss).
    Decoder: the last stage is embedded once more (1/64) and attended to by learnable weather-type
    queries. Tail: the convolutional projection back to full resolution, a 3×3 conv to RGB and tanh.
    The defaults are the paper's network (38.05M parameters in Table 3 of MoFME).

    Args:
        in_channels: image channels.
        embed_dims: token widths of the four encoder stages.
        num_heads: attention heads per encoder stage.
        mlp_ratios: MixFFN expansion per encoder stage.
        depths: transformer blocks per encoder stage.
        sr_ratios: key / value spatial reduction per encoder stage.
        intra_num_heads: heads of the intra-patch blocks of stages 1–3 (their width is the next stage's).
        decoder_depth: decoder blocks.
        decoder_num_heads: decoder attention heads.
        decoder_mlp_ratio: decoder MixFFN expansion.
        num_queries: learnable weather-type queries.
        tail_dims: channels after the tail's last two upsamplings.
        drop_path_rate: stochastic depth, rising linearly over the encoder blocks (and the decoder's).

    Shapes:
        x: (B, 3, H, W), any H, W → (B, 3, H, W) in [-1, 1].
    """

    def __init__(self, in_channels: int = 3, embed_dims: Sequence[int] = (64, 128, 320, 512),
                 num_heads: Sequence[int] = (1, 2, 4, 4), mlp_ratios: Sequence[float] = (2, 2, 2, 2),
                 depths: Sequence[int] = (2, 2, 2, 2), sr_ratios: Sequence[int] = (4, 2, 2, 1),
                 intra_num_heads: Sequence[int] = (1, 2, 2), decoder_depth: int = 3,
                 decoder_num_heads: int = 8, decoder_mlp_ratio: float = 4.0, num_queries: int = 48,
                 tail_dims: Sequence[int] = (16, 8), drop_path_rate: float = 0.1, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, values in dict(num_heads=num_heads, mlp_ratios=mlp_ratios, depths=depths,
                                 sr_ratios=sr_ratios).items():
            if len(values) != len(embed_dims):
                raise ValueError(f'TransWeather: {name} needs one value per stage ({len(embed_dims)}), '
                                 f'got {list(values)}')
        if len(intra_num_heads) != len(embed_dims) - 1:
            raise ValueError(f'TransWeather: intra_num_heads needs {len(embed_dims) - 1} values, '
                             f'got {list(intra_num_heads)}')
        rates = linear_rates(drop_path_rate, sum(depths))
        starts = [sum(depths[:s]) for s in range(len(depths))]
        widths = [in_channels, *embed_dims]
        self.patch_embeds = nn.ModuleList(
            OverlapPatchEmbed(widths[s], widths[s + 1], *((7, 4) if s == 0 else (3, 2)))
            for s in range(len(embed_dims)))
        self.stages = nn.ModuleList(
            nn.ModuleList(
                TransformerBlock(dim, SpatialReductionAttention(dim, heads, sr), mlp, rates[start + i])
                for i in range(depth))
            for dim, heads, mlp, sr, depth, start in zip(embed_dims, num_heads, mlp_ratios, sr_ratios,
                                                         depths, starts))
        self.norms = nn.ModuleList(nn.LayerNorm(dim, eps=1e-6) for dim in embed_dims)
        self.intra_embeds = nn.ModuleList(
            OverlapPatchEmbed(embed_dims[s], embed_dims[s + 1]) for s in range(len(embed_dims) - 1))
        self.intra_blocks = nn.ModuleList(
            TransformerBlock(embed_dims[s + 1],
                             SpatialReductionAttention(embed_dims[s + 1], intra_num_heads[s], sr_ratios[s]),
                             mlp_ratios[s], rates[starts[s]])
            for s in range(len(embed_dims) - 1))
        self.intra_norms = nn.ModuleList(nn.LayerNorm(dim, eps=1e-6) for dim in embed_dims[1:])

        top = embed_dims[-1]
        self.decoder_embed = OverlapPatchEmbed(top, top)
        decoder_rates = linear_rates(drop_path_rate, decoder_depth)
        self.decoder_blocks = nn.ModuleList(
            TransformerBlock(top, WeatherQueryAttention(top, decoder_num_heads, num_queries),
                             decoder_mlp_ratio, rate)
            for rate in decoder_rates)
        self.decoder_norm = nn.LayerNorm(top, eps=1e-6)
        self.tail = ConvProjectionTail(top, embed_dims, tail_dims)
        self.clean = nn.Conv2d(tail_dims[-1], in_channels, 3, padding=1)

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_cfg is None:  # transformer layers: ViT's truncated-normal linear weights, zero bias
            for module in self.modules():
                if isinstance(module, nn.Linear):
                    nn.init.trunc_normal_(module.weight, std=0.02)
                    nn.init.zeros_(module.bias)

    def encode(self, x: Tensor) -> List[Tensor]:
        """The four encoder features, (B, C_s, ⌈H/4⌉ / 2^s, ...) for s = 0..3."""
        feats, intra = [], None
        for s, (embed, blocks, norm) in enumerate(zip(self.patch_embeds, self.stages, self.norms)):
            tokens, hw = embed(x if s == 0 else feats[-1])
            if intra is not None:
                tokens = tokens + intra
            if s < len(self.intra_blocks):
                intra, intra_hw = self.intra_embeds[s](tokens_to_map(tokens, hw))
                intra = self.intra_norms[s](self.intra_blocks[s](intra, intra_hw))
            for block in blocks:
                tokens = block(tokens, hw)
            feats.append(tokens_to_map(norm(tokens), hw))
        return feats

    def decode(self, top: Tensor) -> Tensor:
        """Weather queries over the last encoder feature: (B, C, ⌈H/64⌉, ⌈W/64⌉)."""
        tokens, hw = self.decoder_embed(top)
        for block in self.decoder_blocks:
            tokens = block(tokens, hw)
        return tokens_to_map(self.decoder_norm(tokens), hw)

    def forward(self, x: Tensor) -> Tensor:
        feats = self.encode(x)
        out = crop_to(self.tail(self.decode(feats[-1]), feats), x)
        return torch.tanh(self.clean(out))
