"""Building blocks of TransWeather (Valanarasu et al., CVPR 2022).

Tokens are (B, N, C) with N = h·w in row-major order; ``hw`` carries (h, w) where a layer needs the grid.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmagic.models.archs import ResidualBlockNoBN
from mmcv.cnn.bricks import DropPath
from torch import Tensor, nn

Grid = Tuple[int, int]


def tokens_to_map(x: Tensor, hw: Grid) -> Tensor:
    """(B, h·w, C) → (B, C, h, w)."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], *hw)


def map_to_tokens(x: Tensor) -> Tensor:
    """(B, C, h, w) → (B, h·w, C)."""
    return x.flatten(2).transpose(1, 2)


class OverlapPatchEmbed(nn.Module):
    """Overlapping patches: a k×k conv with stride s and padding k//2, then LayerNorm.

    Shapes:
        x: (B, C_in, H, W) → tokens (B, h·w, C), (h, w) = (⌈H/s⌉, ⌈W/s⌉) for odd k.
    """

    def __init__(self, in_channels: int, embed_dim: int, kernel_size: int = 3, stride: int = 2) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, embed_dim, kernel_size, stride, padding=kernel_size // 2)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: Tensor) -> Tuple[Tensor, Grid]:
        x = self.proj(x)
        return self.norm(map_to_tokens(x)), (x.shape[2], x.shape[3])


class SpatialReductionAttention(nn.Module):
    """Multi-head self-attention whose keys / values come from an R×R strided conv of the grid (PVT / MiT).

    Cost N·N/R² instead of N². ``R = 1`` attends to every token. A grid that is not a multiple of R is
    replicate-padded to one first (the released code needs multiples; tiles and user images need not be).

    Shapes:
        x: (B, N, C), hw: (h, w) with h·w = N → (B, N, C).
    """

    def __init__(self, dim: int, num_heads: int, sr_ratio: int = 1, qkv_bias: bool = True) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'attention: dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, 2 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.reduce = None
        if sr_ratio > 1:
            self.reduce = nn.Conv2d(dim, dim, sr_ratio, stride=sr_ratio)
            self.reduce_norm = nn.LayerNorm(dim)

    def split_heads(self, x: Tensor) -> Tensor:
        """(B, N, C) → (B, heads, N, C / heads)."""
        return x.reshape(x.shape[0], x.shape[1], self.num_heads, -1).transpose(1, 2)

    def keys_values(self, x: Tensor, hw: Grid) -> Tuple[Tensor, Tensor]:
        if self.reduce is not None:
            grid = tokens_to_map(x, hw)
            stride = self.reduce.stride[0]
            pad_h, pad_w = -hw[0] % stride, -hw[1] % stride
            if pad_h or pad_w:
                grid = F.pad(grid, (0, pad_w, 0, pad_h), mode='replicate')
            x = self.reduce_norm(map_to_tokens(self.reduce(grid)))
        k, v = self.kv(x).chunk(2, dim=-1)
        return self.split_heads(k), self.split_heads(v)

    def queries(self, x: Tensor) -> Tensor:
        return self.split_heads(self.q(x))

    def forward(self, x: Tensor, hw: Grid) -> Tensor:
        k, v = self.keys_values(x, hw)
        out = F.scaled_dot_product_attention(self.queries(x), k, v)
        return self.proj(out.transpose(1, 2).reshape(x.shape))


class WeatherQueryAttention(SpatialReductionAttention):
    """The decoder's attention: learnable weather-type queries attend to the encoder's tokens.

    The Q learned query vectors (projected by ``q``) are resized, nearest, along the query axis to the
    N tokens of the grid, so the output keeps one token per position as the residual stream needs
    (TransWeather's own way to serve any image size with a fixed set of queries).

    Shapes:
        x: (B, N, C), hw: (h, w) → (B, N, C).
    """

    def __init__(self, dim: int, num_heads: int, num_queries: int = 48, **kwargs) -> None:
        super().__init__(dim, num_heads, **kwargs)
        self.weather_queries = nn.Parameter(torch.empty(1, num_queries, dim))
        nn.init.trunc_normal_(self.weather_queries, std=0.02)

    def queries(self, x: Tensor) -> Tensor:
        q = self.split_heads(self.q(self.weather_queries))  # (1, heads, Q, d)
        q = F.interpolate(q, size=(x.shape[1], q.shape[-1]), mode='nearest')
        return q.expand(x.shape[0], -1, -1, -1)


class MixFFN(nn.Module):
    """``fc2(GELU(dwconv3×3(fc1(x))))``: the MLP with a depth-wise conv that stands in for positions.

    Shapes:
        x: (B, N, C), hw: (h, w) → (B, N, C).
    """

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor, hw: Grid) -> Tensor:
        x = map_to_tokens(self.dwconv(tokens_to_map(self.fc1(x), hw)))
        return self.fc2(self.act(x))


class TransformerBlock(nn.Module):
    """Pre-norm block ``x + attn(LN(x))``, ``x + MixFFN(LN(x))``, with stochastic depth.

    Args:
        dim: token width C.
        attention: the attention module (self-attention or weather queries), built by the caller.
        mlp_ratio: MixFFN hidden width / C.
        drop_path: stochastic depth probability.
        norm_eps: LayerNorm epsilon.

    Shapes:
        x: (B, N, C), hw: (h, w) → (B, N, C).
    """

    def __init__(self, dim: int, attention: nn.Module, mlp_ratio: float = 4.0, drop_path: float = 0.0,
                 norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = attention
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = MixFFN(dim, int(dim * mlp_ratio))
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: Tensor, hw: Grid) -> Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), hw))
        return x + self.drop_path(self.mlp(self.norm2(x), hw))


def crop_to(x: Tensor, like: Tensor) -> Tensor:
    """``x`` (B, C, H', W') cut to the spatial size of ``like`` (H ≤ H', W ≤ W')."""
    return x[..., :like.shape[-2], :like.shape[-1]]


class ConvProjectionTail(nn.Module):
    """TransWeather's convolutional projection: the decoder output back to full resolution.

    Transposed 4×4 convs (stride 2) double the resolution six times; after each of the first four the
    encoder feature of that scale is added (the upsampled map is cut to its size: grids are ⌈H/s⌉, so 2×
    an upsampled grid can exceed it by one). A residual block (two 3×3 convs, residual scaled by 0.1)
    follows each upsampling but the first and the last.

    Args:
        decoder_dim: channels of the decoder output (1/64 scale).
        skip_dims: channels of the encoder features at 1/4, 1/8, 1/16, 1/32.
        out_dims: channels after the 2× and 1× upsamplings (the last two).

    Shapes:
        decoded: (B, C_dec, ⌈H/64⌉, ⌈W/64⌉); skips: [(B, C_i, ⌈H/4·2^-i⌉, ...)] → (B, out_dims[1], ≥H, ≥W).
    """

    def __init__(self, decoder_dim: int = 512, skip_dims: Sequence[int] = (64, 128, 320, 512),
                 out_dims: Sequence[int] = (16, 8)) -> None:
        super().__init__()
        widths = [decoder_dim, *reversed(skip_dims), *out_dims]  # 512, 512, 320, 128, 64, 16, 8
        self.ups = nn.ModuleList(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1)
                                 for cin, cout in zip(widths[:-1], widths[1:]))
        self.blocks = nn.ModuleList(ResidualBlockNoBN(c, res_scale=0.1) for c in widths[2:-1])

    def forward(self, decoded: Tensor, skips: List[Tensor]) -> Tensor:
        x = crop_to(self.ups[0](decoded), skips[-1]) + skips[-1]
        for up, block, skip in zip(self.ups[1:-1], self.blocks, [*reversed(skips[:-1]), None]):
            x = up(x)
            if skip is None:
                x = block(x)
            else:
                x = block(crop_to(x, skip)) + skip
        return self.ups[-1](x)
