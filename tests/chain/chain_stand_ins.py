"""Stand-in restorers, small perception configs and generated batches for the chain tests.

Imported by the test modules (``tests/chain`` is on ``sys.path`` under pytest's default import mode).

The stand-ins are registered in mmengine's root ``MODELS`` (where ``MoFMEViT`` lives), so the wrappers
build them exactly as they build MoFME. Images are small (64x128) to keep the suite fast on CPU.
"""
import numpy as np
import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.registry import MODELS as ROOT_MODELS

H, W = 64, 128
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


@ROOT_MODELS.register_module(force=True)
class ChainTestIdentity(nn.Module):
    """Returns its input unchanged (times a unit gain, so it has a parameter to freeze)."""

    def __init__(self) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.ones(1))
        self.seen_training = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen_training.append(self.training)
        return x * self.gain


@ROOT_MODELS.register_module(force=True)
class ChainTestPixelRestorer(nn.Module):
    """Per-pixel restorer (1x1 conv + sigmoid): tiling cannot change its output."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.conv.weight.copy_(torch.randn(3, 3, 1, 1, generator=generator))
            self.conv.bias.copy_(torch.randn(3, generator=generator))
        self.tile_shapes = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.tile_shapes.append(tuple(x.shape))
        return torch.sigmoid(self.conv(x))

    def forward_with_aux(self, x: torch.Tensor):
        """Like MoFMEViT: output plus MoE aux losses (here stand-ins that depend on the weights)."""
        out = self(x)
        return out, dict(loss_lb=self.conv.weight.pow(2).mean(), loss_uc=self.conv.bias.abs().mean())


def bgr_batch(n: int = 2, h: int = H, w: int = W, seed: int = 0) -> list:
    """``n`` uint8 BGR ``(3, h, w)`` images with smooth structure (as a loading pipeline gives them)."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(n):
        low = torch.from_numpy(rng.uniform(0, 255, (1, 3, 4, 8)).astype(np.float32))
        img = torch.nn.functional.interpolate(low, size=(h, w), mode='bilinear', align_corners=False)[0]
        img = img + torch.from_numpy(rng.normal(0, 12, (3, h, w)).astype(np.float32))
        images.append(img.clamp(0, 255).round().to(torch.uint8))
    return images


def tiny_segmentor(num_classes: int = 4) -> dict:
    """A small mmseg EncoderDecoder (ResNetV1c-18 at 1/8 width) with BN, trainable on CPU."""
    norm_cfg = dict(type='BN', requires_grad=True)
    return ConfigDict(  # as a config file gives it: mmseg reads test_cfg.mode as an attribute
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True, pad_val=0,
                               seg_pad_val=255, size=(H, W)),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=16, base_channels=8, num_stages=4,
                      out_indices=(2, 3), dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=norm_cfg,
                      contract_dilation=True),
        decode_head=dict(type='FCNHead', in_channels=64, in_index=1, channels=16, num_convs=1,
                         concat_input=False, num_classes=num_classes, norm_cfg=norm_cfg, align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
