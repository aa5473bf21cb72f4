"""Weathered Cityscapes for mmdetection: the weathered variants of a frame share its COCO instances."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

from mmdet.datasets import CityscapesDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from ..datasets.layouts import CLEAN_SUFFIX, DatasetLayoutError, PairRecord, list_pairs, weather_selection
from ..datasets.load_checks import NamedLoadErrorMixin

__all__ = ['WeatherCityscapesDetDataset']


@DATASETS.register_module()
class WeatherCityscapesDetDataset(NamedLoadErrorMixin, CityscapesDataset):
    """Cityscapes instance detection (8 classes) on weathered images.

    Reads the COCO json of the clean frames (``annotations/instancesonly_filtered_gtFine_{split}.json``,
    as written by ``tools/dataset_converters/cityscapes_to_coco.py`` or the synthetic generator;
    ``file_name`` = ``{city}/{frame}_leftImg8bit.png``), applies mmdet's usual ``filter_cfg`` per frame,
    then emits one sample per weathered variant of each kept frame with that frame's ``instances``.

    Each sample gets a unique ``img_id`` (``ori_img_id`` keeps the json's), so several variants of a
    frame never merge in COCO evaluation: evaluate with ``CocoMetric(ann_file=None, metric='bbox')``,
    which builds its ground truth from the samples, and keep ``'instances'`` in ``PackDetInputs``'
    ``meta_keys`` (see ``configs/_base_/datasets/synthetic_det.py``). Data infos also carry
    ``weather`` and ``clean_path``.

    Args:
        data_root: Cityscapes-style root.
        split: ``'train'``, ``'val'`` or ``'test'``.
        layout: ``'raincityscapes'``, ``'foggycityscapes'``, ``'rainhazecityscapes'``, ``'synthetic'`` or
            ``'cityscapes'``; sets the default weathers.
        weathers: Weather tags (default: the layout's), ``'clean'`` for the clean frames.
        params: Per-weather file-name filter, e.g. ``{'rain': {'pattern': [1]}}``.
        betas: Foggy Cityscapes shortcut for ``{'fog': {'beta': betas}}``.
        clean: Use the clean ``leftImg8bit`` frames only (clean baseline); overrides ``weathers``.
        ann_file: COCO json (default ``annotations/instancesonly_filtered_gtFine_{split}.json``).
        **kwargs: ``CocoDataset`` arguments (``pipeline``, ``filter_cfg``, ``test_mode``...).
    """

    def __init__(self, data_root: str, split: str = 'train', layout: str = 'synthetic',
                 weathers: Optional[Union[str, Sequence[str]]] = None, params: Optional[dict] = None,
                 betas: Optional[Sequence[float]] = None, clean: bool = False, ann_file: Optional[str] = None,
                 **kwargs) -> None:
        self.layout = layout
        self.split = split
        self.weathers, self.params = weather_selection(weathers, params, betas, clean)
        ann_file = ann_file or f'annotations/instancesonly_filtered_gtFine_{split}.json'
        kwargs.setdefault('data_prefix', dict(img=f'leftImg8bit/{split}/'))
        ann_path = ann_file if osp.isabs(ann_file) else osp.join(data_root, ann_file)
        if not osp.isfile(ann_path):
            raise DatasetLayoutError(f'{type(self).__name__}: annotation file {ann_path} does not exist '
                                     '(build it with tools/dataset_converters/cityscapes_to_coco.py)')
        super().__init__(data_root=data_root, ann_file=ann_file, **kwargs)

    def filter_data(self) -> List[dict]:
        """mmdet's per-frame filter on the json's images, then one sample per weathered variant."""
        frames = super().filter_data()
        records = list_pairs(self.layout, self.data_root, self.split, self.weathers, self.params)
        by_frame: Dict[str, List[PairRecord]] = {}
        for r in records:
            by_frame.setdefault(r.frame, []).append(r)
        out, used = [], set()
        for info in frames:
            key = _frame_key(info['img_path'])
            used.add(key)
            for r in by_frame.get(key, ()):
                out.append(dict(info, img_path=r.img_path, img_id=len(out) + 1, ori_img_id=info['img_id'],
                                weather=r.weather, frame=key, clean_path=r.gt_path))
        unannotated = [k for k in by_frame if k not in used]
        name = f'{type(self).__name__} {self.layout}/{self.split}'
        if unannotated:
            # Frames dropped by filter_cfg (e.g. no instance) land here too; say how many, never silently.
            print_log(f'{name}: {len(unannotated)} of {len(by_frame)} weathered frames have no kept entry in '
                      f'{self.ann_file} (e.g. {unannotated[0]}); their images are not used', 'current',
                      level=30)
        if not out:
            raise DatasetLayoutError(f'{name}: 0 samples: none of the {len(by_frame)} weathered frames '
                                     f'matches the {len(frames)} kept images of {self.ann_file}')
        print_log(f'{name}: {len(out)} images of {len(used & set(by_frame))} annotated frames', 'current')
        return out


def _frame_key(img_path: str) -> str:
    """``'{city}/{frame}'`` of a clean Cityscapes image path ``.../{city}/{frame}_leftImg8bit.png``."""
    name = osp.basename(img_path)
    if not name.endswith(CLEAN_SUFFIX):
        raise DatasetLayoutError(f'COCO image {img_path} is not named like {{frame}}{CLEAN_SUFFIX}')
    return f'{osp.basename(osp.dirname(img_path))}/{name[:-len(CLEAN_SUFFIX)]}'
