"""RESCAN: the paper's size, the conv-GRU and SE equations, additive vs full prediction."""
import pytest
import torch
from helpers import assert_every_parameter_gets_a_gradient, conv_gmac_at_256, num_params

from mmmofme.models.editors import RESCAN
from mmmofme.models.editors.rescan import DilatedConvGRU, SqueezeExcitation


def test_paper_size_and_gmac():
    model = RESCAN()
    # 5 conv-GRU layers (first on RGB, dilations 1, 2, 4, 8) + decoder; Table 3: 0.15M
    assert num_params(model) == 149_823
    assert abs(num_params(model) / 0.15e6 - 1) < 0.01
    # stage 1 has no hidden-state convs, stages 2-4 do; Table 3: 32.32 GMAC at 256x256
    assert conv_gmac_at_256(model) == pytest.approx(32.32, rel=0.01)


def test_dilations_grow_and_odd_sizes_work():
    torch.manual_seed(0)
    model = RESCAN(mid_channels=8, depth=6, num_stages=2, se_hidden=4)
    assert [layer.x_reset.dilation[0] for layer in model.layers] == [1, 1, 2, 4]
    for h, w in [(1, 1), (5, 11), (23, 17)]:
        assert model(torch.rand(2, 3, h, w)).shape == (2, 3, h, w)
    assert_every_parameter_gets_a_gradient(model)


def test_output_is_input_minus_the_last_rain_layer_and_additive_accumulates():
    torch.manual_seed(0)
    additive = RESCAN(mid_channels=8, depth=4, num_stages=3, se_hidden=2).eval()
    full = RESCAN(mid_channels=8, depth=4, num_stages=3, se_hidden=2, prediction='full').eval()
    full.load_state_dict(additive.state_dict())
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        rain = additive.forward_stages(x)
        assert torch.allclose(additive(x), x - rain[-1])
        # stage 1 is the same; afterwards 'full' predicts the layer outright
        full_rain = full.forward_stages(x)
        assert torch.allclose(rain[0], full_rain[0])
        assert not torch.allclose(rain[1], full_rain[1])


def test_squeeze_excitation_equation():
    se = SqueezeExcitation(channels=2, hidden=1)
    with torch.no_grad():
        se.fc[0].weight.fill_(1.0), se.fc[0].bias.zero_()
        se.fc[2].weight.copy_(torch.tensor([[1.0], [-1.0]])), se.fc[2].bias.zero_()
    x = torch.tensor([[[[1.0, 3.0]], [[2.0, 2.0]]]])  # channel means 2 and 2
    weights = torch.sigmoid(torch.tensor([4.0, -4.0]))  # W2 · relu(2 + 2)
    assert torch.allclose(se(x), x * weights[None, :, None, None])


def test_conv_gru_equations_with_and_without_state():
    gru = DilatedConvGRU(1, 1, se_hidden=1)
    for conv in (gru.x_update_candidate, gru.x_reset, gru.h_update_reset, gru.h_candidate):
        torch.nn.init.zeros_(conv.weight)
    with torch.no_grad():
        gru.x_update_candidate.bias.copy_(torch.tensor([0.3, 0.7]))  # z_x, n_x
        gru.x_reset.bias.fill_(-0.2)
        gru.h_update_reset.bias.copy_(torch.tensor([0.1, 0.4]))  # z_h, r_h
        gru.h_candidate.bias.fill_(0.5)
        gru.se.fc[2].weight.zero_(), gru.se.fc[2].bias.fill_(50.0)  # SE weight σ(50) = 1
    x = torch.rand(1, 1, 4, 4)
    s, t = torch.sigmoid, torch.tanh
    leaky = torch.nn.functional.leaky_relu
    first = gru(x)
    assert torch.allclose(first, leaky(s(torch.tensor(0.3)) * t(torch.tensor(0.7)), 0.2).expand_as(first))
    h = torch.full((1, 1, 4, 4), -0.6)
    z, n = s(torch.tensor(0.4)), t(torch.tensor(0.7 + 0.5))  # h_candidate has zero weight: only its bias
    expected = leaky((1 - z) * -0.6 + z * n, 0.2)
    assert torch.allclose(gru(x, h), expected.expand_as(h), atol=1e-6)


def test_bad_settings_are_one_line():
    with pytest.raises(ValueError, match='depth must be >= 3'):
        RESCAN(depth=2)
    with pytest.raises(ValueError, match="prediction must be 'additive' or 'full'"):
        RESCAN(prediction='sum')
