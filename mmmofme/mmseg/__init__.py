"""mmsegmentation integration: ``DeweatherSegmentor`` and weathered Cityscapes segmentation datasets.

Import it through a config's ``custom_imports=dict(imports=['mmmofme.mmseg'])``.
"""
import mmseg.models  # noqa: F401

from .. import models  # noqa: F401
from .datasets import *  # noqa: F401,F403
from .deweather_segmentor import *  # noqa: F401,F403
