from .transweather_modules import (
                                   ConvProjectionTail,
                                   MixFFN,
                                   OverlapPatchEmbed,
                                   SpatialReductionAttention,
                                   TransformerBlock,
                                   WeatherQueryAttention,
)
from .transweather_net import TransWeather

__all__ = ['ConvProjectionTail', 'MixFFN', 'OverlapPatchEmbed', 'SpatialReductionAttention', 'TransWeather',
           'TransformerBlock', 'WeatherQueryAttention']
