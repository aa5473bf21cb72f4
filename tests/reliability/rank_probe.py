"""A hook the distributed tests import into tools/train.py runs (``custom_imports``): every rank writes
its final weights and its logged training losses, so the test can compare ranks with each other."""
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module(force=True)
class RankProbeHook(Hook):
    priority = 'LOWEST'

    def __init__(self) -> None:
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.losses.append({k: float(v) for k, v in (outputs or {}).items()})

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save(dict(state_dict=model.state_dict(), losses=self.losses),
                   f'{runner.work_dir}/rank{get_rank()}_probe.pth')
