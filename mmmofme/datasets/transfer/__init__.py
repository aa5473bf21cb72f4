"""Held-out weather kinds for the transfer protocol: weather the restorer never trained on, and frames
it must leave alone (``docs/transfer.md``).

Importing the package registers every kind (:data:`KINDS`); :data:`SPLITS` fixes which kinds choose
recipes (``selection``) and which are reported (``report``).
"""
from . import external, heldout, near_clean  # noqa: F401  (register the kinds)
from .registry import FAMILIES, KINDS, WeatherKind, get_kind, kinds_of, register_kind, render_kind
from .splits import SPLITS, _check, kinds_in_split, split_of

_check()

__all__ = ['FAMILIES', 'KINDS', 'WeatherKind', 'get_kind', 'kinds_of', 'register_kind', 'render_kind',
           'SPLITS', 'kinds_in_split', 'split_of']
