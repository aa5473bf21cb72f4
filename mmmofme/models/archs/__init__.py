"""Restorer architectures."""
from .identity import IdentityRestorer
from .mofme_vit import MOE_TYPES, ROUTERS, MoFMEViT, pyramid_expert_counts
from .uncertainty_gate import MCDropoutGate, blend_with_input

__all__ = ['IdentityRestorer', 'MOE_TYPES', 'ROUTERS', 'MoFMEViT', 'pyramid_expert_counts',
           'MCDropoutGate', 'blend_with_input']
