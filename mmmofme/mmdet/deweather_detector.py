"""``DeweatherDetector``: MoFME restores the weathered input, any registered mmdet detector detects on it."""
from typing import Dict, Optional, Tuple, Union

from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList, SampleList
from mmdet.utils import OptConfigType, OptMultiConfig
from torch import Tensor

from ..models.chain import DeweatherChainMixin, PerceptionSpec

__all__ = ['DeweatherDetector']


@MODELS.register_module()
class DeweatherDetector(DeweatherChainMixin, BaseDetector):
    """A restorer (e.g. ``MoFMEViT``) in front of an unchanged mmdet detector.

    The outer data preprocessor gives ``[0, 1]`` RGB (padded, ``batch_input_shape`` / ``pad_shape`` set
    in the metas); the wrapper restores, clamps, re-applies the detector's own mean / std and channel
    order, then delegates ``loss`` / ``predict`` / ``_forward`` / ``extract_feat`` (as mmdet's
    ``SemiBaseDetector`` does), so mmdet's ``CocoMetric`` works unchanged. Checkpoint keys:
    ``restorer.*`` and ``detector.*``.

    Adding MoFME to an mmdet config::

        custom_imports = dict(imports=['mmmofme.mmdet'])
        model = dict(_delete_=True, type='DeweatherDetector', restorer=dict(type='MoFMEViT', ...),
                     detector={{_base_.model}}, restorer_checkpoint='mofme.pth')

    Args:
        restorer: restorer config, built from mmengine's root ``MODELS``; it maps ``[0, 1]`` RGB
            ``(B, 3, H, W)`` to the same.
        detector: any registered detector config, or
            ``dict(cfg_path='mmdet::faster_rcnn/....py', pretrained=False, **overrides)`` read offline
            from the installed mmdet configs (its ``model`` field, with ``overrides`` merged in;
            ``pretrained=True`` fetches the model-zoo weights, which needs network access).
        restorer_checkpoint: restorer weights: an mmagic checkpoint (``generator.*``), a chain
            checkpoint (``restorer.*``) or a bare state dict. Loaded here, as ``tools/test.py`` applies
            no ``init_cfg``.
        perception_checkpoint: detector weights (mmdet checkpoint or chain checkpoint ``detector.*``).
        freeze_restorer: no gradients for the restorer, kept in eval mode, run under ``no_grad``.
            ``False`` fine-tunes end to end.
        restore_cfg: ``dict(mode='whole')`` or ``dict(mode='slide', crop_size=(h, w), stride=(h, w))``:
            tiled restoration (bounded memory for full 2048x1024 frames).
        restoration_loss_weight: weight of an MSE loss to clean images (``data_sample.gt_img``) when
            the restorer is trained; 0 disables it.
        aux_loss_weights: weights of the restorer's aux losses when it is trained (its
            ``forward_with_aux``); default ``dict(loss_lb=1e-2, loss_uc=5e-3)``.
        data_preprocessor: the outer preprocessor; it must give ``[0, 1]`` images. ``None`` (or a copy
            of the detector's own, which the Runner passes from a config's top-level
            ``data_preprocessor``) derives it from the detector's: same padding, ``mean=0, std=255``, to
            RGB, ``pad_value=0``.
        init_cfg: mmengine init config of the wrapper.
    """

    perception_name = 'detector'

    def __init__(self,
                 restorer: dict,
                 detector: dict,
                 restorer_checkpoint: Optional[str] = None,
                 perception_checkpoint: Optional[str] = None,
                 freeze_restorer: bool = True,
                 restore_cfg: Optional[dict] = None,
                 restoration_loss_weight: float = 0.0,
                 aux_loss_weights: Optional[Dict[str, float]] = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        spec = PerceptionSpec.resolve(detector, library='mmdet')
        data_preprocessor = spec.outer_preprocessor(data_preprocessor, 'DetDataPreprocessor',
                                                    pad_value_key='pad_value')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.detector = spec.build(MODELS)
        self._init_deweather_stage(restorer, spec, restorer_checkpoint, perception_checkpoint,
                                   freeze_restorer, restore_cfg, restoration_loss_weight, aux_loss_weights)

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor]:
        return self.detector.extract_feat(self.perception_inputs(batch_inputs))

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Union[dict, tuple]:
        perception_inputs, losses = self.restore_for_loss(batch_inputs, batch_data_samples)
        losses.update(self.detector.loss(perception_inputs, batch_data_samples))
        return losses

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        return self.detector.predict(self.perception_inputs(batch_inputs), batch_data_samples,
                                     rescale=rescale)

    def _forward(self, batch_inputs: Tensor, batch_data_samples: OptSampleList = None) -> Tuple:
        return self.detector._forward(self.perception_inputs(batch_inputs), batch_data_samples)
