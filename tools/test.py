"""Evaluate a checkpoint with any mmagic / mmsegmentation / mmdetection config.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR] [--cfg-options k=v ...]

The checkpoint is read weights-only (see ``mmmofme.utils.checkpoint``), so Runner checkpoints made
by ``tools/train.py`` and plain release checkpoints both load on torch >= 2.6.
"""
import mmmofme  # noqa: F401  (first: it silences the stack's import-time warnings)

# isort: split
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, ConfigDict
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmmofme.utils.checkpoint import (
    CheckpointError,
    check_weights_fit,
    install_checkpoint_loader,
    load_state_dict,
    load_weights_only,
)
from mmmofme.utils.dist import prepare_cpu_distributed
from mmmofme.utils.tool_errors import CfgOptionsAction, one_line_errors


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint (mmagic, mmseg or mmdet config)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument('--show-dir', help='directory (under the work dir) where painted results are saved')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config entries, e.g. test_dataloader.batch_size=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def exit_with(message: str) -> None:
    print(f'error: {message}', file=sys.stderr)
    sys.exit(2)


def enable_painting(cfg: Config, show_dir: str) -> None:
    """Turn on the library's own result painting, written under ``show_dir``."""
    hooks = cfg.get('default_hooks', ConfigDict())
    if 'visualization' in hooks:  # mmseg SegVisualizationHook / mmdet DetVisualizationHook
        hooks.visualization.update(draw=True, interval=1, test_out_dir=show_dir)
    else:  # mmagic: BasicVisualizationHook writes through the visualizer's backends
        custom = [h for h in cfg.get('custom_hooks', []) if h.get('type') != 'BasicVisualizationHook']
        cfg.custom_hooks = custom
        cfg.custom_hooks.append(dict(type='BasicVisualizationHook', interval=1))
        cfg.visualizer = cfg.get('visualizer', None) or dict(
            type='ConcatImageVisualizer', fn_key='img_path', img_keys=['input', 'pred_img', 'gt_img'],
            bgr2rgb=True)
        cfg.visualizer.vis_backends = [dict(type='LocalVisBackend', save_dir=show_dir)]


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        exit_with(f'{args.config}: config file not found')
    try:
        load_weights_only(args.checkpoint)  # fail fast, with the file's name, before building anything
    except CheckpointError as e:
        exit_with(str(e))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.show_dir:
        enable_painting(cfg, args.show_dir)

    install_checkpoint_loader()
    prepare_cpu_distributed(cfg, args.launcher)  # gloo + CPU DDP where mmengine 0.10.7 assumes CUDA
    with one_line_errors(args.config, building=True):  # unknown type / argument / value in the config
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    with one_line_errors(args.config):  # unknown dataset type, broken data, unfit checkpoint
        # mmengine loads non-strictly (a warning, then random weights for what is missing): evaluating
        # those would give wrong numbers silently, so a checkpoint lacking a key or shape is refused.
        model = getattr(runner.model, 'module', runner.model)  # DDP-wrapped under a launcher
        check_weights_fit(model, load_state_dict(args.checkpoint), args.checkpoint,
                          f'model of {args.config}', allow_unexpected=True)
        runner.test()


if __name__ == '__main__':
    main()
