"""CIFAR10Folder: mmpretrain's CIFAR-10 read offline from a user folder, with one-line errors."""
import numpy as np
import pytest
from cifar_helpers import CLASS_COLOURS, write_fake_cifar10

from mmmofme.mmpretrain import CIFAR10Folder


def test_reads_the_release_format(tmp_path):
    root = write_fake_cifar10(tmp_path, per_batch=6, test=10)
    train = CIFAR10Folder(data_root=str(root), split='train', verify_md5=False, serialize_data=False)
    test = CIFAR10Folder(data_root=str(root), split='test', verify_md5=False, serialize_data=False)
    assert len(train) == 30 and len(test) == 10
    info = test.get_data_info(3)
    assert info['img'].shape == (32, 32, 3) and info['img'].dtype == np.uint8
    # HWC RGB, as the release's channel-major rows are unpacked: the image is its class colour + noise
    assert np.abs(info['img'].reshape(-1, 3).mean(0) - CLASS_COLOURS[info['gt_label']]).max() < 10
    assert sorted(test.get_data_info(i)['gt_label'] for i in range(10)) == list(range(10))
    assert test.metainfo['classes'][0] == 'airplane'


def test_missing_folder_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'nowhere/cifar-10-batches-py/test_batch: CIFAR-10 batch'):
        CIFAR10Folder(data_root=str(tmp_path / 'nowhere'), split='test')


def test_missing_train_batch_names_it(tmp_path):
    root = write_fake_cifar10(tmp_path)
    (root / 'cifar-10-batches-py' / 'data_batch_4').unlink()
    CIFAR10Folder(data_root=str(root), split='test', verify_md5=False)  # the test split does not need it
    with pytest.raises(FileNotFoundError, match='data_batch_4'):
        CIFAR10Folder(data_root=str(root), split='train', verify_md5=False)


def test_md5_mismatch_names_the_file(tmp_path):
    root = write_fake_cifar10(tmp_path)
    with pytest.raises(ValueError, match=r'test_batch: MD5 differs'):
        CIFAR10Folder(data_root=str(root), split='test')


def test_a_file_that_is_not_a_batch_is_named(tmp_path):
    root = write_fake_cifar10(tmp_path)
    (root / 'cifar-10-batches-py' / 'test_batch').write_bytes(b'not a pickle')
    with pytest.raises(ValueError, match='cifar-10-batches-py: not readable as CIFAR-10 python batches'):
        CIFAR10Folder(data_root=str(root), split='test', verify_md5=False)


def test_never_downloads(tmp_path):
    with pytest.raises(ValueError, match='never downloads'):
        CIFAR10Folder(data_root=str(tmp_path), split='test', download=True)
