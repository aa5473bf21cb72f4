"""mmpretrain integration: the Table 5 classifier (ViT / MoE-ViT / MoFME-ViT) and an offline CIFAR-10.

Import it through a config's ``custom_imports=dict(imports=['mmmofme.mmpretrain'])``.
"""
import mmpretrain.models  # noqa: F401

from .. import models  # noqa: F401
from .classifier import *  # noqa: F401,F403
from .datasets import *  # noqa: F401,F403
from .moe_vit import *  # noqa: F401,F403
