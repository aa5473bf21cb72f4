"""Tiny CIFAR-10 folders in the release's python-pickle format, written by the tests."""
import pickle
from pathlib import Path

import numpy as np

TRAIN_BATCHES = [f'data_batch_{i}' for i in range(1, 6)]

# One colour per class (RGB, 0-255): the classes are learnable in a few iterations.
CLASS_COLOURS = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
                          [145, 30, 180], [70, 240, 240], [240, 50, 230], [128, 128, 0], [0, 0, 128]])


def batch(labels: np.ndarray, rng: np.random.Generator) -> dict:
    """A batch dict as the release stores it: ``data`` (N, 3072) uint8, channel-major rows, and ``labels``."""
    noise = rng.normal(0, 20, (len(labels), 32, 32, 3))
    images = np.clip(CLASS_COLOURS[labels][:, None, None, :] + noise, 0, 255).astype(np.uint8)
    return {'batch_label': b'fake', 'labels': [int(v) for v in labels],
            'data': images.transpose(0, 3, 1, 2).reshape(len(labels), -1)}


def write_fake_cifar10(data_root: Path, per_batch: int = 20, test: int = 40, seed: int = 0) -> Path:
    """``data_root/cifar-10-batches-py/`` with five train batches and a test batch; returns ``data_root``."""
    rng = np.random.default_rng(seed)
    folder = data_root / 'cifar-10-batches-py'
    folder.mkdir(parents=True)
    for name, size in [*((n, per_batch) for n in TRAIN_BATCHES), ('test_batch', test)]:
        labels = np.arange(size) % 10
        (folder / name).write_bytes(pickle.dumps(batch(rng.permutation(labels), rng)))
    return data_root
