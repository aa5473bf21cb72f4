"""Weathered Cityscapes for mmsegmentation: weathered image + the frame's gtFine labelTrainIds."""
from typing import Optional, Sequence, Union

from mmengine.logging import print_log
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from ..datasets.layouts import cityscapes_gt_path, list_pairs, require_partners, weather_selection
from ..datasets.load_checks import NamedLoadErrorMixin

__all__ = ['WeatherCityscapesSegDataset']


@DATASETS.register_module()
class WeatherCityscapesSegDataset(NamedLoadErrorMixin, CityscapesDataset):
    """Cityscapes semantic segmentation on weathered images (19 classes, 255 ignored).

    Every weathered variant of a frame (all RainCityscapes variants, every fog density...) is one
    sample labelled by ``gtFine/{split}/{city}/{frame}_gtFine_labelTrainIds.png``. Data infos also carry
    ``weather`` (add it to ``PackSegInputs(meta_keys=...)`` to see it in ``metainfo``) and
    ``clean_path`` (the clean frame, for joint restoration losses). Works with mmseg's ``IoUMetric``.

    Args:
        data_root: Cityscapes-style root (``leftImg8bit*``, ``gtFine``).
        split: ``'train'``, ``'val'`` or ``'test'``.
        layout: ``'raincityscapes'``, ``'foggycityscapes'``, ``'rainhazecityscapes'``, ``'synthetic'`` or
            ``'cityscapes'``; sets the default weathers.
        weathers: Weather tags (default: the layout's), ``'clean'`` for the clean frames.
        params: Per-weather file-name filter, e.g. ``{'rain': {'pattern': [1]}}``.
        betas: Foggy Cityscapes shortcut for ``{'fog': {'beta': betas}}``.
        clean: Use the clean ``leftImg8bit`` frames only (clean baseline); overrides ``weathers``.
        **kwargs: ``CityscapesDataset`` / ``BaseSegDataset`` arguments (``pipeline``, ``test_mode``...).
    """

    def __init__(self, data_root: str, split: str = 'train', layout: str = 'synthetic',
                 weathers: Optional[Union[str, Sequence[str]]] = None, params: Optional[dict] = None,
                 betas: Optional[Sequence[float]] = None, clean: bool = False, **kwargs) -> None:
        self.layout = layout
        self.split = split
        self.weathers, self.params = weather_selection(weathers, params, betas, clean)
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> list:
        """Weathered images with the labelTrainIds of their frame (existence-checked, not decoded)."""
        if self.layout == 'allweather':
            raise ValueError('All-Weather has no segmentation labels; use a Cityscapes-family layout')
        records = list_pairs(self.layout, self.data_root, self.split, self.weathers, self.params)
        seg = [cityscapes_gt_path(self.data_root, self.split, r.frame, 'labelTrainIds') for r in records]
        name = f'{type(self).__name__} {self.layout}/{self.split}'
        require_partners(zip((r.img_path for r in records), seg), 'gtFine labelTrainIds partner', name)
        counts = {}
        for r in records:
            counts[r.weather] = counts.get(r.weather, 0) + 1
        print_log(f'{name}: {len(records)} images {counts}', 'current')
        return [dict(img_path=r.img_path, seg_map_path=s, label_map=self.label_map,
                     reduce_zero_label=self.reduce_zero_label, seg_fields=[], weather=r.weather,
                     frame=r.frame, clean_path=r.gt_path) for r, s in zip(records, seg)]
