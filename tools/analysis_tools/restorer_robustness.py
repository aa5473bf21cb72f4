"""The restorer over the ImageNet-C corruptions x severities: where it helps, leaves alone and harms.

Examples::

    # the demo's restorer, with the blend its calibration chose, on 4 clean val frames
    python tools/analysis_tools/restorer_robustness.py --demo-dir work_dirs/demo \
        --frames data/synthetic/leftImg8bit/val --out-dir work_dirs/robustness

    # any restorer, some corruptions
    python tools/analysis_tools/restorer_robustness.py --restorer CFG CKPT --corruptions blur contrast \
        --severities 1 3 5 --frames my_clean_frames/

Each clean frame is corrupted by every corruption of imagecorruptions (groups: all, common, validation,
noise, blur, weather, digital; or names) at every severity, restored as the chain restores (tiled by
``--chain-config``), and scored by mmagic's PSNR / SSIM against the clean frame. Writes
``robustness.md`` (a table, harmed cells bold), ``robustness.json`` and ``robustness.png`` (a heat map of
the PSNR gain) to ``--out-dir``. No labels or perception models are needed; see docs/transfer.md.
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--demo-dir', help='take the restorer config, latest checkpoint and calibrated blend of a '
                                      'demo work dir')
    p.add_argument('--restorer', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                   help='restorer config and checkpoint')
    p.add_argument('--frames', default='data/synthetic/leftImg8bit/val',
                   help='folder of clean frames (searched recursively)')
    p.add_argument('--num', type=int, default=4, help='clean frames, evenly spaced over the sorted folder')
    p.add_argument('--corruptions', nargs='+', default=['all'], help='groups or corruption names')
    p.add_argument('--severities', nargs='+', type=int, default=[1, 2, 3, 4, 5], choices=[1, 2, 3, 4, 5])
    p.add_argument('--chain-config', default=str(ROOT / 'configs/synthetic/mofme-fastscnn_synthetic.py'),
                   help='chain config whose model.restore_cfg tiles the restorer ("none": the restorer '
                        'config\'s own tiling)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out-dir', default='work_dirs/robustness', help='where the table, json and PNG go')
    p.add_argument('--threads', type=int, help='torch CPU threads (default: torch\'s)')
    return p.parse_args(argv)


def clean_frames(folder: str, num: int) -> list:
    """``num`` BGR frames evenly spaced over the folder's sorted images; fails naming the folder."""
    from mmmofme.evaluation.transfer_eval import read_bgr
    paths = sorted(p for p in Path(folder).rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f'{folder}: no images ({", ".join(IMAGE_SUFFIXES)}) found')
    if num < 1:
        raise ValueError(f'--num must be at least 1, got {num}')
    import numpy as np
    picks = sorted(set(np.linspace(0, len(paths) - 1, min(num, len(paths))).round().astype(int).tolist()))
    return [read_bgr(str(paths[i])) for i in picks]


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
    from mmengine.config import Config

    from mmmofme.apis import init_restorer, restore
    from mmmofme.apis.demo_dir import demo_blend, demo_models
    from mmmofme.apis.restorer import restorer_and_tiling
    from mmmofme.datasets.layouts import DatasetLayoutError
    from mmmofme.evaluation.robustness_sweep import (
        corruption_names,
        markdown_table,
        plot_gains,
        sweep_corruptions,
    )
    from mmmofme.utils.checkpoint import CheckpointError, install_checkpoint_loader

    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    try:
        if args.restorer:
            config, ckpt = args.restorer
        elif args.demo_dir:
            config, ckpt = demo_models(Path(args.demo_dir), names=('restorer',))['restorer']
            config = demo_blend(Path(args.demo_dir), config)
        else:
            raise ValueError('no restorer: give --restorer CONFIG CHECKPOINT or --demo-dir')
        if not Path(ckpt).is_file():
            raise FileNotFoundError(f'{ckpt}: restorer checkpoint does not exist')
        corruptions = corruption_names(args.corruptions)
        frames = clean_frames(args.frames, args.num)
        install_checkpoint_loader()
        tiling = None if args.chain_config == 'none' else restorer_and_tiling(
            Config.fromfile(args.chain_config))[1]
        model = init_restorer(config, ckpt, device='cpu', restore_cfg=tiling)
        results = sweep_corruptions(lambda bgr: restore(model, bgr), frames, corruptions, args.severities,
                                    seed=args.seed)
    except (DatasetLayoutError, FileNotFoundError, CheckpointError, OSError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results.update(restorer=[str(config) if not isinstance(config, Config) else config.filename, ckpt],
                   frames_dir=args.frames, severities=args.severities)
    (out / 'robustness.json').write_text(json.dumps(results, indent=1))
    table = markdown_table(results)
    (out / 'robustness.md').write_text(table + '\n')
    plot_gains(results, str(out / 'robustness.png'))
    print(table)
    print(f'{results["runtime_s"]:.0f} s; table, json and PNG in {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
