"""``DeweatherChainMixin``: the restorer stage of a chain wrapper (restore, clamp, re-normalise, freeze,
load), free of mmseg / mmdet imports; ``DeweatherSegmentor`` / ``DeweatherDetector`` only subclass it."""
from contextlib import nullcontext
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS as ROOT_MODELS
from torch import Tensor, nn

from ... import compat
from ...utils.checkpoint import RESTORER_PREFIXES, load_weights_into, read_checkpoint
from .perception import PerceptionSpec
from .restore_cfg import parse_restore_cfg, restore_images


class DeweatherChainMixin:
    """Restorer stage of a chain wrapper; mixed in before mmseg's ``BaseSegmentor`` / mmdet's
    ``BaseDetector``.

    The wrapper's outer data preprocessor gives ``[0, 1]`` RGB. :meth:`perception_inputs` restores
    (tiled if ``restore_cfg`` says so), clamps to ``[0, 1]`` and re-applies the perception model's own
    channel order and mean / std, so the perception model sees what its own preprocessor would give.

    Subclasses set ``perception_name`` (the attribute holding the perception model, which is also its
    checkpoint prefix) and call :meth:`_init_deweather_stage` after ``super().__init__``.
    """

    perception_name: str = ''

    @property
    def perception(self) -> nn.Module:
        """The wrapped segmentor / detector."""
        return getattr(self, self.perception_name)

    def _init_deweather_stage(self,
                              restorer: dict,
                              perception: PerceptionSpec,
                              restorer_checkpoint: Optional[str],
                              perception_checkpoint: Optional[str],
                              freeze_restorer: bool,
                              restore_cfg: Optional[dict],
                              restoration_loss_weight: float,
                              aux_loss_weights: Optional[Dict[str, float]]) -> None:
        """Build the restorer and load both checkpoints (``tools/test.py`` applies no ``init_cfg``)."""
        self._check_unit_range_preprocessor()
        if freeze_restorer and restoration_loss_weight > 0:
            raise ValueError('restoration_loss_weight > 0 trains the restorer: set freeze_restorer=False')
        self.restorer = ROOT_MODELS.build(restorer)
        self.freeze_restorer = freeze_restorer
        self.restore_cfg = parse_restore_cfg(restore_cfg)
        self.restoration_loss_weight = float(restoration_loss_weight)
        self.aux_loss_weights = dict(aux_loss_weights if aux_loss_weights is not None else
                                     dict(loss_lb=1e-2, loss_uc=5e-3))
        mean, std, wants_bgr = perception.normalisation()
        # Non-persistent: they come from the config, so chain checkpoints stay restorer.* + perception.*.
        self.register_buffer('perception_mean', torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('perception_std', torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.perception_wants_bgr = wants_bgr

        if restorer_checkpoint:
            load_weights_into(self.restorer, read_checkpoint(restorer_checkpoint, RESTORER_PREFIXES),
                              restorer_checkpoint, 'restorer')
        perception_checkpoint = perception_checkpoint or perception.zoo_checkpoint
        if perception_checkpoint:
            load_weights_into(self.perception,
                              read_checkpoint(perception_checkpoint, [self.perception_name + '.']),
                              perception_checkpoint, self.perception_name)
        if freeze_restorer:
            self.restorer.requires_grad_(False)
            self.restorer.eval()

    def _check_unit_range_preprocessor(self) -> None:
        """The restorer needs ``[0, 1]`` input: refuse an outer preprocessor normalising otherwise."""
        pp = self.data_preprocessor
        ok = (compat.preprocessor_normalizes(pp) and torch.allclose(pp.mean.float(), torch.zeros(1))
              and torch.allclose(pp.std.float(), torch.full((1, ), 255.)))
        if not ok:
            mean, std = getattr(pp, 'mean', None), getattr(pp, 'std', None)
            raise ValueError(f'{type(self).__name__}: data_preprocessor must give [0, 1] images '
                             f'(mean=[0, 0, 0], std=[255, 255, 255]); got {type(pp).__name__} with '
                             f'mean={None if mean is None else mean.flatten().tolist()}, '
                             f'std={None if std is None else std.flatten().tolist()}. Leave it unset to '
                             f'derive it from the {self.perception_name} data_preprocessor.')

    def train(self, mode: bool = True):
        """Switch train / eval mode; a frozen restorer stays in eval (dropout off, MC-dropout router off)."""
        super().train(mode)
        if self.freeze_restorer:
            self.restorer.eval()
        return self

    def restore(self, inputs: Tensor) -> Tensor:
        """Restore ``[0, 1]`` RGB images ``(B, 3, H, W)``; returns ``[0, 1]`` RGB of the same size."""
        from ...deploy.autocast import with_precision  # deferred: mmmofme.deploy imports this package
        grad = torch.no_grad() if self.freeze_restorer else nullcontext()
        with grad:
            restorer = with_precision(self.restorer, self.restore_cfg.get('precision', 'fp32'))
            restored = restore_images(restorer, inputs, self.restore_cfg)
        return restored.clamp(0, 1)

    def to_perception_space(self, restored: Tensor) -> Tensor:
        """``[0, 1]`` RGB -> the perception model's channel order and ``(x * 255 - mean) / std``."""
        if self.perception_wants_bgr:
            restored = restored.flip(1)
        return (restored * 255 - self.perception_mean) / self.perception_std

    def perception_inputs(self, inputs: Tensor) -> Tensor:
        """Restore, clamp and re-normalise: what the perception model's ``loss`` / ``predict`` get."""
        return self.to_perception_space(self.restore(inputs))

    def restore_for_loss(self, inputs: Tensor, data_samples: Sequence) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Restore for training; with a trainable restorer, also its losses.

        Returns:
            ``(perception inputs, losses)``: ``restorer.loss_lb`` / ``restorer.loss_uc`` (MoE aux losses,
            weighted by ``aux_loss_weights``, when the restorer has ``forward_with_aux``) and
            ``restorer.loss_pix`` (MSE to the clean ``data_sample.gt_img``, when
            ``restoration_loss_weight > 0``). A frozen restorer gives no losses.
        """
        if self.freeze_restorer:
            return self.perception_inputs(inputs), {}
        aux_sums: Dict[str, Tensor] = {}
        calls = [0]

        def restore_with_aux(tiles: Tensor) -> Tensor:
            if not hasattr(self.restorer, 'forward_with_aux'):
                return self.restorer(tiles)
            out, aux = self.restorer.forward_with_aux(tiles)
            for name, value in aux.items():
                aux_sums[name] = aux_sums.get(name, 0) + value
            calls[0] += 1
            return out

        restored = restore_images(restore_with_aux, inputs, self.restore_cfg).clamp(0, 1)
        losses = {f'restorer.{name}': self.aux_loss_weights.get(name, 1.0) * total / calls[0]
                  for name, total in aux_sums.items()}
        if self.restoration_loss_weight > 0:
            pixel_loss = self._pixel_loss(restored, data_samples)
            losses['restorer.loss_pix'] = self.restoration_loss_weight * pixel_loss
        return self.to_perception_space(restored), losses

    def _pixel_loss(self, restored: Tensor, data_samples: Sequence) -> Tensor:
        """MSE between restored images and the clean ``gt_img`` of the samples that carry one.

        ``gt_img``: ``(3, h, w)`` tensor (or ``PixelData``) in the raw input's scale and channel order
        (as loaded, e.g. BGR 0..255), aligned with the input image before padding; it goes through the
        outer preprocessor's channel conversion and mean / std, as the input does.
        """
        pp = self.data_preprocessor
        convert = compat.preprocessor_converts_channels(pp)
        errors = []
        for i, sample in enumerate(data_samples):
            clean = getattr(sample, 'gt_img', None)
            if clean is None:
                continue
            clean = getattr(clean, 'data', clean).to(restored)
            if convert:
                clean = clean.flip(0)
            clean = (clean - pp.mean.view(3, 1, 1)) / pp.std.view(3, 1, 1)
            h, w = clean.shape[-2:]
            if h > restored.shape[-2] or w > restored.shape[-1]:
                raise ValueError(f'gt_img of sample {i} is {h}x{w}, larger than the input '
                                 f'{tuple(restored.shape[-2:])}')
            errors.append(F.mse_loss(restored[i, :, :h, :w], clean))
        if not errors:
            raise ValueError('restoration_loss_weight > 0 needs clean images: none of the batch data '
                             'samples has gt_img (the pipeline must pack the clean image as gt_img)')
        return torch.stack(errors).mean()
