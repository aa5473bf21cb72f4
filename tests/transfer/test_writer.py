"""The transfer tree: deterministic files the project's dataset classes read with the kind as tag."""
import importlib.util
import json
import os.path as osp
import shutil
from pathlib import Path

import pytest
from transfer_helpers import VAL_FRAMES

from mmmofme.datasets.layouts import DatasetLayoutError, list_pairs
from mmmofme.datasets.transfer.writer import transfer_image_path, write_transfer_set

ROOT = Path(__file__).resolve().parents[2]
KINDS = ['clean', 'fog-dense', 'alb-snow', 'ic-fog-1', 'jpeg']
spec = importlib.util.spec_from_file_location('make_transfer_set',
                                              ROOT / 'tools/dataset_converters/make_transfer_set.py')
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


@pytest.fixture(scope='module')
def tree(synthetic_val, tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp('transfer'))
    write_transfer_set(synthetic_val, out, KINDS, seed=1)
    return out


def test_tree_layout_and_meta(tree, synthetic_val):
    meta = json.loads(Path(tree, 'transfer_meta.json').read_text())
    assert list(meta['kinds']) == KINDS and meta['frames'] == VAL_FRAMES
    assert meta['images'] == VAL_FRAMES * (len(KINDS) - 1)  # 'clean' is the copied leftImg8bit frame
    assert meta['kinds']['alb-snow']['family'] == 'external'
    assert meta['kinds']['jpeg']['splits'] == ['selection', 'report']
    assert set(meta['libraries']) == {'albumentations', 'imagecorruptions'}
    coco = json.loads(Path(tree, 'annotations/instancesonly_filtered_gtFine_val.json').read_text())
    assert len(coco['images']) == VAL_FRAMES
    for kind in KINDS:
        records = list_pairs('cityscapes', tree, 'val', [kind])
        assert len(records) == VAL_FRAMES and {r.weather for r in records} == {kind}
        for r in records:
            assert r.img_path == transfer_image_path(tree, 'val', r.frame, kind)


def test_dataset_classes_read_the_tree_with_the_kinds_as_tags(tree):
    from mmmofme.mmagic.datasets import WeatherPairedDataset
    from mmmofme.mmdet.datasets import WeatherCityscapesDetDataset
    from mmmofme.mmseg.datasets import WeatherCityscapesSegDataset

    kinds = ['fog-dense', 'jpeg', 'clean']
    common = dict(data_root=tree, split='val', layout='cityscapes', weathers=kinds, test_mode=True,
                  pipeline=[])
    paired = WeatherPairedDataset(**common)
    seg = WeatherCityscapesSegDataset(**common)
    det = WeatherCityscapesDetDataset(**common)
    for ds in (paired, seg, det):
        tags = [ds.get_data_info(i)['weather'] for i in range(len(ds))]
        assert sorted(tags) == sorted(kinds * VAL_FRAMES), type(ds).__name__
    info = paired.get_data_info(0)
    assert info['weather'] == 'fog-dense' and info['task_id'] == 0
    assert info['gt_path'] == transfer_image_path(tree, 'val', info['frame'], 'clean')
    assert osp.isfile(seg.get_data_info(0)['seg_map_path'])
    assert all(len(det.get_data_info(i)['instances']) > 0 for i in range(len(det)))


def test_same_files_whatever_the_other_kinds(tree, synthetic_val, tmp_path):
    write_transfer_set(synthetic_val, str(tmp_path), ['jpeg', 'fog-dense'], seed=1)
    for kind in ('fog-dense', 'jpeg'):
        for r in list_pairs('cityscapes', tree, 'val', [kind]):
            assert Path(r.img_path).read_bytes() == Path(transfer_image_path(str(tmp_path), 'val', r.frame,
                                                                             kind)).read_bytes()
    other = tmp_path / 'seed2'
    write_transfer_set(synthetic_val, str(other), ['fog-dense'], seed=2, num=1)
    r = list_pairs('cityscapes', tree, 'val', ['fog-dense'])[0]
    assert Path(r.img_path).read_bytes() != Path(transfer_image_path(str(other), 'val', r.frame,
                                                                     'fog-dense')).read_bytes()


def test_unknown_generic_tag_without_folder_still_fails(tree):
    with pytest.raises(DatasetLayoutError, match="unknown Cityscapes weather 'ic-snow-3'"):
        list_pairs('cityscapes', tree, 'val', ['ic-snow-3'])


def test_tool_errors_name_the_problem(synthetic_val, tmp_path, capsys):
    broken = tmp_path / 'no_depth'
    shutil.copytree(synthetic_val, broken)
    depth = sorted((broken / 'depth').rglob('*_depth.png'))[0]
    depth.unlink()
    assert tool.main(['--src', str(broken), '--out', str(tmp_path / 'o1'), '--kinds', 'jpeg']) == 2
    assert capsys.readouterr().err.startswith(f'error: {depth}: depth map missing (1 of {VAL_FRAMES} frames')
    assert tool.main(['--src', synthetic_val, '--out', str(tmp_path / 'o2'), '--kinds', 'hail']) == 2
    assert capsys.readouterr().err.startswith("error: unknown weather kind 'hail'; known: [")
    assert tool.main(['--src', str(tmp_path / 'empty'), '--out', str(tmp_path / 'o3')]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: Cityscapes split') and '0 pairs found under' in err and err.count('\n') == 1
