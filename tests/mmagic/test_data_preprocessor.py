"""MixedBatchDataPreprocessor: batches mixed from pipelines that order their samples' fields differently."""
import pytest
import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmmofme.mmagic  # noqa: F401
from mmmofme.mmagic.data_preprocessor import align_sample_fields
from mmmofme.utils.tool_errors import user_error_message


def sample(meta_keys, value: float) -> DataSample:
    data = DataSample()
    for key in meta_keys:  # one at a time: the insertion order is what differs between pipelines
        data.set_metainfo({key: f'{key}={value}'})
    data.gt_img = torch.full((3, 4, 4), value * 255)
    return data


def build(kind: str = 'MixedBatchDataPreprocessor'):
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(dict(type=kind, mean=[0.] * 3, std=[255.] * 3))


def batch(order_a, order_b) -> dict:
    return dict(inputs=[torch.zeros(3, 4, 4), torch.ones(3, 4, 4) * 255],
                data_samples=[sample(order_a, 0.25), sample(order_b, 0.75)])


def two_orders_mmagic_cannot_stack():
    """One key set in two insertion orders that mmagic's own preprocessor fails to stack.

    Whether two orders list differently depends on the per-process string hash, so they are searched for.
    """
    plain = build('DataPreprocessor')
    for n in range(2, 64):
        keys = [f'meta_{i}' for i in range(n)]
        for shift in range(1, n):
            try:
                plain(batch(keys, keys[shift:] + keys[:shift]), training=True)
            except AssertionError:
                return keys, keys[shift:] + keys[:shift]
    pytest.fail('mmagic stacked every pair of insertion orders of up to 63 keys')


def test_the_samples_of_mixed_pipelines_stack_with_their_own_metainfo():
    order_a, order_b = two_orders_mmagic_cannot_stack()
    out = build()(batch(order_a, order_b), training=True)
    assert out['inputs'].shape == (2, 3, 4, 4) and out['inputs'][1].eq(1).all()
    stacked = out['data_samples']
    assert torch.allclose(stacked.gt_img[:, 0, 0, 0], torch.tensor([0.25, 0.75]))
    assert stacked.metainfo['meta_0'] == ['meta_0=0.25', 'meta_0=0.75']


def test_aligned_samples_list_their_fields_alike():
    order_a, order_b = two_orders_mmagic_cannot_stack()
    aligned = align_sample_fields([sample(order_a, 0), sample(order_b, 1)])
    assert aligned[0].metainfo_keys() == aligned[1].metainfo_keys()
    assert aligned[0].keys() == aligned[1].keys()
    assert aligned[1].get('meta_0') == 'meta_0=1'


def test_samples_with_other_fields_fail_in_one_line_naming_files_and_fields():
    a = sample(['weather', 'img_path'], 0)
    a.set_metainfo(dict(img_path='data/a.png'))
    b = sample(['weather', 'gt_path'], 0)
    b.set_metainfo(dict(gt_path='data/b_gt.png'))
    with pytest.raises(ValueError) as err:
        align_sample_fields([a, b])
    message = str(err.value)
    assert '\n' not in message
    assert user_error_message(err.value, 'cfg.py') == message  # tools/train.py prints it as its one line
    assert "data/b_gt.png has ['gt_path'] and lacks ['img_path'] against data/a.png" in message


def test_the_restorer_configs_stack_with_it():
    cfg = Config.fromfile('configs/synthetic/mofme-mixdr_synthetic.py')
    assert cfg.model.data_preprocessor.type == 'MixedBatchDataPreprocessor'
