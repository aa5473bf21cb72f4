"""The registry of held-out weather kinds: name -> (family, renderer, parameters).

A kind is a deterministic function ``(clean RGB uint8 (H, W, 3), distance in metres (H, W), rng) ->
weathered RGB uint8 (H, W, 3)``; the same rng state gives the same image. Kinds are registered with
:func:`register_kind` by the modules of this package, one per family.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from ..layouts import GENERIC_TAG

__all__ = ['FAMILIES', 'WeatherKind', 'KINDS', 'register_kind', 'get_kind', 'kinds_of', 'render_kind']

#: ``generator-heldout``: the project's own physics outside its training ranges / phenomena;
#: ``external``: weather from independent renderers in maintained libraries;
#: ``near-clean``: not weather; a deweathering stage must leave these frames alone (or improve them).
FAMILIES = ('generator-heldout', 'external', 'near-clean')

RenderFn = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class WeatherKind:
    """One held-out weather kind.

    Attributes:
        name: Tag of the kind (lower-case words joined by ``-``; also its folder ``leftImg8bit_{name}``).
        family: One of :data:`FAMILIES`.
        render: The renderer ``(image, distance, rng) -> image``.
        renderer: Who renders it (``'weather_render'``, ``'albumentations'``, ``'imagecorruptions'``...).
        params: Its parameters, for the docs and the tree's metadata.
        description: One line for the docs.
    """

    name: str
    family: str
    render: RenderFn = field(repr=False, compare=False)
    renderer: str
    params: Mapping[str, object]
    description: str

    def __call__(self, image: np.ndarray, distance: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Render the kind on a clean frame; checks the frame and that shape and dtype are kept."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'kind {self.name!r}: expected an (H, W, 3) uint8 image, got {image.dtype} '
                             f'{image.shape}')
        if distance.shape != image.shape[:2]:
            raise ValueError(f'kind {self.name!r}: distance map {distance.shape} does not match the image '
                             f'{image.shape[:2]}')
        out = self.render(image, distance.astype(np.float32, copy=False), rng)
        if out.shape != image.shape or out.dtype != np.uint8:
            raise RuntimeError(f'kind {self.name!r} returned {out.dtype} {out.shape} for {image.shape}')
        return out


KINDS: Dict[str, WeatherKind] = {}


def register_kind(name: str, family: str, renderer: str, description: str,
                  **params) -> Callable[[RenderFn], RenderFn]:
    """Decorator registering ``fn(image, distance, rng)`` as the kind ``name`` (its keyword parameters
    are the ``params`` the function receives, recorded for the docs)."""
    if family not in FAMILIES:
        raise ValueError(f'kind {name!r}: unknown family {family!r}; known: {list(FAMILIES)}')
    if not GENERIC_TAG.fullmatch(name):
        raise ValueError(f'kind name {name!r} must be lower-case words joined by "-"')

    def wrap(fn: Callable) -> Callable:
        if name in KINDS:
            raise ValueError(f'kind {name!r} is registered twice')
        KINDS[name] = WeatherKind(name, family, lambda img, dist, rng: fn(img, dist, rng, **params), renderer,
                                  dict(params), description)
        return fn

    return wrap


def get_kind(name: str) -> WeatherKind:
    """The registered kind ``name``; an unknown name fails with the known ones."""
    if name not in KINDS:
        raise KeyError(f'unknown weather kind {name!r}; known: {sorted(KINDS)}')
    return KINDS[name]


def kinds_of(family: Optional[str] = None, names: Optional[Sequence[str]] = None) -> List[WeatherKind]:
    """Registered kinds in registration order, optionally of one family and/or among ``names``."""
    if names is not None:
        kinds = [get_kind(n) for n in names]
    else:
        kinds = list(KINDS.values())
    return [k for k in kinds if family is None or k.family == family]


def render_kind(name: str, image: np.ndarray, distance: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render the kind ``name`` on a clean frame."""
    return get_kind(name)(image, distance, rng)
