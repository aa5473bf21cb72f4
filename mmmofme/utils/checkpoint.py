"""Checkpoint files and their keys: weights-only reading, the one key-prefix stripper, strict loading.

A checkpoint is a pickle, and a pickle can name any importable function and call it at load time: a
file is data only if nothing in it is called. mmengine 0.10.7 calls ``torch.load`` without
``weights_only`` (torch >= 2.6 defaults it to True), and the Runner's own checkpoints pickle
``message_hub`` state (``HistoryBuffer``, numpy arrays, ``getattr``), so on torch 2.14 ``load_from``,
``--resume`` and ``tools/test.py CKPT`` fail out of the box. The project decides per use:

* model weights (``load_from``, ``tools/test.py``, the chain wrappers, ``tools/deweather.py``,
  ``tools/merge_checkpoints.py``): :func:`load_weights_only` — torch's weights-only unpickler. The few
  globals a Runner writes besides weights (:data:`RUN_STATE_GLOBALS`) are mapped to an inert stand-in
  (:class:`SkippedObject`: built, never run), so ``state_dict`` and plain ``meta`` come back; a file
  naming any other global (``os.system``, ``subprocess.Popen``, ...) is refused before anything in it
  is called, with one line naming the file and the globals.
* resuming a run (``tools/train.py --resume``): full unpickling, for files the run itself wrote
  (listed by SHA-256 in the work dir's ledger, see :mod:`mmmofme.utils.checkpoint_ledger`) or
  that the user vouches for (``--trust-checkpoint``).
"""
import os.path as osp
import pickle
from typing import Dict, Iterable, Sequence

import torch
from torch import Tensor, nn

#: Key prefixes under which a restorer is stored: mmagic ``BaseEditModel`` (``MoFMERestorer``)
#: checkpoints and chain checkpoints. A bare ``MoFMEViT`` state dict has none.
RESTORER_PREFIXES = ('generator.', 'restorer.')

#: Globals that mmengine's Runner pickles besides weights (the message hub's ``HistoryBuffer`` and the
#: numpy values in it). Weights-only reading maps them to :class:`SkippedObject`; numpy 1 and 2 names.
RUN_STATE_GLOBALS = frozenset({
    'builtins.getattr', 'numpy.ndarray', 'numpy.dtype', 'numpy.core.multiarray._reconstruct',
    'numpy._core.multiarray._reconstruct', 'numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar',
    'mmengine.logging.history_buffer.HistoryBuffer'})
RUN_STATE_PREFIXES = ('numpy.dtypes.', )  # numpy's dtype classes, e.g. numpy.dtypes.Float64DType

class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read or is refused; the message names the file."""


class SkippedObject:
    """Stands in for a run-state object (message hub, numpy value) in a weights-only read.

    torch's weights-only unpickler builds it where the file names one of :data:`RUN_STATE_GLOBALS`;
    it takes any arguments and state and does nothing with them.
    """

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __repr__(self) -> str:
        return '<skipped run-state object>'


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f'{type(err).__name__}: {text[0] if text else ""}'


def _is_run_state(name: str) -> bool:
    return name in RUN_STATE_GLOBALS or name.startswith(RUN_STATE_PREFIXES)


def load_weights_only(path: str, map_location: str = 'cpu') -> dict:
    """Read a checkpoint's tensors and plain data; nothing named in the file is called.

    Returns the checkpoint (``state_dict``, ``meta``, ...), with the Runner's run state (message hub)
    as :class:`SkippedObject` s.

    Raises:
        CheckpointError: one line naming ``path``: missing, not a checkpoint, or refused because its
            pickle names a global outside torch's weights-only set and :data:`RUN_STATE_GLOBALS`
            (a crafted file that would run a command on loading).
    """
    if not osp.isfile(path):
        raise CheckpointError(f'{path}: checkpoint file not found')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        pass  # names globals beyond plain weights: which ones decides below
    except Exception as err:  # noqa: BLE001 - truncated zip, not a checkpoint, ...
        raise CheckpointError(f'{path}: not a readable PyTorch checkpoint ({_one_line(err)})') from None
    if not hasattr(torch.serialization, 'get_unsafe_globals_in_checkpoint'):  # torch < 2.5
        raise CheckpointError(f'{path}: holds more than weights, and this torch (< 2.5) cannot skip the '
                              f'rest safely; save its state_dict alone, or upgrade torch')
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception as err:  # noqa: BLE001 - garbage, or a legacy (non-zip) file with extra objects
        raise CheckpointError(f'{path}: not a readable PyTorch checkpoint, or a legacy-format one holding '
                              f'more than weights ({_one_line(err)})') from None
    foreign = sorted(n for n in names if not _is_run_state(n))
    if foreign:
        raise CheckpointError(f'{path}: refused: the file would call {", ".join(foreign)} when loaded, '
                              f'which no checkpoint needs (it may run code); nothing was run. Use weights '
                              f'from a source you trust')
    try:
        with torch.serialization.safe_globals([(SkippedObject, n) for n in names]):
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001
        raise CheckpointError(f'{path}: refused by the weights-only reader ({_one_line(err)})') from None


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


def check_weights_fit(module: nn.Module, state_dict: Dict[str, Tensor], source: str, part: str,
                      allow_unexpected: bool = False) -> None:
    """Raise a one-line :class:`CheckpointError` naming ``source`` unless ``state_dict`` fits ``module``:
    every key present with its shape (and, unless ``allow_unexpected``, no other key)."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = [] if allow_unexpected else sorted(set(state_dict) - set(expected))
    mismatched = [f'{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}' for k, v in expected.items()
                  if k in state_dict and state_dict[k].shape != v.shape]
    if missing or unexpected or mismatched:
        problems = [f'{len(items)} {what} (e.g. {items[:2]})'
                    for what, items in (('missing keys', missing), ('unexpected keys', unexpected),
                                        ('shape mismatches', mismatched)) if items]
        raise CheckpointError(f'{source}: checkpoint does not fit the {part} '
                              f'{type(module).__name__}: {"; ".join(problems)}')


def load_weights_into(module: nn.Module, state_dict: Dict[str, Tensor], source: str, part: str) -> None:
    """Load ``state_dict`` into ``module`` strictly, failing with one line that names ``source``.

    Args:
        module: the model (part) to load into.
        state_dict: weights whose keys are relative to ``module``.
        source: file the weights came from (for the error message).
        part: what ``module`` is, e.g. ``'restorer'`` (for the error message).
    """
    check_weights_fit(module, state_dict, source, part)
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
