"""Building blocks of PReNet (Ren et al., CVPR 2019): its residual block and the convolutional LSTM."""
from typing import Optional, Tuple

import torch
from torch import Tensor, nn


class PReNetResBlock(nn.Module):
    """``relu(x + relu(conv(relu(conv(x)))))``: PReNet's f_res block (both convs 3×3, ReLU after each).

    Shapes:
        x: (B, C, H, W) → (B, C, H, W).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True))

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.body(x))


class ConvLSTMCell(nn.Module):
    """Convolutional LSTM: the four gates from one 3×3 conv of ``cat(x, h)``.

    i, f, o = σ(·), g = tanh(·); c' = f·c + i·g; h' = o·tanh(c'). One conv with 4C outputs has exactly
    the parameters of PReNet's four separate gate convs.

    Shapes:
        x: (B, C_in, H, W); state: ((B, C, H, W), (B, C, H, W)) or None (zeros) → (h', (h', c')).
    """

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.gates = nn.Conv2d(in_channels + channels, 4 * channels, 3, padding=1)

    def forward(self, x: Tensor,
                state: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.channels, *x.shape[2:])
            state = (zeros, zeros)
        h, c = state
        i, f, g, o = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)
