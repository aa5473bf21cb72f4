from .inference import tiled_restore

__all__ = ['tiled_restore']
