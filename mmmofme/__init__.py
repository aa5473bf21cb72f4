"""mmmofme: MoFME deweathering (AAAI 2024) as an OpenMMLab plugin.

Importing the package registers the torch/mmengine core (the ``MoFMEViT`` restorer, its routers and
expert sets) in mmengine's root ``MODELS`` registry, which the mmagic / mmseg / mmdet / mmpretrain
registries fall back to. The task integrations live in ``mmmofme.mmagic``, ``mmmofme.mmseg``,
``mmmofme.mmdet`` and ``mmmofme.mmpretrain`` (the Table 5 classifier) and are imported on demand (a
config's ``custom_imports``); nothing here calls ``register_all_modules``.

Before any of them is imported, the third-party noise of the stack is turned off here: albumentations'
update check (a network call at import), the transformers / diffusers FutureWarnings that
``import mmagic`` triggers and setuptools' pkg_resources notice that ``import mmdet`` triggers (deprecated
APIs the libraries themselves use; nothing a user can act on).
"""
import os
import warnings

os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
for _module in ('transformers', 'diffusers', 'huggingface_hub'):
    warnings.filterwarnings('ignore', category=FutureWarning, module=rf'{_module}(\..*)?$')
# mmdet imports imagecorruptions, which imports pkg_resources (deprecated by setuptools >= 81)
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

from . import models  # noqa: E402,F401  (registers the core)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
