"""The fixed split of the kinds into a selection set (to choose recipes on) and a report set (the
numbers reported, never tuned to).

* ``generator-heldout``: each phenomenon family on both sides, with different kinds (patchy fog /
  dense fog, tinted drizzle / wind-driven rain, dry blizzard / wet snow), and the mixed weather kept
  for the report.
* ``external``: split by library: albumentations selects, imagecorruptions reports. A recipe chosen
  on one independent renderer is then scored on another one, never seen while choosing.
* ``near-clean``: in both. They are a constraint (no harm), not a target: a recipe must pass them
  while it is chosen, and the report must show it still does.
"""
from typing import Dict, Tuple

from .registry import KINDS

__all__ = ['SPLITS', 'split_of', 'kinds_in_split']

SPLITS: Dict[str, Tuple[str, ...]] = {
    'selection': ('clean', 'fog-faint', 'ic-fog-1', 'exposure-up', 'exposure-down', 'white-balance',
                  'sensor-noise', 'jpeg', 'motion-blur',
                  'fog-patchy', 'rain-tinted', 'snow-blizzard',
                  'alb-rain', 'alb-fog', 'alb-snow', 'alb-sunflare'),
    'report': ('clean', 'fog-faint', 'ic-fog-1', 'exposure-up', 'exposure-down', 'white-balance',
               'sensor-noise', 'jpeg', 'motion-blur',
               'fog-dense', 'rain-slant', 'snow-wet', 'rain-fog',
               'ic-fog-3', 'ic-snow-3', 'ic-frost-3', 'ic-spatter-3'),
}


def _splits_holding(kind: str) -> Tuple[str, ...]:
    return tuple(s for s, names in SPLITS.items() if kind in names)


def split_of(kind: str) -> Tuple[str, ...]:
    """The splits holding ``kind`` (``('selection', 'report')`` for near-clean kinds)."""
    splits = _splits_holding(kind)
    if not splits:
        raise KeyError(f'weather kind {kind!r} is in no split; splits: {SPLITS}')
    return splits


def kinds_in_split(split: str) -> Tuple[str, ...]:
    """The kinds of ``'selection'`` or ``'report'``."""
    if split not in SPLITS:
        raise KeyError(f'unknown split {split!r}; known: {sorted(SPLITS)}')
    return SPLITS[split]


def _check() -> None:
    """Weather kinds in exactly one split, near-clean kinds in both, every listed name registered."""
    listed = {k for names in SPLITS.values() for k in names}
    unknown = sorted(listed - set(KINDS))
    wrong = sorted(k for k, kind in KINDS.items()
                   if len(_splits_holding(k)) != (len(SPLITS) if kind.family == 'near-clean' else 1))
    if unknown or wrong:
        raise RuntimeError(f'kind splits out of date: unknown kinds {unknown}; kinds in the wrong number of '
                           f'splits (near-clean: all, others: one) {wrong}')
