"""OneS knowledge gathering: an MoE restorer checkpoint → the dense student's initial checkpoint.

    python tools/model_converters/moe_to_dense.py MOE.pth DENSE.pth [--method average|sum|svd]

Each MoE layer's FFN experts are merged into one dense pre-norm FFN
(:func:`mmmofme.models.moe.gathering.gather_ffn_experts`); the routers are dropped, all other weights
kept. MOE.pth may be an mmagic ``MoFMERestorer`` checkpoint (``generator.*``), a chain one
(``restorer.*``) or a bare ``MoFMEViT`` state dict, read weights-only. DENSE.pth holds ``generator.*``
keys: the student of ``configs/baselines/ones_*.py`` loads it through its ``init_cfg``.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import torch

from mmmofme.models.moe.gathering import GATHER_METHODS, gather_ffn_experts
from mmmofme.utils.checkpoint import RESTORER_PREFIXES, CheckpointError, read_checkpoint
from mmmofme.version import __version__


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Merge an MoE checkpoint\'s FFN experts into a dense '
                                     'FFN per layer (OneS knowledge gathering)')
    parser.add_argument('moe', help='MoE restorer checkpoint (FFN experts)')
    parser.add_argument('out', help='output dense checkpoint (.pth)')
    parser.add_argument('--method', default='average', choices=GATHER_METHODS,
                        help='how the experts are merged (default: average)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        moe = read_checkpoint(args.moe, RESTORER_PREFIXES)
        dense = gather_ffn_experts(moe, args.method)
    except CheckpointError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    except ValueError as err:
        print(f'error: {args.moe}: {err}', file=sys.stderr)
        return 1
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    meta = dict(mmmofme_version=__version__, moe_checkpoint=args.moe, gathering=args.method)
    torch.save(dict(meta=meta, state_dict={f'generator.{k}': v for k, v in dense.items()}), args.out)
    print(f'wrote {args.out}: {len(dense)} tensors ({len(moe) - len(dense)} fewer than the MoE; '
          f'experts merged by {args.method})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
