"""Small helpers shared by the tools."""
from .timing import interleaved_median_ms

__all__ = ['interleaved_median_ms']
