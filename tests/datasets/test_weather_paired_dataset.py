"""WeatherPairedDataset (mmagic): pairs, weather tags and task ids through the pipeline, and its errors."""
import os
import shutil

import numpy as np
import pytest
from mmagic.registry import TRANSFORMS
from mmagic.structures import DataSample
from mmengine.dataset import ConcatDataset
from weather_data_helpers import TRAIN_FRAMES, VARIANTS, truncate

from mmmofme.datasets import DatasetLayoutError, ImageLoadError, list_pairs
from mmmofme.mmagic.datasets import WeatherPairedDataset


def _pipeline():
    return [TRANSFORMS.build(t) for t in (
        dict(type='LoadImageFromFile', key='img', color_type='color', channel_order='rgb'),
        dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
        dict(type='PackInputs', meta_keys=['weather', 'task_id']))]


def test_pairs_tags_and_task_ids(synthetic_root):
    ds = WeatherPairedDataset(layout='synthetic', data_root=synthetic_root, split='train',
                              pipeline=_pipeline())
    assert len(ds) == TRAIN_FRAMES * sum(VARIANTS.values())
    assert ds.metainfo['weathers'] == ('rain', 'fog', 'snow', 'raindrop')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    for tag, n in VARIANTS.items():
        assert sum(i['weather'] == tag for i in infos) == TRAIN_FRAMES * n
    assert all(i['task_id'] == ds.metainfo['weathers'].index(i['weather']) for i in infos)
    fog = next(i for i, info in enumerate(infos) if info['weather'] == 'fog')
    out = ds[fog]
    sample = out['data_samples']
    assert sample.metainfo['weather'] == 'fog' and sample.metainfo['task_id'] == 1
    assert sample.metainfo['img_path'] == infos[fog]['img_path']
    assert tuple(out['inputs'].shape) == (3, 64, 128) and tuple(sample.gt_img.shape) == (3, 64, 128)
    assert not np.array_equal(out['inputs'].numpy(), sample.gt_img.numpy())  # fog changed the input
    # stacked batches (what the restorer sees) keep one tag / id per sample
    batch = DataSample.stack([ds[0]['data_samples'], sample])
    assert batch.metainfo['task_id'] == [0, 1] and batch.metainfo['weather'] == ['rain', 'fog']


def test_selection_and_mixture(synthetic_root):
    dense = WeatherPairedDataset(layout='foggycityscapes', data_root=synthetic_root, split='val',
                                 betas=[0.02])
    assert len(dense) == 2
    assert {dense.get_data_info(i)['weather_params']['beta'] for i in range(2)} == {'0.02'}
    # Table 3 as a ConcatDataset of two roots: same task_weathers -> consistent ids and metainfo
    parts = [WeatherPairedDataset(layout=layout, data_root=synthetic_root, split='val', task_weathers=['rain',
                                                                                                       'fog'])
             for layout in ('raincityscapes', 'foggycityscapes')]
    mix = ConcatDataset(parts)
    ids = [mix.get_data_info(i)['task_id'] for i in range(len(mix))]
    assert ids == [0] * len(parts[0]) + [1] * len(parts[1])
    with pytest.raises(DatasetLayoutError, match=r"weathers \['fog'\] are not in task_weathers \['rain'\]"):
        WeatherPairedDataset(layout='synthetic', data_root=synthetic_root, split='val', weathers=['rain',
                                                                                                  'fog'],
                             task_weathers=['rain'])


def test_allweather(allweather_root):
    ds = WeatherPairedDataset(layout='allweather', data_root=allweather_root, split='test',
                              pipeline=_pipeline())
    assert ds.metainfo['weathers'] == ('rain+fog', 'snow', 'raindrop') and len(ds) == 6
    assert [ds[i]['data_samples'].metainfo['weather'] for i in (0, 2, 4)] == ['rain+fog', 'snow', 'raindrop']


def test_missing_partner_fails_at_construction(synthetic_root, tmp_path):
    root = str(tmp_path / 'syn')
    shutil.copytree(synthetic_root, root)
    victim = list_pairs('cityscapes', root, 'val', weathers=['clean'])[0].gt_path
    os.remove(victim)
    with pytest.raises(DatasetLayoutError, match='have no clean partner: ' + victim):
        WeatherPairedDataset(layout='synthetic', data_root=root, split='val')


@pytest.mark.parametrize('which', ['img_path', 'gt_path'])
def test_truncated_file_is_named_when_loaded(synthetic_root, tmp_path, which):
    root = str(tmp_path / 'syn')
    shutil.copytree(synthetic_root, root)
    ds = WeatherPairedDataset(layout='synthetic', data_root=root, split='val', pipeline=_pipeline())
    bad = ds.get_data_info(3)[which]
    truncate(bad)
    ds[0]  # other samples still load
    with pytest.raises(ImageLoadError) as err:
        ds[3]
    assert f'cannot read {bad} (truncated or not a valid image)' in str(err.value)
    assert err.value.__cause__ is None and err.value.__context__ is None  # one error, no deep traceback chain


def test_task_ids_follow_the_layout_not_the_files(allweather_root):
    # the sorted training names start with RainDrop's '3_rain.png': ids must still follow the layout
    train = WeatherPairedDataset(layout='allweather', data_root=allweather_root, split='train',
                                 lazy_init=True)
    assert train.metainfo['weathers'] == ('rain+fog', 'snow', 'raindrop')  # known before loading
    train.full_init()
    ids = {train.get_data_info(i)['weather']: train.get_data_info(i)['task_id'] for i in range(len(train))}
    assert ids == {'rain+fog': 0, 'snow': 1, 'raindrop': 2}
