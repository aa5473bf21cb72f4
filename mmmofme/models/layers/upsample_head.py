"""Token → full-resolution image head: per-token linear unpatchify and a residual conv tail."""
from torch import Tensor, nn

from .conv_blocks import ResBlock, conv3x3


class LinearUnpatchify(nn.Module):
    """Linear(D → p²·C) per token, rearranged to a (B, C, h·p, w·p) feature map.

    Shapes:
        tokens: (B, h·w, D) on an (h, w) grid → (B, C, h·p, w·p).
    """

    def __init__(self, embed_dim: int, out_channels: int, patch_size: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.out_channels = out_channels
        self.proj = nn.Linear(embed_dim, patch_size * patch_size * out_channels)

    def forward(self, tokens: Tensor, grid_h: int, grid_w: int) -> Tensor:
        b, p, c = tokens.shape[0], self.patch_size, self.out_channels
        x = self.proj(tokens).reshape(b, grid_h, grid_w, p, p, c)  # 'b (h w) (p1 p2 c)'
        return x.permute(0, 5, 1, 3, 2, 4).reshape(b, c, grid_h * p, grid_w * p)


class ResidualTail(nn.Module):
    """ResBlock(C) → conv C→C/2 → ResBlock(C/2) → conv C/2→3 → sigmoid (or a zero-started residual).

    Args:
        sigmoid: end in a sigmoid (the image itself, in (0, 1)); ``False`` returns an unbounded
            correction whose last conv starts at zero, for a model that adds it to its input.

    Shapes:
        x: (B, C, H, W) → (B, 3, H, W).
    """

    def __init__(self, channels: int = 128, out_channels: int = 3, sigmoid: bool = True) -> None:
        super().__init__()
        mid = channels // 2
        self.sigmoid = sigmoid
        self.body = nn.Sequential(
            ResBlock(channels), conv3x3(channels, mid), ResBlock(mid), conv3x3(mid, out_channels))
        if not sigmoid:  # start as the identity restorer: input + 0
            nn.init.zeros_(self.body[-1].weight)
            nn.init.zeros_(self.body[-1].bias)

    def forward(self, x: Tensor) -> Tensor:
        y = self.body(x)
        return y.sigmoid() if self.sigmoid else y
