"""Expert sets equal their formulas; parameter counts per expert."""
import torch
import torch.nn.functional as F
from torch import nn

from mmmofme.models.moe import FeatureModulationExperts, FFNExperts, MoELayer, TopKRouter


def test_ffn_expert_equals_layernorm_and_two_linears():
    torch.manual_seed(0)
    experts = FFNExperts(dim=6, num_experts=3).eval()
    with torch.no_grad():
        experts.norm_weight.uniform_(0.5, 1.5)
        experts.norm_bias.normal_()
    x = torch.randn(4, 6)
    i = 2
    norm = nn.LayerNorm(6)
    fc1, fc2 = nn.Linear(6, 24), nn.Linear(24, 6)
    with torch.no_grad():
        norm.weight.copy_(experts.norm_weight[i])
        norm.bias.copy_(experts.norm_bias[i])
        fc1.weight.copy_(experts.fc1_weight[i])
        fc1.bias.copy_(experts.fc1_bias[i])
        fc2.weight.copy_(experts.fc2_weight[i])
        fc2.bias.copy_(experts.fc2_bias[i])
    torch.testing.assert_close(experts.expert_forward(i, experts.prepare(x)), fc2(F.gelu(fc1(norm(x)))))


def test_fme_layer_equals_eq6_with_shared_ffn():
    """out = FFN_s(Σ_k r_k (γ_k(h) ∘ h + β_k(h))), h = W_s LN(x) + b_s, written out by hand."""
    torch.manual_seed(0)
    d, e = 6, 4
    layer = MoELayer(TopKRouter(d, e, top_k=2), FeatureModulationExperts(d, e)).eval()
    fme = layer.experts
    x = torch.randn(1, 5, d)
    out, _ = layer(x)

    tokens = x[0]
    route = layer.router(tokens)
    h = F.layer_norm(tokens, (d, ), fme.norm.weight, fme.norm.bias) @ fme.shared.weight.T + fme.shared.bias
    mixed = torch.zeros_like(h)
    for n in range(5):
        for j in range(2):
            i = int(route.indices[n, j])
            w, b = fme.modulation_weight[i], fme.modulation_bias[i]
            gamma = h[n] @ w[:d].T + b[:d]
            beta = h[n] @ w[d:].T + b[d:]
            mixed[n] += route.weights[n, j] * (gamma * h[n] + beta)
    ffn = fme.ffn
    expected = F.gelu(mixed @ ffn.fc1.weight.T + ffn.fc1.bias) @ ffn.fc2.weight.T + ffn.fc2.bias
    torch.testing.assert_close(out[0], expected, rtol=1e-5, atol=1e-6)


def _numel(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_per_expert():
    d = 12
    for e in (1, 3):
        assert _numel(FFNExperts(d, e)) == e * (8 * d * d + 7 * d)
        assert _numel(FeatureModulationExperts(d, e)) == 9 * d * d + 8 * d + e * (2 * d * d + 2 * d)
        assert _numel(TopKRouter(d, e, 1)) == e * (d + 1)
