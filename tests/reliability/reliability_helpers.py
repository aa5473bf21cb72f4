"""Data shared by the reliability tests that train (imported by name: pytest puts this folder on the path)."""
from pathlib import Path

import cv2
import numpy as np


def make_pairs(root: Path, n: int, size: tuple) -> None:
    """``root/input`` and ``root/gt``: ``n`` smooth clean images of ``size`` (H, W) and a hazy version
    of each (a veil the tiny restorer can learn to remove), same file names."""
    rng = np.random.default_rng(0)
    for sub in ('input', 'gt'):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        coarse = rng.integers(0, 256, (4, 5, 3)).astype(np.float32)
        clean = cv2.resize(coarse, size[::-1]).clip(0, 255).astype(np.uint8)
        cv2.imwrite(str(root / 'gt' / f'{i}.png'), clean)
        cv2.imwrite(str(root / 'input' / f'{i}.png'), (0.55 * clean + 0.45 * 230).astype(np.uint8))
