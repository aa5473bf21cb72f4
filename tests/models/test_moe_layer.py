"""MoE layer auxiliary losses and diagnostics."""
import pytest
import torch

from mmmofme.models.layers import PreNormFeedForward
from mmmofme.models.losses import load_balance_loss
from mmmofme.models.moe import FFNExperts, MoELayer, TopKRouter, UncertaintyAwareRouter


def test_topk_layer_returns_lb_and_zero_uc():
    torch.manual_seed(0)
    layer = MoELayer(TopKRouter(8, 4, 2), FFNExperts(8, 4)).train()
    x = torch.randn(2, 6, 8)
    _, aux = layer(x)
    route = layer.router(x.reshape(-1, 8))
    assert aux['loss_lb'].item() == pytest.approx(load_balance_loss(route.probs, route.indices).item())
    assert aux['loss_uc'].item() == 0.0


def test_uar_layer_returns_uc_in_training_only():
    torch.manual_seed(0)
    layer = MoELayer(UncertaintyAwareRouter(8, 4, 2), FFNExperts(8, 4)).train()
    x = torch.randn(2, 6, 8)
    _, aux = layer(x)
    assert aux['loss_uc'].item() > 0 and aux['loss_uc'].requires_grad
    layer.eval()
    _, aux = layer(x)
    assert aux['loss_uc'].item() == 0.0


def test_residual_branch_is_added():
    torch.manual_seed(0)
    residual = PreNormFeedForward(8)
    with_res = MoELayer(TopKRouter(8, 4, 2), FFNExperts(8, 4), residual=residual).eval()
    without = MoELayer(with_res.router, with_res.experts).eval()
    x = torch.randn(1, 5, 8)
    torch.testing.assert_close(with_res(x)[0], without(x)[0] + residual(x)[0])


def test_mismatched_router_and_experts_are_rejected():
    with pytest.raises(ValueError, match='experts'):
        MoELayer(TopKRouter(8, 4, 2), FFNExperts(8, 5))
