"""RESCAN: Recurrent Squeeze-and-Excitation Context Aggregation Net (Li et al., ECCV 2018)."""
from typing import List

from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from .rescan_modules import DilatedConvGRU, SqueezeExcitation


@MODELS.register_module()
class RESCAN(BaseModule):
    """Rain-streak estimation in S recurrent stages; the derained image is ``input − R_S``.

    Each stage runs the context aggregation net: ``depth − 2`` conv-GRU layers (the first 3×3 on the
    image, then dilations 1, 2, 4, ... on C channels), each carrying its state to the same layer of the
    next stage, and a decoder (3×3 conv, SE, LeakyReLU, 1×1 conv to 3 channels) that predicts the rain
    layer. Stage s+1 sees ``input − R_s``. With ``prediction='additive'`` (the paper's choice) the stage
    predicts a correction, R_s = dec(...) + R_{s−1}; with ``'full'`` it predicts R_s outright. The paper's
    setting (C = 24, depth 7, 4 stages, conv-GRU, SE hidden 6) has 149,823 parameters (Table 3: 0.15M).

    Args:
        in_channels: image channels.
        mid_channels: feature channels C.
        depth: network depth d of the paper (d − 2 recurrent layers, d ≥ 3).
        num_stages: recurrent stages S.
        se_hidden: hidden units of every squeeze-and-excitation block.
        prediction: 'additive' or 'full'.

    Shapes:
        x: (B, 3, H, W), any H, W → (B, 3, H, W).
    """

    def __init__(self, in_channels: int = 3, mid_channels: int = 24, depth: int = 7, num_stages: int = 4,
                 se_hidden: int = 6, prediction: str = 'additive', init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth < 3:
            raise ValueError(f'RESCAN: depth must be >= 3, got {depth}')
        if prediction not in ('additive', 'full'):
            raise ValueError(f"RESCAN: prediction must be 'additive' or 'full', got {prediction!r}")
        self.num_stages, self.prediction = num_stages, prediction
        self.layers = nn.ModuleList(
            [DilatedConvGRU(in_channels, mid_channels, 1, se_hidden)]
            + [DilatedConvGRU(mid_channels, mid_channels, 2**i, se_hidden) for i in range(depth - 3)])
        self.decoder = nn.Sequential(nn.Conv2d(mid_channels, mid_channels, 3, padding=1),
                                     SqueezeExcitation(mid_channels, se_hidden), nn.LeakyReLU(0.2),
                                     nn.Conv2d(mid_channels, in_channels, 1))

    def forward_stages(self, rainy: Tensor) -> List[Tensor]:
        """The rain layer estimated by every stage, ``[R_1, ..., R_S]``, each (B, 3, H, W)."""
        states = [None] * len(self.layers)
        rain, layers = None, []
        for _ in range(self.num_stages):
            feat = rainy if rain is None else rainy - rain
            for index, layer in enumerate(self.layers):
                feat = states[index] = layer(feat, states[index])
            step = self.decoder(feat)
            rain = step + rain if self.prediction == 'additive' and rain is not None else step
            layers.append(rain)
        return layers

    def forward(self, x: Tensor) -> Tensor:
        """The derained image ``x − R_S``."""
        return x - self.forward_stages(x)[-1]
