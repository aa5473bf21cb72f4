"""Constants and small file helpers shared by the dataset tests (imported by conftest and tests)."""
import os
import os.path as osp

import cv2
import numpy as np

TINY = dict(width=128, height=64)
# 2 rain (1 pair x 2 patterns), 2 fog, 1 snow, 1 raindrop variant per frame
TINY_WEATHER = dict(rain=[dict(alpha=0.01, beta=0.005, dropsize=0.01, pattern=1),
                          dict(alpha=0.02, beta=0.01, dropsize=0.01, pattern=2)],
                    fog_betas=(0.01, 0.02), snow_levels=('heavy',), raindrop_levels=('heavy',))
TRAIN_FRAMES, VAL_FRAMES = 3, 2
VARIANTS = dict(rain=2, fog=2, snow=1, raindrop=1)



def write_png(path: str, value: int = 128, shape=(24, 32, 3)) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.full(shape, value, np.uint8))


def truncate(path: str) -> None:
    """Cut a file to half its size (a broken download)."""
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


