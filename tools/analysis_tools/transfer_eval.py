"""Score a deweathering restorer and its perception models on held-out weather (the transfer protocol).

Examples::

    # the demo's checkpoints (work_dirs/demo/{restorer,segmentor,detector}/*_demo.py + iter_*.pth) and the
    # blend its calibration chose (work_dirs/demo/calibration/confidence_calibration.json)
    python tools/analysis_tools/transfer_eval.py --demo-dir work_dirs/demo --data data/transfer \
        --out-dir work_dirs/transfer

    # any checkpoints
    python tools/analysis_tools/transfer_eval.py --data data/transfer --out-dir work_dirs/transfer \
        --restorer CFG CKPT --segmentor CFG CKPT --detector CFG CKPT [--kinds fog-dense jpeg] [--num 8]

Per kind of the tree (``tools/dataset_converters/make_transfer_set.py``): PSNR / SSIM in -> out, mIoU /
mAcc and bbox mAP50 on weathered / restored / clean input, the share of the drop recovered and the
no-harm verdict (definitions in ``docs/transfer.md``). Writes ``transfer.md`` (a table per split),
``transfer.json``, ``transfer_bars.png`` and ``transfer_examples.png`` to ``--out-dir``.
"""
import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default='data/transfer', help='transfer tree')
    p.add_argument('--out-dir', default='work_dirs/transfer', help='where the table, json and PNGs go')
    p.add_argument('--demo-dir', help='take the three configs and latest checkpoints of a demo work dir')
    for name in ('restorer', 'segmentor', 'detector'):
        p.add_argument(f'--{name}', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                       help=f'{name} config and checkpoint')
    p.add_argument('--chain-config', default=str(ROOT / 'configs/synthetic/mofme-fastscnn_synthetic.py'),
                   help='chain config whose model.restore_cfg tiles the restorer ("none": the restorer '
                        'config\'s own tiling)')
    p.add_argument('--kinds', nargs='+', metavar='KIND', help='kinds to score (default: all in the tree)')
    p.add_argument('--protocol-split', choices=['selection', 'report'],
                   help='score the kinds of this protocol split (instead of --kinds)')
    p.add_argument('--layout', default='cityscapes',
                   help='layout of --data: cityscapes (a transfer tree) or synthetic (the training '
                        'renderer\'s own weathers, with --kinds rain fog snow raindrop clean)')
    p.add_argument('--num', type=int, help='frames per kind (default: all)')
    p.add_argument('--split', default='val')
    p.add_argument('--precision', default='fp32', choices=['fp32', 'bf16'],
                   help='the restorer\'s arithmetic (bf16: autocast, as tools/deweather.py --precision bf16)')
    p.add_argument('--threads', type=int, help='torch CPU threads (default: torch\'s, one per core; 1 is '
                   'faster on cores other jobs share)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
    from mmmofme.apis.demo_dir import demo_blend, demo_models
    from mmmofme.datasets.layouts import DatasetLayoutError
    from mmmofme.datasets.transfer import SPLITS
    from mmmofme.evaluation.transfer_eval import build_models, evaluate_transfer, tree_kinds
    from mmmofme.evaluation.transfer_report import markdown_report
    from mmmofme.utils.checkpoint import CheckpointError

    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    try:
        models = demo_models(Path(args.demo_dir)) if args.demo_dir else {}
        for name in ('restorer', 'segmentor', 'detector'):
            if getattr(args, name):
                models[name] = tuple(getattr(args, name))
            if name not in models:
                raise ValueError(f'no {name}: give --{name} CONFIG CHECKPOINT or --demo-dir')
            for path in models[name]:
                if not Path(path).is_file():
                    raise FileNotFoundError(f'{path}: {name} file does not exist')
        if args.protocol_split:
            kinds = [k for k in SPLITS[args.protocol_split] if k in tree_kinds(args.data)]
        elif args.kinds:
            kinds = args.kinds
        else:  # a bad tree fails before the models are built
            kinds = tree_kinds(args.data)
        if args.demo_dir and not args.restorer:
            config, ckpt = models['restorer']
            models['restorer'] = (demo_blend(Path(args.demo_dir), config), ckpt)
        chain = None if args.chain_config == 'none' else args.chain_config
        built = build_models(*models['restorer'], *models['segmentor'], *models['detector'], chain_cfg=chain,
                             precision=args.precision)
        results = evaluate_transfer(args.data, built, kinds, args.split, args.num, args.out_dir,
                                    layout=args.layout)
    except (DatasetLayoutError, FileNotFoundError, CheckpointError, KeyError, OSError, ValueError) as err:
        print(f'error: {err.args[0] if isinstance(err, KeyError) else err}', file=sys.stderr)
        return 2
    print(markdown_report(results, {s: [k for k in names if k in results['kinds']]
                                    for s, names in SPLITS.items()}))
    print(f'{results["runtime_s"]:.0f} s; table, json and PNGs in {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
