"""Random number streams that survive a kill: what mmengine 0.10.7's resume leaves out.

mmengine restores weights, optimizer, schedulers, message hub and the data position (an iteration-based
loop re-reads the batches already trained on), but not the random generators: after a resume, dropout
masks, router noise and data augmentation draw other numbers than the uninterrupted run would have, so
the weights diverge. :class:`RandomStateHook` closes that gap:

* every checkpoint carries the Python, numpy, torch (CPU and CUDA) generator states of every rank;
* on resume they are restored right before the first new batch is fetched (after the loop has re-read
  the batches already trained on, which itself draws augmentation numbers);
* validation leaves the training streams untouched (states saved before it and restored after), so a
  run validated at a checkpoint and a run resumed from it continue from the same states.
"""
import random
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log

__all__ = ['get_rng_state', 'set_rng_state', 'RandomStateHook']

CHECKPOINT_KEY = 'rng_states'


def get_rng_state() -> Dict[str, Any]:
    """The Python, numpy and torch (CPU, and CUDA where present) generator states of this process."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore a :func:`get_rng_state` result."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class _RestoreBeforeNext:
    """Wraps a loop's data iterator: after ``skip`` batches (those re-read on resume), restores the
    generator states once, then passes every call through."""

    def __init__(self, iterator, skip: int, state: Dict[str, Any]) -> None:
        self._iterator, self._skip, self._state = iterator, skip, state

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip == 0 and self._state is not None:
            set_rng_state(self._state)
            self._state = None
        self._skip -= 1
        return next(self._iterator)


class RandomStateHook(Hook):
    """Saves the generator states of every rank in each checkpoint and restores them on resume.

    mmengine writes checkpoints on rank 0 only (``Runner.save_checkpoint`` is ``master_only``), so the
    states of all ranks are gathered beforehand, at the points where ``CheckpointHook`` may save (after
    each training iteration / epoch, before validation); this hook runs before it there. One small
    ``all_gather_object`` per iteration in distributed runs; nothing in a single process.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._states: Optional[List[Dict[str, Any]]] = None  # every rank's, as of the last snapshot
        self._before_val: Optional[List[Dict[str, Any]]] = None
        self._resumed: Optional[Dict[str, Any]] = None

    @staticmethod
    def _gather() -> List[Dict[str, Any]]:
        local = get_rng_state()
        return all_gather_object(local) if get_world_size() > 1 else [local]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._states = self._gather()

    def after_train_epoch(self, runner) -> None:
        self._states = self._gather()

    def before_val(self, runner) -> None:
        self._before_val = self._gather()

    def after_val(self, runner) -> None:
        if self._before_val is not None:  # validation leaves the training streams as they were
            set_rng_state(self._before_val[get_rank()])
            self._before_val = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # Inside validation (a best checkpoint), the training streams are those saved before it.
        states = self._before_val if self._before_val is not None else self._states
        checkpoint[CHECKPOINT_KEY] = states if states is not None else [get_rng_state()]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = checkpoint.get(CHECKPOINT_KEY)
        if not isinstance(states, list) or not all(isinstance(s, dict) for s in states):
            return  # a weights-only read (load_from) or a checkpoint from before this hook
        if len(states) != get_world_size():
            print_log(f'the checkpoint holds the random states of {len(states)} processes, this run has '
                      f'{get_world_size()}: random streams start afresh', logger='current', level=30)
            return
        self._resumed = states[get_rank()]

    def before_train(self, runner) -> None:
        if self._resumed is None:
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # iteration-based: restore after the re-read batches
            loop.dataloader_iterator = _RestoreBeforeNext(loop.dataloader_iterator, loop.iter, self._resumed)
        else:  # epoch-based: a new epoch starts, nothing is re-read
            set_rng_state(self._resumed)
        self._resumed = None
