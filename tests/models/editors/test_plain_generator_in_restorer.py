"""The baselines as the MoFME restorer's generator: tagged samples, no MoE aux losses, tiled test."""
import pytest
import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.registry import DefaultScope

import mmmofme.mmagic  # noqa: F401

GENERATORS = [dict(type='PReNet', mid_channels=4, num_stages=2, num_res_blocks=1),
              dict(type='RESCAN', mid_channels=4, depth=3, num_stages=2, se_hidden=2),
              dict(type='FFANet', mid_channels=8, num_groups=1, num_blocks=1, reduction=4),
              dict(type='TransWeather', embed_dims=(8, 8, 8, 8), num_heads=(1, 1, 1, 1), depths=(1, 1, 1, 1),
                   intra_num_heads=(1, 1, 1), decoder_depth=1, decoder_num_heads=1, num_queries=2,
                   tail_dims=(4, 4)),
              dict(type='Restormer', dim=8, num_blocks=[1, 1, 1, 1], num_refinement_blocks=1,
                   heads=[1, 1, 1, 1])]


@pytest.mark.parametrize('generator', GENERATORS, ids=lambda g: g['type'])
def test_tagged_batch_trains_and_tiles_with_a_plain_generator(generator):
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(dict(type='MoFMERestorer', generator=generator, aux_loss_weights=dict(),
                                  test_cfg=dict(crop_size=16, stride=12),
                                  data_preprocessor=dict(type='DataPreprocessor', mean=[0., 0., 0.],
                                                         std=[255., 255., 255.])))
    assert not model.generator_takes_task_ids
    torch.manual_seed(0)
    inputs = torch.rand(2, 3, 16, 16)
    samples = DataSample.stack([DataSample(gt_img=torch.rand(3, 16, 16), metainfo=dict(task_id=t))
                                for t in (0, 1)])  # weather tags, as every weather dataset here gives
    losses = model.train().forward_train(inputs, samples)
    assert set(losses) == {'loss_pix'} and losses['loss_pix'] > 0
    one = DataSample.stack([DataSample(metainfo=dict(task_id=1))])
    restored = model.eval().forward_tensor(torch.rand(1, 3, 21, 29), one)  # tiled: 2 x 3 tiles
    assert restored.shape == (1, 3, 21, 29)
