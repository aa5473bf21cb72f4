"""Synthetic street scenes and the generated tree: exact labels, instances, depth, determinism."""
import filecmp
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from weather_data_helpers import TINY, TINY_WEATHER, TRAIN_FRAMES, VARIANTS

from mmmofme.datasets.cityscapes_labels import LABEL_ID, TRAIN_ID_TO_LABEL_ID
from mmmofme.datasets.synthetic.generator import (
    SyntheticConfig,
    frame_names,
    generate_synthetic_cityscapes,
    read_depth,
)
from mmmofme.datasets.synthetic.street_scene import MAX_DISTANCE, render_street_scene

LABEL_TO_TRAIN = {lid: t for t, lid in enumerate(TRAIN_ID_TO_LABEL_ID)}


@pytest.mark.parametrize('seed', range(4))
def test_scene_maps_are_consistent(seed):
    s = render_street_scene(256, 128, np.random.default_rng(seed))
    assert s.image.shape == (128, 256, 3) and s.image.dtype == np.uint8
    assert set(np.unique(s.label)) <= set(range(19)) | {255}
    # every instanceId decodes to the pixel's trainId (ego vehicle: labelId 1, ignored)
    lid = np.where(s.instance >= 1000, s.instance // 1000, s.instance)
    expected = np.vectorize(lambda v: LABEL_TO_TRAIN.get(v, 255))(lid)
    np.testing.assert_array_equal(expected, s.label)
    for cls in ('road', 'sky', 'building', 'car'):
        assert (s.label == TRAIN_ID_TO_LABEL_ID.index(LABEL_ID[cls])).any(), cls
    assert (s.distance > 0).all() and (s.distance <= MAX_DISTANCE).all()
    assert np.all(s.distance[s.label == 10] == MAX_DISTANCE)  # sky at the far clip
    road = s.distance[s.label == 0]
    assert road.min() < 15 and road.max() > 2 * road.min()  # metric ground from near to far
    # object silhouettes (painter's order) contain their visible pixels
    for name, mask in s.objects:
        assert mask.any(), name
    inst_names = [n for n, _ in s.objects if n in ('car', 'person', 'rider', 'bicycle')]
    assert len(inst_names) >= len([i for i in np.unique(s.instance) if i >= 1000])  # some may be hidden
    for iid in np.unique(s.instance[s.instance >= 1000]):
        visible = s.instance == iid
        assert any((mask & visible).sum() == visible.sum() for _, mask in s.objects)


def test_objects_are_big_enough_to_learn():
    areas = []
    for seed in range(6):
        s = render_street_scene(512, 256, np.random.default_rng(seed))
        for iid in np.unique(s.instance[s.instance >= 26000]):
            if iid // 1000 == 26:
                areas.append((s.instance == iid).sum())
    assert len(areas) >= 12 and np.median(areas) > 600  # cars: a few hundred pixels or more at 512x256


def _files(root):
    return sorted(osp.relpath(p, root) for p in glob.glob(osp.join(root, '**', '*'), recursive=True)
                  if osp.isfile(p))


def test_generated_tree(synthetic_root):
    files = _files(synthetic_root)
    frames = [f for f in files if f.startswith('leftImg8bit/train/') and f.endswith('_leftImg8bit.png')]
    assert len(frames) == TRAIN_FRAMES
    for folder, tag in (('leftImg8bit_rain', 'rain'), ('leftImg8bit_foggy', 'fog'), ('leftImg8bit_snow',
                                                                                     'snow'),
                        ('leftImg8bit_raindrop', 'raindrop')):
        assert len([f for f in files if f.startswith(f'{folder}/train/')]) == TRAIN_FRAMES * VARIANTS[tag]
    for kind in ('labelTrainIds.png', 'instanceIds.png', 'polygons.json'):
        assert len([f for f in files if f.startswith('gtFine/train/') and f.endswith(kind)]) == TRAIN_FRAMES
    frame = frames[0].split('/')[-1][:-len('_leftImg8bit.png')]
    city = frames[0].split('/')[2]
    label = cv2.imread(osp.join(synthetic_root, 'gtFine/train', city, f'{frame}_gtFine_labelTrainIds.png'),
                       cv2.IMREAD_UNCHANGED)
    inst = cv2.imread(osp.join(synthetic_root, 'gtFine/train', city, f'{frame}_gtFine_instanceIds.png'),
                      cv2.IMREAD_UNCHANGED)
    assert label.dtype == np.uint8 and inst.dtype == np.uint16 and label.shape == (TINY['height'],
                                                                                   TINY['width'])
    assert set(np.unique(label)) <= set(range(19)) | {255}
    depth = read_depth(osp.join(synthetic_root, 'depth/train', city, f'{frame}_depth.png'))
    assert depth.shape == label.shape and 0 < depth.min() and depth.max() == pytest.approx(MAX_DISTANCE)
    with open(osp.join(synthetic_root, 'gtFine/train', city, f'{frame}_gtFine_polygons.json')) as f:
        polys = json.load(f)
    assert polys['imgWidth'] == TINY['width'] and polys['objects']
    fog = [f for f in files if f.startswith(f'leftImg8bit_foggy/train/{city}/{frame}')]
    assert sorted(osp.basename(f) for f in fog) == [f'{frame}_leftImg8bit_foggy_beta_0.01.png',
                                                    f'{frame}_leftImg8bit_foggy_beta_0.02.png']


def test_generator_is_deterministic(tmp_path, synthetic_root):
    """Same seed -> identical files, in-process or with 2 worker processes; another seed differs."""
    cfg = SyntheticConfig(seed=3, **TINY, **TINY_WEATHER)
    again = str(tmp_path / 'again')
    generate_synthetic_cityscapes(again, {'train': TRAIN_FRAMES, 'val': 2}, cfg, workers=2)
    files = _files(synthetic_root)
    assert files == _files(again)
    match, mismatch, errors = filecmp.cmpfiles(synthetic_root, again, files, shallow=False)
    assert not mismatch and not errors
    other = str(tmp_path / 'other')
    generate_synthetic_cityscapes(other, {'train': 1}, SyntheticConfig(seed=4, **TINY, **TINY_WEATHER))
    city, frame = frame_names('train', 1)[0]
    first = f'leftImg8bit/train/{city}/{frame}_leftImg8bit.png'
    assert not filecmp.cmp(osp.join(synthetic_root, first), osp.join(other, first), shallow=False)


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match='unknown snow level'):
        SyntheticConfig(snow_levels=('blizzard',))
    with pytest.raises(ValueError, match='too small'):
        SyntheticConfig(width=8, height=8)
