"""The MoE layer: a router, an expert set and the shared sparse dispatch."""
from typing import Dict, Optional, Tuple

from torch import Tensor, nn

from ..losses import load_balance_loss, uncertainty_loss
from .dispatch import group_sizes, sparse_dispatch
from .experts import ExpertsBase
from .routers import TopKRouter


class MoELayer(nn.Module):
    """Residual branch Σ_k r_k(x) · e_k(x) of one transformer block, plus auxiliary losses.

    The variants differ only by their parts: MoE = TopK/UaR router + :class:`FFNExperts`; MoFME =
    router + :class:`FeatureModulationExperts`; MMoE = a router with one gate per task + FFN experts;
    PR-MoE = router + FFN experts + a dense ``residual`` FFN added to the mixture (DeepSpeed-MoE);
    M³ViT = :class:`~.routers.TaskConditionedRouter` + FFN experts; MoWE = the weather-aware router +
    :class:`~.experts.MultiScaleExperts`.
    The router reads the un-normalised residual stream, as in the released code.

    After each forward, ``last_indices`` (B, T, k) and ``last_expert_counts`` (E,) hold the routing
    (detached) for visualisation.

    Args:
        router: A :class:`TopKRouter` (or subclass).
        experts: An expert set.
        residual: Optional dense branch added to the mixture, called as ``residual(x)`` → ``((N, D), aux)``
            (a :class:`~mmmofme.models.layers.PreNormFeedForward`).

    Shapes:
        x: (B, T, D); task_ids: (B,) long or None; grid: the (H, W) token grid, H·W = T, for expert
        sets that look at neighbours (MoWE's) → ((B, T, D), {'loss_lb': (), 'loss_uc': (), + the
        router's own losses}).
    """

    def __init__(self,
                 router: TopKRouter,
                 experts: ExpertsBase,
                 residual: Optional[nn.Module] = None) -> None:
        super().__init__()
        if router.num_experts != experts.num_experts:
            raise ValueError(f'router has {router.num_experts} experts but the expert set has '
                             f'{experts.num_experts}')
        self.router = router
        self.experts = experts
        self.residual = residual
        self.last_indices: Optional[Tensor] = None
        self.last_expert_counts: Optional[Tensor] = None

    def forward(self,
                x: Tensor,
                task_ids: Optional[Tensor] = None,
                grid: Optional[Tuple[int, int]] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        b, t, d = x.shape
        tokens = x.reshape(b * t, d)
        token_tasks = None
        if task_ids is not None and self.router.num_tasks > 1:
            # expand, not repeat_interleave: onnxscript mistranslates a symbolic repeat count
            token_tasks = task_ids[:, None].expand(b, t).reshape(-1)
        route = self.router(tokens, token_tasks)

        routed = self.experts.prepare(tokens, None if grid is None else (b, *grid))
        mixed = sparse_dispatch(routed, route.indices, route.weights, self.experts.expert_function(routed),
                                self.experts.num_experts)
        out = self.experts.finish(mixed)
        if self.residual is not None:
            dense, _ = self.residual(tokens)  # a PreNormFeedForward: no aux losses
            out = out + dense

        self.last_indices = route.indices.detach().view(b, t, -1)
        self.last_expert_counts = group_sizes(route.indices.detach(), self.experts.num_experts)
        aux = {'loss_lb': load_balance_loss(route.probs, route.indices)}
        if route.variance is not None:
            aux['loss_uc'] = uncertainty_loss(route.variance, route.indices)
        else:
            aux['loss_uc'] = route.probs.new_zeros(())
        aux.update(route.aux)  # the router's own losses (MoWE's loss_wcl)
        return out.view(b, t, d), aux
