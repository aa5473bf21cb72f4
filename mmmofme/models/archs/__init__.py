"""Restorer architectures."""
from .identity import IdentityRestorer
from .mofme_vit import MoFMEViT, layer_expert_counts, pyramid_expert_counts
from .uncertainty_gate import MCDropoutGate, blend_with_input
from .variants import ROUTERS, VARIANTS, variant

__all__ = ['IdentityRestorer', 'MoFMEViT', 'layer_expert_counts', 'pyramid_expert_counts', 'ROUTERS',
           'VARIANTS', 'variant', 'MCDropoutGate', 'blend_with_input']
