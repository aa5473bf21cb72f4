from .prenet_modules import ConvLSTMCell, PReNetResBlock
from .prenet_net import PReNet

__all__ = ['ConvLSTMCell', 'PReNet', 'PReNetResBlock']
