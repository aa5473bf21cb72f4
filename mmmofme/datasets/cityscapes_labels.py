"""Cityscapes label definitions used by the loaders, the COCO converter and the synthetic generator.

The 19 evaluation classes in trainId order (``CLASSES``), their Cityscapes ``labelId`` (what
``*_gtFine_instanceIds.png`` encodes: ``labelId`` for stuff, ``labelId * 1000 + k`` for instance ``k``),
the official palette and the 8 instance classes of the detection benchmark. Values follow
``cityscapesscripts/helpers/labels.py`` of the Cityscapes toolkit.
"""
from typing import Dict, Tuple

CLASSES: Tuple[str, ...] = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
                            'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car',
                            'truck', 'bus', 'train', 'motorcycle', 'bicycle')
IGNORE_INDEX = 255

# trainId -> Cityscapes labelId
TRAIN_ID_TO_LABEL_ID: Tuple[int, ...] = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32,
                                         33)
UNLABELED_LABEL_ID = 0

PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153), (153, 153, 153),
    (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152), (70, 130, 180), (220, 20, 60),
    (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100), (0, 80, 100), (0, 0, 230), (119, 11, 32))

# The detection benchmark (mmdet's ``CityscapesDataset``) keeps these 8 "hasInstances" classes.
INSTANCE_CLASSES: Tuple[str, ...] = ('person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
                                     'bicycle')
TRAIN_ID: Dict[str, int] = {name: i for i, name in enumerate(CLASSES)}
LABEL_ID: Dict[str, int] = {name: TRAIN_ID_TO_LABEL_ID[i] for i, name in enumerate(CLASSES)}
INSTANCE_LABEL_IDS: Tuple[int, ...] = tuple(LABEL_ID[name] for name in INSTANCE_CLASSES)

# Polygon labels of gtFine that are not among the 19 classes but occlude instances when rasterised
# (``json2instanceImg`` draws every object in file order). Unknown labels are drawn as "unlabeled".
EXTRA_LABEL_IDS: Dict[str, int] = {
    'unlabeled': 0, 'ego vehicle': 1, 'rectification border': 2, 'out of roi': 3, 'static': 4, 'dynamic': 5,
    'ground': 6, 'parking': 9, 'rail track': 10, 'guard rail': 14, 'bridge': 15, 'tunnel': 16,
    'polegroup': 18, 'caravan': 29, 'trailer': 30, 'license plate': -1,
}

__all__ = ['CLASSES', 'IGNORE_INDEX', 'TRAIN_ID_TO_LABEL_ID', 'UNLABELED_LABEL_ID', 'PALETTE',
           'INSTANCE_CLASSES', 'TRAIN_ID', 'LABEL_ID', 'INSTANCE_LABEL_IDS', 'EXTRA_LABEL_IDS']
