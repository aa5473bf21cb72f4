"""mmdetection integration: ``DeweatherDetector`` and weathered Cityscapes detection datasets.

Import it through a config's ``custom_imports=dict(imports=['mmmofme.mmdet'])``.
"""
import mmdet.models  # noqa: F401

from .. import models  # noqa: F401
from .datasets import *  # noqa: F401,F403
from .deweather_detector import *  # noqa: F401,F403
