"""Build routers and expert sets from config dicts (``router=dict(type='TopKRouter')``).

They register in mmengine's root ``MODELS``, as ``MoFMEViT`` does, not in a child registry of their
own: a user config builds the restorer under its own default scope (mmagic, mmseg or mmdet), whose
registry falls back to its parents only, so a sibling child registry would be unreachable there
without an ``mmmofme.`` prefix on every type. The root is the one registry all three fall back to.
"""
from typing import Any, List, Mapping, Optional

from mmengine.registry import MODELS
from torch import nn


def registered_types(base: type) -> List[str]:
    """Names in the root ``MODELS`` registry of the subclasses of ``base`` (``base`` included)."""
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, base))


def build_part(cfg: Mapping, base: type, key: str, **filled: Any) -> nn.Module:
    """Build ``cfg`` (a dict with ``type``) as a subclass of ``base``, adding the network's ``filled`` args.

    Args:
        cfg: the part's config, e.g. ``dict(type='UncertaintyAwareRouter', mc_samples=5)``.
        base: the class every valid ``type`` derives from (a router or an expert set).
        key: the config key the dict came from (``'router'``, ``'experts'``), for error messages.
        filled: arguments the network decides (``dim``, ``num_experts``, ...); the dict must not set them.

    Raises:
        ValueError: one line naming ``key``, the unknown type and the known ones, or a filled argument.
    """
    if not isinstance(cfg, Mapping) or 'type' not in cfg:
        raise ValueError(f'{key} must be a dict with a type (one of {registered_types(base)}), got {cfg!r}')
    args = dict(cfg)
    part_type = args.pop('type')
    cls: Optional[type] = part_type if isinstance(part_type, type) else MODELS.get(part_type)
    if cls is None or not issubclass(cls, base):
        known = ', '.join(registered_types(base))
        raise ValueError(f'{key}: unknown type {part_type!r}; known types: {known}')
    clashes = sorted(set(args) & set(filled))
    if clashes:
        raise ValueError(f'{key}: {", ".join(clashes)} must not be set here; the network fills them in '
                         f'(set them on the network instead)')
    return cls(**args, **filled)
