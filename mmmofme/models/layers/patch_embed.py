"""Patch embedding and learned absolute position embedding."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class PatchEmbed(nn.Module):
    """Non-overlapping p×p patches → tokens via a strided conv, then LayerNorm.

    Args:
        in_channels: Channels C of the feature map.
        embed_dim: Token dimension D.
        patch_size: Patch side p; H and W must be multiples of p.

    Shapes:
        x: (B, C, H, W) → tokens (B, (H/p)·(W/p), D), row-major over the (H/p, W/p) grid.
    """

    def __init__(self, in_channels: int, embed_dim: int, patch_size: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


class PositionEmbedding(nn.Module):
    """Learned absolute position embedding for a (gh, gw) token grid, resampled for other grids.

    The table is sized for the training crop; at other grid sizes it is bicubically interpolated (as in
    timm's ``resample_abs_pos_embed``), so any image size can be restored.

    Args:
        embed_dim: Token dimension D.
        grid_size: (gh, gw) grid the table is learned for.

    Shapes:
        tokens: (B, h·w, D) with the (h, w) grid passed to ``forward`` → (B, h·w, D).
    """

    def __init__(self, embed_dim: int, grid_size: Tuple[int, int]) -> None:
        super().__init__()
        self.grid_size = tuple(grid_size)
        self.weight = nn.Parameter(torch.zeros(1, grid_size[0] * grid_size[1], embed_dim))
        nn.init.trunc_normal_(self.weight, std=0.02)

    def table(self, grid_size: Tuple[int, int]) -> Tensor:
        """Position table (1, h·w, D) for grid ``grid_size``."""
        if tuple(grid_size) == self.grid_size:
            return self.weight
        gh, gw = self.grid_size
        grid = self.weight.reshape(1, gh, gw, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=tuple(grid_size), mode='bicubic', align_corners=False)
        return grid.flatten(2).transpose(1, 2)

    def forward(self, tokens: Tensor, grid_size: Tuple[int, int]) -> Tensor:
        return tokens + self.table(grid_size)
