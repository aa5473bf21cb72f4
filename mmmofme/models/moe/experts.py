"""Expert sets for the shared sparse dispatch.

An expert set tells the MoE layer three things:

* ``prepare(x)``: the tokens routed to the experts, computed once for all experts (the per-token
  normalisation for classic FFN experts; the shared ``Linear(LN(x))`` for feature-modulation experts);
* ``expert_function(tokens)``: the ``expert_fn(i, rows)`` the dispatch calls once per expert with that
  expert's rows only; chosen once per layer call, so the inference fast path costs no per-expert checks;
* ``finish(mixed)``: what follows the weighted mixture (identity; the shared FFN for FME).

Expert sets are registered in mmengine's root ``MODELS`` and built from ``experts=dict(type=...)`` by
the network, which fills in ``dim``, ``num_experts``, ``mlp_ratio`` and ``dropout`` (see :mod:`.builder`).

Per-expert weights are stacked along a leading expert axis (E, ...). When no gradient is needed on
CPU, the per-expert products run on weights packed once for oneDNN (:mod:`.packed`): same parameters,
same results to float rounding, much less time per skinny call.
"""
import math
from typing import Callable

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor, nn

from ..layers import FeedForward
from .packed import PackedExpertLinears, packed_linear, packed_path_usable

ExpertFn = Callable[[int, Tensor], Tensor]


def _linear_init_(weight: Tensor, bias: Tensor) -> None:
    """PyTorch's default ``nn.Linear`` init, U(±1/√fan_in), for stacked (E, out, in) weights."""
    bound = 1.0 / math.sqrt(weight.shape[-1])
    nn.init.uniform_(weight, -bound, bound)
    nn.init.uniform_(bias, -bound, bound)


class ExpertsBase(nn.Module):
    """Interface of an expert set; subclasses implement :meth:`expert_function`.

    Attributes:
        num_experts: E.
    """

    num_experts: int

    def prepare(self, x: Tensor) -> Tensor:
        """Tokens handed to the experts: (N, D) → (N, D_in). Identity by default."""
        return x

    def expert_function(self, tokens: Tensor) -> ExpertFn:
        """``expert_fn(i, rows)``: expert i on its rows (n_i, D_in) → (n_i, D_out), for rows taken from
        ``tokens`` (the output of :meth:`prepare`, which decides autograd vs packed inference)."""
        raise NotImplementedError

    def expert_forward(self, expert: int, tokens: Tensor) -> Tensor:
        """Expert ``expert`` on its tokens: (n_i, D_in) → (n_i, D_out)."""
        return self.expert_function(tokens)(expert, tokens)

    def finish(self, mixed: Tensor) -> Tensor:
        """Map the combined expert outputs (N, D_out) to the layer's residual branch (N, D)."""
        return mixed

    def train(self, mode: bool = True) -> 'ExpertsBase':
        if mode:  # packed copies serve inference only: free them while training
            for value in vars(self).values():
                if isinstance(value, PackedExpertLinears):
                    value.clear()
        return super().train(mode)


@MODELS.register_module()
class FFNExperts(ExpertsBase):
    """E independent experts LN_i → Linear(D→hD) → GELU → Dropout → Linear(hD→D) → Dropout.

    Each expert has its own LayerNorm, as in the released code (it reads the un-normalised residual
    stream), so an expert costs 8D² + 7D parameters at h = 4. LayerNorm statistics are per token, so
    :meth:`prepare` normalises every token once and each expert applies only its own affine (γ_i, β_i);
    on the packed inference path that affine is folded into fc1.

    Args:
        dim: Token dimension D.
        num_experts: E.
        mlp_ratio: Hidden ratio h.
        dropout: Dropout probability.
    """

    def __init__(self, dim: int, num_experts: int, mlp_ratio: float = 4.0, dropout: float = 0.1) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.num_experts = num_experts
        self.dim = dim
        self.dropout = dropout
        self.norm_weight = nn.Parameter(torch.ones(num_experts, dim))
        self.norm_bias = nn.Parameter(torch.zeros(num_experts, dim))
        self.fc1_weight = nn.Parameter(torch.empty(num_experts, hidden, dim))
        self.fc1_bias = nn.Parameter(torch.empty(num_experts, hidden))
        self.fc2_weight = nn.Parameter(torch.empty(num_experts, dim, hidden))
        self.fc2_bias = nn.Parameter(torch.empty(num_experts, dim))
        _linear_init_(self.fc1_weight, self.fc1_bias)
        _linear_init_(self.fc2_weight, self.fc2_bias)
        self._packed_fc1 = PackedExpertLinears()
        self._packed_fc2 = PackedExpertLinears()

    def prepare(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, (self.dim, ))  # (x - mean) / std per token, shared by all experts

    def _folded_fc1(self) -> tuple:
        """fc1 ∘ affine_i as one linear: W1·diag(γ_i) and b1 + W1·β_i, stacked over experts."""
        weight = self.fc1_weight * self.norm_weight.unsqueeze(1)
        bias = self.fc1_bias + torch.bmm(self.fc1_weight, self.norm_bias.unsqueeze(2)).squeeze(2)
        return weight, bias

    def expert_function(self, tokens: Tensor) -> ExpertFn:
        fc1_sources = (self.norm_weight, self.norm_bias, self.fc1_weight, self.fc1_bias)
        fc2_sources = (self.fc2_weight, self.fc2_bias)
        if not packed_path_usable(tokens, fc1_sources + fc2_sources):
            return self._expert
        fc1 = self._packed_fc1.get(fc1_sources, self._folded_fc1)
        fc2 = self._packed_fc2.get(fc2_sources, lambda: fc2_sources)
        # Dropout is the identity here (no gradient ⇒ inference).
        return lambda i, rows: packed_linear(packed_linear(rows, fc1[i], gelu=True), fc2[i])

    def _expert(self, expert: int, tokens: Tensor) -> Tensor:
        x = torch.addcmul(self.norm_bias[expert], tokens, self.norm_weight[expert])
        x = F.gelu(F.linear(x, self.fc1_weight[expert], self.fc1_bias[expert]))
        x = F.dropout(x, self.dropout, self.training)
        x = F.linear(x, self.fc2_weight[expert], self.fc2_bias[expert])
        return F.dropout(x, self.dropout, self.training)


@MODELS.register_module()
class FeatureModulationExperts(ExpertsBase):
    """Feature Modulated Experts (paper Eq. 4–6) sharing one FFN.

    h = Linear_s(LN(x)); expert i modulates h with γ_i(h), β_i(h), each a Linear(D→D) (the paper's 1×1
    convs; stored fused as one (2D, D) weight per expert); the layer mixes
    m = Σ_k r_k · (γ_k(h) ∘ h + β_k(h)) and returns FFN_shared(m) (D→hD→D, no norm of its own).
    Shared part 9D² + 8D, each expert 2D² + 2D parameters at h = 4.

    Args:
        dim: Token dimension D.
        num_experts: E.
        mlp_ratio: Hidden ratio h of the shared FFN.
        dropout: Dropout probability of the shared FFN.
    """

    def __init__(self, dim: int, num_experts: int, mlp_ratio: float = 4.0, dropout: float = 0.1) -> None:
        super().__init__()
        self.num_experts = num_experts
        self.norm = nn.LayerNorm(dim)
        self.shared = nn.Linear(dim, dim)
        self.modulation_weight = nn.Parameter(torch.empty(num_experts, 2 * dim, dim))  # [γ_i; β_i]
        self.modulation_bias = nn.Parameter(torch.empty(num_experts, 2 * dim))
        _linear_init_(self.modulation_weight, self.modulation_bias)
        self.ffn = FeedForward(dim, mlp_ratio, dropout)
        self._packed_modulation = PackedExpertLinears()

    def prepare(self, x: Tensor) -> Tensor:
        return self.shared(self.norm(x))

    def expert_function(self, tokens: Tensor) -> ExpertFn:
        sources = (self.modulation_weight, self.modulation_bias)
        if packed_path_usable(tokens, sources):
            packed = self._packed_modulation.get(sources, lambda: sources)
            modulation = lambda i, h: packed_linear(h, packed[i])  # noqa: E731
        else:
            modulation = lambda i, h: F.linear(h, self.modulation_weight[i], self.modulation_bias[i])  # noqa: E731

        def modulate(expert: int, h: Tensor) -> Tensor:
            gamma, beta = modulation(expert, h).chunk(2, dim=-1)  # γ_i(h), β_i(h): (n, D) each
            return torch.addcmul(beta, gamma, h)  # γ ∘ h + β in one pass

        return modulate

    def finish(self, mixed: Tensor) -> Tensor:
        return self.ffn(mixed)
