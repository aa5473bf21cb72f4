"""The one sparse dispatch shared by every expert kind.

Token slots (token n, choice j) are sorted by expert, each expert runs once on its contiguous group of
tokens only, and the outputs are weighted and summed back per token:

    out[n] = Σ_j weights[n, j] · expert_{indices[n, j]}(tokens[n])

Experts differ (FFN, feature modulation, ...); this routine does not.
"""
from typing import Callable, List

import torch
from torch import Tensor

ExpertFn = Callable[[int, Tensor], Tensor]


def group_sizes(expert_indices: Tensor, num_experts: int) -> Tensor:
    """Number of token slots routed to each expert: (N, k) → (E,) long, summing to N·k."""
    return torch.bincount(expert_indices.reshape(-1), minlength=num_experts)


def sparse_dispatch(tokens: Tensor, expert_indices: Tensor, weights: Tensor, expert_fn: ExpertFn,
                    num_experts: int) -> Tensor:
    """Run each expert on the tokens routed to it and combine the weighted outputs per token.

    Args:
        tokens: (N, D_in) expert inputs.
        expert_indices: (N, k) long, selected experts per token.
        weights: (N, k) combine weights.
        expert_fn: ``expert_fn(i, x)`` maps the (n_i, D_in) tokens of expert i to (n_i, D_out); it is
            called once per expert with n_i > 0 tokens, so the calls see N·k rows in total.
        num_experts: E.

    Returns:
        (N, D_out) combined outputs.
    """
    num_tokens, top_k = expert_indices.shape
    if num_tokens == 0:
        return expert_fn(0, tokens)  # (0, D_out)
    flat_experts = expert_indices.reshape(-1)
    order = torch.argsort(flat_experts, stable=True)  # slot ids grouped by expert
    sorted_tokens = tokens.index_select(0, order // top_k)
    sizes: List[int] = group_sizes(expert_indices, num_experts).tolist()

    # Each expert writes into its slice of one buffer (no list of outputs to concatenate).
    sorted_out = None
    start = 0
    for expert, chunk in enumerate(torch.split(sorted_tokens, sizes)):
        if chunk.shape[0] == 0:
            continue
        out = expert_fn(expert, chunk)
        if sorted_out is None:
            sorted_out = out.new_empty(sorted_tokens.shape[0], out.shape[1])
        sorted_out[start:start + out.shape[0]] = out
        start += out.shape[0]
    sorted_out = sorted_out * weights.reshape(-1).index_select(0, order).to(sorted_out.dtype).unsqueeze(1)
    # Scatter-add each slot back onto its token (k adds per token; one pass, no inverse permutation).
    out = sorted_out.new_zeros(num_tokens, sorted_out.shape[1])
    return out.index_add_(0, order // top_k, sorted_out)
