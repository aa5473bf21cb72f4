"""Export a MoFME restorer, or a restorer + mmseg segmentor chain, to one ONNX graph (sparse routing kept).

    python tools/deployment/pytorch2onnx.py CONFIG CKPT --out model.onnx [--chain] [--opset 18..23]
        [--shape B H W] [--verify]

CONFIG is a restorer config (``model.generator``) or a chain config (``model.restorer``); CKPT the
matching checkpoint (``none`` keeps the initial weights, e.g. for a size / speed check). Without
``--chain`` the restorer is exported: ``image`` (B, 3, H, W) RGB in [0, 1] → ``restored``, with dynamic
batch, height and width; tiling stays outside the graph (``tools/deweather.py --backend onnxruntime``
tiles as the config says). With ``--chain`` a ``DeweatherSegmentor`` config is exported whole:
``image`` → ``seg_logits`` (B, K, H, W) with the config's ``restore_cfg``; a tiled chain fixes H × W to
``--shape``. ``--verify`` runs onnxruntime and PyTorch on the example and prints the max abs difference.
Errors (missing file, unsupported opset, checkpoint that does not fit) are one line, exit status 2.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

import torch


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='restorer or chain config')
    parser.add_argument('checkpoint', help="restorer / chain checkpoint, or 'none' for the initial weights")
    parser.add_argument('--out', required=True, help='the .onnx file to write')
    parser.add_argument('--chain', action='store_true', help='export restorer + segmentor as one graph')
    parser.add_argument('--opset', type=int, default=None, help='ONNX opset (default: the exporter\'s)')
    parser.add_argument('--shape', type=int, nargs=3, metavar=('B', 'H', 'W'), default=None,
                        help='example size (default: 1 x the restorer crop; needed for a tiled chain)')
    parser.add_argument('--verify', action='store_true', help='onnxruntime vs PyTorch on the example')
    return parser.parse_args(argv)


def build_chain(config: str, checkpoint: Optional[str]) -> torch.nn.Module:
    """The chain model of ``config`` in eval mode, with ``checkpoint`` (``restorer.*`` + ``segmentor.*``)."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.utils import import_modules_from_strings

    from mmmofme.utils.checkpoint import load_weights_into, read_checkpoint
    cfg = Config.fromfile(config)
    if 'restorer' not in cfg.model:
        raise ValueError(f'{config}: --chain needs a chain config (model.restorer), got {cfg.model.type}')
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model)
    if checkpoint:
        load_weights_into(model, read_checkpoint(checkpoint), checkpoint, 'chain')
    return model.eval()


def default_shape(model: torch.nn.Module, restore_cfg: dict, chain: bool, config: str) -> List[int]:
    """1 × the tile size (restorer), or the whole frame a whole-frame chain restores (256 × 256)."""
    if chain and restore_cfg['mode'] == 'slide':
        raise ValueError(f'{config}: the chain restores tile by tile, so the graph is fixed to one frame '
                         f'size: give --shape B H W')
    if restore_cfg['mode'] == 'slide':
        h, w = restore_cfg['crop_size'] if not isinstance(restore_cfg['crop_size'], int) else \
            (restore_cfg['crop_size'], ) * 2
        return [1, int(h), int(w)]
    return [1, 256, 256]


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmmofme.apis import init_restorer
    from mmmofme.deploy import ExportError, check_opset, example_input, export_onnx, graph_for
    from mmmofme.utils.checkpoint import CheckpointError
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    try:
        check_opset(args.opset)
        for path, what in ((args.config, 'config'), (checkpoint, 'checkpoint')):
            if path is not None and not osp.isfile(path):
                raise ValueError(f'{path}: no such {what} file')
        model = build_chain(args.config, checkpoint) if args.chain else init_restorer(args.config, checkpoint)
        graph, dynamic_hw = graph_for(model, args.chain)
        shape = args.shape or default_shape(model, model.restore_cfg, args.chain, args.config)
        example = example_input(shape)
        export_onnx(graph, example, args.out, 'seg_logits' if args.chain else 'restored', dynamic_hw,
                    args.opset)
    except (ExportError, ValueError, CheckpointError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    dims = 'batch' + (', height, width' if dynamic_hw else f' (H x W fixed to {shape[1]} x {shape[2]})')
    print(f'wrote {args.out} (dynamic: {dims})', flush=True)
    if args.verify:
        from mmmofme.deploy import OnnxRestorer
        with torch.no_grad():
            expected = graph(example)
        got = OnnxRestorer(args.out)(example)
        print(f'max abs difference onnxruntime vs PyTorch: {(got - expected).abs().max().item():.3g}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
