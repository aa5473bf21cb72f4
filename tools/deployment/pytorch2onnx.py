"""Export a MoFME restorer, or a restorer + mmseg segmentor chain, to one ONNX graph (sparse routing kept).

    python tools/deployment/pytorch2onnx.py CONFIG CKPT --out model.onnx [--chain] [--opset 18..23]
        [--shape B H W] [--no-task-ids] [--verify]

CONFIG is a restorer config (``model.generator``) or a chain config (``model.restorer``); CKPT the
matching checkpoint (``none`` keeps the initial weights, e.g. for a size / speed check). Without
``--chain`` the restorer is exported: ``image`` (B, 3, H, W) RGB in [0, 1] → ``restored``, with dynamic
batch, height and width; tiling stays outside the graph (``tools/deweather.py --backend onnxruntime``
tiles as the config says). A task-gated restorer (MMoE, M³ViT) gets a second input ``task_id`` (B,)
int64, one weather task per image, as its PyTorch forward takes ``task_ids``; ``--no-task-ids`` exports
what it computes without ids instead (MMoE: the mean of its gates), with ``image`` as the only input.
With ``--chain`` a ``DeweatherSegmentor`` config is exported whole: ``image`` → ``seg_logits``
(B, K, H, W) with the config's ``restore_cfg`` (the chain restores without task ids, as in PyTorch); a
tiled chain (``restore_cfg`` mode ``'slide'``) is fixed to the ``--shape`` B × H × W (its tile grid
depends on the frame size).
``--verify`` runs onnxruntime and PyTorch on the example and prints the max abs difference.
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
                        help='input size of a tiled chain\'s fixed-size graph')
    parser.add_argument('--no-task-ids', action='store_true',
                        help='export a task-gated restorer (MMoE, M3ViT) without its task_id input')
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


def example_for(model: torch.nn.Module, graph_is_dynamic: bool, shape: Optional[List[int]],
                config: str) -> torch.Tensor:
    """The traced example: generated for a dynamic graph, ``--shape`` for a tiled chain (fixed sizes)."""
    from mmmofme.deploy import dynamic_example, example_input
    if graph_is_dynamic:
        return dynamic_example(getattr(model, 'restorer', model))
    if shape is None:
        raise ValueError(f'{config}: the chain restores tile by tile, so its graph is fixed to one frame '
                         f'size: give --shape B H W')
    return example_input(shape)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmmofme.apis import init_restorer
    from mmmofme.deploy import ExportError, check_opset, example_inputs, export_onnx, graph_for
    from mmmofme.utils.checkpoint import CheckpointError
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    try:
        check_opset(args.opset)
        for path, what in ((args.config, 'config'), (checkpoint, 'checkpoint')):
            if path is not None and not osp.isfile(path):
                raise ValueError(f'{path}: no such {what} file')
        model = build_chain(args.config, checkpoint) if args.chain else init_restorer(args.config, checkpoint)
        graph, dynamic_hw = graph_for(model, args.chain, task_ids=not args.no_task_ids)
        example = example_for(model, dynamic_hw, args.shape, args.config)
        export_onnx(graph, example, args.out, 'seg_logits' if args.chain else 'restored', dynamic_hw,
                    args.opset)
    except (ExportError, ValueError, CheckpointError, FileNotFoundError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    dims = 'batch, height, width' if dynamic_hw else f'none, fixed to {tuple(example.shape)}'
    tasks = f'; task_id input, {graph.num_tasks} tasks' if getattr(graph, 'num_tasks', 1) > 1 else ''
    print(f'wrote {args.out} (dynamic sizes: {dims}{tasks})', flush=True)
    if args.verify:
        from mmmofme.deploy import OnnxRestorer
        inputs = example_inputs(graph, example)
        with torch.no_grad():
            expected = graph(*inputs)
        got = OnnxRestorer(args.out)(*inputs)
        print(f'max abs difference onnxruntime vs PyTorch: {(got - expected).abs().max().item():.3g}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
