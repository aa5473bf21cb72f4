"""Render the held-out weather kinds of the transfer protocol on the synthetic val frames.

Example::

    python tools/dataset_converters/make_transfer_set.py --src data/synthetic --out data/transfer

writes ``leftImg8bit_{kind}`` folders (one per kind, see ``docs/transfer.md``) next to copies of the
clean frames, their gtFine labels and COCO instances, so the project's dataset classes read the tree
with ``layout='cityscapes', weathers=[kind, ...]``. The same seed gives the same files, whatever
``--workers``.
"""
import argparse
import os
import sys
import time

from mmmofme.datasets.layouts import DatasetLayoutError
from mmmofme.datasets.transfer import KINDS
from mmmofme.datasets.transfer.writer import write_transfer_set


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--src', default='data/synthetic', help='synthetic tree (clean frames + depth maps)')
    p.add_argument('--out', default='data/transfer', help='output root')
    p.add_argument('--kinds', nargs='+', default=None, metavar='KIND',
                   help=f'kinds to render (default all: {", ".join(KINDS)})')
    p.add_argument('--num', type=int, default=None, help='frames (default: every frame of the split)')
    p.add_argument('--split', default='val', help='source split (default val)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='processes (default: all cores)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.time()
    try:
        meta = write_transfer_set(args.src, args.out, args.kinds, args.num, args.seed, args.split,
                                  max(1, args.workers))
    except (DatasetLayoutError, KeyError, OSError, ValueError) as err:
        print(f'error: {err.args[0] if isinstance(err, KeyError) else err}', file=sys.stderr)
        return 2
    print(f'wrote {meta["images"]} images ({len(meta["kinds"])} kinds x {meta["frames"]} frames) to '
          f'{args.out} in {time.time() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
