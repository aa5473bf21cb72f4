"""``OneSDistiller``: OneS's knowledge distillation (Xue et al. 2022) from a frozen MoE restorer into a
dense student.

The student (``generator``, a dense ``MoFMEViT``) starts from the MoE's gathered experts
(``tools/model_converters/moe_to_dense.py``, loaded through its ``init_cfg``) and is trained with

    loss = loss_pix(student, gt) + w_pix · MSE(student, teacher) + w_feat · mean_l MSE(h_l^s, h_l^t)

where h_l are the tokens after transformer block l of either network. The teacher (an MoE
``MoFMEViT`` whose weights come through its own ``init_cfg``) is frozen and kept in eval mode; at test
time only the student runs, so a OneS checkpoint is tested like any restorer.
"""
import contextlib
from typing import Dict, Iterator, List, Optional

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from torch import Tensor, nn

from .restorer import MoFMERestorer

__all__ = ['OneSDistiller']


@contextlib.contextmanager
def recorded_block_outputs(network: nn.Module) -> Iterator[List[Tensor]]:
    """The tokens each of ``network.blocks`` returns while the context is open, in call order."""
    tokens: List[Tensor] = []
    hooks = [block.register_forward_hook(lambda _m, _i, out: tokens.append(out[0]))
             for block in network.blocks]
    try:
        yield tokens
    finally:
        for hook in hooks:
            hook.remove()


@MODELS.register_module()
class OneSDistiller(MoFMERestorer):
    """A dense restorer distilled from a frozen MoE one (OneS's knowledge distillation stage).

    Args:
        generator: The dense student (``MoFMEViT`` with ``experts=None``).
        teacher: The MoE network config (an ``MoFMEViT``), with ``init_cfg=dict(type='Pretrained',
            checkpoint=..., prefix='generator.')`` for its trained weights (applied by the Runner).
        distill_weights: ``dict(pixel=w_pix, feature=w_feat)``.
        Other args: As :class:`MoFMERestorer` (no confidence head on a OneS student).
    """

    def __init__(self,
                 generator: dict,
                 teacher: dict,
                 distill_weights: Optional[Dict[str, float]] = None,
                 **kwargs) -> None:
        super().__init__(generator=generator, **kwargs)
        self.teacher = MODELS.build(teacher)
        self.teacher.requires_grad_(False)
        self.distill_weights = {**dict(pixel=1.0, feature=1.0), **(distill_weights or {})}
        unknown = set(self.distill_weights) - {'pixel', 'feature'}
        if unknown:
            raise ValueError(f'distill_weights: unknown keys {sorted(unknown)}; known: pixel, feature')
        blocks = [getattr(net, 'blocks', None) for net in (self.generator, self.teacher)]
        if None in blocks or len(blocks[0]) != len(blocks[1]):
            raise ValueError('OneSDistiller: generator and teacher must be MoFMEViT networks of the same '
                             'depth')

    def train(self, mode: bool = True) -> 'OneSDistiller':
        super().train(mode)
        self.teacher.eval()  # frozen: no dropout, no MC passes
        return self

    def forward_train(self, inputs: Tensor, data_samples: Optional[DataSample] = None,
                      **kwargs) -> Dict[str, Tensor]:
        task_ids = self.task_ids(data_samples, inputs.shape[0], inputs.device)
        with recorded_block_outputs(self.generator) as student_tokens:
            pred, aux = self.generator.forward_with_aux(inputs, task_ids=task_ids)
        with torch.no_grad(), recorded_block_outputs(self.teacher) as teacher_tokens:
            target = self.teacher(inputs, task_ids=task_ids)
        gt = data_samples.gt_img
        losses = dict(loss_pix=self.pixel_loss(pred, gt))
        if self.perceptual_loss is not None:
            losses['loss_perceptual'] = self.perceptual_loss(pred, gt)[0]
        losses['loss_kd_pix'] = self.distill_weights['pixel'] * F.mse_loss(pred, target)
        feature = sum(F.mse_loss(s, t) for s, t in zip(student_tokens, teacher_tokens)) / len(student_tokens)
        losses['loss_kd_feat'] = self.distill_weights['feature'] * feature
        for name, value in aux.items():
            weight = self.aux_loss_weights.get(name, 0.0)
            if weight:
                losses[name] = weight * value
        self._check_finite(losses)
        return losses
