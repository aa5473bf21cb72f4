"""DeweatherSegmentor on generated batches: shapes, normalisation, freezing, fine-tuning, delegation."""
import copy

import pytest
import torch
from chain_stand_ins import MEAN, STD, H, W, bgr_batch, tiny_segmentor
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmmofme.mmseg import DeweatherSegmentor


def seg_batch(n: int = 2, num_classes: int = 4, seed: int = 0) -> dict:
    """What a mmseg dataloader yields: uint8 BGR images + samples with metas and labels."""
    images = bgr_batch(n, seed=seed)
    samples = []
    for i, img in enumerate(images):
        sample = SegDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W), img_path=f'frame_{i}.png'))
        labels = torch.randint(0, num_classes, (1, H, W), generator=torch.Generator().manual_seed(seed + i))
        sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
    return dict(inputs=images, data_samples=samples)


def build_pair(restorer=dict(type='ChainTestIdentity'), segmentor=None, **kwargs):
    """A bare segmentor and a chain around a segmentor with the same weights, both in eval mode."""
    segmentor = segmentor or tiny_segmentor()
    with DefaultScope.overwrite_default_scope('mmseg'):
        bare = MODELS.build(segmentor)
    chain = DeweatherSegmentor(restorer=restorer, segmentor=segmentor, **kwargs)
    chain.segmentor.load_state_dict(bare.state_dict())
    return bare.eval(), chain.eval()


def capture_inputs(module: torch.nn.Module) -> list:
    """Record the tensors ``module`` is called with."""
    seen = []
    module.register_forward_pre_hook(lambda _, args: seen.append(args[0].detach().clone()))
    return seen


@pytest.mark.parametrize('seed', [0, 1])
def test_identity_restorer_gives_the_bare_segmentor_predictions(seed):
    bare, chain = build_pair()
    data = seg_batch(1, seed=seed)  # mmseg's preprocessor tests one image at a time
    with torch.no_grad():
        expected = bare.test_step(copy.deepcopy(data))
        got = chain.test_step(copy.deepcopy(data))
    assert len(got) == len(expected) == 1
    for e, g in zip(expected, got):
        assert g.pred_sem_seg.data.shape == (1, H, W)
        torch.testing.assert_close(g.seg_logits.data, e.seg_logits.data, atol=1e-3, rtol=1e-4)
        agree = (g.pred_sem_seg.data == e.pred_sem_seg.data).float().mean()
        assert agree > 0.999
        assert g.img_path == e.img_path  # metas pass through for IoUMetric / visualisation


@pytest.mark.parametrize('channel_order', ['rgb', 'bgr'])
def test_segmentor_sees_its_own_normalisation(channel_order):
    segmentor = tiny_segmentor()
    if channel_order == 'bgr':  # a caffe-style model: BGR input, BGR mean, unit std
        segmentor['data_preprocessor'].update(mean=MEAN[::-1], std=[1.0, 1.0, 1.0], bgr_to_rgb=False)
    bare, chain = build_pair(segmentor=segmentor)
    seen_bare, seen_chain = capture_inputs(bare.backbone), capture_inputs(chain.segmentor.backbone)
    seen_restorer = capture_inputs(chain.restorer)
    data = seg_batch(1)
    with torch.no_grad():
        bare.test_step(copy.deepcopy(data))
        chain.test_step(copy.deepcopy(data))
    torch.testing.assert_close(seen_chain[0], seen_bare[0], atol=1e-4, rtol=1e-5)
    # ...while the restorer got [0, 1] RGB
    rgb = torch.stack(data['inputs']).flip(1).float() / 255
    torch.testing.assert_close(seen_restorer[0], rgb)


@pytest.mark.parametrize('given', ['none', 'runner_injected'])
def test_outer_preprocessor_is_derived_from_the_segmentors(given):
    segmentor = tiny_segmentor()
    # mmengine's Runner passes a config's top-level data_preprocessor (mmseg configs define one, equal to
    # the segmentor's) to a model that sets none: it means the same as none
    given_pp = dict(segmentor.data_preprocessor, _scope_='mmseg') if given == 'runner_injected' else None
    chain = DeweatherSegmentor(restorer=dict(type='ChainTestIdentity'), segmentor=segmentor,
                               data_preprocessor=given_pp)
    pp = chain.data_preprocessor
    assert pp.mean.flatten().tolist() == [0, 0, 0] and pp.std.flatten().tolist() == [255, 255, 255]
    assert pp.channel_conversion and pp.size == (H, W) and pp.pad_val == 0 and pp.seg_pad_val == 255
    assert chain.perception_mean.flatten().tolist() == pytest.approx(MEAN)
    assert chain.perception_std.flatten().tolist() == pytest.approx(STD)
    # the normalisation buffers come from the config, not from checkpoints
    assert not any(k.startswith('perception_') for k in chain.state_dict())


def test_training_pads_through_the_outer_preprocessor():
    chain = DeweatherSegmentor(restorer=dict(type='ChainTestIdentity'), segmentor=tiny_segmentor())
    images = [img[:, :48, :100] for img in bgr_batch()]  # smaller than size=(H, W): must be padded
    data = seg_batch()
    for img, sample in zip(images, data['data_samples']):
        sample.gt_sem_seg = PixelData(data=sample.gt_sem_seg.data[:, :48, :100])
        sample.set_metainfo(dict(img_shape=(48, 100), ori_shape=(48, 100)))
    processed = chain.data_preprocessor(dict(inputs=images, data_samples=data['data_samples']), training=True)
    assert processed['inputs'].shape == (2, 3, H, W)
    assert processed['inputs'][:, :, 48:].abs().max() == 0  # padded black in [0, 1] space
    assert processed['inputs'].max() <= 1
    assert processed['data_samples'][0].gt_sem_seg.data[:, 48:].eq(255).all()


def test_rejects_an_outer_preprocessor_that_normalises():
    with pytest.raises(ValueError, match=r'data_preprocessor must give \[0, 1\] images'):
        DeweatherSegmentor(restorer=dict(type='ChainTestIdentity'), segmentor=tiny_segmentor(),
                           data_preprocessor=dict(type='SegDataPreProcessor', mean=MEAN, std=STD))


def test_frozen_restorer_gets_no_gradient_and_stays_in_eval():
    chain = DeweatherSegmentor(restorer=dict(type='ChainTestIdentity'), segmentor=tiny_segmentor())
    chain.train()
    assert chain.training and chain.segmentor.training and not chain.restorer.training
    optim = OptimWrapper(torch.optim.SGD(chain.parameters(), lr=0.1))
    head_before = chain.segmentor.decode_head.conv_seg.weight.detach().clone()
    log_vars = chain.train_step(seg_batch(), optim)
    assert set(log_vars) >= {'loss', 'decode.loss_ce'}
    assert not any(k.startswith('restorer.') for k in log_vars)
    assert chain.restorer.gain.grad is None and not chain.restorer.gain.requires_grad
    assert chain.restorer.gain.item() == 1.0
    assert chain.restorer.seen_training == [False]  # ran in eval mode during the training step
    assert not torch.equal(chain.segmentor.decode_head.conv_seg.weight, head_before)


def test_end_to_end_fine_tuning_with_restoration_and_aux_losses():
    chain = DeweatherSegmentor(restorer=dict(type='ChainTestPixelRestorer'), segmentor=tiny_segmentor(),
                               freeze_restorer=False, restoration_loss_weight=2.0)
    chain.train()
    assert chain.restorer.training and chain.restorer.conv.weight.requires_grad
    data = seg_batch()
    for img, sample in zip(data['inputs'], data['data_samples']):
        sample.gt_img = img.clone()  # clean image, as loaded (BGR 0..255)
    processed = chain.data_preprocessor(data, training=True)
    losses = chain.loss(processed['inputs'], processed['data_samples'])
    assert {'restorer.loss_pix', 'restorer.loss_lb', 'restorer.loss_uc', 'decode.loss_ce'} <= set(losses)
    conv = chain.restorer.conv
    assert losses['restorer.loss_lb'].item() == pytest.approx(1e-2 * conv.weight.pow(2).mean().item())
    assert losses['restorer.loss_uc'].item() == pytest.approx(5e-3 * conv.bias.abs().mean().item())
    with torch.no_grad():
        restored = torch.sigmoid(conv(processed['inputs']))
        clean = processed['inputs']  # identical clean and weathered input: MSE(restored, input)
    expected_pix = 2.0 * torch.nn.functional.mse_loss(restored, clean)
    assert losses['restorer.loss_pix'].item() == pytest.approx(expected_pix.item(), rel=1e-5)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0


def test_restoration_loss_without_clean_images_is_a_clear_error():
    chain = DeweatherSegmentor(restorer=dict(type='ChainTestPixelRestorer'), segmentor=tiny_segmentor(),
                               freeze_restorer=False, restoration_loss_weight=1.0)
    processed = chain.data_preprocessor(seg_batch(), training=True)
    with pytest.raises(ValueError, match='gt_img'):
        chain.loss(processed['inputs'], processed['data_samples'])


def test_restoration_loss_on_a_frozen_restorer_is_refused():
    with pytest.raises(ValueError, match='freeze_restorer=False'):
        DeweatherSegmentor(restorer=dict(type='ChainTestPixelRestorer'), segmentor=tiny_segmentor(),
                           restoration_loss_weight=1.0)


def test_tensor_mode_and_extract_feat_delegate():
    bare, chain = build_pair()
    data = seg_batch()
    inputs_chain = chain.data_preprocessor(copy.deepcopy(data), training=True)['inputs']
    inputs_bare = bare.data_preprocessor(copy.deepcopy(data), training=True)['inputs']
    with torch.no_grad():
        logits = chain(inputs_chain, mode='tensor')
        feats = chain.extract_feat(inputs_chain)
        torch.testing.assert_close(logits, bare(inputs_bare, mode='tensor'), atol=1e-3, rtol=1e-4)
    assert logits.shape[:2] == (2, 4)
    assert [f.shape[1] for f in feats] == [32, 64]
