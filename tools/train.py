"""Train any mmagic / mmsegmentation / mmdetection config (the config's ``default_scope`` decides).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
"""
import mmmofme  # noqa: F401  (first: it silences the stack's import-time warnings)

# isort: split
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner, find_latest_checkpoint

from mmmofme.utils.checkpoint import install_checkpoint_loader


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model (mmagic, mmseg or mmdet config)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint in the work dir when no '
                        'path is given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (GPU only)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def exit_with(message: str) -> None:
    print(f'error: {message}', file=sys.stderr)
    sys.exit(2)


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        exit_with(f'{args.config}: config file not found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        import torch
        if not torch.cuda.is_available():
            exit_with('--amp needs a GPU (mmengine AmpOptimWrapper); none is available here')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    trusted = []
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
        latest = find_latest_checkpoint(cfg.work_dir) if osp.isdir(cfg.work_dir) else None
        if latest:
            trusted.append(latest)
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            exit_with(f'{args.resume}: checkpoint to resume from not found')
        cfg.resume, cfg.load_from = True, args.resume
        trusted.append(args.resume)
    # Resuming needs the run's full state; any other checkpoint (load_from) is read weights-only.
    install_checkpoint_loader(trusted=trusted)

    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
