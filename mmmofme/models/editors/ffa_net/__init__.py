from .ffa_net_modules import ChannelAttention, FeatureAttentionBlock, FeatureAttentionGroup, PixelAttention
from .ffa_net_net import FFANet

__all__ = ['ChannelAttention', 'FFANet', 'FeatureAttentionBlock', 'FeatureAttentionGroup', 'PixelAttention']
