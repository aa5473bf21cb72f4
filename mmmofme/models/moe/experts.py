"""Expert sets for the shared sparse dispatch.

An expert set tells the MoE layer three things:

* ``prepare(x, grid)``: the tokens routed to the experts, computed once for all experts (the per-token
  normalisation for classic FFN experts; the shared ``Linear(LN(x))`` for feature-modulation experts;
  plus each token's multi-scale neighbourhood for MoWE's multi-scale experts);
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
from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor, nn

from ..layers import FeedForward
from .builder import build_part
from .packed import PackedExpertLinears, packed_linear, packed_path_usable

ExpertFn = Callable[[int, Tensor], Tensor]
Grid = Tuple[int, int, int]  # (B, H, W) of the token grid


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

    def prepare(self, x: Tensor, grid: Optional[Grid] = None) -> Tensor:
        """Tokens handed to the experts: (N, D) → (N, D_in). Identity by default.

        ``grid`` = (B, H, W) lays the N = B·H·W tokens out as images, for expert sets that look at a
        token's neighbours (:class:`MultiScaleExperts`); token-wise ones ignore it.
        """
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

    def prepare(self, x: Tensor, grid: Optional[Grid] = None) -> Tensor:
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

    def prepare(self, x: Tensor, grid: Optional[Grid] = None) -> Tensor:
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


@MODELS.register_module()
class MultiScaleExperts(ExpertsBase):
    """MoWE's Multi-Scale Experts (MSE; Luo et al. 2023, "WM-MoE"): experts with different receptive fields.

    The expert set wraps a token-wise one (``experts``: FFN experts for MoWE, feature-modulation experts
    for MoWE + FME). Its prepared tokens u (N, D) are laid out on the token grid, and for each kernel
    size k_s a depthwise k_s×k_s convolution gives the view u_s = u + DWConv_{k_s}(u). The experts are
    split into ``len(kernel_sizes)`` contiguous groups; expert i of group s runs on u_s only. The
    per-scale views are computed once for all tokens (a depthwise conv is cheap), so the sparse dispatch
    still runs each expert on its own tokens only.

    Args:
        dim: Token dimension D (also the inner set's prepared width).
        num_experts: E (≥ number of scales).
        mlp_ratio, dropout: Passed to the inner expert set.
        experts: Config of the inner, token-wise expert set.
        kernel_sizes: Odd kernel sizes, one scale each (WM-MoE: 1, 3, 5, 7).

    Shapes:
        prepare: (N, D) with grid (B, H, W), N = B·H·W → (N, S·D); experts: (n_i, S·D) rows → (n_i, D_out).
    """

    def __init__(self,
                 dim: int,
                 num_experts: int,
                 mlp_ratio: float = 4.0,
                 dropout: float = 0.1,
                 experts: dict = dict(type='FFNExperts'),
                 kernel_sizes: Sequence[int] = (1, 3, 5, 7)) -> None:
        super().__init__()
        kernel_sizes = [int(k) for k in kernel_sizes]
        if not kernel_sizes or any(k < 1 or k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f'experts.kernel_sizes must be odd sizes >= 1, got {kernel_sizes}')
        if num_experts < len(kernel_sizes):
            raise ValueError(f'MultiScaleExperts needs num_experts >= {len(kernel_sizes)} (one group per '
                             f'kernel size), got {num_experts}')
        self.inner = build_part(experts, ExpertsBase, 'experts.experts', dim=dim, num_experts=num_experts,
                                mlp_ratio=mlp_ratio, dropout=dropout)
        self.num_experts = num_experts
        self.dim = dim
        self.kernel_sizes = kernel_sizes
        self.context = nn.ModuleList(nn.Conv2d(dim, dim, k, padding=k // 2, groups=dim) for k in kernel_sizes)
        #: the scale group of each expert: contiguous groups of E / S experts
        self.scale_of = [i * len(kernel_sizes) // num_experts for i in range(num_experts)]

    def prepare(self, x: Tensor, grid: Optional[Grid] = None) -> Tensor:
        if grid is None:
            raise ValueError('MultiScaleExperts needs the token grid (B, H, W); call the MoE layer with '
                             'grid=(H, W)')
        b, h, w = grid
        base = self.inner.prepare(x)
        if base.shape[0] != b * h * w:
            raise ValueError(f'MultiScaleExperts: {base.shape[0]} tokens do not fill a grid of {b}×{h}×{w}')
        maps = base.reshape(b, h, w, -1).permute(0, 3, 1, 2)
        views = [base + conv(maps).permute(0, 2, 3, 1).reshape(base.shape) for conv in self.context]
        return torch.cat(views, dim=-1)

    def expert_function(self, tokens: Tensor) -> ExpertFn:
        inner = self.inner.expert_function(tokens)
        width = tokens.shape[1] // len(self.kernel_sizes)

        def run(expert: int, rows: Tensor) -> Tensor:
            start = self.scale_of[expert] * width
            return inner(expert, rows[:, start:start + width].contiguous())

        return run

    def finish(self, mixed: Tensor) -> Tensor:
        return self.inner.finish(mixed)
