"""Generate the synthetic weathered-Cityscapes dataset (the embedded default; no download needed).

Example::

    python tools/dataset_converters/make_synthetic_cityscapes.py --out data/synthetic \
        --num-train 200 --num-val 50 --size 512x256 --seed 0 --preview 4

writes RainCityscapes / Foggy Cityscapes style trees plus snow and raindrop folders, gtFine labels,
COCO instances and depth maps (see ``mmmofme/datasets/synthetic/generator.py`` for the layout).
The same seed gives the same files, whatever ``--workers``.
"""
import argparse
import os
import time

from mmmofme.datasets.synthetic.generator import (
    SyntheticConfig,
    default_rain_variants,
    generate_synthetic_cityscapes,
)


def _size(text: str):
    try:
        w, h = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'size must look like 512x256, got {text!r}')
    return w, h


def _pair(text: str):
    try:
        a, b = (float(v) for v in text.split(':'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'rain (alpha, beta) pair must look like 0.01:0.005, got {text!r}')
    return a, b


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True, help='output root, e.g. data/synthetic')
    p.add_argument('--num-train', type=int, default=200, help='clean training frames')
    p.add_argument('--num-val', type=int, default=50, help='clean validation frames')
    p.add_argument('--num-test', type=int, default=0, help='clean test frames (split "test")')
    p.add_argument('--size', type=_size, default=(512, 256), help='WxH (default 512x256)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='processes (default: all cores)')
    p.add_argument('--preview', nargs='?', type=int, const=4, default=0,
                   help='write preview/{split}_{frame}.png mosaics (clean, labels, every weather) for the '
                        'first N frames of each split (default N=4 when the flag is given)')
    p.add_argument('--rain-pairs', type=_pair, nargs='+', default=[(0.01, 0.005), (0.02, 0.01)],
                   metavar='ALPHA:BETA', help='rain (alpha, beta) pairs')
    p.add_argument('--rain-patterns', type=int, nargs='+', default=[1, 2], help='rain streak patterns')
    p.add_argument('--rain-dropsizes', type=float, nargs='+', default=[0.01], help='rain drop sizes')
    p.add_argument('--fog-betas', type=float, nargs='*', default=[0.005, 0.01, 0.02])
    p.add_argument('--snow-levels', nargs='*', default=['light', 'heavy'], help='of light/medium/heavy')
    p.add_argument('--raindrop-levels', nargs='*', default=['light', 'heavy'], help='of light/medium/heavy')
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = SyntheticConfig(width=args.size[0], height=args.size[1], seed=args.seed,
                          rain=default_rain_variants(args.rain_pairs, args.rain_patterns,
                                                     args.rain_dropsizes),
                          fog_betas=tuple(args.fog_betas), snow_levels=tuple(args.snow_levels),
                          raindrop_levels=tuple(args.raindrop_levels), preview=args.preview)
    splits = {'train': args.num_train, 'val': args.num_val, 'test': args.num_test}
    splits = {k: v for k, v in splits.items() if v > 0}
    start = time.time()
    counts = generate_synthetic_cityscapes(args.out, splits, cfg, workers=max(1, args.workers))
    total = sum(splits.values())
    print(f'wrote {total} frames ({splits}) with {len(cfg.rain)} rain, {len(cfg.fog_betas)} fog, '
          f'{len(cfg.snow_levels)} snow, {len(cfg.raindrop_levels)} raindrop variants each, '
          f'{sum(counts.values())} instances, to {args.out} in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
