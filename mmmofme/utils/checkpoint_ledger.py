"""Which checkpoints a run wrote: a ledger of their SHA-256 in the work dir.

``tools/train.py --resume`` unpickles a checkpoint in full (optimizer, message hub), which can run code
from the file; it does so only for files whose exact bytes the run recorded here when it saved them
(or that the user vouches for with ``--trust-checkpoint``).
"""
import hashlib
import json
import os.path as osp
from typing import Dict

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from .io import atomic_path

__all__ = ['LEDGER_NAME', 'CheckpointLedgerHook', 'file_digest', 'record_checkpoint', 'written_by_run']

#: The work dir file mapping the SHA-256 of each checkpoint the run wrote to its file name.
LEDGER_NAME = 'checkpoint_ledger.json'


def file_digest(path: str) -> str:
    """SHA-256 of a file (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _read_ledger(work_dir: str) -> Dict[str, str]:
    path = osp.join(work_dir, LEDGER_NAME)
    if not osp.isfile(path):
        return {}
    try:
        with open(path) as f:
            ledger = json.load(f)
    except (OSError, ValueError):
        return {}
    return ledger if isinstance(ledger, dict) else {}


def record_checkpoint(work_dir: str, checkpoint: str) -> None:
    """Add ``checkpoint``'s SHA-256 to ``work_dir``'s ledger (written atomically)."""
    ledger = _read_ledger(work_dir)
    ledger[file_digest(checkpoint)] = osp.basename(checkpoint)
    with atomic_path(osp.join(work_dir, LEDGER_NAME)) as tmp, open(tmp, 'w') as f:
        json.dump(ledger, f, indent=1)


def written_by_run(checkpoint: str, work_dir: str) -> bool:
    """Whether ``work_dir``'s ledger lists ``checkpoint``'s exact bytes (the run saved this file)."""
    ledger = _read_ledger(work_dir)
    return bool(ledger) and file_digest(checkpoint) in ledger


class CheckpointLedgerHook(Hook):
    """Records the SHA-256 of each checkpoint the run saves in ``work_dir/checkpoint_ledger.json``.

    Registered with the lowest priority: it runs after mmengine's ``CheckpointHook`` at the same points
    and reads the paths that hook publishes (``last_ckpt`` / ``best_ckpt*`` in the message hub).
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self._recorded: Dict[str, tuple] = {}

    def _record(self, runner) -> None:
        if not is_main_process():
            return
        for key, path in list(runner.message_hub.runtime_info.items()):
            if not (key == 'last_ckpt' or key.startswith('best_ckpt')) or not isinstance(path, str) \
                    or not osp.isfile(path):
                continue
            stamp = (osp.getmtime(path), osp.getsize(path))
            if self._recorded.get(path) != stamp:
                record_checkpoint(runner.work_dir, path)
                self._recorded[path] = stamp

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._record(runner)

    def after_train_epoch(self, runner) -> None:
        self._record(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._record(runner)

    def after_train(self, runner) -> None:
        self._record(runner)
