"""OneS knowledge gathering (MoE experts → one dense FFN per layer), the converter tool and the distiller."""
import pytest
import torch

from mmmofme.models import MoFMEViT
from mmmofme.models.archs import variant
from mmmofme.models.moe.gathering import gather_ffn_experts, svd_gather


def tiny(name: str, **overrides) -> MoFMEViT:
    return MoFMEViT.tiny(**variant(name, **overrides))


def identical_expert_moe() -> MoFMEViT:
    torch.manual_seed(0)
    moe = tiny('moe', depth=2, num_experts=4, top_k=2)
    with torch.no_grad():
        for layer in moe.moe_layers():
            experts = layer.experts
            for name in ('norm_weight', 'norm_bias', 'fc1_weight', 'fc1_bias', 'fc2_weight', 'fc2_bias'):
                stacked = getattr(experts, name)
                stacked.copy_(torch.randn_like(stacked[0]).expand_as(stacked) * 0.5)  # one non-trivial expert
    return moe.eval()


@pytest.mark.parametrize('method', ['average', 'svd'])
def test_identical_experts_gather_into_a_dense_model_with_the_same_output(method):
    moe = identical_expert_moe()
    dense = tiny('ones', depth=2).eval()
    dense.load_state_dict(gather_ffn_experts(moe.state_dict(), 'average'), strict=True)
    x = torch.rand(2, 3, 32, 24)
    with torch.no_grad():
        torch.testing.assert_close(dense(x), moe(x), rtol=0, atol=1e-6)
    if method == 'svd':  # SVD-KG sums E rank-⌈r/E⌉ cuts: for equal experts that is E times one cut
        gathered = gather_ffn_experts(moe.state_dict(), 'svd')
        w = moe.state_dict()['blocks.0.ffn.experts.fc1_weight'][0]
        u, s, vh = torch.linalg.svd(w.double())
        rank = -(-min(w.shape) // 4)
        expected = 4 * (u[:, :rank] * s[:rank]) @ vh[:rank]
        torch.testing.assert_close(gathered['blocks.0.ffn.ffn.fc1.weight'], expected.float())


def test_svd_gathering_keeps_each_experts_leading_directions():
    u = torch.tensor([[1., 0.], [0., 1.]])
    experts = torch.stack([3.0 * torch.outer(u[0], u[1]) + 0.1 * torch.outer(u[1], u[0]),  # σ = 3, 0.1
                           2.0 * torch.outer(u[1], u[1]) + 0.2 * torch.outer(u[0], u[0])])  # σ = 2, 0.2
    # r = 2, E = 2: one direction per expert, the small ones dropped
    expected = 3.0 * torch.outer(u[0], u[1]) + 2.0 * torch.outer(u[1], u[1])
    torch.testing.assert_close(svd_gather(experts), expected)
    sd = {'b.ffn.experts.fc1_weight': experts, 'b.ffn.experts.fc1_bias': torch.tensor([[1., 2.], [3., 4.]])}
    summed = gather_ffn_experts(sd, 'sum')
    torch.testing.assert_close(summed['b.ffn.ffn.fc1.weight'], experts.sum(0))
    torch.testing.assert_close(gather_ffn_experts(sd, 'svd')['b.ffn.ffn.fc1.bias'], torch.tensor([2., 3.]))


@pytest.mark.parametrize('name,message', [
    ('mofme', 'no FFN-expert layer'),
    ('prmoe', 'only MoE layers of plain FFN experts'),
])
def test_non_ffn_expert_models_are_refused_in_one_line(name, message):
    model = tiny(name, num_experts=4, top_k=1, depth=2)
    with pytest.raises(ValueError, match=message):
        gather_ffn_experts(model.state_dict())
    with pytest.raises(ValueError, match='unknown gathering method'):
        gather_ffn_experts(tiny('moe').state_dict(), 'median')


def test_converter_tool_writes_a_student_checkpoint(load_tool, tmp_path, capsys):
    tool = load_tool('model_converters/moe_to_dense')
    moe = identical_expert_moe()
    src = tmp_path / 'moe.pth'
    torch.save({'state_dict': {f'generator.{k}': v for k, v in moe.state_dict().items()}}, src)
    assert tool.main([str(src), str(tmp_path / 'dense.pth')]) == 0
    out = torch.load(tmp_path / 'dense.pth', weights_only=True)
    assert out['meta']['gathering'] == 'average'
    dense = tiny('ones', depth=2).eval()
    dense.load_state_dict({k[len('generator.'):]: v for k, v in out['state_dict'].items()}, strict=True)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(dense(x), moe(x), rtol=0, atol=1e-6)

    torch.save({'state_dict': tiny('mofme').state_dict()}, tmp_path / 'fme.pth')
    assert tool.main([str(tmp_path / 'fme.pth'), str(tmp_path / 'no.pth')]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and 'fme.pth' in err and 'no FFN-expert layer' in err
    assert not (tmp_path / 'no.pth').exists()


def test_distiller_trains_the_student_only_and_keeps_the_teacher_frozen():
    from mmagic.registry import MODELS
    from mmagic.structures import DataSample
    from mmengine.registry import DefaultScope

    import mmmofme.mmagic  # noqa: F401
    small = dict(type='MoFMEViT', embed_dim=32, depth=1, img_size=32, num_heads=2, head_dim=16,
                 stem_channels=8, head_channels=16)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(dict(
            type='OneSDistiller', generator=dict(small, experts=None),
            teacher=dict(small, experts=dict(type='FFNExperts'), num_experts=4, top_k=2),
            distill_weights=dict(pixel=2.0, feature=0.5),
            data_preprocessor=dict(type='DataPreprocessor', mean=[0.] * 3, std=[255.] * 3)))
    x = torch.rand(2, 3, 32, 32)
    sample = DataSample(gt_img=torch.rand(2, 3, 32, 32))
    model.eval()  # no dropout: the loss terms can be recomputed
    losses = model.forward_train(x, sample)
    assert set(losses) == {'loss_pix', 'loss_kd_pix', 'loss_kd_feat', 'loss_lb', 'loss_uc'}  # zero aux: dense
    with torch.no_grad():
        pred, target = model.generator(x), model.teacher(x)
        torch.testing.assert_close(losses['loss_kd_pix'], 2.0 * torch.mean((pred - target) ** 2))
        torch.testing.assert_close(losses['loss_pix'], torch.mean((pred - sample.gt_img) ** 2))
    model.train()
    assert not model.teacher.training and all(not p.requires_grad for p in model.teacher.parameters())
    losses = model.forward_train(x, sample)
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.generator.blocks[0].ffn.ffn.fc1.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='distill_weights: unknown keys'):
        with DefaultScope.overwrite_default_scope('mmagic'):
            MODELS.build(dict(type='OneSDistiller', generator=dict(small, experts=None), teacher=small,
                              distill_weights=dict(logits=1.0)))
