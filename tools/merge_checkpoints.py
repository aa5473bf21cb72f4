"""Merge a restorer checkpoint and a segmentor / detector checkpoint into one chain checkpoint.

    python tools/merge_checkpoints.py --restorer RESTORER.pth (--segmentor SEG.pth | --detector DET.pth) \
        --out chain.pth [--config configs/chain/<config>.py]

The restorer file may be an mmagic ``MoFMERestorer`` checkpoint (``generator.*`` keys), a chain
checkpoint (``restorer.*``) or a bare ``MoFMEViT`` state dict; the perception file an mmseg / mmdet
checkpoint (or a chain one). Both are read weights-only. The output holds ``restorer.*`` +
``segmentor.*`` / ``detector.*`` keys, the layout of ``DeweatherSegmentor`` / ``DeweatherDetector``, for
``tools/test.py CONFIG chain.pth``. With ``--config``, the merged weights are checked to fit that chain
config's model exactly (``load_from`` itself tolerates missing keys silently).
"""
import argparse
import sys
from typing import Dict, List, Optional

import torch
from torch import Tensor

from mmmofme.utils.checkpoint import RESTORER_PREFIXES, CheckpointError, load_weights_into, read_checkpoint
from mmmofme.utils.io import atomic_path
from mmmofme.version import __version__


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Merge restorer + segmentor/detector checkpoints into a '
                                     'chain checkpoint')
    parser.add_argument('--restorer', required=True, help='restorer checkpoint (mmagic, chain or bare)')
    perception = parser.add_mutually_exclusive_group(required=True)
    perception.add_argument('--segmentor', help='mmseg checkpoint (for DeweatherSegmentor)')
    perception.add_argument('--detector', help='mmdet checkpoint (for DeweatherDetector)')
    parser.add_argument('--out', required=True, help='output chain checkpoint (.pth)')
    parser.add_argument('--config', help='chain config whose model the merged weights must fit')
    return parser.parse_args(argv)


def merge(restorer_path: str, perception_path: str, perception_name: str) -> Dict[str, Tensor]:
    """``restorer.*`` + ``{perception_name}.*`` weights from the two files."""
    restorer = read_checkpoint(restorer_path, RESTORER_PREFIXES)
    perception = read_checkpoint(perception_path, [perception_name + '.'])
    merged = {f'restorer.{k}': v for k, v in restorer.items()}
    merged.update({f'{perception_name}.{k}': v for k, v in perception.items()})
    return merged


def check_fits_config(state_dict: Dict[str, Tensor], config: str, source: str) -> None:
    """Build the config's model (its ``custom_imports`` and ``default_scope`` apply) and load strictly."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope

    cfg = Config.fromfile(config)
    model_cfg = cfg.model.copy()
    # The merged file replaces whatever the config would load itself.
    for key in ('restorer_checkpoint', 'perception_checkpoint'):
        model_cfg.pop(key, None)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(model_cfg)
    load_weights_into(model, state_dict, source, f'model of {config}')


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    perception_name = 'segmentor' if args.segmentor else 'detector'
    perception_path = args.segmentor or args.detector
    try:
        merged = merge(args.restorer, perception_path, perception_name)
        if args.config:
            check_fits_config(merged, args.config, f'{args.restorer} + {perception_path}')
    except CheckpointError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    meta = dict(mmmofme_version=__version__, restorer_checkpoint=args.restorer,
                perception_checkpoint=perception_path)
    with atomic_path(args.out) as tmp:  # an interrupted save leaves no partial chain.pth
        torch.save(dict(meta=meta, state_dict=merged), tmp)
    n_restorer = sum(k.startswith('restorer.') for k in merged)
    print(f'wrote {args.out}: {n_restorer} restorer.* + {len(merged) - n_restorer} '
          f'{perception_name}.* tensors')
    return 0


if __name__ == '__main__':
    sys.exit(main())
