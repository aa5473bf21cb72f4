"""MoFMERestorer: loss terms, aux weighting, tiled test mode, weather task ids, bad-input messages."""
import pytest
import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

import mmmofme.mmagic  # noqa: F401
from mmmofme.apis.inference import tiled_restore

GENERATOR = dict(type='MoFMEViT', router=dict(type='UncertaintyAwareRouter'), num_experts=4, top_k=2,
                 embed_dim=32, depth=1, img_size=16, num_heads=2, head_dim=16, stem_channels=8,
                 head_channels=16)


def build(**kwargs):
    cfg = dict(type='MoFMERestorer', generator=dict(GENERATOR, **kwargs.pop('generator', {})),
               data_preprocessor=dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]),
               **kwargs)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(cfg)


def batch(b=2, h=16, w=16, task_ids=None):
    torch.manual_seed(0)
    inputs = torch.rand(b, 3, h, w)
    samples = DataSample.stack([DataSample(gt_img=torch.rand(3, h, w),
                                           metainfo=dict(task_id=t) if t is not None else {})
                                for t in (task_ids or [None] * b)])
    return inputs, samples


def test_loss_terms_are_weighted_and_all_present():
    model = build(aux_loss_weights=dict(loss_lb=0.5, loss_uc=2.0)).train()
    inputs, samples = batch()
    torch.manual_seed(1)
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_pix', 'loss_lb', 'loss_uc'}
    torch.manual_seed(1)
    pred, aux = model.generator.forward_with_aux(inputs)
    assert torch.allclose(losses['loss_pix'], ((pred - samples.gt_img) ** 2).mean())
    assert torch.allclose(losses['loss_lb'], 0.5 * aux['loss_lb'])
    assert torch.allclose(losses['loss_uc'], 2.0 * aux['loss_uc'])
    assert losses['loss_uc'] > 0  # UaR in training: MC-dropout variance


def test_zero_aux_weight_drops_the_term():
    model = build(aux_loss_weights=dict(loss_lb=1e-2, loss_uc=0.0)).train()
    assert set(model(*batch(), mode='loss')) == {'loss_pix', 'loss_lb'}


def test_test_mode_tiles_with_the_shared_function():
    model = build(test_cfg=dict(crop_size=16, stride=8)).eval()
    inputs, samples = batch(b=1, h=24, w=40)
    with torch.no_grad():
        out = model.forward_tensor(inputs, samples)
        expected = tiled_restore(model.generator, inputs, 16, 8)
    assert out.shape == (1, 3, 24, 40)
    assert torch.allclose(out, expected)


def test_task_ids_come_from_the_samples_metainfo():
    mmoe = dict(experts=dict(type='FFNExperts'), router=dict(type='TopKRouter'), num_tasks=3)
    model = build(generator=mmoe).eval()
    inputs, samples = batch(task_ids=[2, 0])
    assert model.task_ids(samples, 2, inputs.device).tolist() == [2, 0]
    with torch.no_grad():
        with_tasks = model.forward_tensor(inputs, samples)
        without = model.forward_tensor(inputs, batch()[1])
    assert not torch.allclose(with_tasks, without)  # a task's own gate vs the mean of the gates


def test_predict_returns_images_in_range():
    model = build().eval()
    inputs, samples = batch()
    with torch.no_grad():
        outputs = model(inputs, samples, mode='predict')
    assert len(outputs) == 2
    pred = outputs[0].output.pred_img
    assert pred.shape == (3, 16, 16) and 0 <= float(pred.min()) and float(pred.max()) <= 255


def test_non_finite_loss_names_the_iteration_and_term():
    model = build().train()
    inputs, samples = batch()
    samples.gt_img = torch.full_like(samples.gt_img, float('nan'))
    MessageHub.get_current_instance().update_info('iter', 6)
    with pytest.raises(FloatingPointError, match=r'^iteration 7: loss term loss_pix is nan'):
        model(inputs, samples, mode='loss')


def test_perceptual_loss_without_local_weights_says_what_to_do(tmp_path):
    missing = tmp_path / 'vgg16.pth'
    message = f'{missing}: VGG16 weights for the perceptual loss not found'
    with pytest.raises(FileNotFoundError, match=message):
        build(perceptual_loss=dict(type='PerceptualLoss', layer_weights={'3': 1.}, vgg_type='vgg16',
                                   pretrained=str(missing)))
    with pytest.raises(FileNotFoundError, match='cannot be downloaded'):
        build(perceptual_loss=dict(type='PerceptualLoss', layer_weights={'3': 1.}, vgg_type='vgg16'))


def test_perceptual_loss_with_a_local_vgg_file(tmp_path):
    import torchvision
    weights = tmp_path / 'vgg16.pth'
    state = torchvision.models.vgg16().state_dict()
    torch.save(state, weights)
    model = build(perceptual_loss=dict(type='PerceptualLoss', layer_weights={'3': 1., '8': 1., '15': 1.},
                                       vgg_type='vgg16', use_input_norm=False, perceptual_weight=0.04,
                                       style_weight=0., criterion='mse', pretrained=str(weights))).train()
    assert torch.equal(model.perceptual_loss.vgg.vgg_layers[0].weight, state['features.0.weight'])
    losses = model(*batch(), mode='loss')
    assert losses['loss_perceptual'] > 0
