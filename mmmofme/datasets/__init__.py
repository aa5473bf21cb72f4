"""Weather datasets without any downstream library: layouts of the real datasets, Cityscapes annotation
formats, load-error reporting, and the synthetic street-scene generator (``mmmofme.datasets.synthetic``).

Pure numpy / OpenCV / mmengine; the registered dataset classes live in ``mmmofme.mmagic``,
``mmmofme.mmseg`` and ``mmmofme.mmdet``.
"""
from .cityscapes_annotations import (
                                     CocoBuilder,
                                     gtfine_to_coco,
                                     instance_annotations,
                                     polygons_from_maps,
                                     rasterize_polygons,
)
from .cityscapes_labels import CLASSES, IGNORE_INDEX, INSTANCE_CLASSES, PALETTE
from .layouts import (
                                     ALLWEATHER_TEST_SPLITS,
                                     CITYSCAPES_WEATHERS,
                                     CLEAN_TAG,
                                     LAYOUT_WEATHERS,
                                     WEATHER_TAGS,
                                     DatasetLayoutError,
                                     PairRecord,
                                     cityscapes_clean_path,
                                     cityscapes_gt_path,
                                     default_weathers,
                                     list_allweather_pairs,
                                     list_cityscapes_pairs,
                                     list_pairs,
                                     param_filter,
)
from .load_checks import ImageLoadError, NamedLoadErrorMixin, unreadable_files

__all__ = ['CocoBuilder', 'gtfine_to_coco', 'instance_annotations', 'polygons_from_maps',
           'rasterize_polygons', 'CLASSES', 'IGNORE_INDEX', 'INSTANCE_CLASSES', 'PALETTE',
           'ALLWEATHER_TEST_SPLITS', 'CITYSCAPES_WEATHERS',
           'CLEAN_TAG', 'LAYOUT_WEATHERS', 'WEATHER_TAGS', 'DatasetLayoutError', 'PairRecord',
           'cityscapes_clean_path', 'cityscapes_gt_path', 'default_weathers', 'list_allweather_pairs',
           'list_cityscapes_pairs', 'list_pairs', 'param_filter', 'ImageLoadError', 'NamedLoadErrorMixin',
           'unreadable_files']
