"""FFA-Net: the paper's size, the attention equations and the fusion."""
import pytest
import torch
from helpers import assert_every_parameter_gets_a_gradient, conv_gmac_at_256, num_params

from mmmofme.models.editors import FFANet
from mmmofme.models.editors.ffa_net import ChannelAttention, FeatureAttentionBlock, PixelAttention


def test_paper_size_and_gmac():
    model = FFANet()
    # 3 groups x (19 blocks of 75,481 + a 36,928 conv) + shallow, fusion, reconstruction; Table 3: 4.46M
    assert num_params(model) == 4_455_913
    assert abs(num_params(model) / 4.46e6 - 1) < 0.01
    assert conv_gmac_at_256(model) == pytest.approx(288.34, rel=0.01)  # Table 3, 256x256


def test_odd_sizes_and_gradients():
    torch.manual_seed(0)
    model = FFANet(mid_channels=16, num_groups=2, num_blocks=2, reduction=4)
    for h, w in [(1, 1), (9, 14), (21, 11)]:
        assert model(torch.rand(2, 3, h, w)).shape == (2, 3, h, w)
    assert_every_parameter_gets_a_gradient(model)


def test_channel_and_pixel_attention_equations():
    ca, pa = ChannelAttention(4, reduction=2), PixelAttention(4, reduction=2)
    x = torch.rand(2, 4, 5, 6)
    conv1, conv2 = ca.weights[1], ca.weights[3]
    squeeze = x.mean(dim=(2, 3))
    hidden = torch.relu(squeeze @ conv1.weight[:, :, 0, 0].T + conv1.bias)
    weights = torch.sigmoid(hidden @ conv2.weight[:, :, 0, 0].T + conv2.bias)
    assert torch.allclose(ca(x), x * weights[:, :, None, None], atol=1e-6)
    conv1, conv2 = pa.weights[0], pa.weights[2]
    pixels = x.permute(0, 2, 3, 1)
    hidden = torch.relu(pixels @ conv1.weight[:, :, 0, 0].T + conv1.bias)
    weight = torch.sigmoid(hidden @ conv2.weight[:, :, 0, 0].T + conv2.bias)  # (B, H, W, 1): one per pixel
    assert torch.allclose(pa(x), x * weight.permute(0, 3, 1, 2), atol=1e-6)


def test_block_is_identity_when_its_second_conv_is_zero():
    block = FeatureAttentionBlock(8, reduction=4)
    torch.nn.init.zeros_(block.conv2.weight)
    torch.nn.init.zeros_(block.conv2.bias)
    x = torch.rand(1, 8, 7, 7)
    assert torch.equal(block(x), x)  # local residual learning: x + PA(CA(0))


def test_fusion_weights_each_group_per_channel():
    torch.manual_seed(0)
    model = FFANet(mid_channels=16, num_groups=2, num_blocks=1, reduction=4).eval()
    # saturate the fusion attention to 1 for group 0 and 0 for group 1: only group 0's features pass
    last = model.fusion_weights[3]
    torch.nn.init.zeros_(last.weight)
    with torch.no_grad():
        last.bias.copy_(torch.cat([torch.full((16, ), 60.0), torch.full((16, ), -60.0)]))
    x = torch.rand(1, 3, 10, 10)
    with torch.no_grad():
        first_group = model.groups[0](model.shallow(x))
        expected = x + model.reconstruct(model.fusion_pixel_attention(first_group))
        assert torch.allclose(model(x), expected, atol=1e-6)
