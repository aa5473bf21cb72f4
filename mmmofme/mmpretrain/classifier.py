"""``MoEImageClassifier``: mmpretrain's ``ImageClassifier`` plus the backbone's weighted MoE aux losses."""
from typing import Dict, List, Optional

from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..models.moe.ffn_branch import AUX_LOSS_NAMES

__all__ = ['MoEImageClassifier']

DEFAULT_AUX_WEIGHTS = dict(loss_lb=1e-2, loss_uc=5e-3)


@MODELS.register_module()
class MoEImageClassifier(ImageClassifier):
    """An ``ImageClassifier`` whose training loss adds the backbone's auxiliary MoE losses.

    The backbone must offer ``forward_with_aux(x)`` → ``(feats, {'loss_lb': (), 'loss_uc': ()})``
    (:class:`MoEVisionTransformer` does); ``loss`` returns the head's losses plus
    ``weight × aux`` for every weighted aux loss (load balance, paper Eq. 8; uncertainty, Eq. 10), which
    the Runner's ``parse_losses`` sums and logs. Prediction is the stock ``ImageClassifier`` path.

    Args:
        aux_loss_weights: λ per aux loss; default ``dict(loss_lb=1e-2, loss_uc=5e-3)``, the restorer's.
        **kwargs: ``ImageClassifier`` arguments (``backbone``, ``neck``, ``head``, ...).
    """

    def __init__(self, aux_loss_weights: Optional[Dict[str, float]] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if not callable(getattr(self.backbone, 'forward_with_aux', None)):
            raise TypeError(f'{type(self).__name__}: the backbone {type(self.backbone).__name__} has no '
                            'forward_with_aux (use MoEVisionTransformer, or ImageClassifier)')
        self.aux_loss_weights = dict(DEFAULT_AUX_WEIGHTS if aux_loss_weights is None else aux_loss_weights)
        unknown = sorted(set(self.aux_loss_weights) - set(AUX_LOSS_NAMES))
        if unknown:
            raise ValueError(f'aux_loss_weights: unknown losses {unknown}; known: {list(AUX_LOSS_NAMES)}')

    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        feats, aux = self.backbone.forward_with_aux(inputs)
        if self.with_neck:
            feats = self.neck(feats)
        losses = self.head.loss(feats, data_samples)
        for name, weight in self.aux_loss_weights.items():
            losses[name] = weight * aux[name]
        return losses
