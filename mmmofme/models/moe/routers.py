"""Routers: the plain top-k router (paper Eq. 1–2), the Uncertainty-aware Router (paper Eq. 7), and the
routers of two baselines: M³ViT's task-conditioned noisy gate and MoWE's weather-aware router.

All are registered in mmengine's root ``MODELS`` and built from ``router=dict(type=...)`` by the
network, which fills in ``dim``, ``num_experts``, ``top_k`` and ``num_tasks`` (see :mod:`.builder`).

A router maps N tokens to k experts each and their combine weights. The first two can hold one gate per
task (MMoE, Ma et al. 2018): the token's task picks its gate, and without a task the mean of the gates'
probabilities is used.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor, nn

from ..losses import supervised_contrastive_loss
from .dispatch import is_tracing


@dataclass
class RouterOutput:
    """What a router hands to the MoE layer.

    Attributes:
        indices: (N, k) long, the selected experts per token (top-k of ``probs``).
        weights: (N, k) combine weights of the selected experts.
        probs: (N, E) full softmax of the dropout-free gate (for the load-balance loss).
        variance: (N, E) per-token variance of the probabilities over the MC-dropout passes (UaR in
            training only), else None.
        aux: the router's own auxiliary losses (unweighted scalars, e.g. MoWE's ``loss_wcl``), which
            the MoE layer passes on next to ``loss_lb`` / ``loss_uc``.
    """
    indices: Tensor
    weights: Tensor
    probs: Tensor
    variance: Optional[Tensor] = None
    aux: Dict[str, Tensor] = field(default_factory=dict)


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


def check_mc_dropout(mc_samples: int, mc_dropout: float, eps: float, calibrate: str) -> None:
    """Validate the MC-dropout settings of Eq. 7 (one-line errors naming the router key)."""
    if mc_samples < 2:
        raise ValueError(f'router.mc_samples must be >= 2 for a variance, got {mc_samples}')
    if not 0.0 < mc_dropout < 1.0:
        raise ValueError(f'router.mc_dropout must be in (0, 1), got {mc_dropout}')
    if eps <= 0:
        raise ValueError(f'router.eps must be > 0, got {eps}')
    if calibrate not in ('probs', 'logits'):
        raise ValueError(f"router.calibrate must be 'probs' or 'logits', got {calibrate!r}")


def mc_dropout_logits(router: 'TopKRouter', x: Tensor, task_ids: Optional[Tensor], mc_samples: int,
                      mc_dropout: float) -> Tensor:
    """``router.logits`` of M passes with dropout on the input: (N, D) → (M, N, E)."""
    n = x.shape[0]
    noisy = F.dropout(x.unsqueeze(0).expand(mc_samples, -1, -1), mc_dropout, training=True)
    ids = None if task_ids is None else task_ids.repeat(mc_samples)
    return router.logits(noisy.reshape(mc_samples * n, -1), ids).view(mc_samples, n, -1)


def calibrated_route(router: 'TopKRouter', logits: Tensor, mc_logits: Tensor, eps: float,
                     calibrate: str) -> RouterOutput:
    """The UaR's training-time routing (Eq. 7) from the dropout-free and the MC-dropout logits.

    Experts are ``router.select``'s top-k of p = softmax(logits); their weights are
    ``mass · softmax(r̃ over the k)`` with r̃ of Eq. 7 on the probabilities (``calibrate='probs'``) or
    the logits, and mass the sum of the plain router's k weights.

    Shapes:
        logits: (N, E); mc_logits: (M, N, E) → :class:`RouterOutput` with the (N, E) variance.
    """
    probs = logits.softmax(-1)
    indices, plain_weights = router.select(probs)
    mc_probs = mc_logits.softmax(-1)
    if calibrate == 'probs':
        calibrated = uncertainty_calibration(probs, mc_probs, eps)
    else:
        calibrated = uncertainty_calibration(logits, mc_logits, eps)
    mass = plain_weights.sum(-1, keepdim=True)
    weights = mass * calibrated.gather(1, indices).softmax(-1)
    return RouterOutput(indices, weights, probs, mc_probs.var(0, unbiased=True))


def task_gate_count(model: nn.Module) -> int:
    """Task ids the routers of ``model`` pick their gates by at eval: the most ``num_tasks`` of its
    task-gated routers (:attr:`TopKRouter.task_gated`), 1 when none is (MoWE's router included)."""
    gated = [m.num_tasks for m in model.modules() if isinstance(m, TopKRouter) and m.task_gated]
    return max(gated, default=1)


def check_task_ids(task_ids, batch: int, num_tasks: int, device: Optional[torch.device] = None) -> Tensor:
    """``task_ids`` as a (batch,) long tensor of ids in [0, ``num_tasks``); else a one-line ValueError.

    While tracing only the count is checked: the range needs the ids' values, which a traced graph does
    not know (:class:`mmmofme.deploy.OnnxRestorer` checks them before it runs the graph).
    """
    task_ids = torch.as_tensor(task_ids, dtype=torch.long, device=device).reshape(-1)
    if task_ids.numel() != batch:
        raise ValueError(f'task_ids must hold one task per sample ({batch}), got {task_ids.numel()}')
    if not is_tracing() and (int(task_ids.min()) < 0 or int(task_ids.max()) >= num_tasks):
        raise ValueError(f'task_ids must be in [0, num_tasks={num_tasks}), got {task_ids.tolist()}')
    return task_ids


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

    @property
    def task_gated(self) -> bool:
        """True when a token's task id picks its gate at eval (MMoE's and M³ViT's gates)."""
        return self.num_tasks > 1

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
        check_mc_dropout(mc_samples, mc_dropout, eps, calibrate)
        self.mc_samples = mc_samples
        self.mc_dropout = mc_dropout
        self.eps = eps
        self.calibrate = calibrate

    def mc_logits(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        """Logits of M passes with dropout on the input: (N, D) → (M, N, E)."""
        return mc_dropout_logits(self, x, task_ids, self.mc_samples, self.mc_dropout)

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None) -> RouterOutput:
        if not self.training:
            return super().forward(x, task_ids)
        return calibrated_route(self, self.logits(x, task_ids), self.mc_logits(x, task_ids), self.eps,
                                self.calibrate)


def _uncertainty_settings(uncertainty: Optional[dict]) -> Optional[dict]:
    """The ``router.uncertainty`` dict of a router that can route as the UaR in training (or None)."""
    if uncertainty is None:
        return None
    settings = dict(mc_samples=5, mc_dropout=0.1, eps=1e-6, calibrate='probs')
    unknown = sorted(set(uncertainty) - set(settings))
    if unknown:
        raise ValueError(f'router.uncertainty: unknown keys {unknown}; known: {", ".join(settings)}')
    settings.update(uncertainty)
    check_mc_dropout(**settings)
    return settings


def _route_with_uncertainty(router: TopKRouter, settings: dict, x: Tensor, task_ids: Optional[Tensor],
                            logits: Tensor) -> RouterOutput:
    """Eq. 7 routing of ``router`` with the MC-dropout ``settings`` (training only)."""
    mc_logits = mc_dropout_logits(router, x, task_ids, settings['mc_samples'], settings['mc_dropout'])
    return calibrated_route(router, logits, mc_logits, settings['eps'], settings['calibrate'])


@MODELS.register_module()
class TaskConditionedRouter(TopKRouter):
    """M³ViT's task-conditioned sparse gate (Liang et al., NeurIPS 2022): one noisy top-k gate per task.

    The token's task (here its image's weather tag) picks gate t: p = softmax(W_t·x + b_t). In training
    the experts are the top-k of softmax(W_t·x + b_t + ε), ε ~ N(0, (noise_std / E)²) per logit (the
    V-MoE noisy gate M³ViT uses), and their weights are those noisy probabilities, not renormalised
    (``renormalize=False``, as M³ViT); ``probs`` (for L_lb) are the noise-free ones. At eval there is
    no noise.

    Args:
        dim, num_experts, top_k, renormalize, num_tasks: As :class:`TopKRouter`.
        noise_std: Noise scale in units of 1/E; 0 turns the noise off.
        untagged: What a token without a weather tag is routed by: ``'mean'`` the mean of the T gates'
            probabilities (as MMoE here), an int t the gate of task t, ``'error'`` a ValueError.
        uncertainty: ``dict(mc_samples=5, mc_dropout=0.1, eps=1e-6, calibrate='probs')`` routes as the
            Uncertainty-aware Router (Eq. 7) in training instead of adding noise (the UaR rows of
            Table 1); None: plain M³ViT.

    Shapes:
        x: (N, D); task_ids: (N,) long or None → :class:`RouterOutput`.
    """

    def __init__(self,
                 dim: int,
                 num_experts: int,
                 top_k: int,
                 renormalize: bool = False,
                 num_tasks: int = 1,
                 noise_std: float = 1.0,
                 untagged: Union[str, int] = 'mean',
                 uncertainty: Optional[dict] = None) -> None:
        super().__init__(dim, num_experts, top_k, renormalize, num_tasks)
        if noise_std < 0:
            raise ValueError(f'router.noise_std must be >= 0, got {noise_std}')
        if not (untagged in ('mean', 'error') or
                (isinstance(untagged, int) and not isinstance(untagged, bool) and 0 <= untagged < num_tasks)):
            raise ValueError(f"router.untagged must be 'mean', 'error' or a task id in [0, {num_tasks}), "
                             f'got {untagged!r}')
        self.noise_std = noise_std
        self.untagged = untagged
        self.uncertainty = _uncertainty_settings(uncertainty)

    def logits(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        if task_ids is None and self.num_tasks > 1 and self.untagged != 'mean':
            if self.untagged == 'error':
                raise ValueError('TaskConditionedRouter: no weather tag (task_ids) was given and '
                                 "router.untagged='error'; pass task_ids or set untagged='mean' / a task id")
            task_ids = torch.full((x.shape[0], ), self.untagged, dtype=torch.long, device=x.device)
        return super().logits(x, task_ids)

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None) -> RouterOutput:
        logits = self.logits(x, task_ids)
        if self.training and self.uncertainty is not None:
            return _route_with_uncertainty(self, self.uncertainty, x, task_ids, logits)
        probs = logits.softmax(-1)
        gate = probs
        if self.training and self.noise_std > 0:
            gate = (logits + torch.randn_like(logits) * (self.noise_std / self.num_experts)).softmax(-1)
        indices, weights = self.select(gate)
        return RouterOutput(indices, weights, probs)


@MODELS.register_module()
class WeatherAwareRouter(TopKRouter):
    """MoWE's WEather-Aware Router (WEAR; Luo et al. 2023, "WM-MoE"): routes on content and weather.

    Each token x is decoupled into its content (x itself, the residual stream the other routers read)
    and a weather feature w = MLP(LN(x)) ∈ R^{D_w}; one gate reads both, p = softmax(W·[x; w] + b), and
    the experts are the top-k of p. w is made weather-discriminative by the Weather Guidance
    Fine-grained Contrastive loss (WGF-CL), returned as ``aux['loss_wcl']``: a supervised contrastive
    loss over (up to ``contrast_samples``) tokens, positives being tokens of the same weather tag. Tags
    are needed only for that loss in training: the router itself is blind (no tag at test time).

    Args:
        dim, num_experts, top_k, renormalize: As :class:`TopKRouter`.
        num_tasks: Number of weather tags (the network fills it in; tags reach the router only when
            it is > 1). There is one gate whatever the number of tasks.
        weather_dim: D_w.
        temperature: τ of the contrastive loss.
        contrast_samples: Tokens drawn at random per call for the loss (it is quadratic in them).
        uncertainty: As :class:`TaskConditionedRouter`: route as the UaR (Eq. 7) in training.

    Shapes:
        x: (N, D); task_ids: (N,) long or None → :class:`RouterOutput` with ``aux['loss_wcl']``.
    """

    def __init__(self,
                 dim: int,
                 num_experts: int,
                 top_k: int,
                 renormalize: bool = True,
                 num_tasks: int = 1,
                 weather_dim: int = 64,
                 temperature: float = 0.1,
                 contrast_samples: int = 256,
                 uncertainty: Optional[dict] = None) -> None:
        super().__init__(dim, num_experts, top_k, renormalize, num_tasks=1)
        if weather_dim < 1:
            raise ValueError(f'router.weather_dim must be >= 1, got {weather_dim}')
        if temperature <= 0:
            raise ValueError(f'router.temperature must be > 0, got {temperature}')
        if contrast_samples < 2:
            raise ValueError(f'router.contrast_samples must be >= 2, got {contrast_samples}')
        self.num_tasks = num_tasks  # only to receive the tags for WGF-CL
        self.weather = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, weather_dim), nn.GELU(),
                                     nn.Linear(weather_dim, weather_dim))
        self.gate = nn.Linear(dim + weather_dim, num_experts)
        self.temperature = temperature
        self.contrast_samples = contrast_samples
        self.uncertainty = _uncertainty_settings(uncertainty)

    @property
    def task_gated(self) -> bool:
        """False: one gate; the tags reach this router only for its training loss (WGF-CL)."""
        return False

    def weather_features(self, x: Tensor) -> Tensor:
        """Per-token weather features w: (N, D) → (N, D_w), in float32."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            return self.weather(x.float())

    def gate_logits(self, x: Tensor, weather: Tensor) -> Tensor:
        """Gate logits W·[x; w] + b: (N, D), (N, D_w) → (N, E), in float32."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            return self.gate(torch.cat([x.float(), weather], dim=-1))

    def logits(self, x: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        return self.gate_logits(x, self.weather_features(x))

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None) -> RouterOutput:
        weather = self.weather_features(x)
        logits = self.gate_logits(x, weather)
        if self.training and self.uncertainty is not None:
            route = _route_with_uncertainty(self, self.uncertainty, x, task_ids, logits)
        else:
            probs = logits.softmax(-1)
            route = RouterOutput(*self.select(probs), probs)
        if self.training and task_ids is not None:
            route.aux['loss_wcl'] = supervised_contrastive_loss(weather, task_ids, self.temperature,
                                                                self.contrast_samples)
        else:
            route.aux['loss_wcl'] = weather.new_zeros(())
        return route
