"""Pairing rules and start-up checks of the layouts, on a generated synthetic tree and a tiny All-Weather."""
import os
import os.path as osp
import shutil

import pytest
from weather_data_helpers import TRAIN_FRAMES, VAL_FRAMES, VARIANTS, write_png

from mmmofme.datasets.layouts import (
    DatasetLayoutError,
    cityscapes_clean_path,
    list_allweather_pairs,
    list_pairs,
    param_filter,
)


def test_synthetic_pairs_counts_and_tags(synthetic_root):
    recs = list_pairs('synthetic', synthetic_root, 'train')
    assert len(recs) == TRAIN_FRAMES * sum(VARIANTS.values())
    for tag, n in VARIANTS.items():
        assert sum(r.weather == tag for r in recs) == TRAIN_FRAMES * n
    for r in recs:
        assert osp.isfile(r.img_path) and osp.isfile(r.gt_path)
        assert r.gt_path == cityscapes_clean_path(synthetic_root, 'train', r.frame)
        assert osp.basename(r.img_path).startswith(r.frame.split('/')[1])
    assert len(list_pairs('synthetic', synthetic_root, 'val')) == VAL_FRAMES * sum(VARIANTS.values())


def test_raincityscapes_names_parse(synthetic_root):
    recs = list_pairs('raincityscapes', synthetic_root, 'train')
    assert {r.weather for r in recs} == {'rain'}
    assert {r.params['pattern'] for r in recs} == {'1', '2'}
    assert {(r.params['alpha'], r.params['beta'], r.params['dropsize']) for r in recs} == {
        ('0.01', '0.005', '0.01'), ('0.02', '0.01', '0.01')}
    only = list_pairs('raincityscapes', synthetic_root, 'train', params={'rain': {'pattern': [2]}})
    assert len(only) == TRAIN_FRAMES and {r.params['pattern'] for r in only} == {'2'}


def test_foggy_betas_filter_and_mixture(synthetic_root):
    dense = list_pairs('foggycityscapes', synthetic_root, 'val', params=param_filter(betas=[0.02]))
    assert len(dense) == VAL_FRAMES and all(r.params['beta'] == '0.02' for r in dense)
    # Table 3 mixture: the fog filter must not touch rain (whose names also carry a beta).
    mix = list_pairs('rainhazecityscapes', synthetic_root, 'val', params=param_filter(betas=[0.02]))
    assert [r.weather for r in mix].count('rain') == VAL_FRAMES * VARIANTS['rain']
    assert [r.weather for r in mix].count('fog') == VAL_FRAMES
    clean = list_pairs('cityscapes', synthetic_root, 'val', weathers=['clean'])
    assert len(clean) == VAL_FRAMES and all(r.img_path == r.gt_path for r in clean)


def test_missing_partner_is_one_error_with_paths_and_count(synthetic_root, tmp_path):
    root = str(tmp_path / 'syn')
    shutil.copytree(synthetic_root, root)
    clean = list_pairs('cityscapes', root, 'train', weathers=['clean'])
    for r in clean[:2]:
        os.remove(r.gt_path)
    with pytest.raises(DatasetLayoutError) as err:
        list_pairs('foggycityscapes', root, 'train')
    msg = str(err.value)
    assert f'4 of {TRAIN_FRAMES * VARIANTS["fog"]} files have no clean partner' in msg
    assert clean[0].gt_path in msg and clean[1].gt_path in msg


@pytest.mark.parametrize('kwargs, expected', [
    (dict(layout='raincityscapes', split='test'), "0 pairs found under"),
    (dict(layout='foggycityscapes', split='val', params={'fog': {'beta': [0.3]}}),
     "0 left after filter {'beta': [0.3]}"),
    (dict(layout='foggycityscapes', split='val', params={'fog': {'alpha': [0.3]}}),
     "carry no parameter ['alpha']"),
    (dict(layout='foggycityscapes', split='val', params={'rain': {'beta': [0.3]}}), 'not listed'),
    (dict(layout='cityscapes', split='val', weathers=['hail']), "unknown Cityscapes weather 'hail'"),
    (dict(layout='cityscapes', split='val'), 'needs an explicit `weathers`'),
    (dict(layout='kitti', split='val'), "unknown layout 'kitti'"),
])
def test_bad_selection_errors(synthetic_root, kwargs, expected):
    with pytest.raises(DatasetLayoutError, match=None) as err:
        list_pairs(data_root=synthetic_root, **kwargs)
    assert expected in str(err.value)


def test_empty_split_names_the_folder(tmp_path):
    with pytest.raises(DatasetLayoutError) as err:
        list_pairs('raincityscapes', str(tmp_path), 'train')
    assert str(tmp_path / 'leftImg8bit_rain' / 'train') in str(err.value) and '0 pairs' in str(err.value)


def test_allweather_tree(allweather_root):
    rain = list_allweather_pairs(allweather_root, 'test_rain')
    assert [r.weather for r in rain] == ['rain+fog'] * 2
    drops = list_allweather_pairs(allweather_root, 'test_raindrop')
    assert all(r.gt_path.endswith('_clean.png') and r.img_path.endswith('_rain.png') for r in drops)
    test = list_pairs('allweather', allweather_root, 'test')
    assert sorted({r.weather for r in test}) == ['rain+fog', 'raindrop', 'snow'] and len(test) == 6
    train = {osp.basename(r.img_path): r.weather for r in list_pairs('allweather', allweather_root, 'train')}
    assert train == {'im_0001_s80_a04.png': 'rain+fog', '3_rain.png': 'raindrop',
                     'city_read_00001.jpg': 'snow',
                     'beautiful_smile_00002.jpg': 'snow'}
    assert len(list_pairs('allweather', allweather_root, 'train', weathers=['snow'])) == 2


def test_allweather_list_file(allweather_root):
    with open(osp.join(allweather_root, 'train', 'allweather.txt'), 'w') as f:
        f.write('/input/im_0001_s80_a04.png\n./input/3_rain.png\n\n')
    recs = list_pairs('allweather', allweather_root, 'train', list_file='allweather.txt')
    assert [r.gt_path for r in recs] == [osp.join(allweather_root, 'train', 'gt', n)
                                        for n in ('im_0001_s80_a04.png', '3_rain.png')]
    with open(osp.join(allweather_root, 'train', 'bad.txt'), 'w') as f:
        f.write('input/nope.png\ninput/3_rain.png\n')
    with pytest.raises(DatasetLayoutError, match=r'1 of 2 listed degraded files do not exist: .*nope.png'):
        list_pairs('allweather', allweather_root, 'train', list_file='bad.txt')
    with pytest.raises(DatasetLayoutError, match='list file .*missing.txt does not exist'):
        list_pairs('allweather', allweather_root, 'train', list_file='missing.txt')


def test_allweather_missing_gt(allweather_root):
    write_png(osp.join(allweather_root, 'test_snow', 'input', 'orphan.jpg'))
    with pytest.raises(DatasetLayoutError) as err:
        list_pairs('allweather', allweather_root, 'test_snow')
    assert '1 of 3 files have no GT partner' in str(err.value)
    assert osp.join(allweather_root, 'test_snow', 'gt', 'orphan.jpg') in str(err.value)


def test_layouts_need_no_downstream_library(run_python):
    code = ('import sys; import mmmofme.datasets, mmmofme.datasets.synthetic; '
            'bad = [m for m in ("mmagic", "mmseg", "mmdet") if m in sys.modules]; assert not bad, bad')
    result = run_python('-c', code)
    assert result.returncode == 0, result.stderr[-2000:]
