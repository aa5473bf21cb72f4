"""FFA-Net: Feature Fusion Attention Network for single image dehazing (Qin et al., AAAI 2020)."""
import torch
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from .ffa_net_modules import FeatureAttentionGroup, PixelAttention, conv3x3


@MODELS.register_module()
class FFANet(BaseModule):
    """Shallow conv, G feature-attention groups in sequence, attention-based fusion, reconstruction.

    The fusion weights the G group outputs per channel: a channel attention over their concatenation
    (G·C → C/16 → G·C, sigmoid) gives G weight vectors, the outputs are summed with them, then a pixel
    attention and two 3×3 convs (C → C → 3) predict a residual added to the input. The paper's setting
    (G = 3 groups of B = 19 blocks, C = 64) has 4,455,913 parameters (Table 3: 4.46M).

    Args:
        in_channels: image channels.
        mid_channels: feature channels C.
        num_groups: groups G.
        num_blocks: FA blocks per group B.
        reduction: channel reduction of the block attentions (the fusion uses ``2 * reduction``).

    Shapes:
        x: (B, 3, H, W), any H, W → (B, 3, H, W).
    """

    def __init__(self, in_channels: int = 3, mid_channels: int = 64, num_groups: int = 3,
                 num_blocks: int = 19, reduction: int = 8, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_groups = num_groups
        self.shallow = conv3x3(in_channels, mid_channels)
        self.groups = nn.ModuleList(
            [FeatureAttentionGroup(mid_channels, num_blocks, reduction) for _ in range(num_groups)])
        fused, hidden = num_groups * mid_channels, mid_channels // (2 * reduction)
        self.fusion_weights = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(fused, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, fused, 1), nn.Sigmoid())
        self.fusion_pixel_attention = PixelAttention(mid_channels, reduction)
        self.reconstruct = nn.Sequential(conv3x3(mid_channels, mid_channels),
                                         conv3x3(mid_channels, in_channels))

    def forward(self, x: Tensor) -> Tensor:
        feat, outputs = self.shallow(x), []
        for group in self.groups:
            feat = group(feat)
            outputs.append(feat)
        stacked = torch.stack(outputs, dim=1)  # (B, G, C, H, W)
        weights = self.fusion_weights(torch.cat(outputs, dim=1))
        weights = weights.view(x.shape[0], self.num_groups, -1, 1, 1)
        fused = self.fusion_pixel_attention((weights * stacked).sum(dim=1))
        return x + self.reconstruct(fused)
