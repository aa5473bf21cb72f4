"""What the deweather → perception chain wrappers share, free of mmseg / mmdet imports.

``DeweatherSegmentor`` (mmseg) and ``DeweatherDetector`` (mmdet) differ only in their base class and in
which registry builds the perception model; everything else lives here: the restorer stage
(:class:`DeweatherChainMixin`), the perception model's config and normalisation (:class:`PerceptionSpec`)
and the whole / tiled restore (``restore_cfg``).
"""
from .mixin import DeweatherChainMixin
from .perception import PerceptionSpec, build_in_scope
from .restore_cfg import parse_restore_cfg, restore_images

__all__ = ['DeweatherChainMixin', 'PerceptionSpec', 'build_in_scope', 'parse_restore_cfg', 'restore_images']
