"""Synthetic weathered street scenes: procedural scenes, physical weather, and the dataset writer."""
from .generator import SyntheticConfig, default_rain_variants, generate_synthetic_cityscapes, read_depth
from .street_scene import Camera, SceneRender, render_street_scene
from .weather_render import (
                             RAINDROP_LEVELS,
                             SNOW_LEVELS,
                             estimate_airlight,
                             koschmieder,
                             rain_streak_layer,
                             render_fog,
                             render_rain,
                             render_raindrops,
                             render_snow,
                             transmission,
)

__all__ = ['SyntheticConfig', 'default_rain_variants', 'generate_synthetic_cityscapes', 'read_depth',
           'Camera',
           'SceneRender', 'render_street_scene', 'RAINDROP_LEVELS', 'SNOW_LEVELS', 'estimate_airlight',
           'koschmieder', 'rain_streak_layer', 'render_fog', 'render_rain', 'render_raindrops', 'render_snow',
           'transmission']
