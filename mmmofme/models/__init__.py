"""The torch/mmengine core; importing it registers ``MoFMEViT`` in mmengine's root ``MODELS``."""
from . import archs, layers, losses, moe  # noqa: F401
from .archs import MoFMEViT

__all__ = ['MoFMEViT']
