"""User entry points: ``init_restorer`` / ``restore`` (as mmseg's ``init_model`` / ``inference_model``)
and the one tiling function ``tiled_restore``."""
from .inference import tiled_restore
from .restorer import init_restorer, restore

__all__ = ['init_restorer', 'restore', 'tiled_restore']
