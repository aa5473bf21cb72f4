"""PReNet: the paper's size, its recursion and the conv-LSTM's equations."""
import pytest
import torch
from helpers import assert_every_parameter_gets_a_gradient, conv_gmac_at_256, num_params

from mmmofme.models.editors import PReNet
from mmmofme.models.editors.prenet import ConvLSTMCell


def test_paper_size_and_gmac():
    model = PReNet()
    # f_in 1,760 + LSTM 4·18,464 + 5 blocks · 2 · 9,248 + f_out 867; Table 3: 0.17M
    assert num_params(model) == 168_963
    assert abs(num_params(model) / 0.17e6 - 1) < 0.01
    assert conv_gmac_at_256(model) == pytest.approx(66.58, rel=0.01)  # Table 3, 256x256


def test_prn_has_no_lstm():
    assert num_params(PReNet()) - num_params(PReNet(recurrent=False)) == 4 * (64 * 32 * 9 + 32)


def test_odd_sizes_and_gradients():
    torch.manual_seed(0)
    model = PReNet(mid_channels=8, num_stages=3, num_res_blocks=2)
    for h, w in [(1, 1), (7, 13), (31, 17)]:
        assert model(torch.rand(2, 3, h, w)).shape == (2, 3, h, w)
    assert_every_parameter_gets_a_gradient(model)


def test_stages_share_weights_and_refine_the_estimate():
    torch.manual_seed(0)
    model = PReNet(mid_channels=8, num_stages=4, num_res_blocks=1).eval()
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        stages = model.forward_stages(x)
        assert len(stages) == 4 and torch.equal(stages[-1], model(x))
        # the first stages of a longer run are the stages of a shorter one (same shared weights)
        model.num_stages = 2
        assert all(torch.equal(a, b) for a, b in zip(model.forward_stages(x), stages[:2]))
    # stage t sees the previous estimate: its output differs from stage 1's
    assert not torch.allclose(stages[0], stages[1])


def test_zero_output_conv_returns_the_input():
    model = PReNet(mid_channels=8, num_stages=2, num_res_blocks=1)
    torch.nn.init.zeros_(model.f_out.weight)
    torch.nn.init.zeros_(model.f_out.bias)
    x = torch.rand(1, 3, 9, 9)
    assert torch.equal(model(x), x)  # x_t = y + f_out(...): the residual form


def test_conv_lstm_equations_on_hand_set_gates():
    cell = ConvLSTMCell(in_channels=1, channels=1)
    torch.nn.init.zeros_(cell.gates.weight)
    with torch.no_grad():
        cell.gates.bias.copy_(torch.tensor([0.5, -1.0, 2.0, 0.25]))  # i, f, g, o pre-activations
    x = torch.rand(1, 1, 3, 3)
    c_prev = torch.full((1, 1, 3, 3), 0.8)
    h, (h_state, c) = cell(x, (torch.zeros_like(c_prev), c_prev))
    i, f, g, o = torch.sigmoid(torch.tensor(0.5)), torch.sigmoid(torch.tensor(-1.0)), torch.tanh(
        torch.tensor(2.0)), torch.sigmoid(torch.tensor(0.25))
    expected_c = f * 0.8 + i * g
    assert torch.allclose(c, expected_c.expand_as(c))
    assert torch.allclose(h, (o * torch.tanh(expected_c)).expand_as(h)) and h is h_state
    # no state: zeros
    _, (_, c0) = cell(x)
    assert torch.allclose(c0, (i * g).expand_as(c0))


def test_bad_stage_count_is_one_line():
    with pytest.raises(ValueError, match='num_stages must be >= 1'):
        PReNet(num_stages=0)
