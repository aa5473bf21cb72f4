"""Restorer architectures."""
from .mofme_vit import MOE_TYPES, ROUTERS, MoFMEViT, pyramid_expert_counts

__all__ = ['MOE_TYPES', 'ROUTERS', 'MoFMEViT', 'pyramid_expert_counts']
