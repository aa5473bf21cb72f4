"""mmmofme.compat: with every private torch / mmengine path switched off, the public fallbacks give the
same results."""
import pytest
import torch

from mmmofme import compat
from mmmofme.models.moe import FeatureModulationExperts, FFNExperts, MoELayer, TopKRouter


@pytest.fixture
def public_only(monkeypatch):
    """What ``MMMOFME_PUBLIC_ONLY=1`` gives: no oneDNN ops, no version counter, no unpickler allow-list."""
    monkeypatch.setattr(compat, '_ONEDNN', None)
    monkeypatch.setattr(compat, 'PUBLIC_ONLY', True)


def _layer(experts_cls) -> MoELayer:
    torch.manual_seed(0)
    return MoELayer(TopKRouter(16, 6, 2), experts_cls(16, 6)).eval()


@pytest.mark.parametrize('experts_cls', [FFNExperts, FeatureModulationExperts])
def test_experts_without_onednn_give_the_same_output(experts_cls, monkeypatch):
    layer = _layer(experts_cls)
    x = torch.randn(2, 9, 16)
    with torch.no_grad():
        fast = layer(x)[0]  # packed oneDNN weights where this torch has them
        monkeypatch.setattr(compat, '_ONEDNN', None)
        monkeypatch.setattr(compat, 'PUBLIC_ONLY', True)
        assert not compat.onednn_linear_available()
        plain = layer(x)[0]
    torch.testing.assert_close(plain, fast, rtol=1e-5, atol=1e-5)


def test_without_a_version_counter_packed_weights_still_follow_updates(monkeypatch):
    if not compat.onednn_linear_available():
        pytest.skip('torch built without oneDNN')
    monkeypatch.setattr(compat, 'PUBLIC_ONLY', True)  # keeps oneDNN, drops Tensor._version
    assert compat.tensor_version(torch.zeros(1)) is None
    layer = _layer(FeatureModulationExperts)
    x = torch.randn(1, 7, 16)
    with torch.no_grad():
        before = layer(x)[0]
        layer.experts.modulation_weight.mul_(2.0)
        after = layer(x)[0]
        monkeypatch.setattr(compat, '_ONEDNN', None)
        reference = layer(x)[0]
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, reference, rtol=1e-5, atol=1e-5)


def test_preprocessor_flags_through_public_attributes_where_they_exist(public_only):
    from mmengine.model import ImgDataPreprocessor
    from mmseg.models import SegDataPreProcessor

    seg = SegDataPreProcessor(mean=[0, 0, 0], std=[255, 255, 255], bgr_to_rgb=True)
    assert compat.preprocessor_converts_channels(seg) and compat.preprocessor_normalizes(seg)
    assert not compat.preprocessor_normalizes(SegDataPreProcessor())
    with pytest.raises(AttributeError, match='ImgDataPreprocessor: cannot tell'):
        compat.preprocessor_converts_channels(ImgDataPreprocessor(bgr_to_rgb=True))


def test_preprocessor_channel_flag_of_mmengine(monkeypatch):
    from mmengine.model import ImgDataPreprocessor

    assert compat.preprocessor_converts_channels(ImgDataPreprocessor(bgr_to_rgb=True))
    assert not compat.preprocessor_converts_channels(ImgDataPreprocessor())
