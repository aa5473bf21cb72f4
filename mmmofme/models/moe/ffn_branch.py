"""The FFN branch of a transformer block, dense or MoE, and a block stack that sums the MoE aux losses.

Networks built from the shared parts (the restorer ``MoFMEViT``, the classifier backbone of
``mmmofme.mmpretrain``) pick each block's FFN branch from the same config dicts:
``experts=None`` → a dense pre-norm FFN, ``experts=dict(type=...)`` + ``router=dict(type=...)`` → an
:class:`MoELayer` on the shared sparse dispatch.
"""
from typing import Dict, Iterable, Optional, Tuple

from torch import Tensor, nn

from ..layers import PreNormFeedForward
from .builder import build_part
from .experts import ExpertsBase
from .moe_layer import MoELayer
from .routers import TopKRouter

AUX_LOSS_NAMES = ('loss_lb', 'loss_uc')


def build_ffn_branch(experts: Optional[dict],
                     router: dict,
                     dim: int,
                     num_experts: int,
                     top_k: int,
                     mlp_ratio: float = 4.0,
                     dropout: float = 0.1,
                     num_tasks: int = 1,
                     residual_ffn: bool = False) -> nn.Module:
    """A dense :class:`PreNormFeedForward` (``experts=None``) or an :class:`MoELayer`.

    Args:
        experts: Expert-set config (a registered :class:`ExpertsBase`) or None for the dense FFN.
        router: Router config (a registered :class:`TopKRouter`); ignored when ``experts`` is None.
        dim, num_experts, top_k, mlp_ratio, dropout, num_tasks: filled into the parts' configs.
        residual_ffn: Add a dense FFN beside the experts (PR-MoE's residual MoE); MoE only.

    Returns:
        A module called as ``branch(x, task_ids=None)`` → ``((B, T, D), aux_losses)``.
    """
    if experts is None:
        return PreNormFeedForward(dim, mlp_ratio, dropout)
    # experts, router, residual: the order the parameters are drawn in, which a seed's initial weights
    # (and the released checkpoints' tests) rely on
    expert_set = build_part(experts, ExpertsBase, 'experts', dim=dim, num_experts=num_experts,
                            mlp_ratio=mlp_ratio, dropout=dropout)
    moe_router = build_part(router, TopKRouter, 'router', dim=dim, num_experts=num_experts, top_k=top_k,
                            num_tasks=num_tasks)
    residual = PreNormFeedForward(dim, mlp_ratio, dropout) if residual_ffn else None
    return MoELayer(moe_router, expert_set, residual=residual)


def run_blocks(blocks: Iterable[nn.Module], tokens: Tensor, task_ids: Optional[Tensor] = None,
               grid: Optional[Tuple[int, int]] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
    """Run transformer blocks in turn and sum their aux losses by name.

    ``loss_lb`` and ``loss_uc`` are always present (zeros where none applies); a router's own losses
    (e.g. MoWE's ``loss_wcl``) are summed over the layers that return them.

    Shapes:
        tokens: (B, T, D), ``grid``: the tokens' (rows, cols) for blocks that need the layout, or None →
        ((B, T, D), ``{'loss_lb': (), 'loss_uc': (), ...}``).
    """
    aux = {name: tokens.new_zeros(()) for name in AUX_LOSS_NAMES}
    for block in blocks:
        tokens, layer_aux = block(tokens, task_ids, grid=grid)
        for name, value in layer_aux.items():
            aux[name] = aux[name] + value if name in aux else value
    return tokens, aux
