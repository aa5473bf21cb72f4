"""Building blocks of RESCAN (Li et al., ECCV 2018): squeeze-and-excitation and the dilated conv-GRU."""
from typing import Optional

import torch
from torch import Tensor, nn


class SqueezeExcitation(nn.Module):
    """Channel re-weighting: ``x · σ(W2 relu(W1 avgpool(x)))``, W1: C → hidden, W2: hidden → C.

    RESCAN gives each rain-streak layer its own weight ("alpha-value") this way.

    Shapes:
        x: (B, C, H, W) → (B, C, H, W).
    """

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True),
                                nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.fc(x.mean(dim=(2, 3)))[:, :, None, None]


class DilatedConvGRU(nn.Module):
    """One context-aggregation layer of RESCAN: a conv-GRU over the stages, then SE and LeakyReLU(0.2).

    The input convs are 3×3 with ``dilation`` (the growing receptive field); the hidden-state convs are
    plain 3×3. With no previous state (the first stage) the layer is ``h = σ(z_x) · tanh(n_x)``, the
    GRU with h = 0 and no hidden-state convs; otherwise
    z = σ(z_x + z_h), r = σ(r_x + r_h), n = tanh(n_x + W_n(r·h)), h' = (1 − z)·h + z·n.

    Shapes:
        x: (B, C_in, H, W), h: (B, C, H, W) or None → (B, C, H, W) (the output is the new state).
    """

    def __init__(self, in_channels: int, channels: int, dilation: int = 1, se_hidden: int = 6) -> None:
        super().__init__()
        self.x_update_candidate = nn.Conv2d(in_channels, 2 * channels, 3, padding=dilation, dilation=dilation)
        self.x_reset = nn.Conv2d(in_channels, channels, 3, padding=dilation, dilation=dilation)
        self.h_update_reset = nn.Conv2d(channels, 2 * channels, 3, padding=1)
        self.h_candidate = nn.Conv2d(channels, channels, 3, padding=1)
        self.se = SqueezeExcitation(channels, se_hidden)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: Tensor, h: Optional[Tensor] = None) -> Tensor:
        z_x, n_x = self.x_update_candidate(x).chunk(2, dim=1)
        if h is None:
            h = torch.sigmoid(z_x) * torch.tanh(n_x)
        else:
            z_h, r_h = self.h_update_reset(h).chunk(2, dim=1)
            z = torch.sigmoid(z_x + z_h)
            r = torch.sigmoid(self.x_reset(x) + r_h)
            n = torch.tanh(n_x + self.h_candidate(r * h))
            h = (1 - z) * h + z * n
        return self.act(self.se(h))
