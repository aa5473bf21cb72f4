"""Checkpoint files and their keys: weights-only reading, the one key-prefix stripper, strict loading.

Reading under torch >= 2.6 (``weights_only=True`` by default).

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
from typing import Dict, Iterable, Sequence

import torch
from torch import Tensor, nn

from .. import compat

#: Key prefixes under which a restorer is stored: mmagic ``BaseEditModel`` (``MoFMERestorer``)
#: checkpoints and chain checkpoints. A bare ``MoFMEViT`` state dict has none.
RESTORER_PREFIXES = ('generator.', 'restorer.')


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


class _InertUnpickler(pickle.Unpickler):

    _allowed = None

    def find_class(self, module: str, name: str):
        if _InertUnpickler._allowed is None:
            _InertUnpickler._allowed = compat.weights_only_allowed_globals()
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
    except pickle.UnpicklingError as e:
        # carries more than weights (e.g. a Runner's message_hub): read it inertly below
        if compat.weights_only_allowed_globals() is None:
            raise CheckpointError(f'{path}: holds more than weights, and this torch has no weights-only '
                                  f'allow-list to skip the rest ({e})') from None
    except Exception as e:  # noqa: BLE001 - truncated zip, not a checkpoint, ...
        raise CheckpointError(
            f'{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})') from None
    try:
        return torch.load(path, map_location=map_location, weights_only=False,
                          pickle_module=_InertPickleModule)
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(
            f'{path}: refused by the weights-only reader ({type(e).__name__}: {e})') from None


def load_state_dict(path: str, map_location: str = 'cpu') -> Dict[str, Tensor]:
    """The model weights of a checkpoint (``state_dict`` or a bare state dict), weights-only; a DDP
    ``module.`` prefix is dropped."""
    ckpt = load_weights_only(path, map_location)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f'{path}: no state_dict of tensors in this file')
    return strip_prefix(state, ['module.'])


def strip_prefix(state_dict: Dict[str, Tensor], prefixes: Sequence[str]) -> Dict[str, Tensor]:
    """Keep the keys under the first of ``prefixes`` that occurs, without it; no match: all keys.

    E.g. ``strip_prefix(sd, RESTORER_PREFIXES)`` takes the restorer out of an mmagic or chain checkpoint
    and leaves a bare ``MoFMEViT`` state dict as it is.
    """
    for prefix in prefixes:
        selected = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if selected:
            return selected
    return dict(state_dict)


def read_checkpoint(path: str, prefixes: Sequence[str] = ()) -> Dict[str, Tensor]:
    """:func:`load_state_dict` of a local file, or of a model-zoo URL (``cfg_path``, ``pretrained=True``),
    then :func:`strip_prefix` with ``prefixes``."""
    if path.startswith(('http://', 'https://')):
        from mmengine.runner import CheckpointLoader
        try:
            checkpoint = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        except Exception as err:  # noqa: BLE001 - network, format, ...
            raise CheckpointError(f'{path}: checkpoint cannot be fetched ({type(err).__name__}: {err})') \
                from None
        state = checkpoint.get('state_dict', checkpoint)
    else:
        state = load_state_dict(path)
    return strip_prefix(state, prefixes)


def load_weights_into(module: nn.Module, state_dict: Dict[str, Tensor], source: str, part: str) -> None:
    """Load ``state_dict`` into ``module`` strictly, failing with one line that names ``source``.

    Args:
        module: the model (part) to load into.
        state_dict: weights whose keys are relative to ``module``.
        source: file the weights came from (for the error message).
        part: what ``module`` is, e.g. ``'restorer'`` (for the error message).
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = [f'{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}' for k, v in expected.items()
                  if k in state_dict and state_dict[k].shape != v.shape]
    if missing or unexpected or mismatched:
        problems = [f'{len(items)} {what} (e.g. {items[:2]})'
                    for what, items in (('missing keys', missing), ('unexpected keys', unexpected),
                                        ('shape mismatches', mismatched)) if items]
        raise CheckpointError(f'{source}: checkpoint does not fit the {part} '
                              f'{type(module).__name__}: {"; ".join(problems)}')
    module.load_state_dict(state_dict, strict=True)
    # Keep Runner.train()'s init_weights() from re-initialising the loaded weights (mmengine BaseModule
    # skips children whose `is_init` is set; for a plain nn.Module this is just an attribute).
    module.is_init = True


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
    from mmengine.runner import CheckpointLoader  # deferred: mmengine.runner imports a lot

    _trusted.update(osp.abspath(osp.expanduser(p)) for p in trusted)
    CheckpointLoader.register_scheme(prefixes='', force=True)(_load_local)
