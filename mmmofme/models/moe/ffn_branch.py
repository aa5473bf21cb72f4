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
                     num_tasks: int = 1) -> nn.Module:
    """A dense :class:`PreNormFeedForward` (``experts=None``) or an :class:`MoELayer`.

    Args:
        experts: Expert-set config (a registered :class:`ExpertsBase`) or None for the dense FFN.
        router: Router config (a registered :class:`TopKRouter`); ignored when ``experts`` is None.
        dim, num_experts, top_k, mlp_ratio, dropout, num_tasks: filled into the parts' configs.

    Returns:
        A module called as ``branch(x, task_ids=None)`` → ``((B, T, D), aux_losses)``.
    """
    if experts is None:
        return PreNormFeedForward(dim, mlp_ratio, dropout)
    # experts first, then the router: the order MoFMEViT draws its parameters in
    expert_set = build_part(experts, ExpertsBase, 'experts', dim=dim, num_experts=num_experts,
                            mlp_ratio=mlp_ratio, dropout=dropout)
    moe_router = build_part(router, TopKRouter, 'router', dim=dim, num_experts=num_experts, top_k=top_k,
                            num_tasks=num_tasks)
    return MoELayer(moe_router, expert_set)


def run_blocks(blocks: Iterable[nn.Module], tokens: Tensor,
               task_ids: Optional[Tensor] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
    """Run transformer blocks in turn and sum their aux losses (zeros where none applies).

    Shapes:
        tokens: (B, T, D) → ((B, T, D), ``{'loss_lb': (), 'loss_uc': ()}``).
    """
    aux = {name: tokens.new_zeros(()) for name in AUX_LOSS_NAMES}
    for block in blocks:
        tokens, layer_aux = block(tokens, task_ids)
        for name, value in layer_aux.items():
            aux[name] = aux[name] + value
    return tokens, aux
