"""Train any mmagic / mmsegmentation / mmdetection config (the config's ``default_scope`` decides).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--trust-checkpoint] [--amp]
        [--cfg-options k=v ...]

Resuming unpickles the checkpoint in full (optimizer, message hub), which can run code from the file,
so ``--resume`` accepts only checkpoints this work dir's run wrote (their SHA-256 is in
``WORK_DIR/checkpoint_ledger.json``); ``--trust-checkpoint`` accepts another file the user vouches for.
``load_from`` is read weights-only. Checkpoints also carry the random generator states
(``mmmofme.utils.rng_state``), so a resumed run continues with the numbers the interrupted one would
have drawn.
"""
import mmmofme  # noqa: F401  (first: it silences the stack's import-time warnings)

# isort: split
import argparse
import os
import os.path as osp
import sys
from typing import Optional

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner, find_latest_checkpoint

from mmmofme.utils.checkpoint import CheckpointError, install_checkpoint_loader, load_weights_only
from mmmofme.utils.checkpoint_ledger import LEDGER_NAME, CheckpointLedgerHook, written_by_run
from mmmofme.utils.dist import prepare_cpu_distributed
from mmmofme.utils.rng_state import RandomStateHook
from mmmofme.utils.tool_errors import CfgOptionsAction, one_line_errors


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model (mmagic, mmseg or mmdet config)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or from the latest checkpoint in the work dir when no '
                        'path is given')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='resume from a checkpoint this work dir did not write (it is unpickled in '
                        'full, which can run code from the file: only for files you trust)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (GPU only)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
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

    if args.resume is None and cfg.get('resume'):  # `resume = True` in the config file
        args.resume = cfg.get('load_from') or 'auto'
    resume_from = resume_checkpoint(args, cfg)
    if resume_from is not None:
        cfg.resume, cfg.load_from = True, resume_from or None
        if resume_from:
            keep_seed_of(resume_from, cfg)
    elif cfg.get('load_from'):
        try:  # fail fast, naming the file, before building anything
            load_weights_only(cfg.load_from)
        except CheckpointError as err:
            exit_with(str(err))
    # Resuming needs the run's full state; any other checkpoint (load_from) is read weights-only.
    install_checkpoint_loader(trusted=[resume_from] if resume_from else [])

    prepare_cpu_distributed(cfg, args.launcher)  # gloo + CPU DDP where mmengine 0.10.7 assumes CUDA
    with one_line_errors(args.config, building=True):  # unknown type / argument / value in the config
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    with one_line_errors(args.config):  # unknown dataset type, broken data, unfit checkpoint
        runner.register_hook(CheckpointLedgerHook(), priority='LOWEST')
        runner.register_hook(RandomStateHook())
        runner.train()


def keep_seed_of(checkpoint: str, cfg: Config) -> None:
    """Build the resumed run with the seed of the run it continues.

    mmengine re-seeds from the checkpoint only after the data samplers (seeded from the global seed
    when a config leaves ``randomness.seed`` unset) are built, so with a random seed the resumed run
    would read the data in another order.
    """
    try:
        seed = (load_weights_only(checkpoint).get('meta') or {}).get('seed')
    except CheckpointError:  # a --trust-checkpoint file holding more than run state: mmengine re-seeds
        return
    if isinstance(seed, int) and cfg.get('randomness', {}).get('seed') is None:
        cfg.randomness = dict(cfg.get('randomness', {}), seed=seed)


def resume_checkpoint(args: argparse.Namespace, cfg: Config) -> Optional[str]:
    """The file ``--resume`` resumes from ('' when the work dir has none yet; None without --resume),
    checked to be one this work dir's run wrote unless ``--trust-checkpoint``."""
    if args.resume is None:
        return None
    if args.resume == 'auto':
        path = find_latest_checkpoint(cfg.work_dir) if osp.isdir(cfg.work_dir) else None
        if not path:
            return ''
    else:
        path = args.resume
    if not osp.isfile(path):
        exit_with(f'{path}: checkpoint to resume from not found')
    if not args.trust_checkpoint and not written_by_run(path, cfg.work_dir):
        exit_with(f'{path}: refused: not a checkpoint this run wrote (its SHA-256 is not in '
                  f'{osp.join(cfg.work_dir, LEDGER_NAME)}); resuming unpickles it in full, which can run '
                  f'code from the file. Add --trust-checkpoint if you trust it')
    return path


if __name__ == '__main__':
    main()
