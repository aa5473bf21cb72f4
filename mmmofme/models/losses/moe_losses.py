"""Auxiliary MoE losses: load balance (paper Eq. 8, GShard form) and uncertainty (paper Eq. 10)."""
import torch
from torch import Tensor


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
    fraction = slots / expert_indices.numel()
    return num_experts * torch.sum(fraction * probs.mean(0))


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
