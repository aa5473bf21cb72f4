"""M³ViT's task-conditioned router and MoWE's weather-aware router: equations on hand-built tensors, the
WGF-CL contrastive loss, and token counts through the shared dispatch."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmmofme.models.losses import supervised_contrastive_loss
from mmmofme.models.moe import FFNExperts, MoELayer, TaskConditionedRouter, WeatherAwareRouter


def task_router(**kwargs) -> TaskConditionedRouter:
    """D=2, E=3, T=2 with hand-set gates: gate t is rows [3t, 3t+3) of the stacked Linear."""
    router = TaskConditionedRouter(dim=2, num_experts=3, top_k=1, num_tasks=2, **kwargs)
    with torch.no_grad():
        router.gate.weight.copy_(torch.tensor([[2., 0.], [0., 1.], [0., 0.],    # task 0
                                               [0., 0.], [0., 1.], [3., 0.]]))  # task 1
        router.gate.bias.copy_(torch.tensor([0., 0., 0.5, 0., 0., -1.]))
    return router.eval()


X = torch.tensor([[1., 0.], [0., 2.], [1., 1.]])


def hand_probs(task: int) -> torch.Tensor:
    w = task_router().gate.weight.detach()[3 * task:3 * task + 3]
    b = task_router().gate.bias.detach()[3 * task:3 * task + 3]
    return (X @ w.t() + b).softmax(-1)


def test_task_conditioned_router_picks_each_tokens_task_gate():
    router = task_router()
    tasks = torch.tensor([0, 1, 1])
    out = router(X, tasks)
    expected = torch.stack([hand_probs(int(t))[i] for i, t in enumerate(tasks)])
    torch.testing.assert_close(out.probs, expected)
    assert out.indices.squeeze(1).tolist() == expected.argmax(-1).tolist() == [0, 1, 2]
    # M³ViT keeps the raw top-k probabilities (renormalize=False by default)
    torch.testing.assert_close(out.weights.squeeze(1), expected.max(-1).values)


@pytest.mark.parametrize('untagged', ['mean', 0, 1])
def test_untagged_tokens_follow_the_configured_policy(untagged):
    out = task_router(untagged=untagged)(X, None)
    expected = (hand_probs(0) + hand_probs(1)) / 2 if untagged == 'mean' else hand_probs(untagged)
    torch.testing.assert_close(out.probs, expected)


def test_untagged_error_policy_and_bad_settings_name_the_key():
    with pytest.raises(ValueError, match="untagged='error'"):
        task_router(untagged='error')(X, None)
    with pytest.raises(ValueError, match='router.untagged'):
        TaskConditionedRouter(dim=2, num_experts=3, top_k=1, num_tasks=2, untagged=2)
    with pytest.raises(ValueError, match='router.noise_std'):
        TaskConditionedRouter(dim=2, num_experts=3, top_k=1, noise_std=-1.0)
    with pytest.raises(ValueError, match='router.uncertainty: unknown keys'):
        TaskConditionedRouter(dim=2, num_experts=3, top_k=1, uncertainty=dict(samples=3))
    with pytest.raises(ValueError, match='router.mc_samples'):
        WeatherAwareRouter(dim=2, num_experts=3, top_k=1, uncertainty=dict(mc_samples=1))


def test_training_noise_changes_the_selection_not_the_probabilities():
    # two experts exactly tied: at eval the first always wins, in training the 1/E-scaled noise splits them
    router = TaskConditionedRouter(dim=2, num_experts=2, top_k=1, num_tasks=1, noise_std=1.0)
    with torch.no_grad():
        router.gate.weight.zero_()
        router.gate.bias.zero_()
    x = torch.randn(2000, 2)
    assert router.eval()(x).indices.unique().tolist() == [0]
    torch.manual_seed(0)
    out = router.train()(x)
    share = (out.indices == 1).float().mean().item()
    assert 0.4 < share < 0.6, share
    torch.testing.assert_close(out.probs, torch.full((2000, 2), 0.5))  # noise-free probabilities for L_lb
    # the weight is the selected expert's noisy probability, sigmoid(|ε1 − ε0|) with ε ~ N(0, (1/E)²):
    # its logit has mean E|N(0, 2σ²)| = 2σ/√π, σ = 1/2
    w = out.weights.detach().squeeze(1)
    assert (w > 0.5).all()
    assert torch.log(w / (1 - w)).mean().item() == pytest.approx(1 / math.sqrt(math.pi), rel=0.1)
    router.noise_std = 0.0
    assert router(x).indices.unique().tolist() == [0]


def test_task_router_with_uncertainty_routes_as_the_uar_in_training():
    router = task_router(uncertainty=dict(mc_samples=4, mc_dropout=0.5)).train()
    tasks = torch.tensor([0, 1, 1])
    torch.manual_seed(0)
    out = router(X, tasks)
    assert out.variance is not None and out.variance.shape == (3, 3) and (out.variance > 0).any()
    expected = torch.stack([hand_probs(int(t))[i] for i, t in enumerate(tasks)])
    torch.testing.assert_close(out.probs, expected)  # experts: top-k of the dropout-free p
    # k = 1: softmax over one calibrated entry is 1, times the plain router's mass (raw p_sel)
    torch.testing.assert_close(out.weights.squeeze(1), expected.max(-1).values)
    assert router.eval()(X, tasks).variance is None


def test_supervised_contrastive_loss_matches_hand_computation():
    features = torch.tensor([[1., 0.], [2., 0.], [0., 1.], [0., 3.]])  # normalised: two pairs of equals
    labels = torch.tensor([0, 0, 1, 1])
    # anchor i: its positive has similarity 1, the two others 0 (τ = 1): -log(e / (e + 2))
    expected = math.log(math.e + 2) - 1
    got = supervised_contrastive_loss(features, labels, temperature=1.0)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # positives pointing away from each other cost more; a lone label has no positive (left out)
    swapped = supervised_contrastive_loss(features, torch.tensor([0, 1, 0, 1]), temperature=1.0)
    assert swapped.item() == pytest.approx(math.log(math.e + 2), rel=1e-6)
    assert supervised_contrastive_loss(features[:1], labels[:1]).item() == 0.0
    drawn = supervised_contrastive_loss(torch.randn(50, 4), torch.arange(50) % 3, max_samples=10)
    assert drawn.ndim == 0 and torch.isfinite(drawn)


def weather_router(**kwargs) -> WeatherAwareRouter:
    torch.manual_seed(0)
    return WeatherAwareRouter(dim=4, num_experts=3, top_k=2, num_tasks=2, weather_dim=3,
                              contrast_samples=64, **kwargs)


def test_weather_aware_router_gates_on_content_and_weather_features():
    router = weather_router().eval()
    x = torch.randn(6, 4)
    ln, fc1, _, fc2 = router.weather
    w = F.linear(F.gelu(F.linear(F.layer_norm(x, (4, ), ln.weight, ln.bias), fc1.weight, fc1.bias)),
                 fc2.weight, fc2.bias)
    logits = torch.cat([x, w], 1) @ router.gate.weight.t() + router.gate.bias
    out = router(x)
    probs = logits.softmax(-1)
    torch.testing.assert_close(out.probs, probs)
    values, indices = probs.topk(2, -1)
    assert out.indices.tolist() == indices.tolist()
    torch.testing.assert_close(out.weights, values / values.sum(-1, keepdim=True))
    assert out.aux['loss_wcl'].item() == 0.0  # blind at eval: no tags, no loss


def test_weather_aware_router_returns_the_wgf_cl_loss_in_training():
    router = weather_router().train()
    x, tags = torch.randn(10, 4), torch.tensor([0, 1] * 5)
    out = router(x, tags)
    expected = supervised_contrastive_loss(router.weather_features(x), tags, router.temperature)
    torch.testing.assert_close(out.aux['loss_wcl'], expected)
    out.aux['loss_wcl'].backward()
    assert router.weather[1].weight.grad.abs().sum() > 0 and router.gate.weight.grad is None
    assert router(x).aux['loss_wcl'].item() == 0.0  # no tags: the router still routes


def test_weather_aware_router_with_uncertainty_has_mc_variance_in_training_only():
    router = weather_router(uncertainty=dict(mc_samples=3)).train()
    x = torch.randn(8, 4)
    out = router(x, torch.zeros(8, dtype=torch.long))
    assert out.variance is not None and (out.variance > 0).any()
    torch.testing.assert_close(out.weights.sum(-1), torch.ones(8))
    assert router.eval()(x).variance is None


def test_task_gates_send_token_counts_through_the_shared_dispatch():
    torch.manual_seed(0)
    router = TaskConditionedRouter(dim=8, num_experts=4, top_k=2, num_tasks=2).eval()
    with torch.no_grad():
        router.gate.weight.zero_()
        # task 0 → experts {0, 1}, task 1 → {2, 3}
        router.gate.bias.copy_(torch.tensor([5., 4., 0., 0., 0., 0., 4., 5.]))
    layer = MoELayer(router, FFNExperts(8, 4)).eval()
    x = torch.randn(3, 5, 8)
    out, aux = layer(x, task_ids=torch.tensor([0, 1, 1]))
    assert layer.last_expert_counts.tolist() == [5, 5, 10, 10]
    assert sorted(layer.last_indices[0, 0].tolist()) == [0, 1]
    assert sorted(layer.last_indices[2, 4].tolist()) == [2, 3]
    assert set(aux) == {'loss_lb', 'loss_uc'}
    layer(x)  # untagged: the mean of the two gates, whose largest entries are experts 0 and 3
    assert layer.last_expert_counts.tolist() == [15, 0, 0, 15]


def test_weather_router_counts_through_the_dispatch_and_reports_its_loss():
    router = WeatherAwareRouter(dim=8, num_experts=4, top_k=1, num_tasks=3, weather_dim=4)
    with torch.no_grad():
        router.gate.weight.zero_()
        router.gate.weight[3, :8] = 1.0  # expert 3 where the token's sum exceeds expert 1's bias
        router.gate.bias.copy_(torch.tensor([0., 0.5, 0., 0.]))
    layer = MoELayer(router, FFNExperts(8, 4)).train()
    x = torch.randn(2, 6, 8)
    _, aux = layer(x, task_ids=torch.tensor([0, 2]))
    positive = int((x.sum(-1) > 0.5).sum())
    assert layer.last_expert_counts.tolist() == [0, 12 - positive, 0, positive]
    assert set(aux) == {'loss_lb', 'loss_uc', 'loss_wcl'} and aux['loss_wcl'] > 0
