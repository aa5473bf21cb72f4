"""Building blocks of FFA-Net (Qin et al., AAAI 2020): channel / pixel attention, the FA block and group."""
from torch import Tensor, nn


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, padding=1)


class ChannelAttention(nn.Module):
    """``x · σ(conv1×1(relu(conv1×1(avgpool(x)))))``, C → C/r → C (one weight per channel).

    Shapes:
        x: (B, C, H, W) → (B, C, H, W).
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        self.weights = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels // reduction, 1),
                                     nn.ReLU(inplace=True), nn.Conv2d(channels // reduction, channels, 1),
                                     nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.weights(x)


class PixelAttention(nn.Module):
    """``x · σ(conv1×1(relu(conv1×1(x))))``, C → C/r → 1 (one weight per pixel, shared by the channels).

    Shapes:
        x: (B, C, H, W) → (B, C, H, W).
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        self.weights = nn.Sequential(nn.Conv2d(channels, channels // reduction, 1), nn.ReLU(inplace=True),
                                     nn.Conv2d(channels // reduction, 1, 1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.weights(x)


class FeatureAttentionBlock(nn.Module):
    """FFA-Net's basic block: local residual learning plus feature attention.

    ``y = x + PA(CA(conv(x + relu(conv(x)))))``.

    Shapes:
        x: (B, C, H, W) → (B, C, H, W).
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        self.conv1 = conv3x3(channels, channels)
        self.act = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(channels, channels)
        self.channel_attention = ChannelAttention(channels, reduction)
        self.pixel_attention = PixelAttention(channels, reduction)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv2(x + self.act(self.conv1(x)))
        return x + self.pixel_attention(self.channel_attention(out))


class FeatureAttentionGroup(nn.Module):
    """``num_blocks`` FA blocks and a 3×3 conv, with a skip over the group.

    Shapes:
        x: (B, C, H, W) → (B, C, H, W).
    """

    def __init__(self, channels: int, num_blocks: int, reduction: int = 8) -> None:
        super().__init__()
        self.body = nn.Sequential(*[FeatureAttentionBlock(channels, reduction) for _ in range(num_blocks)],
                                  conv3x3(channels, channels))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)
