"""Turn a failure deep inside a loading pipeline into one error that names the broken file.

The stock loaders react to a truncated PNG in different ways: mmcv's ``LoadImageFromFile`` asserts
``failed to load image``, mmagic's ``LoadImageFromFile`` and mmseg's ``LoadAnnotations`` crash later on
``None.shape`` / ``None.squeeze``. Rather than replacing each loader, the dataset classes of mmmofme mix
in :class:`NamedLoadErrorMixin`: when preparing a sample raises, the sample's files are probed (only
then, so healthy data costs nothing) and an :class:`ImageLoadError` names the unreadable ones. For the
libraries' own datasets (mmagic ``BasicImageDataset``, mmseg, mmdet), the tools call
:func:`broken_sample_message` on the traceback of a failed run: it finds the dataset's ``prepare_data``
frame and probes that sample's files the same way.
"""
import os.path as osp
import traceback
from types import TracebackType
from typing import List, Optional, Sequence

import cv2

__all__ = ['ImageLoadError', 'MixedSamplesError', 'unreadable_files', 'sample_problem',
           'broken_sample_message', 'NamedLoadErrorMixin']


class ImageLoadError(OSError):
    """A sample's image or label file is missing, truncated or not an image."""


class MixedSamplesError(ValueError):
    """One batch holds samples whose pipelines gave them different fields (datasets mixed in one loader)."""


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


def sample_problem(dataset, idx: int) -> Optional[str]:
    """``'<Dataset>[idx]: cannot read <path> (reason)'`` if one of the sample's ``*_path`` files is
    unreadable, else None."""
    info = dataset.get_data_info(idx)
    paths = [v for k, v in info.items() if k.endswith('_path') and isinstance(v, str)]
    bad = unreadable_files(paths)
    return f'{type(dataset).__name__}[{idx}]: cannot read {"; ".join(bad)}' if bad else None


def broken_sample_message(tb: Optional[TracebackType]) -> Optional[str]:
    """The :func:`sample_problem` of the dataset sample being prepared where ``tb`` was raised, if any.

    Looks for a ``prepare_data(self, idx)`` frame of an mmengine-style dataset (in-process loading: with
    ``num_workers > 0`` the worker's frames do not reach the main process).
    """
    for frame, _ in traceback.walk_tb(tb):
        if frame.f_code.co_name != 'prepare_data':
            continue
        dataset, idx = frame.f_locals.get('self'), frame.f_locals.get('idx')
        if hasattr(dataset, 'get_data_info') and isinstance(idx, int):
            try:
                return sample_problem(dataset, idx)
            except Exception:  # noqa: BLE001 - a diagnosis only: never mask the original error
                return None
    return None


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
            problem = sample_problem(self, idx)
            if problem is None:
                raise
        raise ImageLoadError(problem)
