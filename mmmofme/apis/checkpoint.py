"""Checkpoint reading under torch >= 2.6 (``weights_only=True`` by default).

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``, and the Runner's own checkpoints pickle
``message_hub`` state (``HistoryBuffer``, numpy objects, ``getattr``), so on torch 2.14 ``load_from``,
``--resume`` and ``tools/test.py CKPT`` fail out of the box. Allow-listing those globals would let any
checkpoint run ``getattr`` at load time, so the project decides per use:

* model weights (``load_from``, ``tools/test.py``, the chain wrappers): :func:`load_weights_only` —
  torch's weights-only unpickler; for files that carry more than weights, a reader that builds only
  what torch's weights-only allow-list permits and turns every other object into an inert placeholder,
  so ``state_dict`` and plain ``meta`` come back and no foreign code runs;
* resuming the project's own run (``tools/train.py --resume``): full unpickling, for the files the
  tool names as trusted.
"""
import os.path as osp
import pickle
from typing import Iterable, Optional

import torch
from mmengine.runner import CheckpointLoader


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read; the message names the file."""


class _Inert:
    """Stands in for any pickled object outside torch's weights-only allow-list; never runs code."""

    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __setstate__(self, state):
        pass

    def __setitem__(self, key, value):
        pass

    def append(self, value):
        pass

    def extend(self, values):
        pass

    def __repr__(self) -> str:
        return '<skipped non-weight object>'


def _allowed_globals() -> dict:
    from torch import _weights_only_unpickler as wou
    return dict(wou._get_allowed_globals())


class _InertUnpickler(pickle.Unpickler):

    _allowed = None

    def find_class(self, module: str, name: str):
        if _InertUnpickler._allowed is None:
            _InertUnpickler._allowed = _allowed_globals()
        obj = _InertUnpickler._allowed.get(f'{module}.{name}')
        if obj is not None:
            return obj
        return _Inert


class _InertPickleModule:
    Unpickler = _InertUnpickler
    load = pickle.load
    __name__ = 'mmmofme_inert_pickle'


def load_weights_only(path: str, map_location: str = 'cpu') -> dict:
    """Read a checkpoint's tensors and plain data without running code from the file.

    Returns the checkpoint dict (``state_dict``, ``meta``, ...) where anything that is not a tensor
    or a plain Python/torch value is an inert placeholder.
    """
    if not osp.isfile(path):
        raise CheckpointError(f'{path}: checkpoint file not found')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        pass  # carries more than weights (e.g. a Runner's message_hub): read it inertly below
    except Exception as e:  # noqa: BLE001 - truncated zip, not a checkpoint, ...
        raise CheckpointError(
            f'{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})') from None
    try:
        return torch.load(path, map_location=map_location, weights_only=False,
                          pickle_module=_InertPickleModule)
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(
            f'{path}: refused by the weights-only reader ({type(e).__name__}: {e})') from None


def load_state_dict(path: str, prefix: Optional[str] = None, map_location: str = 'cpu') -> dict:
    """The model weights of a checkpoint (``state_dict`` or a bare state dict), weights-only.

    Args:
        path: checkpoint file.
        prefix: keep only keys starting with ``prefix`` and strip it (e.g. ``'generator.'`` to take
            the restorer out of an mmagic model checkpoint). Files that have no key with the prefix
            are returned unchanged (a bare state dict of the sub-model itself).
    """
    ckpt = load_weights_only(path, map_location)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f'{path}: no state_dict of tensors in this file')
    if prefix:
        sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if sub:
            state = sub
    return state


_trusted: set = set()


def _load_local(filename: str, map_location=None) -> dict:
    filename = osp.expanduser(filename)
    if osp.abspath(filename) in _trusted:
        return torch.load(filename, map_location=map_location, weights_only=False)
    return load_weights_only(filename, map_location or 'cpu')


def install_checkpoint_loader(trusted: Iterable[str] = ()) -> None:
    """Make mmengine read local checkpoints through :func:`load_weights_only`.

    ``trusted`` files (the run being resumed by ``tools/train.py --resume``) are unpickled in full,
    since resuming needs the message hub and optimizer state they carry.
    """
    _trusted.update(osp.abspath(osp.expanduser(p)) for p in trusted)
    CheckpointLoader.register_scheme(prefixes='', force=True)(_load_local)
