"""Auxiliary MoE losses: load balance (paper Eq. 8, GShard form) and uncertainty (paper Eq. 10)."""
import torch
from torch import Tensor

from ...utils.dist import all_reduce_sum, is_distributed


def selection_mask(expert_indices: Tensor, num_experts: int) -> Tensor:
    """One-hot selection v_i(x_n): 1 where expert i is among token n's top-k.

    Args:
        expert_indices: (N, k) selected experts per token.
        num_experts: E.

    Returns:
        (N, E) float mask with k ones per row.
    """
    mask = torch.zeros(expert_indices.shape[0], num_experts, device=expert_indices.device)
    return mask.scatter_(1, expert_indices, 1.0)


def load_balance_loss(probs: Tensor, expert_indices: Tensor) -> Tensor:
    """GShard load-balance loss E · Σ_i f_i · P_i (paper Eq. 8 cites GShard).

    f_i is the fraction of the N·k token slots routed to expert i (no gradient: it comes from a
    top-k) and P_i the mean full-softmax probability of expert i, through which the gradient flows.
    Under DDP (training), f and P are taken over the tokens of all ranks.
    It is 1 for a perfectly balanced router and E when every token goes to one expert with
    probability 1. (Eq. 8 read literally, the mean of v·r, is constant when weights are renormalised.)

    Args:
        probs: (N, E) full softmax router probabilities.
        expert_indices: (N, k) selected experts per token.

    Returns:
        Scalar tensor.
    """
    num_experts = probs.shape[-1]
    slots = torch.bincount(expert_indices.reshape(-1), minlength=num_experts).to(probs.dtype)
    prob_sum = probs.sum(0)
    # slot and token counts as tensors built from tensors: a tensor made from the sizes would fix the
    # token count of an exported graph (torch.export specialises Python ints taken from shapes)
    counts = torch.stack([slots.sum(), torch.ones_like(probs[:, 0]).sum()])
    if probs.requires_grad and is_distributed():
        # A training step under DDP: f and P of the global batch, as one process would see it (the loss
        # is not linear in the batch). Every rank runs the same layers, so the collectives pair up.
        slots, prob_sum, counts = all_reduce_sum(slots), all_reduce_sum(prob_sum), all_reduce_sum(counts)
    fraction = slots / counts[0]
    return num_experts * torch.sum(fraction * prob_sum / counts[1])


def uncertainty_loss(variance: Tensor, expert_indices: Tensor) -> Tensor:
    """Uncertainty loss (E/N) · Σ_n Σ_i σ²_i(x_n) · v_i(x_n) (paper Eq. 10).

    Args:
        variance: (N, E) per-token variance of the router probabilities over the M MC-dropout passes.
        expert_indices: (N, k) selected experts per token (v is their one-hot mask).

    Returns:
        Scalar tensor.
    """
    num_tokens, num_experts = variance.shape
    selected = selection_mask(expert_indices, num_experts).to(variance.dtype)
    return num_experts / num_tokens * torch.sum(variance * selected)
