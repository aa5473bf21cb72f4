"""``DeweatherSegmentor``: MoFME restores the weathered input, any registered mmseg segmentor segments it."""
from typing import Dict, List, Optional

from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType, OptMultiConfig, OptSampleList, SampleList
from torch import Tensor

from ..models.chain import DeweatherChainMixin, PerceptionSpec

__all__ = ['DeweatherSegmentor']


@MODELS.register_module()
class DeweatherSegmentor(DeweatherChainMixin, BaseSegmentor):
    """A restorer (e.g. ``MoFMEViT``) in front of an unchanged mmseg segmentor.

    The outer data preprocessor gives ``[0, 1]`` RGB (padded); the wrapper restores, clamps, re-applies
    the segmentor's own mean / std and channel order, then delegates ``loss`` / ``predict`` /
    ``_forward`` to the segmentor, so its slide / whole inference, ``postprocess_result`` and mmseg's
    ``IoUMetric`` work unchanged. Checkpoint keys: ``restorer.*`` and ``segmentor.*``
    (``tools/merge_checkpoints.py`` assembles them).

    Adding MoFME to an mmseg config::

        custom_imports = dict(imports=['mmmofme.mmseg'])
        model = dict(_delete_=True, type='DeweatherSegmentor', restorer=dict(type='MoFMEViT', ...),
                     segmentor={{_base_.model}}, restorer_checkpoint='mofme.pth')

    Args:
        restorer: restorer config, built from mmengine's root ``MODELS``; it maps ``[0, 1]`` RGB
            ``(B, 3, H, W)`` to the same.
        segmentor: any registered segmentor config, or
            ``dict(cfg_path='mmseg::pspnet/....py', pretrained=False, **overrides)`` read offline from
            the installed mmseg configs (its ``model`` field, with ``overrides`` merged in;
            ``pretrained=True`` fetches the model-zoo weights, which needs network access).
        restorer_checkpoint: restorer weights: an mmagic checkpoint (``generator.*``), a chain
            checkpoint (``restorer.*``) or a bare state dict. Loaded here, as ``tools/test.py`` applies
            no ``init_cfg``.
        perception_checkpoint: segmentor weights (mmseg checkpoint or chain checkpoint ``segmentor.*``).
        freeze_restorer: no gradients for the restorer, kept in eval mode, run under ``no_grad``.
            ``False`` fine-tunes end to end.
        restore_cfg: ``dict(mode='whole')`` or ``dict(mode='slide', crop_size=(h, w), stride=(h, w))``:
            tiled restoration (bounded memory for full 2048x1024 frames).
        restoration_loss_weight: weight of an MSE loss to clean images (``data_sample.gt_img``) when
            the restorer is trained; 0 disables it.
        aux_loss_weights: weights of the restorer's aux losses when it is trained (its
            ``forward_with_aux``); default ``dict(loss_lb=1e-2, loss_uc=5e-3)``.
        data_preprocessor: the outer preprocessor; it must give ``[0, 1]`` images. ``None`` (or a copy
            of the segmentor's own, which the Runner passes from a config's top-level
            ``data_preprocessor``) derives it from the segmentor's: same padding, ``mean=0, std=255``, to
            RGB, ``pad_val=0``.
        init_cfg: mmengine init config of the wrapper.
    """

    perception_name = 'segmentor'

    def __init__(self,
                 restorer: dict,
                 segmentor: dict,
                 restorer_checkpoint: Optional[str] = None,
                 perception_checkpoint: Optional[str] = None,
                 freeze_restorer: bool = True,
                 restore_cfg: Optional[dict] = None,
                 restoration_loss_weight: float = 0.0,
                 aux_loss_weights: Optional[Dict[str, float]] = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        spec = PerceptionSpec.resolve(segmentor, library='mmseg')
        data_preprocessor = spec.outer_preprocessor(data_preprocessor, 'SegDataPreProcessor',
                                                    pad_value_key='pad_val')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.segmentor = spec.build(MODELS)
        self._init_deweather_stage(restorer, spec, restorer_checkpoint, perception_checkpoint,
                                   freeze_restorer, restore_cfg, restoration_loss_weight, aux_loss_weights)

    @property
    def align_corners(self) -> bool:
        """The segmentor's, read by mmseg tools that resize logits."""
        return self.segmentor.align_corners

    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        return self.segmentor.extract_feat(self.perception_inputs(inputs))

    def encode_decode(self, inputs: Tensor, batch_data_samples: List[dict]) -> Tensor:
        """Segmentation logits of restored inputs (``batch_data_samples``: image metas, as mmseg passes)."""
        return self.segmentor.encode_decode(self.perception_inputs(inputs), batch_data_samples)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        perception_inputs, losses = self.restore_for_loss(inputs, data_samples)
        losses.update(self.segmentor.loss(perception_inputs, data_samples))
        return losses

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        return self.segmentor.predict(self.perception_inputs(inputs), data_samples)

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None) -> Tensor:
        return self.segmentor._forward(self.perception_inputs(inputs), data_samples)

    def aug_test(self, inputs: List[Tensor], batch_img_metas: List[List[dict]], rescale: bool = True):
        """mmseg's legacy augmented test, on each augmented view restored."""
        return self.segmentor.aug_test([self.perception_inputs(x) for x in inputs], batch_img_metas, rescale)
