"""The one sparse dispatch shared by every expert kind, in an eager and a traceable form.

Both compute, running each expert once on exactly the tokens routed to it,

    out[n] = Σ_j weights[n, j] · expert_{indices[n, j]}(tokens[n])

* eager (training and inference): token slots are sorted by expert once and split into contiguous
  groups by their counts (``.tolist()``, Python integers);
* traced (``torch.export`` / ONNX export, ``torch.jit.trace``): a Python integer taken from data would be
  frozen into the graph (or stop ``torch.export``), so each expert finds its own slots with a mask and
  ``nonzero``, gathers them, and adds its weighted outputs back with ``index_add``. Per-expert counts
  are then symbolic sizes (in ONNX: ``NonZero`` → ``Gather`` → expert → ``ScatterND(add)`` per expert), so
  the exported graph stays sparse, with no all-experts fallback.

The two agree to float rounding (tests); the eager form keeps one gather and one scatter for all experts,
which is cheaper in training. Experts differ (FFN, feature modulation, ...); this routine does not.
"""
from typing import Callable, List

import torch
from torch import Tensor

ExpertFn = Callable[[int, Tensor], Tensor]


def is_tracing() -> bool:
    """Whether the current call is being traced or exported (torch.export / dynamo / TorchScript)."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing()


def group_sizes(expert_indices: Tensor, num_experts: int) -> Tensor:
    """Number of token slots routed to each expert: (N, k) → (E,) long, summing to N·k."""
    return torch.bincount(expert_indices.reshape(-1), minlength=num_experts)


def sparse_dispatch(tokens: Tensor, expert_indices: Tensor, weights: Tensor, expert_fn: ExpertFn,
                    num_experts: int) -> Tensor:
    """Run each expert on the tokens routed to it and combine the weighted outputs per token.

    Args:
        tokens: (N, D_in) expert inputs.
        expert_indices: (N, k) long, selected experts per token (distinct within a row).
        weights: (N, k) combine weights.
        expert_fn: ``expert_fn(i, x)`` maps the (n_i, D_in) tokens of expert i to (n_i, D_out), rows in
            ascending token order. Eagerly it is called once per expert with n_i > 0 tokens, so the
            calls see N·k rows in total; when traced, once per expert (n_i may be 0 at run time).
        num_experts: E.

    Returns:
        (N, D_out) combined outputs.
    """
    if is_tracing():
        return masked_dispatch(tokens, expert_indices, weights, expert_fn, num_experts)
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


def masked_dispatch(tokens: Tensor, expert_indices: Tensor, weights: Tensor, expert_fn: ExpertFn,
                    num_experts: int) -> Tensor:
    """:func:`sparse_dispatch` with no data-dependent Python integer: what traced graphs record.

    Same arguments and result; ``expert_fn`` is called for every expert when traced (for the experts
    with tokens only, when run eagerly), each time on that expert's rows only.
    """
    skip_empty = not is_tracing()  # a traced graph cannot branch on a data-dependent count
    top_k = expert_indices.shape[1]
    flat_experts, flat_weights = expert_indices.reshape(-1), weights.reshape(-1)
    out = None
    for expert in range(num_experts):
        slot_ids = torch.nonzero(flat_experts == expert).squeeze(1)  # ascending: token-major slots
        if skip_empty and slot_ids.shape[0] == 0:
            continue
        token_ids = torch.div(slot_ids, top_k, rounding_mode='floor')
        expert_out = expert_fn(expert, tokens.index_select(0, token_ids))
        expert_out = expert_out * flat_weights.index_select(0, slot_ids).to(expert_out.dtype).unsqueeze(1)
        if out is None:
            out = expert_out.new_zeros(tokens.shape[0], expert_out.shape[1])
        out.index_add_(0, token_ids, expert_out)
    if out is None:  # no tokens at all
        return expert_fn(0, tokens)  # (0, D_out)
    return out
