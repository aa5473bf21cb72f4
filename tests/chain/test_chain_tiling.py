"""The wrappers' tiled restore: slide equals whole for a per-pixel restorer; MoFMEViT keeps the size."""
import pytest
import torch
from chain_stand_ins import H, W, tiny_segmentor

from mmmofme.mmseg import DeweatherSegmentor
from mmmofme.models.chain import parse_restore_cfg

TINY_MOFME = dict(type='MoFMEViT', experts=dict(type='FeatureModulationExperts'), num_experts=4, top_k=2,
                  embed_dim=32, depth=1, img_size=32)


def chain_with(restorer: dict, **restore_cfg) -> DeweatherSegmentor:
    torch.manual_seed(0)
    return DeweatherSegmentor(restorer=restorer, segmentor=tiny_segmentor(),
                              restore_cfg=restore_cfg or None).eval()


@pytest.mark.parametrize('crop, stride', [((32, 48), (32, 48)), ((32, 48), (16, 40)), ((40, 40), (40, 40))])
def test_slide_equals_whole_for_a_per_pixel_restorer(crop, stride):
    whole = chain_with(dict(type='ChainTestPixelRestorer'))
    slide = chain_with(dict(type='ChainTestPixelRestorer'), mode='slide', crop_size=crop, stride=stride)
    images = torch.rand(2, 3, H, W)
    torch.testing.assert_close(slide.restore(images), whole.restore(images), atol=1e-6, rtol=1e-6)
    assert {shape[-2:] for shape in slide.restorer.tile_shapes} == {crop}
    assert whole.restorer.tile_shapes == [(2, 3, H, W)]
    with torch.no_grad():
        torch.testing.assert_close(slide.encode_decode(images, [dict(img_shape=(H, W))] * 2),
                                   whole.encode_decode(images, [dict(img_shape=(H, W))] * 2))


def test_restore_clamps_to_the_unit_range():
    chain = chain_with(dict(type='ChainTestIdentity'))
    with torch.no_grad():
        chain.restorer.gain.fill_(3.0)
    restored = chain.restore(torch.rand(1, 3, H, W))
    assert restored.min() >= 0 and restored.max() <= 1 and restored.max() == 1


@pytest.mark.parametrize('cfg, message', [
    (dict(mode='tiles'), "'whole' or 'slide'"),
    (dict(mode='slide'), 'crop_size'),
    (dict(mode='whole', crop_size=(8, 8)), 'unknown keys'),
    (dict(mode='whole', precision='fp16'), r"restore_cfg precision 'fp16': choose one of \['bf16', 'fp32'\]"),
])
def test_bad_restore_cfg_is_a_clear_error(cfg, message):
    with pytest.raises(ValueError, match=message):
        parse_restore_cfg(cfg)


def test_mofme_slide_restore_keeps_the_output_size():
    chain = chain_with(TINY_MOFME, mode='slide', crop_size=(32, 32), stride=(16, 32))
    images = torch.rand(2, 3, H, W)
    restored = chain.restore(images)
    assert restored.shape == images.shape
    assert restored.min() >= 0 and restored.max() <= 1
    with torch.no_grad():
        logits = chain(images, mode='tensor')
    assert logits.shape[:2] == (2, 4)


def test_mofme_fine_tunes_end_to_end_with_its_aux_losses():
    chain = DeweatherSegmentor(restorer=TINY_MOFME, segmentor=tiny_segmentor(), freeze_restorer=False,
                               restore_cfg=dict(mode='slide', crop_size=(32, 32)))
    chain.train()
    inputs = torch.rand(2, 3, H, W)
    perception_inputs, losses = chain.restore_for_loss(inputs, [])
    assert perception_inputs.shape == inputs.shape
    assert {'restorer.loss_lb', 'restorer.loss_uc'} <= set(losses)
    (perception_inputs.mean() + sum(losses.values())).backward()
    assert any(p.grad is not None for p in chain.restorer.parameters())


def test_bf16_restore_cfg_runs_the_restorer_under_autocast():
    """restore_cfg precision='bf16': a float32 result within bf16's error of fp32, tiled or whole."""
    images = torch.rand(2, 3, H, W)
    for tiling in (dict(), dict(mode='slide', crop_size=(32, 32), stride=(16, 32))):
        fp32 = chain_with(TINY_MOFME, **tiling).restore(images)
        bf16 = chain_with(TINY_MOFME, precision='bf16', **tiling).restore(images)
        assert bf16.dtype == torch.float32 and bf16.shape == fp32.shape
        assert 0 < float((bf16 - fp32).abs().max()) <= 2e-2  # really bf16, within its budget
    assert chain_with(TINY_MOFME, mode='slide', crop_size=(32, 32)).restore_cfg.get('precision') is None
