"""The traceable (masked) dispatch equals the eager one, stays sparse, and is what traced graphs record."""
import warnings

import pytest
import torch

from mmmofme.models.layers import PreNormFeedForward
from mmmofme.models.moe import (
    FeatureModulationExperts,
    FFNExperts,
    MoELayer,
    TopKRouter,
    masked_dispatch,
    sparse_dispatch,
)

DIM, NUM_EXPERTS, TOP_K = 8, 5, 2


def _routing(num_tokens, seed=0, skip_expert=None):
    gen = torch.Generator().manual_seed(seed)
    experts = [e for e in range(NUM_EXPERTS) if e != skip_expert]
    indices = torch.stack([torch.tensor(experts)[torch.randperm(len(experts), generator=gen)[:TOP_K]]
                           for _ in range(num_tokens)])
    weights = torch.rand(num_tokens, TOP_K, generator=gen)
    return indices, weights


def test_masked_equals_sorted_dispatch_on_hand_built_experts():
    tokens = torch.arange(12.0).view(6, 2)
    indices = torch.tensor([[0, 2], [2, 1], [1, 0], [2, 0], [1, 2], [0, 1]])
    weights = torch.tensor([[0.7, 0.3], [0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [1.0, 0.0]])
    expert_fn = lambda i, x: x * (i + 1) + i  # noqa: E731
    got = masked_dispatch(tokens, indices, weights, expert_fn, 3)
    torch.testing.assert_close(got, sparse_dispatch(tokens, indices, weights, expert_fn, 3))
    # token 1 = (2, 3): 0.5·(x·3 + 2) + 0.5·(x·2 + 1)
    assert got[1].tolist() == pytest.approx([0.5 * 8 + 0.5 * 5, 0.5 * 11 + 0.5 * 7])


@pytest.mark.parametrize('kind', ['ffn', 'fme'])
def test_masked_equals_sorted_values_and_gradients(kind):
    torch.manual_seed(0)
    experts = (FFNExperts(DIM, NUM_EXPERTS, dropout=0.0) if kind == 'ffn' else
               FeatureModulationExperts(DIM, NUM_EXPERTS, dropout=0.0))
    indices, weights = _routing(13, skip_expert=3)  # expert 3 gets no token
    results = []
    for dispatch in (sparse_dispatch, masked_dispatch):
        tokens = torch.randn(13, DIM, generator=torch.Generator().manual_seed(1), requires_grad=True)
        w = weights.clone().requires_grad_(True)
        experts.zero_grad()
        out = dispatch(experts.prepare(tokens), indices, w, experts.expert_forward, NUM_EXPERTS)
        out.square().sum().backward()
        first_param = next(experts.parameters())
        results.append([out.detach(), tokens.grad, w.grad, first_param.grad.clone()])
    for eager, masked in zip(*results):
        torch.testing.assert_close(masked, eager, rtol=1e-5, atol=1e-6)


def test_masked_dispatch_runs_each_expert_on_its_own_tokens_only():
    indices, weights = _routing(17, seed=2, skip_expert=0)
    tokens = torch.randn(17, DIM)
    seen = {}

    def recording(expert, rows):
        seen[expert] = rows.clone()
        return rows

    masked_dispatch(tokens, indices, weights, recording, NUM_EXPERTS)
    assert 0 not in seen  # eagerly, an expert without tokens is not called
    for expert, rows in seen.items():
        token_ids = (indices == expert).any(1).nonzero().squeeze(1)
        torch.testing.assert_close(rows, tokens[token_ids])  # its tokens, in token order
    assert sum(r.shape[0] for r in seen.values()) == 17 * TOP_K


def test_masked_dispatch_of_no_tokens():
    out = masked_dispatch(torch.zeros(0, DIM), torch.zeros(0, TOP_K, dtype=torch.long), torch.zeros(0, TOP_K),
                          lambda i, x: x[:, :3], NUM_EXPERTS)
    assert out.shape == (0, 3)


class _Branch(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)[0]


@pytest.mark.parametrize('kind', ['moe', 'fme', 'prmoe'])
def test_exported_layer_follows_new_routings(kind):
    """``torch.export`` records the masked dispatch with symbolic per-expert sizes: inputs routed unlike the
    example (other token counts, other experts) still give the eager result."""
    torch.manual_seed(0)
    experts = FFNExperts(DIM, NUM_EXPERTS) if kind != 'fme' else FeatureModulationExperts(DIM, NUM_EXPERTS)
    residual = PreNormFeedForward(DIM) if kind == 'prmoe' else None
    layer = MoELayer(TopKRouter(DIM, NUM_EXPERTS, TOP_K), experts, residual=residual).eval()
    dims = ({0: torch.export.Dim.DYNAMIC, 1: torch.export.Dim.DYNAMIC}, )
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # routing statistics kept as plain attributes
        exported = torch.export.export(_Branch(layer), (torch.randn(2, 4, DIM), ), dynamic_shapes=dims)
    exported = exported.module()
    nonzeros = [n for n in exported.graph.nodes if n.target == torch.ops.aten.nonzero.default]
    assert len(nonzeros) == NUM_EXPERTS  # one symbolic-size selection per expert, no dense fallback
    with torch.no_grad():
        for seed, shape in ((1, (1, 9)), (2, (3, 5))):
            x = torch.randn(*shape, DIM, generator=torch.Generator().manual_seed(seed)) * 3
            torch.testing.assert_close(exported(x), layer(x)[0], rtol=1e-5, atol=1e-6)
