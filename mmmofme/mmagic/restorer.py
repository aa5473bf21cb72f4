"""``MoFMERestorer``: the MoFME network as an mmagic restoration model.

Loss = MSE (``loss_pix``) + optional VGG16 perceptual loss (``loss_perceptual``) + the MoE layers'
load-balance (``loss_lb``, Eq.8, λ1) and uncertainty (``loss_uc``, Eq.10, λ2) terms. Validation and
test restore whole images, tiled with :func:`mmmofme.apis.tiled_restore` when ``test_cfg`` gives a
crop size, and are scored by mmagic's PSNR / SSIM.
"""
import contextlib
import inspect
import os
import os.path as osp
import tempfile
from typing import Dict, Iterator, Optional

import torch
import torch.nn.functional as F
from mmagic.models import BaseEditModel
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.logging import MessageHub
from torch import Tensor

from ..apis.inference import TaskRestorer, tiled_restore

__all__ = ['MoFMERestorer']


def _check_perceptual_weights(cfg: dict) -> str:
    """The local VGG weights file of a perceptual loss config (nothing can be downloaded here)."""
    pretrained = cfg.get('pretrained', 'torchvision://vgg16')
    if pretrained is None:
        raise ValueError('perceptual_loss: pretrained=None would compare untrained VGG features; '
                         'give a local VGG16 weights file (torchvision vgg16 state dict)')
    if '://' in str(pretrained) or not osp.isfile(pretrained):
        raise FileNotFoundError(
            f'{pretrained}: VGG16 weights for the perceptual loss not found; weights cannot be '
            'downloaded here: save torchvision vgg16 weights to a local file and set '
            'model.perceptual_loss.pretrained to its path (or set model.perceptual_loss=None)')
    return str(pretrained)


@contextlib.contextmanager
def _torchvision_weights_from(path: str, vgg_type: str) -> Iterator[None]:
    """Serve ``path`` as torchvision's cached ``vgg_type`` ImageNet weights.

    mmagic 1.2's ``PerceptualVGG`` always calls ``torchvision.models.<vgg>(pretrained=True)`` and
    ignores its ``pretrained`` argument; torchvision loads a file already in the hub cache instead
    of downloading it, so a temporary hub dir holding a link to the user's file does the job.
    """
    import torch.hub
    import torchvision.models as tvm
    weights = getattr(tvm, f"{vgg_type.upper()}_Weights").IMAGENET1K_V1
    old = torch.hub.get_dir()
    with tempfile.TemporaryDirectory() as hub:
        os.makedirs(osp.join(hub, 'checkpoints'))
        os.symlink(osp.abspath(path), osp.join(hub, 'checkpoints', osp.basename(weights.url)))
        torch.hub.set_dir(hub)
        try:
            yield
        finally:
            torch.hub.set_dir(old)


def needs_restoring(inputs: Tensor, target: Tensor, threshold: float) -> Tensor:
    """(B, 1, H, W) bool: the pixels where ``max_c |inputs - target| > threshold``."""
    return (inputs - target).abs().amax(dim=1, keepdim=True) > threshold


def confidence_loss(logits: Tensor, inputs: Tensor, target: Tensor, threshold: float) -> Tensor:
    """BCE of per-pixel confidence logits (B, 1, H, W) against :func:`needs_restoring`."""
    labels = needs_restoring(inputs, target, threshold).to(logits.dtype)
    return F.binary_cross_entropy_with_logits(logits, labels)


@MODELS.register_module()
class MoFMERestorer(BaseEditModel):
    """MoFME deweathering model (mmagic ``BaseEditModel``).

    Args:
        generator: the restorer network config, e.g. ``dict(type='MoFMEViT', ...)``; any module
            mapping ``(B, 3, H, W)`` [0, 1] RGB to the same works (Restormer baseline: no aux losses).
        pixel_loss: reconstruction loss config (mmagic ``MSELoss``).
        perceptual_loss: optional mmagic ``PerceptualLoss`` config; needs a local VGG16 file.
        aux_loss_weights: weights of the MoE aux losses returned by ``generator.forward_with_aux``;
            the paper's λ1 = 1e-2 (load balance) and λ2 = 5e-3 (uncertainty).
        test_cfg: ``dict(crop_size=256, stride=None)`` restores val/test images tile by tile
            (``stride=None``: non-overlapping tiles as in the paper; smaller: overlapping tiles
            cross-faded); ``None`` restores whole images in one pass.
        confidence_loss: for a generator with a confidence head (``last_confidence_logits``): binary
            cross-entropy of the confidence against "this pixel differs from the target by more than
            ``threshold``" (max over channels, [0, 1] units), times ``weight``.
    """

    def __init__(self,
                 generator: dict,
                 pixel_loss: dict = dict(type='MSELoss', loss_weight=1.0),
                 perceptual_loss: Optional[dict] = None,
                 aux_loss_weights: Optional[Dict[str, float]] = None,
                 confidence_loss: Optional[Dict[str, float]] = None,
                 clean_region_weight: float = 0.0,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None):
        super().__init__(generator=generator, pixel_loss=pixel_loss, train_cfg=train_cfg,
                         test_cfg=test_cfg, init_cfg=init_cfg, data_preprocessor=data_preprocessor)
        if perceptual_loss is not None:
            weights = _check_perceptual_weights(perceptual_loss)
            vgg_type = perceptual_loss.get('vgg_type', 'vgg19')
            with _torchvision_weights_from(weights, vgg_type):
                self.perceptual_loss = MODELS.build(dict(perceptual_loss, pretrained=f'torchvision://{vgg_type}'))
        else:
            self.perceptual_loss = None
        self.aux_loss_weights = dict(loss_lb=1e-2, loss_uc=5e-3) if aux_loss_weights is None \
            else dict(aux_loss_weights)
        # a plain generator (Restormer, the CNN baselines) takes no weather tags: they are not passed to it
        self.generator_takes_task_ids = 'task_ids' in inspect.signature(self.generator.forward).parameters
        self.confidence_loss = {**dict(weight=0.1, threshold=4 / 255), **(confidence_loss or {})}
        unknown = set(self.confidence_loss) - {'weight', 'threshold'}
        if unknown:
            raise ValueError(f'confidence_loss: unknown keys {sorted(unknown)}; known: weight, threshold')
        if clean_region_weight < 0:
            raise ValueError(f'clean_region_weight must be >= 0, got {clean_region_weight}')
        self.clean_region_weight = float(clean_region_weight)

    @staticmethod
    def task_ids(data_samples: Optional[DataSample], batch_size: int,
                 device: torch.device) -> Optional[Tensor]:
        """Weather-task index per sample (``metainfo['task_id']``), used by MMoE; None if absent."""
        if data_samples is None or 'task_id' not in data_samples.metainfo:
            return None
        ids = data_samples.metainfo['task_id']
        ids = ids if isinstance(ids, (list, tuple)) else [ids] * batch_size
        return torch.as_tensor([int(i) for i in ids], device=device)

    def _generate(self, inputs: Tensor, task_ids: Optional[Tensor]) -> Tensor:
        if task_ids is None or not self.generator_takes_task_ids:
            return self.generator(inputs)
        return self.generator(inputs, task_ids=task_ids)

    def forward_tensor(self, inputs: Tensor, data_samples: Optional[DataSample] = None,
                       **kwargs) -> Tensor:
        """Restore a batch ``(B, 3, H, W)``; tiled when ``test_cfg['crop_size']`` is set and not training."""
        task_ids = self.task_ids(data_samples, inputs.shape[0], inputs.device)
        crop = (self.test_cfg or {}).get('crop_size')
        if self.training or crop is None:
            return self._generate(inputs, task_ids)
        # tiled_restore gates a frame-gated generator's whole frames; TaskRestorer repeats ids per tile
        tagged = task_ids is not None and self.generator_takes_task_ids
        restore_fn = TaskRestorer(self.generator, task_ids) if tagged else self.generator
        return tiled_restore(restore_fn, inputs, crop, self.test_cfg.get('stride'),
                             max_batch=self.test_cfg.get('max_tiles_per_batch', 8))

    def forward_train(self, inputs: Tensor, data_samples: Optional[DataSample] = None,
                      **kwargs) -> Dict[str, Tensor]:
        task_ids = self.task_ids(data_samples, inputs.shape[0], inputs.device)
        if hasattr(self.generator, 'forward_with_aux'):
            pred, aux = self.generator.forward_with_aux(inputs, task_ids=task_ids)
        else:
            pred, aux = self._generate(inputs, task_ids), {}
        gt = data_samples.gt_img
        losses = dict(loss_pix=self.pixel_loss(pred, gt, weight=self.pixel_weight(inputs, gt)))
        if self.perceptual_loss is not None:
            percep, _style = self.perceptual_loss(pred, gt)
            losses['loss_perceptual'] = percep
        for name, value in aux.items():
            weight = self.aux_loss_weights.get(name, 0.0)
            if weight:
                losses[name] = weight * value
        logits = getattr(self.generator, 'last_confidence_logits', None)
        if logits is not None and self.confidence_loss['weight']:
            losses['loss_conf'] = self.confidence_loss['weight'] * confidence_loss(
                logits, inputs, gt, self.confidence_loss['threshold'])
        self._check_finite(losses)
        return losses

    def pixel_weight(self, inputs: Tensor, gt: Tensor) -> Optional[Tensor]:
        """(B, 1, H, W) weights of the pixel loss: ``1 + clean_region_weight`` where the input is within
        the confidence threshold of the target, 1 elsewhere; None when unweighted."""
        if not self.clean_region_weight:
            return None
        clean = ~needs_restoring(inputs, gt, self.confidence_loss['threshold'])
        return 1.0 + self.clean_region_weight * clean.to(gt.dtype)

    @staticmethod
    def _check_finite(losses: Dict[str, Tensor]) -> None:
        for name, value in losses.items():
            if not torch.isfinite(value).all():
                it = MessageHub.get_current_instance().get_info('iter', default=None)
                where = f'iteration {it + 1}' if isinstance(it, int) else 'this iteration'
                raise FloatingPointError(
                    f'{where}: loss term {name} is {value.detach().flatten()[0].item()} '
                    f'(not finite); lower the learning rate or check the inputs')

    def forward_inference(self, inputs: Tensor, data_samples: Optional[DataSample] = None,
                          **kwargs) -> DataSample:
        with torch.no_grad():
            feats = self.forward_tensor(inputs, data_samples).clamp(0, 1)
        feats = self.data_preprocessor.destruct(feats, data_samples)
        return DataSample(pred_img=feats.cpu())

