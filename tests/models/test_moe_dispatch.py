"""The shared sparse dispatch: equal to a naive per-token loop for every expert kind, and each expert
sees only its own tokens (k·N rows in total)."""
import pytest
import torch

from mmmofme.models.layers import PreNormFeedForward
from mmmofme.models.moe import (
    FeatureModulationExperts,
    FFNExperts,
    MoELayer,
    TopKRouter,
    UncertaintyAwareRouter,
    group_sizes,
    sparse_dispatch,
)

DIM, NUM_EXPERTS, TOP_K = 8, 5, 2


def naive_mixture(tokens, indices, weights, expert_fn):
    """out[n] = Σ_j w[n, j] · expert_{idx[n, j]}(token n), one token at a time."""
    rows = []
    for n in range(tokens.shape[0]):
        acc = 0
        for j in range(indices.shape[1]):
            acc = acc + weights[n, j] * expert_fn(int(indices[n, j]), tokens[n:n + 1])[0]
        rows.append(acc)
    return torch.stack(rows)


def test_sparse_dispatch_with_toy_experts():
    tokens = torch.arange(12.0).view(6, 2)
    indices = torch.tensor([[0, 2], [2, 1], [1, 0], [2, 0], [1, 2], [0, 1]])
    weights = torch.tensor([[0.7, 0.3], [0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [1.0, 0.0]])
    expert_fn = lambda i, x: x * (i + 1) + i  # noqa: E731
    got = sparse_dispatch(tokens, indices, weights, expert_fn, 3)
    torch.testing.assert_close(got, naive_mixture(tokens, indices, weights, expert_fn))
    # token 0: 0.7·(x·1+0) + 0.3·(x·3+2) with x = (0, 1)
    assert got[0].tolist() == pytest.approx([0.3 * 2, 0.7 * 1 + 0.3 * 5])


def _layers():
    torch.manual_seed(0)
    return {
        'moe': MoELayer(TopKRouter(DIM, NUM_EXPERTS, TOP_K), FFNExperts(DIM, NUM_EXPERTS)),
        'mofme': MoELayer(TopKRouter(DIM, NUM_EXPERTS, TOP_K), FeatureModulationExperts(DIM, NUM_EXPERTS)),
        'mmoe': MoELayer(TopKRouter(DIM, NUM_EXPERTS, TOP_K, num_tasks=2), FFNExperts(DIM, NUM_EXPERTS)),
        'prmoe': MoELayer(TopKRouter(DIM, NUM_EXPERTS, TOP_K), FFNExperts(DIM, NUM_EXPERTS),
                          residual=PreNormFeedForward(DIM)),
        'mofme_uar': MoELayer(UncertaintyAwareRouter(DIM, NUM_EXPERTS, TOP_K),
                              FeatureModulationExperts(DIM, NUM_EXPERTS)),
    }


@pytest.mark.parametrize('kind', ['moe', 'mofme', 'mmoe', 'prmoe', 'mofme_uar'])
def test_layer_equals_naive_per_token_loop(kind):
    layer = _layers()[kind].eval()
    x = torch.randn(2, 7, DIM)
    task_ids = torch.tensor([0, 1]) if kind == 'mmoe' else None
    out, _ = layer(x, task_ids)

    tokens = x.reshape(-1, DIM)
    token_tasks = task_ids.repeat_interleave(7) if task_ids is not None else None
    route = layer.router(tokens, token_tasks)
    routed = layer.experts.prepare(tokens)
    expected = layer.experts.finish(naive_mixture(routed, route.indices, route.weights,
                                                  layer.experts.expert_forward))
    if layer.residual is not None:
        expected = expected + layer.residual(tokens)[0]
    torch.testing.assert_close(out, expected.view_as(out), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('kind', ['moe', 'mofme', 'mmoe', 'prmoe', 'mofme_uar'])
def test_each_expert_runs_once_on_its_own_tokens(kind):
    layer = _layers()[kind].train()
    seen = {}
    original = layer.experts.expert_function

    def recording_function(routed):
        expert_fn = original(routed)

        def recording(expert, tokens):
            assert expert not in seen, 'an expert was called twice'
            seen[expert] = tokens.shape[0]
            return expert_fn(expert, tokens)

        return recording

    layer.experts.expert_function = recording_function
    x = torch.randn(3, 11, DIM)
    layer(x, torch.tensor([0, 1, 1]) if kind == 'mmoe' else None)
    num_tokens = 3 * 11
    assert sum(seen.values()) == TOP_K * num_tokens  # a masked dense computation would see E·N
    counts = layer.last_expert_counts.tolist()
    assert {i: c for i, c in enumerate(counts) if c} == seen
    assert layer.last_indices.shape == (3, 11, TOP_K)


def test_dispatch_gradients_match_the_naive_loop():
    torch.manual_seed(0)
    experts = FFNExperts(DIM, NUM_EXPERTS, dropout=0.0)
    tokens = torch.randn(9, DIM, requires_grad=True)
    indices = torch.stack([torch.randperm(NUM_EXPERTS)[:TOP_K] for _ in range(9)])
    weights = torch.rand(9, TOP_K, requires_grad=True)
    sparse_dispatch(tokens, indices, weights, experts.expert_forward, NUM_EXPERTS).square().sum().backward()
    grads = [tokens.grad.clone(), weights.grad.clone(), experts.fc1_weight.grad.clone()]
    for t in (tokens, weights, experts.fc1_weight):
        t.grad = None
    naive_mixture(tokens, indices, weights, experts.expert_forward).square().sum().backward()
    for got, expected in zip(grads, [tokens.grad, weights.grad, experts.fc1_weight.grad]):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


def test_group_sizes_count_slots():
    assert group_sizes(torch.tensor([[0, 3], [3, 1]]), 5).tolist() == [1, 1, 0, 2, 0]
