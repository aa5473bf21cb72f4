"""Data transforms of the weather datasets, registered in mmengine's root ``TRANSFORMS`` (which the
mmagic / mmseg / mmdet transform registries fall back to)."""
from .random_weather import WEATHER_RANGES, LoadSyntheticDepth, RandomWeather, sample_weather

__all__ = ['WEATHER_RANGES', 'LoadSyntheticDepth', 'RandomWeather', 'sample_weather']
