"""TransWeather: the paper's size and GMAC, weather queries, any input size."""
import pytest
import torch
import torch.nn.functional as F
from helpers import assert_every_parameter_gets_a_gradient

from mmmofme.models.editors import TransWeather
from mmmofme.models.editors.transweather import SpatialReductionAttention, WeatherQueryAttention

TINY = dict(embed_dims=(8, 16, 16, 32), num_heads=(1, 1, 2, 2), depths=(1, 1, 1, 1), decoder_depth=1,
            decoder_num_heads=2, num_queries=4, tail_dims=(8, 8))
CONFIG = 'configs/baselines/transweather_rain-haze-cityscapes-256.py'


@pytest.fixture(scope='module')
def paper_stats(load_tool):
    """model_stats.py's row for the shipped config, and the tail's transposed-conv GMAC."""
    from pathlib import Path

    from mmengine.analysis import FlopAnalyzer
    stats = load_tool('analysis_tools/model_stats')
    root = Path(__file__).resolve().parents[3]
    row, = stats.config_rows([str(root / CONFIG)], count_sdpa=False)
    model = TransWeather().eval()
    analyzer = FlopAnalyzer(model, (torch.rand(1, 3, 256, 256), ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return row, analyzer.by_module()['tail.ups'] / 1e9


def test_paper_parameter_count(paper_stats):
    row, _ = paper_stats
    assert row['params'] == row['restorer_params'] == 37_755_411 and row['crop'] == 256
    # Table 3: 38.05M; the released network also holds an unused 1/32 intra-patch embedding (296,448
    # parameters) and an unused 8->3 conv (219) that we do not build: -0.78 %
    assert abs(row['params'] / 38.05e6 - 1) < 0.01
    assert row['params'] + 296_448 + 219 == pytest.approx(38.05e6, rel=2e-4)


def test_paper_gmac(paper_stats):
    row, transposed = paper_stats
    assert row['gmac'] == pytest.approx(4.2233, rel=1e-3)  # true MACs, attention matmuls not counted
    # Table 3's 6.12 counts each stride-2 transposed conv per output pixel (4x its MACs), as thop does
    assert row['gmac'] + 3 * transposed == pytest.approx(6.12, rel=0.01)


def test_any_input_size_and_gradients():
    torch.manual_seed(0)
    model = TransWeather(**TINY)
    for h, w in [(1, 1), (17, 23), (45, 31), (64, 64)]:
        out = model.eval()(torch.rand(1, 3, h, w))
        assert out.shape == (1, 3, h, w) and out.abs().max() <= 1  # tanh output
    # big enough that every attention sees several keys (one key: softmax = 1, no gradient for q)
    assert_every_parameter_gets_a_gradient(model, shape=(2, 3, 70, 90))


def test_encoder_scales_and_intra_patch_branch_feeds_the_next_stage():
    torch.manual_seed(0)
    model = TransWeather(**TINY).eval()
    x = torch.rand(1, 3, 50, 70)
    with torch.no_grad():
        feats = model.encode(x)
        assert [f.shape[1:] for f in feats] == [(8, 13, 18), (16, 7, 9), (16, 4, 5), (32, 2, 3)]
        assert model.decode(feats[-1]).shape == (1, 32, 1, 2)
        # zero the intra-patch branch's output norm: stages 2-4 change, stage 1 does not
        before = feats
        for norm in model.intra_norms:
            torch.nn.init.zeros_(norm.weight), torch.nn.init.zeros_(norm.bias)
        after = model.encode(x)
    assert torch.equal(before[0], after[0])
    assert all(not torch.allclose(b, a) for b, a in zip(before[1:], after[1:]))


def test_spatial_reduction_attention_equation():
    torch.manual_seed(0)
    attn = SpatialReductionAttention(dim=4, num_heads=2, sr_ratio=2)
    x, hw = torch.rand(1, 12, 4), (3, 4)  # a 3x4 grid: padded to 4x4, reduced to 2x2 keys
    grid = F.pad(x.transpose(1, 2).reshape(1, 4, 3, 4), (0, 0, 0, 1), mode='replicate')
    reduced = attn.reduce_norm(attn.reduce(grid).flatten(2).transpose(1, 2))  # (1, 4, 4)
    k, v = attn.kv(reduced).chunk(2, dim=-1)
    q = attn.q(x)
    heads = []
    for h in range(2):
        sl = slice(2 * h, 2 * h + 2)
        heads.append(torch.softmax(q[..., sl] @ k[..., sl].transpose(1, 2) / 2**0.5, dim=-1) @ v[..., sl])
    assert torch.allclose(attn(x, hw), attn.proj(torch.cat(heads, dim=-1)), atol=1e-6)


def test_weather_queries_are_learned_and_shared_by_the_batch():
    torch.manual_seed(0)
    attn = WeatherQueryAttention(dim=4, num_heads=1, num_queries=3)
    x = torch.rand(2, 6, 4)
    q = attn.queries(x)  # nearest resize of 3 queries to 6 tokens: each query serves two positions
    assert q.shape == (2, 1, 6, 4)
    projected = attn.q(attn.weather_queries)[0]
    assert torch.allclose(q[0, 0], projected.repeat_interleave(2, dim=0)) and torch.equal(q[0], q[1])
    out = attn(x, (2, 3))
    out.sum().backward()
    assert attn.weather_queries.grad.abs().sum() > 0  # the queries are learned


def test_mismatched_stage_settings_are_one_line():
    with pytest.raises(ValueError, match=r'depths needs one value per stage \(4\)'):
        TransWeather(depths=(2, 2, 2))
    with pytest.raises(ValueError, match='intra_num_heads needs 3 values'):
        TransWeather(intra_num_heads=(1, 2))
