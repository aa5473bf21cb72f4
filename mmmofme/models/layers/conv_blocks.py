"""Convolutional building blocks of the restorer's stem and tail."""
from torch import Tensor, nn


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """3×3 convolution with bias and 'same' padding."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)


class ResBlock(nn.Module):
    """conv3x3 → ReLU → conv3x3 plus identity skip (EDSR style, no normalisation).

    Args:
        channels: Input and output channels C.

    Shapes:
        x: (B, C, H, W) → (B, C, H, W).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = conv3x3(channels, channels)
        self.act = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.act(self.conv1(x)))


class ConvStem(nn.Module):
    """3×3 conv from RGB to C channels followed by ``num_blocks`` residual blocks.

    Shapes:
        x: (B, 3, H, W) → (B, C, H, W).
    """

    def __init__(self, in_channels: int = 3, channels: int = 32, num_blocks: int = 2) -> None:
        super().__init__()
        self.conv = conv3x3(in_channels, channels)
        self.blocks = nn.Sequential(*[ResBlock(channels) for _ in range(num_blocks)])

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(self.conv(x))
