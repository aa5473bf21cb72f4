"""The CPU inference fast path (oneDNN-packed expert weights) equals the autograd path and follows
weight changes."""
import copy
import pickle

import pytest
import torch

from mmmofme import compat
from mmmofme.models.moe import FeatureModulationExperts, FFNExperts, MoELayer, TopKRouter
from mmmofme.models.moe.packed import packed_path_usable

pytestmark = pytest.mark.skipif(not compat.onednn_linear_available(), reason='torch built without oneDNN')

DIM, NUM_EXPERTS, TOP_K = 16, 6, 2


def _layer(kind: str) -> MoELayer:
    torch.manual_seed(0)
    experts = FFNExperts(DIM, NUM_EXPERTS) if kind == 'moe' else FeatureModulationExperts(DIM, NUM_EXPERTS)
    layer = MoELayer(TopKRouter(DIM, NUM_EXPERTS, TOP_K), experts).eval()
    if kind == 'moe':  # non-trivial LayerNorm affines, which the packed fc1 folds in
        with torch.no_grad():
            experts.norm_weight.uniform_(0.5, 1.5)
            experts.norm_bias.normal_()
    return layer


def _packed_caches(experts):
    return [v for v in vars(experts).values() if hasattr(v, '_packed')]


@pytest.mark.parametrize('kind', ['moe', 'mofme'])
def test_packed_inference_equals_autograd_path(kind):
    layer = _layer(kind)
    x = torch.randn(2, 9, DIM)
    reference, _ = layer(x)  # grad enabled, parameters require grad: autograd path
    assert all(not cache._packed for cache in _packed_caches(layer.experts))
    with torch.no_grad():
        packed, _ = layer(x)
    assert all(len(cache._packed) == NUM_EXPERTS for cache in _packed_caches(layer.experts))
    torch.testing.assert_close(packed, reference, rtol=1e-5, atol=1e-5)
    with torch.inference_mode():
        torch.testing.assert_close(layer(x)[0], reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('kind', ['moe', 'mofme'])
def test_packed_weights_follow_parameter_updates_and_state_dicts(kind):
    layer = _layer(kind)
    x = torch.randn(1, 12, DIM)
    with torch.no_grad():
        before = layer(x)[0]
        for p in layer.experts.parameters():  # an optimizer step: in place
            p.mul_(1.5)
        after = layer(x)[0]
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, layer(x)[0].detach(), rtol=1e-5, atol=1e-5)

    other = _layer(kind)
    with torch.no_grad():
        other(x)  # pack the other layer's own weights first
        other.load_state_dict(layer.state_dict())
        torch.testing.assert_close(other(x)[0], after, rtol=1e-5, atol=1e-5)


def test_copies_start_unpacked_and_training_drops_the_packed_weights():
    layer = _layer('mofme')
    x = torch.randn(1, 5, DIM)
    with torch.no_grad():
        expected = layer(x)[0]
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert not clone.experts._packed_modulation._packed
        with torch.no_grad():
            torch.testing.assert_close(clone(x)[0], expected)
    layer.train()
    assert not layer.experts._packed_modulation._packed


def test_packed_path_only_without_gradients_on_cpu_float32():
    weight = torch.nn.Parameter(torch.randn(3, 3))
    x = torch.randn(2, 3)
    assert not packed_path_usable(x, [weight])  # grad enabled and weight requires grad
    with torch.no_grad():
        assert packed_path_usable(x, [weight])
        assert not packed_path_usable(x.double(), [weight])
    weight.requires_grad_(False)
    assert packed_path_usable(x, [weight])
    assert not packed_path_usable(x.requires_grad_(), [weight])
