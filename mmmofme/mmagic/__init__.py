"""mmagic integration: the MoFME restoration model, the CNN / TransWeather baseline generators, paired
weather datasets and per-weather metrics.

Import it through a config's ``custom_imports=dict(imports=['mmmofme.mmagic'])``.
"""
import mmagic.models  # noqa: F401  (registers mmagic's modules this package builds on)

from .. import models  # noqa: F401  (core: MoFMEViT and friends in mmengine's root registry)
from ..datasets import transforms  # noqa: F401  (LoadSyntheticDepth, RandomWeather)
from ..models import editors  # noqa: F401  (TransWeather, FFA-Net, PReNet, RESCAN: root registry)
from .data_preprocessor import *  # noqa: F401,F403
from .datasets import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .ones_distiller import *  # noqa: F401,F403
from .restorer import *  # noqa: F401,F403
