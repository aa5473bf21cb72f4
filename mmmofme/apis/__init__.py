"""User entry points: ``init_restorer`` / ``restore`` (as mmseg's ``init_model`` / ``inference_model``)
and the one tiling function ``tiled_restore`` (``TaskRestorer`` binds a task-gated restorer's task ids)."""
from .inference import TaskRestorer, tiled_restore
from .restorer import init_restorer, restore, task_weathers

__all__ = ['init_restorer', 'restore', 'task_weathers', 'TaskRestorer', 'tiled_restore']
