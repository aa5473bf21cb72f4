"""mmmofme: MoFME deweathering (AAAI 2024) as an OpenMMLab plugin.

Importing the package registers the torch/mmengine core (the ``MoFMEViT`` restorer and its MoE
layers) in mmengine's root ``MODELS`` registry, which the mmagic / mmseg / mmdet registries fall back
to. The task integrations live in ``mmmofme.mmagic``, ``mmmofme.mmseg`` and ``mmmofme.mmdet`` and are
imported on demand (a config's ``custom_imports``); nothing here calls ``register_all_modules``.
"""
from . import models  # noqa: F401  (registers the core)
from .version import __version__

__all__ = ['__version__']
