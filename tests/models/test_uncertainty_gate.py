"""The fall-back blend and the MC-dropout gate: identity at zero confidence, restored at one."""
import pytest
import torch
from torch import nn

from mmmofme.models.archs import MCDropoutGate, MoFMEViT, blend_with_input


def test_blend_is_the_input_at_zero_confidence_and_the_restoration_at_one():
    x, r = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    torch.testing.assert_close(blend_with_input(x, r, torch.zeros(2, 1, 8, 8)), x)
    torch.testing.assert_close(blend_with_input(x, r, torch.ones(2, 1, 8, 8)), r)
    half = blend_with_input(x, r, torch.full((2, 1, 8, 8), 0.25))
    torch.testing.assert_close(half, 0.75 * x + 0.25 * r)


class NoisyShift(nn.Module):
    """Adds 0.3 and passes through dropout (scale 1/(1-p) on kept values): a known spread."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.drop = nn.Dropout(p)

    def forward(self, x, task_ids=None):
        return self.drop(x + 0.3)

    def forward_with_aux(self, x, task_ids=None):
        return self(x), {'loss_lb': x.new_zeros(())}


def test_gate_falls_back_to_the_input_where_passes_disagree():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 16, 16)
    sure = MCDropoutGate(NoisyShift(1e-6), samples=3, sigma_max=0.05, blur=1).eval()
    torch.testing.assert_close(sure(x), x + 0.3, atol=1e-4, rtol=0)  # no spread: the restoration
    unsure = MCDropoutGate(NoisyShift(0.5), samples=8, sigma_max=0.05, blur=1).eval()
    torch.testing.assert_close(unsure(x), x)  # passes differ by ~x: σ far above σ_max, the input


def test_gate_confidence_is_linear_in_sigma():
    gate = MCDropoutGate(NoisyShift(0.1), samples=2, sigma_max=0.2, blur=1)
    passes = torch.stack([torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.1 * 2 ** 0.5)])
    torch.testing.assert_close(gate.confidence(passes), torch.full((1, 1, 2, 2), 0.5))  # σ = 0.1


def test_gate_restores_dropout_to_eval_and_is_transparent_in_training():
    inner = NoisyShift(0.5)
    gate = MCDropoutGate(inner, samples=2).eval()
    gate(torch.rand(1, 3, 8, 8))
    assert not inner.drop.training
    gate.train()
    out, aux = gate.forward_with_aux(torch.rand(1, 3, 8, 8))
    assert set(aux) == {'loss_lb'}


def test_gate_wraps_a_mofme_config_and_keeps_the_shape():
    gate = MCDropoutGate(dict(type='MoFMEViT', **dict(embed_dim=32, depth=1, img_size=32, num_heads=2,
                                                      head_dim=16, stem_channels=8, head_channels=16,
                                                      num_experts=4, top_k=2)), samples=2).eval()
    assert isinstance(gate.restorer, MoFMEViT)
    with torch.no_grad():
        out = gate(torch.rand(2, 3, 32, 48))
    assert out.shape == (2, 3, 32, 48)


@pytest.mark.parametrize('kwargs, message', [(dict(samples=1), 'samples'), (dict(blur=4), 'blur')])
def test_gate_bad_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MCDropoutGate(NoisyShift(0.1), **kwargs)


def test_gate_needs_a_restorer_with_dropout():
    with pytest.raises(ValueError, match='no dropout'):
        MCDropoutGate(nn.Identity())
