"""Record what the routers of a network decide, through forward hooks (nothing in the dispatch changes)."""
from dataclasses import dataclass
from typing import List, Optional

import torch
from torch import Tensor, nn

from .moe_layer import MoELayer
from .routers import UncertaintyAwareRouter


@dataclass
class LayerRouting:
    """One MoE layer's routing of one forward.

    Attributes:
        indices: (B, T, k) long, the experts each token is sent to, first choice first.
        probs: (B, T, E) the router's softmax.
        variance: (B, T) the MC-dropout variance of the probabilities summed over the experts (UaR
            routers; computed here with the router's own ``mc_logits``), else None.
    """
    indices: Tensor
    probs: Tensor
    variance: Optional[Tensor] = None


class RoutingRecorder:
    """Context manager: every forward of ``network`` inside it appends one ``List[LayerRouting]`` (one entry
    per MoE layer, depth order) to ``self.calls``.

    Args:
        network: any module holding :class:`MoELayer` s (e.g. ``MoFMEViT``).
        uncertainty: also compute the UaR routers' MC-dropout variance (M extra gate passes per layer).

    Example::

        with RoutingRecorder(net) as rec:
            net(image)
        first_choice = rec.calls[0][0].indices[..., 0]   # layer 0, (B, T)
    """

    def __init__(self, network: nn.Module, uncertainty: bool = True) -> None:
        self.layers: List[MoELayer] = [m for m in network.modules() if isinstance(m, MoELayer)]
        self.uncertainty = uncertainty
        self.calls: List[List[LayerRouting]] = []
        self._handles: list = []
        self._pending: List[LayerRouting] = []

    def _router_hook(self, router: nn.Module, inputs: tuple, output) -> None:
        variance = None
        if self.uncertainty and isinstance(router, UncertaintyAwareRouter):
            task_ids = inputs[1] if len(inputs) > 1 else None
            with torch.no_grad():
                variance = router.mc_logits(inputs[0], task_ids).softmax(-1).var(0, unbiased=True).sum(-1)
        self._pending.append(LayerRouting(output.indices.detach(), output.probs.detach(), variance))

    def _layer_hook(self, layer: MoELayer, inputs: tuple, output) -> None:
        b, t, _ = inputs[0].shape
        routing = self._pending.pop()
        routing.indices = routing.indices.view(b, t, -1)
        routing.probs = routing.probs.view(b, t, -1)
        if routing.variance is not None:
            routing.variance = routing.variance.view(b, t)
        if layer is self.layers[0]:
            self.calls.append([])
        self.calls[-1].append(routing)

    def __enter__(self) -> 'RoutingRecorder':
        for layer in self.layers:
            self._handles.append(layer.router.register_forward_hook(self._router_hook))
            self._handles.append(layer.register_forward_hook(self._layer_hook))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
