"""Tile seams of a restorer: PSNR and seam visibility for non-overlapping vs overlapping feathered tiles.

For every stride, each val pair of the chosen weathers is restored with ``init_restorer`` / ``restore``
tiled at the config's crop size; reported per stride: mean PSNR (mmagic) against the clean frame, the
seam visibility (:func:`mmmofme.evaluation.seam_visibility`: error step at tile borders ÷ elsewhere,
1.0 = invisible) and the time per frame.

    python tools/analysis_tools/tiling_seams.py configs/synthetic/mofme_synthetic.py RESTORER.pth \
        --data-root data/synthetic --strides 128 96 64 --num 12 --out work_dirs/seams.md
"""
import argparse
import time
from pathlib import Path
from typing import List, Optional

import mmmofme  # noqa: F401  (quiet third-party imports first)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='restorer or chain config')
    p.add_argument('checkpoint')
    p.add_argument('--data-root', default='data/synthetic', help='synthetic (Cityscapes-layout) tree')
    p.add_argument('--split', default='val')
    p.add_argument('--weathers', nargs='+', default=['rain', 'fog', 'snow', 'raindrop', 'clean'])
    p.add_argument('--strides', nargs='+', type=int, default=[128, 96, 64],
                   help='tile strides to compare (square; the crop is the config\'s)')
    p.add_argument('--num', type=int, default=12, help='pairs per weather')
    p.add_argument('--out', default=None, help='Markdown file for the table')
    return p.parse_args(argv)


def _tensor(image):
    import numpy as np
    import torch
    return torch.from_numpy(image.astype(np.float32) / 255).permute(2, 0, 1)[None]


def main(argv: Optional[List[str]] = None) -> List[dict]:
    import cv2
    import numpy as np
    from mmagic.evaluation.metrics.psnr import psnr
    from mmengine.logging import MMLogger

    from mmmofme.apis import init_restorer, restore
    from mmmofme.datasets.layouts import list_pairs
    from mmmofme.evaluation import seam_visibility

    args = parse_args(argv)
    logger = MMLogger.get_instance('tiling_seams', log_level='INFO')
    pairs = []
    for weather in args.weathers:
        records = list_pairs('synthetic', args.data_root, args.split, [weather])
        pairs += records[:args.num]
    rows = []
    for stride in args.strides:
        model = init_restorer(args.config, args.checkpoint, restore_cfg=dict(stride=stride))
        crop = model.restore_cfg['crop_size']
        psnrs, seams, start = [], [], time.time()
        for record in pairs:
            weathered, clean = cv2.imread(record.img_path), cv2.imread(record.gt_path)
            restored = restore(model, weathered)
            psnrs.append(psnr(restored, clean, input_order='HWC'))
            seams.append(seam_visibility(_tensor(restored), _tensor(clean), crop, stride))
        seconds = (time.time() - start) / len(pairs)
        rows.append(dict(stride=stride, crop=list(crop), psnr=float(np.mean(psnrs)),
                         seam_visibility=float(np.nanmean(seams)), seconds_per_frame=seconds))
        logger.info(f'stride {stride}: PSNR {rows[-1]["psnr"]:.2f} dB, seam visibility '
                    f'{rows[-1]["seam_visibility"]:.3f}, {seconds:.2f} s/frame ({len(pairs)} frames)')
    table = ['| crop | stride | PSNR (dB) | seam visibility (1 = invisible) | s / frame |',
             '|---|---|---|---|---|']
    table += [f'| {r["crop"][0]} | {r["stride"]} | {r["psnr"]:.2f} | {r["seam_visibility"]:.3f} | '
              f'{r["seconds_per_frame"]:.2f} |' for r in rows]
    print('\n'.join(table))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text('\n'.join(table) + '\n')
    return rows


if __name__ == '__main__':
    main()
