"""Routing arrays (mmmofme.visualization.routing) on a tiny MoFMEViT whose routers are set by hand."""
import math

import numpy as np
import pytest
import torch

from mmmofme.models.archs.mofme_vit import MoFMEViT
from mmmofme.models.moe.routing_recorder import RoutingRecorder
from mmmofme.visualization.routing import route_images, token_features, usage_statistics


def fixed_choice_net(router: dict) -> MoFMEViT:
    """2 MoE layers, 4 experts, top-2; every gate ignores its token: logits = bias = [0, 3, 1, 2], so every
    token goes to expert 1 first and expert 3 second."""
    torch.manual_seed(0)
    net = MoFMEViT.tiny(experts=dict(type='FFNExperts'), router=router, depth=2, num_experts=4,
                        top_k=2).eval()
    for layer in net.moe_layers():
        torch.nn.init.zeros_(layer.router.gate.weight)
        layer.router.gate.bias.data = torch.tensor([0.0, 3.0, 1.0, 2.0])
    return net


def test_first_choice_grid_counts_and_usage_of_a_hand_set_router():
    net = fixed_choice_net(dict(type='TopKRouter'))
    images = [torch.rand(3, 32, 48), torch.rand(3, 20, 40)]  # 4x6 tokens, 3x5 tokens (padded to 24x40)
    routings = route_images(net, images, patch_size=8)
    assert routings[0]['first'].shape == (2, 4, 6) and routings[1]['first'].shape == (2, 3, 5)
    assert (routings[0]['first'] == 1).all() and (routings[1]['first'] == 1).all()
    assert routings[0]['indices'].shape == (2, 24, 2) and (routings[0]['indices'][..., 1] == 3).all()
    assert routings[0]['variance'] is None  # a plain top-k router has no MC-dropout variance
    stats = usage_statistics(routings, num_experts=[4, 4])
    tokens = 24 + 15
    assert stats['tokens'] == tokens
    assert (stats['counts'].sum(1) == tokens * 2).all()  # every token counted k = 2 times per layer
    np.testing.assert_array_equal(stats['counts'][0], [0, tokens, 0, tokens])
    np.testing.assert_allclose(stats['fraction'].sum(1), 1.0)
    np.testing.assert_allclose(stats['token_share'][1], [0, 1, 0, 1])
    np.testing.assert_allclose(stats['entropy'], math.log(2))  # two experts share the load evenly
    np.testing.assert_allclose(stats['rare_share'], 0.5)  # experts 0 and 2 receive no token


def test_usage_entropy_stays_within_its_bounds_and_recorder_matches_the_layer():
    torch.manual_seed(1)
    net = MoFMEViT.tiny(experts=dict(type='FFNExperts'), router=dict(type='TopKRouter'), depth=2,
                        num_experts=4, top_k=2).eval()
    with RoutingRecorder(net) as recorder:
        net(torch.rand(2, 3, 32, 32))
    for layer, routing in zip(net.moe_layers(), recorder.calls[0]):
        assert torch.equal(routing.indices, layer.last_indices)  # the hook sees what the dispatch used
        assert routing.probs.shape == (2, 16, 4)
        torch.testing.assert_close(routing.probs.sum(-1), torch.ones(2, 16))
    assert not net.moe_layers()[0].router._forward_hooks  # hooks removed on exit
    stats = usage_statistics(route_images(net, [torch.rand(3, 32, 32) for _ in range(3)], 8), [4, 4])
    assert ((stats['entropy'] >= 0) & (stats['entropy'] <= math.log(4) + 1e-9)).all()
    assert ((stats['rare_share'] >= 0) & (stats['rare_share'] <= 1)).all()


def test_uar_variance_map_is_zero_for_a_token_blind_gate_and_positive_otherwise():
    uar = dict(type='UncertaintyAwareRouter', mc_samples=4, mc_dropout=0.5)
    net = fixed_choice_net(uar)
    routing = route_images(net, [torch.rand(3, 32, 32)], patch_size=8)[0]
    assert routing['variance'].shape == (2, 4, 4)
    np.testing.assert_allclose(routing['variance'], 0.0, atol=1e-12)  # dropout cannot move a zero gate
    for layer in net.moe_layers():
        torch.nn.init.normal_(layer.router.gate.weight, std=0.5)
    routing = route_images(net, [torch.rand(3, 32, 32)], patch_size=8)[0]
    assert (routing['variance'] >= 0).all() and routing['variance'].max() > 0
    features = token_features([routing, routing], per_image=5)
    assert features.shape == (10, 4)
    np.testing.assert_allclose(features.sum(1), 1.0, rtol=1e-5)


def test_tsne_needs_scikit_learn_or_gives_a_silhouette():
    from mmmofme.visualization.routing import tsne_partition
    rng = np.random.default_rng(0)
    features = np.concatenate([rng.normal(0, 0.05, (20, 4)), rng.normal(1, 0.05, (20, 4))])
    labels = ['rain'] * 20 + ['fog'] * 20
    try:
        import sklearn  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match='scikit-learn'):
            tsne_partition(features, labels)
        return
    out = tsne_partition(features, labels)
    assert out['embedding'].shape == (40, 2) and out['silhouette'] > 0.9
