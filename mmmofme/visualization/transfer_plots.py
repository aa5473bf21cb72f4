"""Figures of the transfer protocol: a bar plot per kind and a mosaic with one example per kind."""
from pathlib import Path
from typing import Mapping, Sequence, Tuple

import numpy as np

__all__ = ['bar_plot', 'example_mosaic']


def bar_plot(kinds: Mapping[str, dict], names: Sequence[str], path: Path) -> Path:
    """PSNR in / out (top) and mIoU weathered / restored / clean (bottom) per kind."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    x = np.arange(len(names))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(8.0, 0.55 * len(names)), 7.5), sharex=True)
    for offset, key, label in ((-0.2, 'psnr_in', 'weathered'), (0.2, 'psnr_out', 'restored')):
        top.bar(x + offset, [kinds[n][key] for n in names], 0.4, label=label)
    top.set_ylabel('PSNR vs clean (dB)')
    top.legend(loc='upper right', fontsize=8)
    for offset, mode in ((-0.27, 'weathered'), (0.0, 'restored'), (0.27, 'clean')):
        bottom.bar(x + offset, [kinds[n]['mIoU'][mode] for n in names], 0.27, label=mode)
    bottom.set_ylabel('mIoU (%)')
    bottom.legend(loc='upper right', fontsize=8)
    bottom.set_xticks(x)
    bottom.set_xticklabels([f'{n}\n({kinds[n]["family"]})' if i == 0 or kinds[names[i - 1]]['family'] !=
                            kinds[n]['family'] else n for i, n in enumerate(names)], rotation=60, ha='right',
                           fontsize=7)
    for ax in (top, bottom):
        ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(path), dpi=110)
    plt.close(fig)
    return path


def example_mosaic(examples: Sequence[Tuple[str, np.ndarray, np.ndarray, np.ndarray]], path: Path,
                   width: int = 256) -> Path:
    """A row per kind: weathered | restored | clean (RGB uint8), each resized to ``width`` px wide."""
    import cv2

    rows = []
    for name, *images in examples:
        h = int(round(images[0].shape[0] * width / images[0].shape[1]))
        tiles = []
        for title, img in zip((name, 'restored', 'clean'), images):
            tile = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA).copy()
            cv2.rectangle(tile, (0, 0), (8 + 7 * len(title), 16), (0, 0, 0), -1)
            cv2.putText(tile, title, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
            tiles.append(tile)
        rows.append(np.hstack(tiles))
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR)):
        raise OSError(f'{path}: could not write the mosaic')
    return path
