"""prepare_cpu_distributed: what it changes for a CPU torchrun process, and that it leaves GPUs alone."""
import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from mmmofme.utils.dist import CPUDistributedDataParallel, all_reduce_sum, prepare_cpu_distributed


def test_nothing_changes_without_the_launcher_or_with_cuda(monkeypatch):
    cfg = Config(dict(model_wrapper_cfg=None))
    assert not prepare_cpu_distributed(cfg, 'none')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert not prepare_cpu_distributed(cfg, 'pytorch')
    assert cfg.model_wrapper_cfg is None and not torch_dist.is_initialized()


def test_without_torchrun_environment_the_message_says_how_to_start(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match='start it with tools/dist_train.sh or torchrun'):
        prepare_cpu_distributed(Config(dict()), 'pytorch')


def test_a_cpu_process_gets_gloo_and_a_cpu_wrapper(monkeypatch):
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29431')
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)), find_unused_parameters=True))
    try:
        assert prepare_cpu_distributed(cfg, 'pytorch')
        assert torch_dist.get_backend() == 'gloo'
        assert cfg.model_wrapper_cfg == dict(type='CPUDistributedDataParallel', broadcast_buffers=False,
                                             find_unused_parameters=True)
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.SyncBatchNorm(4))
        wrapped = CPUDistributedDataParallel(module=model, device_ids=[0])  # as mmengine passes them
        assert wrapped.device_ids is None
        assert isinstance(wrapped.module[1], torch.nn.modules.batchnorm._BatchNorm)
        assert not isinstance(wrapped.module[1], torch.nn.SyncBatchNorm)
        x = torch.ones(3, requires_grad=True)
        assert all_reduce_sum(x) is x  # one process: no collective
    finally:
        torch_dist.destroy_process_group()
