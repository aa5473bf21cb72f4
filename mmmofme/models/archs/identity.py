"""A restorer that returns its input: the "no deweathering" baseline through the same pipelines."""
from typing import Dict, Optional, Tuple

from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class IdentityRestorer(BaseModule):
    """Returns the weathered image unchanged, so metrics measure the input itself.

    Shapes:
        x: (B, 3, H, W) → the same tensor.
    """

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        return x

    def forward_with_aux(self, x: Tensor,
                         task_ids: Optional[Tensor] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        return x, {}
