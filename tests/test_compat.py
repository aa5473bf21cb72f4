"""mmmofme.compat: with every private torch / mmengine path switched off, the public fallbacks give the
same results (or, for checkpoints holding more than weights, a clear error naming the file)."""
import pytest
import torch
from mmengine.logging import HistoryBuffer

from mmmofme import compat
from mmmofme.models.moe import FeatureModulationExperts, FFNExperts, MoELayer, TopKRouter
from mmmofme.utils.checkpoint import CheckpointError, load_state_dict, load_weights_only


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


def test_checkpoints_without_the_unpickler_allow_list(public_only, tmp_path):
    weights = {'w': torch.arange(3.0)}
    plain = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=weights), plain)
    torch.testing.assert_close(load_state_dict(str(plain))['w'], weights['w'])  # torch.load(weights_only)
    runner = tmp_path / 'runner.pth'
    torch.save(dict(state_dict=weights, message_hub=dict(log=HistoryBuffer())), runner)
    with pytest.raises(CheckpointError, match=f'{runner}: holds more than weights'):
        load_weights_only(str(runner))


def test_checkpoints_with_the_allow_list_skip_non_weights(tmp_path):
    if compat.weights_only_allowed_globals() is None:
        pytest.skip('this torch has no weights-only allow-list')
    runner = tmp_path / 'runner.pth'
    torch.save(dict(state_dict={'w': torch.ones(2)}, message_hub=dict(log=HistoryBuffer())), runner)
    assert load_state_dict(str(runner))['w'].tolist() == [1.0, 1.0]


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
