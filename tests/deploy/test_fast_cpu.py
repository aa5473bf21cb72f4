"""The fast CPU path (oneDNN-packed convs and linears, channels-last) gives eager's outputs to 1e-5."""
import pytest
import torch

from mmmofme.deploy.fast_cpu import PackedConv2d, PackedLinear, fast_cpu_model, fast_path_available
from mmmofme.models import MoFMEViT
from mmmofme.models.archs import variant

pytestmark = pytest.mark.skipif(not fast_path_available(), reason='no oneDNN packed ops in this torch build')


@pytest.mark.parametrize('name', ['dense', 'moe', 'mofme', 'mmoe', 'prmoe'])
def test_fast_path_equals_eager(name):
    torch.manual_seed(0)
    model = MoFMEViT.tiny(**variant(name), confidence_head=True).eval()
    fast = fast_cpu_model(model)
    assert not any(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in fast.modules())
    assert any(isinstance(m, PackedConv2d) and m.relu for m in fast.modules())  # ResBlock ReLU fused
    images = torch.rand(2, 3, 37, 45)
    with torch.no_grad():
        expected = model(images)
        got = fast(images)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
    # the source model is untouched and still trains
    assert isinstance(model.stem.conv, torch.nn.Conv2d)
    model.train()(images).mean().backward()


def test_packed_layers_compute_conv_and_linear():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1)
    x = torch.randn(2, 4, 9, 11)
    torch.testing.assert_close(PackedConv2d(conv, relu=True)(x), torch.relu(conv(x)).detach(), rtol=0,
                               atol=1e-6)
    linear = torch.nn.Linear(5, 7)
    tokens = torch.randn(3, 4, 5)
    torch.testing.assert_close(PackedLinear(linear)(tokens), linear(tokens).detach(), rtol=0, atol=1e-6)


def test_init_restorer_fast_cpu_keeps_tiling_and_outputs():
    from mmmofme.apis import init_restorer, restore
    torch.manual_seed(0)
    eager = init_restorer('tests/configs/tiny_restorer.py')
    torch.manual_seed(0)  # same initial weights
    fast = init_restorer('tests/configs/tiny_restorer.py', fast_cpu=True)
    assert fast.restore_cfg == eager.restore_cfg and fast.fast_cpu
    image = (torch.rand(50, 70, 3) * 255).byte().numpy()
    assert abs(restore(fast, image).astype(int) - restore(eager, image).astype(int)).max() <= 1


def test_benchmark_deploy_rows(load_tool, tmp_path):
    out = tmp_path / 'rows.json'
    rows = load_tool('analysis_tools/benchmark_deploy').main(
        ['tests/configs/tiny_restorer.py', '--sizes', '40x56', '--backends', 'eager', 'fast',
         '--threads', '1', '--runs', '1', '--out', str(out)])
    assert [(r['backend'], r['size']) for r in rows] == [('eager', '40x56'), ('fast', '40x56')]
    assert rows[0]['vs_eager'] == 1.0 and rows[1]['max_abs_diff_vs_eager'] <= 1e-5
    assert all(r['seconds'] > 0 and r['peak_rss_gib'] > 0 for r in rows)
    assert out.exists()
