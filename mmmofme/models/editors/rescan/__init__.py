from .rescan_modules import DilatedConvGRU, SqueezeExcitation
from .rescan_net import RESCAN

__all__ = ['DilatedConvGRU', 'RESCAN', 'SqueezeExcitation']
