"""Distributed runs on CPU (gloo) through mmengine 0.10.7, and cross-rank reductions.

mmengine 0.10.7's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` whatever the backend ("Found
no NVIDIA driver" on a CPU machine, also with ``dist_cfg.backend='gloo'``), and its DDP wrapper passes
``device_ids=[LOCAL_RANK]``, which DDP rejects for a CPU module. The Runner initialises the process
group only if none exists, and builds the wrapper from ``model_wrapper_cfg`` when given one, so
:func:`prepare_cpu_distributed` does both first. The wrapper it names, :class:`CPUDistributedDataParallel`,
also turns SyncBN layers (mmseg / mmdet configs use them) into plain BN, since SyncBN runs on GPUs only
(mmengine does the same for non-distributed runs); BN statistics are then per process. With CUDA present
it does nothing: the GPU (nccl) path stays mmengine's own.
"""
import atexit
import datetime
import os
from typing import Any

import torch
import torch.distributed as torch_dist
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS
from torch import Tensor, nn

__all__ = ['prepare_cpu_distributed', 'is_distributed', 'all_reduce_sum', 'CPUDistributedDataParallel']


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's DDP wrapper for CPU modules: no device ids, SyncBN reverted to BN first."""

    def __init__(self, module: nn.Module, **kwargs) -> None:
        kwargs['device_ids'] = None
        super().__init__(module=revert_sync_batchnorm(module), **kwargs)


def is_distributed() -> bool:
    """A process group with more than one process is initialised."""
    return torch_dist.is_available() and torch_dist.is_initialized() and torch_dist.get_world_size() > 1


def _destroy_process_group() -> None:
    if not torch_dist.is_initialized():
        return
    # every rank reaches here before any tears gloo down: a rank that destroys the group while another
    # still talks to it can abort the other one at exit. monitored_barrier has its own (short) timeout,
    # so a rank whose peer has died still exits instead of waiting out the run's dist timeout.
    try:
        torch_dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))
    except RuntimeError:
        pass
    torch_dist.destroy_process_group()


def prepare_cpu_distributed(cfg: Any, launcher: str) -> bool:
    """For ``--launcher pytorch`` without CUDA: start the gloo process group from torchrun's environment
    and make the DDP wrapper CPU-ready (``device_ids=None``). Returns whether it did.

    Args:
        cfg: the run's mmengine ``Config`` (``env_cfg.dist_cfg.timeout`` is honoured; a ``nccl``
            backend, the default, is replaced by ``gloo``, the one CPU backend).
        launcher: the tool's ``--launcher``.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return False
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher pytorch needs torchrun\'s environment ({", ".join(missing)} unset): '
                           f'start it with tools/dist_train.sh or torchrun')
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}) or {})
    if dist_cfg.get('backend', 'nccl') not in ('gloo', 'nccl'):
        raise ValueError(f'dist_cfg.backend={dist_cfg["backend"]!r} cannot run on CPU; use gloo')
    if not torch_dist.is_initialized():
        timeout = datetime.timedelta(seconds=dist_cfg.get('timeout', 1800))
        torch_dist.init_process_group(backend='gloo', timeout=timeout)
        # tear gloo down before the interpreter does: left to process exit, its threads can abort a rank
        # ("terminate called without an active exception") after the run has finished
        atexit.register(_destroy_process_group)
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    if wrapper.get('type', 'MMDistributedDataParallel') == 'MMDistributedDataParallel':
        wrapper['type'] = 'CPUDistributedDataParallel'  # no device ids, SyncBN → BN
        wrapper.setdefault('broadcast_buffers', False)  # as mmengine's default wrapper
        wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    return True


def all_reduce_sum(tensor: Tensor) -> Tensor:
    """Sum of ``tensor`` over all ranks, differentiable (the gradient is summed back to every rank);
    ``tensor`` itself when not distributed."""
    if not is_distributed():
        return tensor
    from torch.distributed.nn.functional import all_reduce
    return all_reduce(tensor, op=torch_dist.ReduceOp.SUM)
