"""Expert sets for the shared sparse dispatch.

An expert set tells the MoE layer three things:

* ``prepare(x)``: the tokens routed to the experts, computed once for all experts (identity for
  classic FFN experts; the shared ``Linear(LN(x))`` for feature-modulation experts);
* ``expert_forward(i, tokens)``: expert i on its own tokens only (called by the dispatch);
* ``finish(mixed)``: what follows the weighted mixture (identity; the shared FFN for FME).

Per-expert weights are stacked along a leading expert axis (E, ...) so a fused grouped matmul could
replace the per-group loop later without changing the parameters.
"""
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layers import FeedForward


def _linear_init_(weight: Tensor, bias: Tensor) -> None:
    """PyTorch's default ``nn.Linear`` init, U(±1/√fan_in), for stacked (E, out, in) weights."""
    bound = 1.0 / math.sqrt(weight.shape[-1])
    nn.init.uniform_(weight, -bound, bound)
    nn.init.uniform_(bias, -bound, bound)


class ExpertsBase(nn.Module):
    """Interface of an expert set; subclasses implement :meth:`expert_forward`.

    Attributes:
        num_experts: E.
    """

    num_experts: int

    def prepare(self, x: Tensor) -> Tensor:
        """Tokens handed to the experts: (N, D) → (N, D_in). Identity by default."""
        return x

    def expert_forward(self, expert: int, tokens: Tensor) -> Tensor:
        """Expert ``expert`` on its tokens: (n_i, D_in) → (n_i, D_out)."""
        raise NotImplementedError

    def finish(self, mixed: Tensor) -> Tensor:
        """Map the combined expert outputs (N, D_out) to the layer's residual branch (N, D)."""
        return mixed


class FFNExperts(ExpertsBase):
    """E independent experts LN_i → Linear(D→hD) → GELU → Dropout → Linear(hD→D) → Dropout.

    Each expert has its own LayerNorm, as in the released code (it reads the un-normalised residual
    stream), so an expert costs 8D² + 7D parameters at h = 4.

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

    def expert_forward(self, expert: int, tokens: Tensor) -> Tensor:
        x = F.layer_norm(tokens, (self.dim, ), self.norm_weight[expert], self.norm_bias[expert])
        x = F.gelu(F.linear(x, self.fc1_weight[expert], self.fc1_bias[expert]))
        x = F.dropout(x, self.dropout, self.training)
        x = F.linear(x, self.fc2_weight[expert], self.fc2_bias[expert])
        return F.dropout(x, self.dropout, self.training)


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

    def prepare(self, x: Tensor) -> Tensor:
        return self.shared(self.norm(x))

    def modulation(self, expert: int, h: Tensor) -> tuple:
        """(γ_i(h), β_i(h)), each (n, D), for expert i."""
        return F.linear(h, self.modulation_weight[expert], self.modulation_bias[expert]).chunk(2, dim=-1)

    def expert_forward(self, expert: int, tokens: Tensor) -> Tensor:
        gamma, beta = self.modulation(expert, tokens)
        return torch.addcmul(beta, gamma, tokens)  # γ ∘ h + β in one pass

    def finish(self, mixed: Tensor) -> Tensor:
        return self.ffn(mixed)
