"""Data transforms of the weather datasets, registered in mmengine's root ``TRANSFORMS`` (which the
mmagic / mmseg / mmdet transform registries fall back to)."""
from .camera_distortion import CAMERA_DISTORTION_RANGES, PairedCameraDistortion, distort_pair
from .random_weather import WEATHER_RANGES, LoadSyntheticDepth, RandomWeather, sample_weather

__all__ = ['CAMERA_DISTORTION_RANGES', 'PairedCameraDistortion', 'distort_pair',
           'WEATHER_RANGES', 'LoadSyntheticDepth', 'RandomWeather', 'sample_weather']
