"""Choose the eval-time confidence range of a restorer with a confidence head, on calibration frames.

Example (the demo's restorer; calibration frames: the synthetic default's ``test`` split and a
transfer tree of the selection split's kinds rendered on it)::

    python tools/dataset_converters/make_synthetic_cityscapes.py --out data/calib --num-train 0 \\
        --num-val 0 --num-test 4
    python tools/dataset_converters/make_transfer_set.py --src data/calib --split test \\
        --out data/calib_transfer --kinds $(python -c "from mmmofme.datasets.transfer import \\
        kinds_in_split; print(*kinds_in_split('selection'))")
    python tools/analysis_tools/calibrate_confidence.py work_dirs/demo/restorer/restorer_demo.py \\
        work_dirs/demo/restorer/iter_1200.pth --transfer-tree data/calib_transfer \\
        --synthetic-root data/calib --split test --out-dir work_dirs/calib

The rule (``mmmofme.evaluation.confidence_calibration``): among candidate per-pixel ``(low, high)``
ranges, each with no frame gate and with each candidate frame gate, those that lose at most
``--near-clean-tolerance`` dB (default 0) on every near-clean kind and at most ``--weather-tolerance``
dB on a weather kind; of those the highest mean PSNR gain over the weather kinds. Writes
``confidence_calibration.{json,md}`` and the config with the chosen range and gate
(``<config>_calibrated.py``) to ``--out-dir``. Never calibrate on the frames you report on.
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='restorer (model.generator) or chain (model.restorer) config')
    p.add_argument('checkpoint', help='its checkpoint')
    p.add_argument('--transfer-tree', help='transfer tree (make_transfer_set.py) of calibration frames')
    p.add_argument('--transfer-kinds', nargs='+', metavar='KIND',
                   help='kinds of --transfer-tree (default: those of the selection split it holds)')
    p.add_argument('--synthetic-root', help='synthetic tree whose own weathers are calibrated on too')
    p.add_argument('--synthetic-weathers', nargs='+', default=['rain', 'fog', 'snow', 'raindrop'])
    p.add_argument('--split', default='test', help='split folder of the calibration frames')
    p.add_argument('--num', type=int, default=4, help='frames per kind')
    p.add_argument('--chain-config', default=str(ROOT / 'configs/synthetic/mofme-fastscnn_synthetic.py'),
                   help='chain config whose model.restore_cfg tiles the restorer ("none": the config\'s own)')
    p.add_argument('--lows', nargs='+', type=float, help='candidate lows (default: the module\'s)')
    p.add_argument('--widths', nargs='+', type=float, help='candidate widths high - low')
    p.add_argument('--weather-tolerance', type=float, default=0.5, help='dB a weather kind may lose')
    p.add_argument('--near-clean-tolerance', type=float, default=0.0, help='dB a near-clean kind may lose')
    p.add_argument('--frame-gates', nargs='*', metavar='LOW,HIGH', default=None,
                   help='candidate frame gates (default: the module\'s); given with no value: no frame gate')
    p.add_argument('--out-dir', default='work_dirs/confidence_calibration')
    p.add_argument('--device', default='cpu')
    return p.parse_args(argv)


def parse_gate(text: str) -> tuple:
    try:
        low, high = (float(v) for v in text.split(','))
    except ValueError:
        raise ValueError(f'--frame-gates: {text!r} is not LOW,HIGH (e.g. 0.6,0.8)') from None
    return low, high


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
    from mmengine.config import Config

    from mmmofme.apis import init_restorer
    from mmmofme.apis.restorer import restorer_and_tiling
    from mmmofme.datasets.transfer import KINDS, kinds_in_split
    from mmmofme.evaluation import confidence_calibration as calib
    from mmmofme.evaluation.transfer_eval import tree_kinds
    from mmmofme.utils.checkpoint import install_checkpoint_loader

    if not (args.transfer_tree or args.synthetic_root):
        print('error: give --transfer-tree and/or --synthetic-root (the calibration frames)', file=sys.stderr)
        return 2
    try:
        cfg = Config.fromfile(args.config)
        sources = []
        if args.transfer_tree:
            kinds = args.transfer_kinds or [k for k in tree_kinds(args.transfer_tree)
                                            if k in kinds_in_split('selection')]
            sources.append(('cityscapes', args.transfer_tree, args.split, kinds))
        if args.synthetic_root:
            sources.append(('synthetic', args.synthetic_root, args.split, args.synthetic_weathers))
        near_clean = [k for k, kind in KINDS.items() if kind.family == 'near-clean']
        install_checkpoint_loader()
        tiling = (None if args.chain_config == 'none'
                  else restorer_and_tiling(Config.fromfile(args.chain_config))[1])
        restorer = init_restorer(cfg, args.checkpoint, device=args.device, restore_cfg=tiling)
        lows = args.lows or calib.DEFAULT_LOWS
        ranges = calib.candidate_ranges(lows, args.widths or calib.DEFAULT_WIDTHS)
        gates = (None,) + (calib.DEFAULT_GATES if args.frame_gates is None
                           else tuple(parse_gate(g) for g in args.frame_gates))
        result = calib.calibrate_confidence_range(restorer, restorer.restore_cfg, sources, near_clean,
                                                  num=args.num, ranges=ranges, gates=gates,
                                                  weather_tolerance=args.weather_tolerance,
                                                  near_clean_tolerance=args.near_clean_tolerance)
        calibrated = calib.set_confidence_range(cfg, result['range'], result['frame_gate'])
    except (OSError, ValueError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'confidence_calibration.json').write_text(json.dumps(result, indent=2))
    (out / 'confidence_calibration.md').write_text(calib.markdown_table(result) + '\n')
    cfg_out = out / f'{Path(args.config).stem}_calibrated.py'
    calibrated.dump(str(cfg_out))
    state = 'passes the rule' if result['feasible'] else 'NO candidate passes; the least harmful one'
    gate = None if result['frame_gate'] is None else tuple(result['frame_gate'])
    print(f'{calib.describe(result)} {state}: mean weather gain '
          f'{result["mean_weather_gain"]:+.2f} dB, worst near-clean '
          f'{result["worst_near_clean_gain"]:+.2f} dB '
          f'({result["frames"]} frames)\nconfig: {cfg_out}\n'
          f'or: --cfg-options model.generator.confidence_range="{tuple(result["range"])}" '
          f'model.generator.frame_gate="{gate}"')
    return 0 if result['feasible'] else 1


if __name__ == '__main__':
    sys.exit(main())
