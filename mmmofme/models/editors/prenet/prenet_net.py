"""PReNet: Progressive Recurrent Network for image deraining (Ren et al., CVPR 2019)."""
from typing import List

import torch
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from .prenet_modules import ConvLSTMCell, PReNetResBlock


@MODELS.register_module()
class PReNet(BaseModule):
    """T stages of one shared network; stage t sees ``cat(y, x_{t-1})`` (x_0 = y, the rainy input).

    Per stage: f_in (3×3 conv + ReLU, 2·3 → C), f_recurrent (a conv-LSTM whose state carries over the
    stages), f_res (``num_res_blocks`` residual blocks), f_out (3×3 conv, C → 3), and the estimate
    ``x_t = y + f_out(...)``. All stages share their weights. The paper's setting (T = 6, C = 32, 5
    blocks) has 168,963 parameters (Table 3: 0.17M). ``recurrent=False`` drops the LSTM (the paper's PRN).

    Args:
        in_channels: image channels.
        mid_channels: feature channels C.
        num_stages: recursive stages T.
        num_res_blocks: residual blocks in f_res.
        recurrent: with the conv-LSTM (PReNet) or without (PRN).

    Shapes:
        x: (B, 3, H, W), any H, W → (B, 3, H, W).
    """

    def __init__(self, in_channels: int = 3, mid_channels: int = 32, num_stages: int = 6,
                 num_res_blocks: int = 5, recurrent: bool = True, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_stages < 1:
            raise ValueError(f'PReNet: num_stages must be >= 1, got {num_stages}')
        self.num_stages = num_stages
        self.f_in = nn.Sequential(nn.Conv2d(2 * in_channels, mid_channels, 3, padding=1),
                                  nn.ReLU(inplace=True))
        self.f_recurrent = ConvLSTMCell(mid_channels, mid_channels) if recurrent else None
        self.f_res = nn.Sequential(*[PReNetResBlock(mid_channels) for _ in range(num_res_blocks)])
        self.f_out = nn.Conv2d(mid_channels, in_channels, 3, padding=1)

    def forward_stages(self, rainy: Tensor) -> List[Tensor]:
        """The estimate of every stage, ``[x_1, ..., x_T]``, each (B, 3, H, W)."""
        estimate, state, outputs = rainy, None, []
        for _ in range(self.num_stages):
            feat = self.f_in(torch.cat([rainy, estimate], dim=1))
            if self.f_recurrent is not None:
                feat, state = self.f_recurrent(feat, state)
            estimate = rainy + self.f_out(self.f_res(feat))
            outputs.append(estimate)
        return outputs

    def forward(self, x: Tensor) -> Tensor:
        """The last stage's estimate (the paper supervises only it)."""
        return self.forward_stages(x)[-1]
