"""Table 5's classifier: MoEVisionTransformer + MoEImageClassifier (sizes, aux losses, gradients)."""
import importlib.util
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmmofme.mmpretrain import MoEImageClassifier, MoEVisionTransformer
from mmmofme.models.losses import load_balance_loss, uncertainty_loss
from mmmofme.models.moe import MoELayer, TopKRouter

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs' / 'classification'
VIT, MOE, MOFME = 'vit_cifar10-32.py', 'moe-vit-e8-top2_cifar10-32.py', 'mofme-vit-e8-top2_cifar10-32.py'
# Table 5: params (M) and FLOPs (G; the same multiply-accumulate counts as our GMAC, see docs/deviations.md)
PAPER = {VIT: (13.06, 0.85), MOE: (46.16, 1.03), MOFME: (18.05, 0.94)}
TINY = dict(embed_dim=32, depth=4, num_heads=2, head_dim=16, mlp_ratio=2.0, dropout=0.0, num_experts=4)


def build_config(name: str, device: str = 'meta') -> torch.nn.Module:
    cfg = Config.fromfile(str(CONFIGS / name))
    with DefaultScope.overwrite_default_scope(cfg.default_scope), torch.device(device):
        return MODELS.build(cfg.model)


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def tiny_classifier(**backbone) -> MoEImageClassifier:
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(dict(type='MoEImageClassifier',
                                 backbone=dict(type='MoEVisionTransformer', **{**TINY, **backbone}),
                                 head=dict(type='LinearClsHead', num_classes=10, in_channels=32)))


def labelled(n: int) -> list:
    return [DataSample().set_gt_label(i % 10) for i in range(n)]


def test_configs_build_the_three_variants():
    vit, moe, mofme = (build_config(n).backbone for n in (VIT, MOE, MOFME))
    assert vit.moe_layers() == []
    for model, experts in ((moe, 'FFNExperts'), (mofme, 'FeatureModulationExperts')):
        assert [i for i, b in enumerate(model.blocks) if isinstance(b.ffn, MoELayer)] == [1, 3]
        assert all(type(layer.experts).__name__ == experts and layer.router.top_k == 2
                   and layer.experts.num_experts == 8 for layer in model.moe_layers())
    assert type(mofme.moe_layers()[0].router).__name__ == 'UncertaintyAwareRouter'


def test_parameter_counts_against_table_5():
    """The MoE and FME increments over the ViT match Table 5 within 1 %; the ViT itself is 3.1 % short
    (an unexplained 0.41M in its dense part, docs/deviations.md "Table 5 classifier")."""
    params = {name: count(build_config(name)) for name in PAPER}
    vit_paper = PAPER[VIT][0] * 1e6
    for name in (MOE, MOFME):
        ours, paper = params[name] - params[VIT], PAPER[name][0] * 1e6 - vit_paper
        assert abs(ours / paper - 1) < 0.01, (name, ours, paper)
    for name, (millions, _) in PAPER.items():
        assert abs(params[name] / (millions * 1e6) - 1) < 0.035, (name, params[name])


def test_gmac_against_table_5():
    """GMAC of one 32x32 image: ViT and MoFME-ViT within 2 % of Table 5; MoE-ViT is 11 % above it, by
    exactly one more active FFN expert per token in each of its two MoE blocks (docs/deviations.md)."""
    spec = importlib.util.spec_from_file_location('model_stats', ROOT / 'tools/analysis_tools/model_stats.py')
    stats = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stats)
    image = torch.rand(1, 3, 32, 32)
    gmac = {name: stats.count_gmac(build_config(name, 'cpu').eval(), image) for name in PAPER}
    for name in (VIT, MOFME):
        assert abs(gmac[name] / PAPER[name][1] - 1) < 0.02, (name, gmac[name])
    tokens, dim, hidden = 65, 384, 3072
    extra_expert = 2 * tokens * (2 * dim * hidden + dim * 8) / 1e9  # 2 blocks: a 2nd FFN + the router
    assert gmac[MOE] - gmac[VIT] == pytest.approx(extra_expert, rel=2e-3)


def test_aux_losses_are_the_weighted_sums_of_eq_8_and_eq_10_and_reach_the_routers():
    torch.manual_seed(0)
    model = tiny_classifier(experts=dict(type='FeatureModulationExperts'),
                            router=dict(type='UncertaintyAwareRouter', mc_samples=3))
    routes = []
    for layer in model.backbone.moe_layers():
        layer.router.register_forward_hook(lambda module, args, out: routes.append(out))
    losses = model.loss(torch.randn(6, 3, 32, 32), labelled(6))
    assert set(losses) == {'loss', 'loss_lb', 'loss_uc'} and len(routes) == 2
    expected_lb = 1e-2 * sum(load_balance_loss(r.probs, r.indices) for r in routes)
    expected_uc = 5e-3 * sum(uncertainty_loss(r.variance, r.indices) for r in routes)
    assert torch.allclose(losses['loss_lb'], expected_lb) and torch.allclose(losses['loss_uc'], expected_uc)
    assert losses['loss_lb'] > 0 and losses['loss_uc'] > 0

    (losses['loss_lb'] + losses['loss_uc']).backward()  # the aux losses alone train the gates
    for layer in model.backbone.moe_layers():
        assert layer.router.gate.weight.grad.abs().sum() > 0
    model.zero_grad()
    model.loss(torch.randn(6, 3, 32, 32), labelled(6))['loss'].backward()
    assert all(p.grad is not None for p in model.parameters())


def test_dense_vit_and_plain_router_at_eval_give_zero_aux_losses():
    dense = tiny_classifier()
    losses = dense.loss(torch.randn(2, 3, 32, 32), labelled(2))
    assert losses['loss_lb'] == 0 and losses['loss_uc'] == 0
    moe = tiny_classifier(experts=dict(type='FFNExperts'), router=dict(type='TopKRouter'))
    losses = moe.loss(torch.randn(2, 3, 32, 32), labelled(2))
    assert losses['loss_lb'] > 0 and losses['loss_uc'] == 0  # no MC-dropout variance without the UaR


def test_aux_loss_weights_are_applied_and_checked():
    model = tiny_classifier(experts=dict(type='FFNExperts'))
    model.aux_loss_weights = dict(loss_lb=2.0)
    torch.manual_seed(1)
    losses = model.loss(torch.randn(2, 3, 32, 32), labelled(2))
    _, aux = model.backbone.forward_with_aux(torch.randn(2, 3, 32, 32))
    assert set(losses) == {'loss', 'loss_lb'} and losses['loss_lb'] > 1.0  # 2 × (≥ 1 per layer, 2 layers)
    assert aux['loss_lb'] >= 2.0 - 1e-6  # L_lb ≥ 1 for each of the two layers (1 = perfect balance)
    with pytest.raises(ValueError, match=r"unknown losses \['loss_z'\]"):
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            MODELS.build(dict(type='MoEImageClassifier', aux_loss_weights=dict(loss_z=1.0),
                              backbone=dict(type='MoEVisionTransformer', **TINY),
                              head=dict(type='LinearClsHead', num_classes=10, in_channels=32)))


def test_backbone_without_aux_is_refused():
    with pytest.raises(TypeError, match='ResNet has no forward_with_aux'), \
            DefaultScope.overwrite_default_scope('mmpretrain'):
        MODELS.build(dict(type='MoEImageClassifier', backbone=dict(type='ResNet', depth=18),
                          head=dict(type='LinearClsHead', num_classes=10, in_channels=512)))


def test_backbone_shapes_placement_and_errors():
    backbone = MoEVisionTransformer(experts=dict(type='FFNExperts'), **TINY)
    assert [i for i, b in enumerate(backbone.blocks) if isinstance(b.ffn, MoELayer)] == [1, 3]
    assert all(isinstance(layer.router, TopKRouter) for layer in backbone.moe_layers())
    feats, = backbone(torch.randn(3, 3, 32, 32))
    assert feats.shape == (3, 32)
    assert backbone(torch.randn(1, 3, 48, 64))[0].shape == (1, 32)  # position table interpolated
    every = MoEVisionTransformer(experts=dict(type='FFNExperts'), moe_blocks=[0, 1, 2, 3], **TINY)
    assert len(every.moe_layers()) == 4
    with pytest.raises(ValueError, match=r'moe_blocks must be indices in \[0, depth=4\), got \[4\]'):
        MoEVisionTransformer(experts=dict(type='FFNExperts'), moe_blocks=[4], **TINY)
    with pytest.raises(ValueError, match='input 30x32 is not a multiple of patch_size 4'):
        backbone(torch.randn(1, 3, 30, 32))
