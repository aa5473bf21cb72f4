"""MoFMEViT: registry, shapes, aux losses, gradients, parameter counts and config errors."""
import pytest
import torch
from mmengine.model import BaseModule
from mmengine.registry import MODELS

import mmmofme  # noqa: F401  (registers MoFMEViT)
from mmmofme.models import MoFMEViT
from mmmofme.models.archs import VARIANTS, pyramid_expert_counts, variant
from mmmofme.models.moe import MoELayer

# Parameters stacked along a leading expert axis: each expert's slice must get a gradient.
STACKED_PER_EXPERT = ('norm_weight', 'norm_bias', 'fc1_weight', 'fc1_bias', 'fc2_weight', 'fc2_bias',
                      'modulation_weight', 'modulation_bias')


def _numel(model):
    return sum(p.numel() for p in model.parameters())


def tiny(name: str, router: str = None, **overrides) -> MoFMEViT:
    """The tiny model of variant ``name`` (``router``: ``'topk'`` / ``'uar'``, default the variant's)."""
    return MoFMEViT.tiny(**variant(name, router, **overrides))


def test_registered_in_root_models_and_is_a_base_module():
    model = MODELS.build(dict(type='MoFMEViT', experts=dict(type='FeatureModulationExperts'),
                              router=dict(type='UncertaintyAwareRouter', mc_samples=3), num_experts=4,
                              top_k=2, embed_dim=32, depth=1, img_size=32))
    assert isinstance(model, MoFMEViT) and isinstance(model, BaseModule)


@pytest.mark.parametrize('name', VARIANTS)
@pytest.mark.parametrize('router', ['topk', 'uar'])
def test_odd_sizes_come_back_at_their_size_in_unit_range(name, router):
    torch.manual_seed(0)
    model = tiny(name, router)
    for mode in (model.train, model.eval):
        mode()
        out, aux = model.forward_with_aux(torch.rand(2, 3, 37, 29))
        assert out.shape == (2, 3, 37, 29)
        assert out.min() >= 0 and out.max() <= 1
        assert set(aux) == {'loss_lb', 'loss_uc'} and all(v.dim() == 0 for v in aux.values())


def test_forward_equals_forward_with_aux_in_eval():
    model = tiny('mofme').eval()
    x = torch.rand(1, 3, 32, 40)
    torch.testing.assert_close(model(x), model.forward_with_aux(x)[0])


def test_aux_losses_are_zero_where_they_do_not_apply():
    x = torch.rand(1, 3, 32, 32)
    _, aux = tiny('dense').train().forward_with_aux(x)
    assert aux['loss_lb'].item() == 0 and aux['loss_uc'].item() == 0
    _, aux = tiny('moe', 'topk').train().forward_with_aux(x)
    assert aux['loss_lb'].item() > 0 and aux['loss_uc'].item() == 0
    model = tiny('mofme', 'uar', depth=2).train()
    _, aux = model.forward_with_aux(x)
    assert aux['loss_uc'].item() > 0


@pytest.mark.parametrize('name,router', [('moe', 'topk'), ('mofme', 'uar'), ('mmoe', 'topk'),
                                         ('prmoe', 'uar'), ('dense', 'topk')])
def test_every_parameter_gets_a_gradient(name, router):
    """One training step on 2×64 tokens selects every expert; no parameter (or expert slice) is dead."""
    torch.manual_seed(0)
    model = tiny(name, router, num_tasks=2).train()
    x = torch.rand(2, 3, 64, 64)
    out, aux = model.forward_with_aux(x, task_ids=torch.tensor([0, 1]))
    (out.mean() + aux['loss_lb'] + aux['loss_uc']).backward()
    for layer in model.moe_layers():
        assert (layer.last_expert_counts > 0).all(), 'test needs every expert selected'
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
        if name.rsplit('.', 1)[-1] in STACKED_PER_EXPERT or name.endswith('gate.weight'):
            per_row = param.grad.abs().flatten(1).sum(1) if param.dim() > 1 else param.grad.abs()
            assert (per_row > 0).all(), f'{name}: some expert (or task gate row) got no gradient'


def test_position_embedding_is_added_and_interpolated():
    torch.manual_seed(0)
    model = tiny('dense', img_size=(32, 48)).eval()
    assert model.pos_embed.weight.shape == (1, 4 * 6, 32)
    assert model.pos_embed.table((4, 6)) is model.pos_embed.weight
    assert model.pos_embed.table((5, 3)).shape == (1, 15, 32)
    x = torch.rand(1, 3, 40, 24)  # a different grid than the crop
    before = model(x)
    with torch.no_grad():
        model.pos_embed.weight.add_(1.0)
    assert not torch.allclose(before, model(x))


def test_mmoe_uses_task_ids_and_falls_back_to_mean_gate():
    torch.manual_seed(0)
    model = tiny('mmoe', num_tasks=3).eval()
    x = torch.rand(1, 3, 32, 32)
    outs = [model(x, torch.tensor([t])) for t in range(3)]
    assert not torch.allclose(outs[0], outs[1])
    router = model.moe_layers()[0].router
    assert router.gate.out_features == 3 * 4
    model(x)  # no tag: mean of the gates
    with pytest.raises(ValueError, match='task_ids'):
        model(x, torch.tensor([3]))


def test_task_ids_are_ignored_by_single_gate_variants():
    model = tiny('mofme').eval()
    x = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(model(x, torch.tensor([5])), model(x))


# Paper targets at D=384, L=2, p=8, pos-embed for 240×240 crops (Tables 1–2).
PAPER_PARAMS = [('dense', 16, 8.71e6), ('moe', 16, 44.19e6), ('moe', 64, 157.7e6), ('moe', 128, 309.1e6),
                ('mofme', 16, 18.53e6), ('mofme', 64, 47.1e6), ('mofme', 128, 85.2e6)]


def _paper_model(name: str, router: str = None, **kwargs):
    with torch.device('meta'):
        return MoFMEViT(**variant(name, router, embed_dim=384, depth=2, patch_size=8, img_size=240, **kwargs))


@pytest.mark.parametrize('name,num_experts,target', PAPER_PARAMS)
def test_parameter_counts_match_the_paper(name, num_experts, target):
    count = _numel(_paper_model(name, num_experts=num_experts, top_k=2))
    assert abs(count / target - 1) <= 0.005, f'{count} vs {target}'


def test_parameter_counts_follow_the_closed_forms():
    d, fixed = 384, 490_627 + 11_143 * 384  # stem + tail + head + patch-embed + pos-embed (900 tokens)
    attn = 2051 * d
    assert _numel(_paper_model('dense')) == fixed + 2 * (attn + 8 * d * d + 7 * d) == 8_709_379
    assert _numel(_paper_model('moe', num_experts=16)) == 44_191_779
    for e in (16, 64, 128):
        mofme = fixed + 2 * (attn + 9 * d * d + 8 * d + e * (2 * d * d + 3 * d + 1))
        assert _numel(_paper_model('mofme', num_experts=e)) == mofme
    # uar adds no parameters
    assert _numel(_paper_model('mofme', 'uar')) == _numel(_paper_model('mofme', 'topk'))
    # Table 3 baselines (reported in docs/deviations.md; the paper's layouts are unknown):
    moe16 = 44_191_779
    assert _numel(_paper_model('mmoe', num_experts=16, num_tasks=3)) == moe16 + 2 * 2 * (16 * d + 16)
    dense_ffn, expert = 8 * d * d + 7 * d, 8 * d * d + 8 * d + 1
    prmoe = fixed + 2 * (attn + dense_ffn) + 16 * expert
    assert _numel(_paper_model('prmoe', num_experts=16, top_k=1)) == prmoe


def test_pyramid_expert_counts():
    assert pyramid_expert_counts(16, 2, 2) == [5, 11]
    assert pyramid_expert_counts(16, 1, 2) == [16]
    assert pyramid_expert_counts(4, 3, 2) == [2, 2, 2]
    model = tiny('prmoe', depth=2, num_experts=6, top_k=1)
    assert [layer.experts.num_experts for layer in model.moe_layers()] == [2, 4]


@pytest.mark.parametrize('kwargs,field', [
    (dict(experts=dict(type='SwitchExperts')),
     "experts: unknown type 'SwitchExperts'; known types: FFNExperts, FeatureModulationExperts, "
     "MultiScaleExperts"),
    (dict(router=dict(type='NoisyRouter')),
     "router: unknown type 'NoisyRouter'; known types: TaskConditionedRouter, TopKRouter, "
     "UncertaintyAwareRouter, WeatherAwareRouter"),
    (dict(router=dict(type='FFNExperts')), "router: unknown type 'FFNExperts'"),  # registered, not a router
    (dict(router='uar'), 'router must be a dict with a type'),
    (dict(router=dict(type='TopKRouter', top_k=3)), 'router: top_k must not be set here'),
    (dict(num_experts=4, top_k=5), 'top_k'),
    (dict(num_experts=0), 'num_experts'),
    (dict(img_size=36), 'img_size'),
    (dict(num_experts=[4, 4]), r'num_experts must list 1 \(depth\) counts'),
    (dict(num_experts=[4], expert_pyramid=True), 'expert_pyramid'),
    (dict(top_k=2, num_experts=[1]), 'top_k'),
    (dict(router=dict(type='UncertaintyAwareRouter', mc_samples=1)), 'router.mc_samples'),
])
def test_bad_config_raises_a_value_error_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        MoFMEViT.tiny(**kwargs)


def test_moe_layers_lists_one_layer_per_block():
    assert len(tiny('moe', depth=2).moe_layers()) == 2
    assert tiny('dense').moe_layers() == []
    assert all(isinstance(m, MoELayer) for m in tiny('prmoe').moe_layers())


def test_trains_under_bfloat16_autocast():
    """Routing stays float32 under autocast (UaR variances are far below bfloat16's resolution)."""
    torch.manual_seed(0)
    model = tiny('mofme', 'uar').train()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out, aux = model.forward_with_aux(torch.rand(1, 3, 32, 32))
    assert aux['loss_uc'].dtype == torch.float32 and torch.isfinite(aux['loss_uc'])
    (out.float().mean() + aux['loss_lb'] + aux['loss_uc']).backward()
    assert model.moe_layers()[0].router.gate.weight.grad.abs().sum() > 0


def test_image_residual_starts_as_identity_and_learns():
    torch.manual_seed(0)
    model = MoFMEViT.tiny(image_residual=True)
    x = torch.rand(2, 3, 21, 35)
    out, _ = model.forward_with_aux(x)
    assert out.shape == x.shape
    assert torch.equal(out, x)  # zero-started tail: input + 0
    ((out - x.flip(-1)) ** 2).mean().backward()
    last = model.tail.body[-1]
    assert last.weight.grad is not None and last.weight.grad.abs().sum() > 0
