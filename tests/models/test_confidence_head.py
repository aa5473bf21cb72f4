"""The learned confidence blend: identity at confidence 0, restored at 1, supervised where pixels differ."""
import pytest
import torch

from mmmofme.mmagic.restorer import confidence_loss
from mmmofme.models.archs import MoFMEViT

TINY = dict(embed_dim=32, depth=1, img_size=32, num_heads=2, head_dim=16, stem_channels=8, head_channels=16,
            num_experts=4, top_k=2, image_residual=True, confidence_head=True)


def test_zero_confidence_returns_the_input_and_full_confidence_the_restoration():
    torch.manual_seed(0)
    model = MoFMEViT(**TINY).eval()
    plain = MoFMEViT(**dict(TINY, confidence_head=False)).eval()
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith('confidence.')})
    with torch.no_grad():
        model.tail.body[-1].weight.normal_()  # a non-trivial restoration (the tail starts at zero)
        plain.tail.body[-1].weight.copy_(model.tail.body[-1].weight)
    x = torch.rand(2, 3, 32, 48)
    for bias, expected in ((-1e4, x), (1e4, None)):
        with torch.no_grad():
            model.confidence.conv2.bias.fill_(bias)
            model.confidence.conv2.weight.zero_()
            out = model(x)
            expected = plain(x) if expected is None else expected
        torch.testing.assert_close(out, expected)
    assert model.last_confidence_logits.shape == (2, 1, 32, 48)


def test_half_confidence_at_start_is_the_mean_of_input_and_restoration():
    model = MoFMEViT(**TINY).eval()
    assert torch.all(model.confidence.conv2.bias == 0)
    with torch.no_grad():
        model.confidence.conv2.weight.zero_()
        out = model(torch.rand(1, 3, 32, 32))
    torch.testing.assert_close(torch.sigmoid(model.last_confidence_logits), torch.full((1, 1, 32, 32), 0.5))
    assert out.shape == (1, 3, 32, 32)


def test_confidence_loss_targets_the_pixels_that_differ():
    inputs = torch.zeros(1, 3, 2, 2)
    target = inputs.clone()
    target[0, 1, 0, 0] = 0.5  # one pixel differs in one channel
    target[0, 0, 1, 1] = 0.01  # under the threshold: counts as clean
    logits = torch.tensor([[[[10.0, -10.0], [-10.0, -10.0]]]])
    assert confidence_loss(logits, inputs, target, threshold=0.02).item() < 1e-4
    wrong = -logits
    labels = torch.tensor([[[[1., 0.], [0., 0.]]]])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(wrong, labels)
    torch.testing.assert_close(confidence_loss(wrong, inputs, target, threshold=0.02), expected)


def test_restorer_adds_the_confidence_loss_for_a_generator_with_a_head():
    from mmagic.structures import DataSample
    from mmengine.registry import DefaultScope

    from mmmofme.mmagic import MoFMERestorer
    with DefaultScope.overwrite_default_scope('mmagic'):
        restorer = MoFMERestorer(generator=dict(type='MoFMEViT', **TINY),
                                 data_preprocessor=dict(type='DataPreprocessor'))
    samples = DataSample()
    samples.gt_img = torch.rand(2, 3, 32, 32)
    losses = restorer.forward_train(torch.rand(2, 3, 32, 32), samples)
    assert {'loss_pix', 'loss_conf'} <= set(losses)
    losses['loss_conf'].backward()
    assert restorer.generator.confidence.conv1.weight.grad is not None


def test_confidence_loss_settings_override_the_defaults():
    from mmmofme.mmagic import MoFMERestorer
    restorer = MoFMERestorer(generator=dict(type='MoFMEViT', **TINY), confidence_loss=dict(weight=0.5))
    assert restorer.confidence_loss == dict(weight=0.5, threshold=4 / 255)


def test_unknown_confidence_loss_key_is_a_clear_error():
    from mmmofme.mmagic import MoFMERestorer
    with pytest.raises(ValueError, match='confidence_loss: unknown keys'):
        MoFMERestorer(generator=dict(type='MoFMEViT', **TINY), confidence_loss=dict(wieght=1.0))


def test_confidence_range_rescales_at_eval_only():
    torch.manual_seed(0)
    model = MoFMEViT(**dict(TINY, confidence_range=(0.4, 0.8)))
    with torch.no_grad():
        model.tail.body[-1].weight.normal_()
        model.confidence.conv2.weight.zero_()
        model.confidence.conv2.bias.fill_(0.0)  # learned confidence 0.5 -> (0.5 - 0.4) / 0.4 = 0.25 at eval
    x = torch.rand(1, 3, 32, 32)
    full = MoFMEViT(**dict(TINY, confidence_head=False))
    full.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith('confidence.')})
    with torch.no_grad():
        restored = full.eval()(x)
        torch.testing.assert_close(model.eval()(x), x + 0.25 * (restored - x))


@pytest.mark.parametrize('bad', [(0.5, 0.5), (-0.1, 0.5), (0.2, 1.2)])
def test_bad_confidence_range_is_a_clear_error(bad):
    with pytest.raises(ValueError, match='confidence_range'):
        MoFMEViT(**dict(TINY, confidence_range=bad))


def test_clean_region_weight_counts_clean_pixels_more_in_the_pixel_loss():
    from mmmofme.mmagic import MoFMERestorer
    restorer = MoFMERestorer(generator=dict(type='MoFMEViT', **TINY), clean_region_weight=3.0)
    inputs = torch.zeros(1, 3, 1, 2)
    gt = inputs.clone()
    gt[0, 2, 0, 1] = 0.5                     # pixel 1 needs restoring, pixel 0 is clean
    weight = restorer.pixel_weight(inputs, gt)
    torch.testing.assert_close(weight, torch.tensor([[[[4.0, 1.0]]]]))
    # mmagic's weighted mean: sum(w * err) / sum(w) over the channels
    pred = gt.clone()
    pred[0, :, 0, 0] = 0.1                   # error 0.01 (squared) on the clean pixel only
    expected = (4.0 * 3 * 0.01) / (3 * 4.0 + 3 * 1.0)
    torch.testing.assert_close(restorer.pixel_loss(pred, gt, weight=weight), torch.tensor(expected))
    assert MoFMERestorer(generator=dict(type='MoFMEViT', **TINY)).pixel_weight(inputs, gt) is None
    with pytest.raises(ValueError, match='clean_region_weight'):
        MoFMERestorer(generator=dict(type='MoFMEViT', **TINY), clean_region_weight=-1)


def _gated_model(gate):
    torch.manual_seed(0)
    model = MoFMEViT(**TINY, confidence_range=(0.2, 0.8), frame_gate=gate).eval()
    with torch.no_grad():
        model.tail.body[-1].weight.normal_()
        model.confidence.conv2.weight.normal_(std=2.0)
    return model


def test_frame_gate_keeps_the_input_below_low_and_the_range_blend_above_high():
    from mmmofme.models.layers import frame_gate_weight
    conf = torch.tensor([0.1, 0.3, 0.5]).reshape(3, 1, 1, 1).expand(3, 1, 4, 4)
    torch.testing.assert_close(frame_gate_weight(conf, 0.2, 0.4).flatten(), torch.tensor([0.0, 0.5, 1.0]))
    x = torch.rand(2, 3, 32, 48)
    with torch.no_grad():
        ungated = _gated_model(None)(x)
        closed = _gated_model((0.99, 1.0))
        mean_conf = closed.restore_with_confidence(x)[1].mean(dim=(1, 2, 3))
        assert (mean_conf < 0.99).all()
        torch.testing.assert_close(closed(x), x)                        # gate 0: the input exactly
        torch.testing.assert_close(_gated_model((0.0, 0.01))(x), ungated)  # gate 1: the range blend
    assert torch.all(mean_conf > 0.01)


def test_tiled_frame_gate_uses_the_whole_frames_confidence():
    from mmmofme.apis.inference import tiled_restore
    from mmmofme.models.layers import blend_with_input, rescale_confidence
    model = _gated_model((0.3, 0.7))
    x = torch.rand(2, 3, 40, 64)
    with torch.no_grad():
        stitched = tiled_restore(model.tile_outputs, x, 32, 24)
        ungated = tiled_restore(_gated_model(None), x, 32, 24)
        gate = rescale_confidence(stitched[:, 3:].mean(dim=(1, 2, 3), keepdim=True), 0.3, 0.7)
        assert ((gate > 0) & (gate < 1)).all()                           # a partial gate: the test bites
        torch.testing.assert_close(stitched[:, :3], ungated)
        torch.testing.assert_close(tiled_restore(model, x, 32, 24), blend_with_input(x, ungated, gate))
        model.train()  # training blends by the learned confidence only: no gate, no range
        assert not model.gates_frames


def test_frame_gate_needs_a_confidence_head_and_a_valid_range():
    with pytest.raises(ValueError, match='frame_gate needs confidence_head'):
        MoFMEViT(**dict(TINY, confidence_head=False), frame_gate=(0.5, 0.7))
    with pytest.raises(ValueError, match='frame_gate must be'):
        MoFMEViT(**TINY, frame_gate=(0.7, 0.5))


def test_restorer_test_mode_gates_whole_frames():
    from mmagic.structures import DataSample

    from mmmofme.apis.inference import tiled_restore
    from mmmofme.mmagic import MoFMERestorer
    restorer = MoFMERestorer(generator=dict(type='MoFMEViT', **TINY, confidence_range=(0.2, 0.8),
                                            frame_gate=(0.3, 0.7)),
                             test_cfg=dict(crop_size=32, stride=24)).eval()
    restorer.generator.load_state_dict(_gated_model((0.3, 0.7)).state_dict())
    x = torch.rand(1, 3, 40, 64)
    with torch.no_grad():
        out = restorer.forward_tensor(x, DataSample())
        torch.testing.assert_close(out, tiled_restore(restorer.generator, x, 32, 24))
