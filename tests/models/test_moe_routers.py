"""TopKRouter (Eq. 1–2), MMoE gates, and the Uncertainty-aware Router (Eq. 7) on hand-built tensors."""
import math

import pytest
import torch

from mmmofme.models.moe import TopKRouter, UncertaintyAwareRouter, uncertainty_calibration


def _set_gate(router, weight, bias):
    with torch.no_grad():
        router.gate.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        router.gate.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))


def _softmax(row):
    exps = [math.exp(v) for v in row]
    return [e / sum(exps) for e in exps]


@pytest.mark.parametrize('renormalize', [True, False])
def test_topk_router_keeps_k_probabilities(renormalize):
    router = TopKRouter(dim=2, num_experts=4, top_k=2, renormalize=renormalize)
    _set_gate(router, [[1, 0], [0, 1], [-1, 0], [1, 1]], [0, 0, 0, 0.5])
    x = torch.tensor([[1.0, 2.0], [-2.0, 0.5]])
    out = router(x)
    for n, (a, b) in enumerate(x.tolist()):
        p = _softmax([a, b, -a, a + b + 0.5])
        assert out.probs[n].tolist() == pytest.approx(p, rel=1e-5)
        top = sorted(range(4), key=lambda i: -p[i])[:2]
        assert out.indices[n].tolist() == top
        kept = [p[i] for i in top]
        expected = [v / sum(kept) for v in kept] if renormalize else kept
        assert out.weights[n].tolist() == pytest.approx(expected, rel=1e-5)
    dense = torch.zeros(2, 4).scatter(1, out.indices, out.weights)
    assert ((dense != 0).sum(1) == 2).all()
    assert out.variance is None


def test_mmoe_gates_pick_by_task_and_average_without_task():
    router = TopKRouter(dim=3, num_experts=4, top_k=1, num_tasks=2)
    x = torch.randn(5, 3)
    logits = router.gate(x).view(5, 2, 4)
    tasks = torch.tensor([0, 1, 1, 0, 1])
    out = router(x, tasks)
    expected = logits[torch.arange(5), tasks].softmax(-1)
    torch.testing.assert_close(out.probs, expected)
    mean_gate = router(x).probs
    torch.testing.assert_close(mean_gate, logits.softmax(-1).mean(1))


def test_uncertainty_calibration_matches_hand_computation():
    samples = torch.tensor([[[0.2, 0.3, 0.5]], [[0.4, 0.2, 0.4]], [[0.3, 0.4, 0.3]]])  # M=3, N=1, E=3
    point = torch.tensor([[0.25, 0.35, 0.40]])
    eps = 1e-6
    mean = [0.3, 0.3, 0.4]
    var = [((0.2 - 0.3)**2 + (0.4 - 0.3)**2 + 0) / 2,  # unbiased, /(M-1)
           ((0.3 - 0.3)**2 + (0.2 - 0.3)**2 + (0.4 - 0.3)**2) / 2,
           ((0.5 - 0.4)**2 + 0 + (0.3 - 0.4)**2) / 2]
    raw = [(p - m) / (v + eps) for p, m, v in zip([0.25, 0.35, 0.40], mean, var)]
    norm = math.sqrt(sum(r * r for r in raw))
    got = uncertainty_calibration(point, samples, eps)
    assert got[0].tolist() == pytest.approx([r / norm for r in raw], rel=1e-4, abs=1e-6)
    assert got.norm(dim=-1).item() == pytest.approx(1.0, rel=1e-5)


class _FixedMC(UncertaintyAwareRouter):
    """UaR whose MC passes return given logits (dropout is random; the formula is what is tested)."""

    def __init__(self, mc_logits, **kwargs):
        super().__init__(**kwargs)
        self.fixed = mc_logits

    def mc_logits(self, x, task_ids=None):
        return self.fixed


@pytest.mark.parametrize('renormalize', [True, False])
@pytest.mark.parametrize('calibrate', ['probs', 'logits'])
def test_uar_training_weights_follow_eq7(renormalize, calibrate):
    torch.manual_seed(0)
    mc = torch.randn(5, 3, 4)
    router = _FixedMC(mc, dim=2, num_experts=4, top_k=2, renormalize=renormalize, calibrate=calibrate)
    router.train()
    x = torch.randn(3, 2)
    out = router(x)
    logits = router.gate(x)
    probs = logits.softmax(-1)
    top_p, top_i = probs.topk(2)
    assert out.indices.tolist() == top_i.tolist()  # experts chosen from the dropout-free p
    point, samples = (probs, mc.softmax(-1)) if calibrate == 'probs' else (logits, mc)
    raw = (point - samples.mean(0)) / (samples.var(0, unbiased=True) + 1e-6)
    r_tilde = raw / raw.norm(dim=-1, keepdim=True)
    mass = torch.ones(3, 1) if renormalize else top_p.sum(-1, keepdim=True)
    torch.testing.assert_close(out.weights, mass * r_tilde.gather(1, top_i).softmax(-1))
    torch.testing.assert_close(out.variance, mc.softmax(-1).var(0, unbiased=True))


def test_uar_eval_is_the_plain_topk_router():
    uar = UncertaintyAwareRouter(dim=6, num_experts=5, top_k=3)
    plain = TopKRouter(dim=6, num_experts=5, top_k=3)
    plain.load_state_dict(uar.state_dict())
    x = torch.randn(7, 6)
    uar.eval()
    a, b = uar(x), plain(x)
    assert torch.equal(a.indices, b.indices) and torch.equal(a.weights, b.weights)
    assert a.variance is None
    uar.train()
    assert not torch.allclose(uar(x).weights, b.weights)  # training really takes the MC path


def test_uar_mc_dropout_gives_variance_and_gradients():
    torch.manual_seed(0)
    router = UncertaintyAwareRouter(dim=16, num_experts=4, top_k=2, mc_samples=5, mc_dropout=0.1).train()
    out = router(torch.randn(8, 16))
    assert (out.variance > 0).all()
    out.weights.pow(2).sum().backward()  # (their plain sum is 1: no gradient)
    assert router.gate.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('kwargs,field', [
    (dict(num_experts=4, top_k=5), 'top_k'),
    (dict(num_experts=4, top_k=0), 'top_k'),
    (dict(num_experts=4, top_k=2, num_tasks=0), 'num_tasks'),
])
def test_router_rejects_bad_config(kwargs, field):
    with pytest.raises(ValueError, match=field):
        TopKRouter(dim=4, **kwargs)


@pytest.mark.parametrize('kwargs,field', [
    (dict(mc_samples=1), 'mc_samples'),
    (dict(mc_dropout=0.0), 'mc_dropout'),
    (dict(eps=0.0), 'router.eps'),
    (dict(calibrate='cov'), 'calibrate'),
])
def test_uar_rejects_bad_config(kwargs, field):
    with pytest.raises(ValueError, match=field):
        UncertaintyAwareRouter(dim=4, num_experts=4, top_k=2, **kwargs)
