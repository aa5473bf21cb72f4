"""Turn a failure deep inside a loading pipeline into one error that names the broken file.

The stock loaders react to a truncated PNG in different ways: mmcv's ``LoadImageFromFile`` asserts
``failed to load image``, mmagic's ``LoadImageFromFile`` and mmseg's ``LoadAnnotations`` crash later on
``None.shape`` / ``None.squeeze``. Rather than replacing each loader, the dataset classes of mmmofme mix
in :class:`NamedLoadErrorMixin`: when preparing a sample raises, the sample's files are probed (only
then, so healthy data costs nothing) and an :class:`ImageLoadError` names the unreadable ones.
"""
import os.path as osp
from typing import List, Sequence

import cv2

__all__ = ['ImageLoadError', 'unreadable_files', 'NamedLoadErrorMixin']


class ImageLoadError(OSError):
    """A sample's image or label file is missing, truncated or not an image."""


def unreadable_files(paths: Sequence[str]) -> List[str]:
    """``'path (reason)'`` for every path that does not exist or that OpenCV cannot decode."""
    bad = []
    for path in paths:
        if not osp.isfile(path):
            bad.append(f'{path} (missing)')
        elif path.lower().endswith(('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')) and \
                cv2.imread(path, cv2.IMREAD_UNCHANGED) is None:
            bad.append(f'{path} (truncated or not a valid image)')
    return bad


class NamedLoadErrorMixin:
    """Mixin for :class:`mmengine.dataset.BaseDataset` subclasses (put it first in the bases).

    If ``prepare_data(idx)`` raises and one of the sample's ``*_path`` files is unreadable, raises
    ``ImageLoadError('<Dataset>[idx]: cannot read <path> (reason)')`` instead of the loader's
    traceback; any other error (a genuine pipeline bug) propagates unchanged.
    """

    def prepare_data(self, idx: int):
        try:
            return super().prepare_data(idx)
        except Exception:
            info = self.get_data_info(idx)
            paths = [v for k, v in info.items() if k.endswith('_path') and isinstance(v, str)]
            bad = unreadable_files(paths)
            if not bad:
                raise
        raise ImageLoadError(f'{type(self).__name__}[{idx}]: cannot read {"; ".join(bad)}')
