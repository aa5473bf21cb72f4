"""Non-MoE building blocks of the MoFME restorer."""
from .confidence_head import (
    ConfidenceHead,
    blend_with_input,
    frame_gate_weight,
    gate_stitched_frames,
    rescale_confidence,
)
from .conv_blocks import ConvStem, ResBlock, conv3x3
from .patch_embed import PatchEmbed, PositionEmbedding
from .upsample_head import LinearUnpatchify, ResidualTail
from .vit_blocks import FeedForward, PreNormAttention, PreNormFeedForward, TransformerBlock

__all__ = [
    'ConfidenceHead', 'blend_with_input', 'frame_gate_weight', 'gate_stitched_frames', 'rescale_confidence',
    'ConvStem', 'ResBlock', 'conv3x3',
    'PatchEmbed',
    'PositionEmbedding', 'LinearUnpatchify', 'ResidualTail', 'FeedForward', 'PreNormAttention',
    'PreNormFeedForward', 'TransformerBlock'
]
