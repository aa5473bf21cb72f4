"""CIFAR-10 read from a user folder: never downloads, and names the missing or damaged file."""
import os.path as osp
import pickle
from typing import List

from mmpretrain.datasets import CIFAR10
from mmpretrain.datasets.utils import check_md5
from mmpretrain.registry import DATASETS

__all__ = ['CIFAR10Folder']


@DATASETS.register_module()
class CIFAR10Folder(CIFAR10):
    """mmpretrain's ``CIFAR10`` on ``data_root/cifar-10-batches-py/`` (the python-pickle release), offline.

    The stock class downloads a missing or damaged dataset by default and, when told not to, says only
    that the dataset cannot be found. This one never downloads and checks only the split's own batch
    files: a missing file or an MD5 mismatch is an error naming that file.

    Args:
        data_root: The folder holding ``cifar-10-batches-py/``.
        split: ``'train'`` (``data_batch_1..5``) or ``'test'`` (``test_batch``).
        verify_md5: Compare every batch file with the release's MD5 (``False`` for self-made files in
            the release's format, e.g. the tests' generated ones).
        **kwargs: ``CIFAR10`` / ``BaseDataset`` arguments (``pipeline``, ``test_mode``...).
    """

    def __init__(self, data_root: str = '', split: str = 'train', verify_md5: bool = True, **kwargs) -> None:
        if kwargs.pop('download', False):
            raise ValueError(f'{type(self).__name__} never downloads; put the CIFAR-10 python release '
                             f'(cifar-10-batches-py/) under data_root')
        self.verify_md5 = verify_md5
        self._checked = False  # the stock loader asks twice; the MD5s are computed once
        super().__init__(data_root=data_root, split=split, download=False, **kwargs)

    def _split_files(self) -> List[list]:
        return self.train_list if self.split == 'train' else self.test_list

    def _check_integrity(self) -> bool:
        if self._checked:
            return True
        folder = osp.join(self.data_prefix['root'], self.base_folder)
        for name, md5 in self._split_files():
            path = osp.join(folder, name)
            if not osp.isfile(path):
                raise FileNotFoundError(f'{path}: CIFAR-10 batch file not found (data_root must hold the '
                                        f'python release, {self.base_folder}/)')
            if self.verify_md5 and not check_md5(path, md5):
                raise ValueError(f'{path}: MD5 differs from the CIFAR-10 release (damaged or another file; '
                                 'verify_md5=False accepts self-made batches)')
        self._checked = True
        return True

    def load_data_list(self) -> List[dict]:
        self._check_integrity()  # a missing or damaged file is named before anything is read
        try:
            return super().load_data_list()
        except (pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError) as e:
            folder = osp.join(self.data_prefix['root'], self.base_folder)
            raise ValueError(f'{folder}: not readable as CIFAR-10 python batches ({type(e).__name__}: {e})'
                             ) from None
