"""The paper's non-MoE comparison restorers (Table 3), written from their papers as mmagic generators.

Each maps ``(B, 3, H, W)`` [0, 1] RGB to the same, any H×W, and registers in mmengine's root ``MODELS``
(reachable from the mmagic, mmseg and mmdet scopes), so it can be the ``generator`` of
:class:`mmmofme.mmagic.MoFMERestorer` like mmagic's Restormer. They build on mmagic's layers, so
``mmmofme.mmagic`` imports them (the core ``mmmofme.models`` stays free of mmagic).
"""
from .ffa_net import FFANet
from .prenet import PReNet
from .rescan import RESCAN
from .transweather import TransWeather

__all__ = ['FFANet', 'PReNet', 'RESCAN', 'TransWeather']
