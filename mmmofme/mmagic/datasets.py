"""Paired weather restoration dataset for mmagic: RainCityscapes, Foggy Cityscapes, All-Weather, synthetic."""
from typing import Optional, Sequence, Tuple, Union

from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..datasets.layouts import (
    ALLWEATHER_TRAIN_RULES,
    DatasetLayoutError,
    ParamFilter,
    list_pairs,
    task_weather_order,
    weather_selection,
)
from ..datasets.load_checks import NamedLoadErrorMixin

__all__ = ['WeatherPairedDataset']


@DATASETS.register_module()
class WeatherPairedDataset(NamedLoadErrorMixin, BaseDataset):
    """Degraded/clean pairs of a weather dataset, each tagged with its weather and task id.

    Every sample's data info holds ``img_path`` (degraded), ``gt_path`` (clean), ``weather`` (tag
    string), ``task_id`` (index of the weather in ``task_weathers``), ``frame``, ``weather_params`` and
    ``scale=1`` (so mmagic's ``PairedRandomCrop`` needs no ``SetValues``).
    Load with ``LoadImageFromFile(key='img')`` / ``(key='gt')`` and pack with
    ``PackInputs(meta_keys=['weather', 'task_id'])`` (a list: mmagic wraps anything else in a list) so
    both reach ``data_sample.metainfo`` (stacked batches hold lists). A missing partner or an empty
    split fails at construction; a truncated file fails when loaded, naming it.

    Args:
        layout: ``'raincityscapes'``, ``'foggycityscapes'``, ``'rainhazecityscapes'`` (both in one
            Cityscapes root, Table 3), ``'synthetic'``, ``'cityscapes'`` (with ``weathers``) or
            ``'allweather'``; see :mod:`mmmofme.datasets.layouts` for the trees.
        data_root: Dataset root.
        split: ``'train'``/``'val'``/``'test'``; All-Weather: ``'train'``, ``'test_rain'``,
            ``'test_snow'``, ``'test_raindrop'`` or ``'test'`` (the three together).
        weathers: Weather tags to load (default: the layout's list, e.g. ``('rain',)`` for RainCityscapes;
            ``'clean'`` adds identity pairs of the clean Cityscapes frames).
        params: Per-weather file-name filter, e.g. ``{'rain': {'pattern': [1]}}``.
        betas: Foggy Cityscapes shortcut for ``{'fog': {'beta': betas}}`` (e.g. ``[0.02]``, the densest).
        task_weathers: Weather list defining ``task_id`` (default ``weathers``). Give the same list to
            every part of a ``ConcatDataset`` mixture so ids agree.
        list_file: All-Weather TransWeather list file (relative to the split folder or absolute).
        weather_rules: All-Weather ``(regex, tag)`` rules tagging training file names.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``pipeline``, ``test_mode``,
            ``indices``, ``serialize_data``, ``lazy_init``, ``metainfo``...).
    """

    METAINFO = dict(dataset_name='weather_paired')

    def __init__(self, layout: str = 'synthetic', data_root: str = '', split: str = 'train',
                 weathers: Optional[Union[str, Sequence[str]]] = None, params: Optional[ParamFilter] = None,
                 betas: Optional[Sequence[float]] = None, task_weathers: Optional[Sequence[str]] = None,
                 list_file: Optional[str] = None,
                 weather_rules: Sequence[Tuple[str, str]] = ALLWEATHER_TRAIN_RULES, **kwargs) -> None:
        # Set before BaseDataset.__init__, which calls load_data_list (unless lazy_init).
        self.layout = layout
        self.split = split
        self.weathers, self.params = weather_selection(weathers, params, betas)
        self.list_file = list_file
        self.weather_rules = tuple(tuple(r) for r in weather_rules)
        # The task-id order must not depend on which files happen to come first: fix it up front.
        self.task_weathers = task_weather_order(layout, self.weathers, task_weathers)
        metainfo = dict(kwargs.pop('metainfo', None) or {}, weathers=self.task_weathers)
        super().__init__(data_root=data_root, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list:
        """List and check the pairs (existence only), then attach weather tag and task id."""
        records = list_pairs(self.layout, self.data_root, self.split, self.weathers, self.params,
                             self.list_file, self.weather_rules)
        seen = tuple(dict.fromkeys(r.weather for r in records))
        outside = sorted(set(seen) - set(self.task_weathers))
        if outside:
            raise DatasetLayoutError(f'{type(self).__name__} ({self.layout}, {self.split}): weathers '
                                     f'{outside} are not in task_weathers {list(self.task_weathers)}')
        task_id = {w: i for i, w in enumerate(self.task_weathers)}
        counts = {w: sum(r.weather == w for r in records) for w in seen}
        name = f'{type(self).__name__} {self.layout}/{self.split}'
        print_log(f'{name}: {len(records)} pairs {counts}', 'current')
        # scale=1: restoration pairs share one size (mmagic's PairedRandomCrop reads the SR scale)
        return [dict(r.to_info(), task_id=task_id[r.weather], scale=1) for r in records]
