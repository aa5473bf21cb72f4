"""Routers: the plain top-k router (paper Eq. 1–2) and the Uncertainty-aware Router (paper Eq. 7).

Both are registered in mmengine's root ``MODELS`` and built from ``router=dict(type=...)`` by the
network, which fills in ``dim``, ``num_experts``, ``top_k`` and ``num_tasks`` (see :mod:`.builder`).

A router maps N tokens to k experts each and their combine weights. Both routers can hold one gate per
task (MMoE, Ma et al. 2018): the token's task picks its gate, and without a task the mean of the gates'
probabilities is used.
"""
import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor, nn


@dataclass
class RouterOutput:
    """What a router hands to the MoE layer.

    Attributes:
        indices: (N, k) long, the selected experts per token (top-k of ``probs``).
        weights: (N, k) combine weights of the selected experts.
        probs: (N, E) full softmax of the dropout-free gate (for the load-balance loss).
        variance: (N, E) per-token variance of the probabilities over the MC-dropout passes (UaR in
            training only), else None.
    """
    indices: Tensor
    weights: Tensor
    probs: Tensor
    variance: Optional[Tensor] = None


def uncertainty_calibration(point: Tensor, samples: Tensor, eps: float = 1e-6) -> Tensor:
    """r̃ = Σ⁻¹(r − μ) / ‖Σ⁻¹(r − μ)‖₂ with a diagonal Σ (paper Eq. 7).

    Args:
        point: (N, E) the dropout-free router output r.
        samples: (M, N, E) the M MC-dropout router outputs; μ is their mean and Σ = diag(σ²) their
            unbiased variance, per token and expert.
        eps: Added to σ² before inverting it.

    Returns:
        (N, E) unit-L2-norm rows over the experts (a zero row stays zero).
    """
    mean = samples.mean(0)
    variance = samples.var(0, unbiased=True)
    return F.normalize((point - mean) / (variance + eps), p=2.0, dim=-1)


@MODELS.register_module()
class TopKRouter(nn.Module):
    """p = softmax(W_r·x + b) over E experts; keep the top-k entries as combine weights (Eq. 1–2).

    Args:
        dim: Token dimension D.
        num_experts: E.
        top_k: Experts per token, 1 ≤ k ≤ E.
        renormalize: Divide the k kept probabilities by their sum (what the released code's
            top-k-then-softmax amounts to). If False the weights are the raw probabilities (Eq. 1).
        num_tasks: Number of gates (MMoE); 1 for an ordinary router.

    Shapes:
        x: (N, D); task_ids: (N,) long or None → :class:`RouterOutput`.
    """

    def __init__(self,
                 dim: int,
                 num_experts: int,
                 top_k: int,
                 renormalize: bool = True,
                 num_tasks: int = 1) -> None:
        super().__init__()
        if num_experts < 1:
            raise ValueError(f'num_experts must be >= 1, got {num_experts}')
        if not 1 <= top_k <= num_experts:
            raise ValueError(f'top_k must be in [1, num_experts={num_experts}], got {top_k}')
        if num_tasks < 1:
            raise ValueError(f'num_tasks must be >= 1, got {num_tasks}')
        self.num_experts = num_experts
        self.top_k = top_k
        self.renormalize = renormalize
        self.num_tasks = num_tasks
        self.gate = nn.Linear(dim, num_tasks * num_experts)

    def logits(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        """Gate logits (N, E) for tokens x (N, D), always in float32.

        With several gates, a token's task id picks its gate; without task ids the result is
        log(mean over gates of softmax), so that its softmax is the mean of the gates.
        """
        # Routing decisions and the UaR's small variances need float32 even under autocast.
        with torch.autocast(device_type=x.device.type, enabled=False):
            logits = self.gate(x.float())
        if self.num_tasks == 1:
            return logits
        logits = logits.view(-1, self.num_tasks, self.num_experts)
        if task_ids is None:
            return torch.logsumexp(logits.log_softmax(-1), dim=1) - math.log(self.num_tasks)
        index = task_ids.view(-1, 1, 1).expand(-1, 1, self.num_experts)
        return logits.gather(1, index).squeeze(1)

    def select(self, probs: Tensor) -> tuple:
        """Top-k of ``probs`` (N, E) → (indices (N, k), weights (N, k)) of the plain router."""
        values, indices = probs.topk(self.top_k, dim=-1)
        if self.renormalize:
            values = values / values.sum(-1, keepdim=True)
        return indices, values

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None) -> RouterOutput:
        probs = self.logits(x, task_ids).softmax(-1)
        indices, weights = self.select(probs)
        return RouterOutput(indices, weights, probs)


@MODELS.register_module()
class UncertaintyAwareRouter(TopKRouter):
    """Top-k router whose training-time weights come from MC-dropout uncertainty (paper Eq. 7).

    In training, M passes of the gate with dropout on its input give p^1..p^M; with μ, σ² their
    per-token, per-expert mean and unbiased variance and p the dropout-free probabilities,
    r̃ = ((p − μ)/(σ² + ε)) / ‖(p − μ)/(σ² + ε)‖₂. Experts are the top-k of p; the combine weights are
    ``mass · softmax(r̃ over the k)``, where mass is what the plain router's k weights sum to (1 when
    renormalised, Σ p_sel otherwise), so train and eval weights share a scale. At eval the router is the
    plain top-k router (no MC passes, no variance).

    Args:
        dim, num_experts, top_k, renormalize, num_tasks: As :class:`TopKRouter`.
        mc_samples: M, number of MC-dropout passes (≥ 2 for a variance).
        mc_dropout: Dropout probability on the router input in the MC passes.
        eps: ε added to σ².
        calibrate: ``'probs'`` applies Eq. 7 to the softmax outputs (the settled reading); ``'logits'``
            applies it to the gate logits (the alternative the paper's wording admits). L_uc uses the
            variance of the probabilities either way.

    Shapes:
        x: (N, D); task_ids: (N,) long or None → :class:`RouterOutput`.
    """

    def __init__(self,
                 dim: int,
                 num_experts: int,
                 top_k: int,
                 renormalize: bool = True,
                 num_tasks: int = 1,
                 mc_samples: int = 5,
                 mc_dropout: float = 0.1,
                 eps: float = 1e-6,
                 calibrate: str = 'probs') -> None:
        super().__init__(dim, num_experts, top_k, renormalize, num_tasks)
        if mc_samples < 2:
            raise ValueError(f'router.mc_samples must be >= 2 for a variance, got {mc_samples}')
        if not 0.0 < mc_dropout < 1.0:
            raise ValueError(f'router.mc_dropout must be in (0, 1), got {mc_dropout}')
        if eps <= 0:
            raise ValueError(f'router.eps must be > 0, got {eps}')
        if calibrate not in ('probs', 'logits'):
            raise ValueError(f"router.calibrate must be 'probs' or 'logits', got {calibrate!r}")
        self.mc_samples = mc_samples
        self.mc_dropout = mc_dropout
        self.eps = eps
        self.calibrate = calibrate

    def mc_logits(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        """Logits of M passes with dropout on the input: (N, D) → (M, N, E)."""
        n = x.shape[0]
        noisy = F.dropout(x.unsqueeze(0).expand(self.mc_samples, -1, -1), self.mc_dropout, training=True)
        ids = None if task_ids is None else task_ids.repeat(self.mc_samples)
        return self.logits(noisy.reshape(self.mc_samples * n, -1), ids).view(self.mc_samples, n, -1)

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None) -> RouterOutput:
        if not self.training:
            return super().forward(x, task_ids)
        logits = self.logits(x, task_ids)
        probs = logits.softmax(-1)
        indices, plain_weights = self.select(probs)
        mc_logits = self.mc_logits(x, task_ids)
        mc_probs = mc_logits.softmax(-1)
        if self.calibrate == 'probs':
            calibrated = uncertainty_calibration(probs, mc_probs, self.eps)
        else:
            calibrated = uncertainty_calibration(logits, mc_logits, self.eps)
        mass = plain_weights.sum(-1, keepdim=True)
        weights = mass * calibrated.gather(1, indices).softmax(-1)
        return RouterOutput(indices, weights, probs, mc_probs.var(0, unbiased=True))
