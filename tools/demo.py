"""End-to-end demo on the embedded synthetic default (``make demo``): weather → MoFME → perception.

1. generate the synthetic street scenes with rain / fog / snow / raindrop renderings;
2. train the MoFME restorer (mmagic), a Fast-SCNN segmentor (mmseg) and an RTMDet-tiny detector (mmdet)
   on clean frames, each through ``tools/train.py`` with the configs in ``configs/synthetic/``;
3. evaluate in one process (``mmmofme.evaluation.transfer_eval``: each model built once, each frame restored
   once through the chain's tiling): restoration PSNR / SSIM in → out, segmentation mIoU / mAcc and
   bbox mAP50 on weathered / restored / clean input, and the share of the drop recovered, for
   (a) the training renderer's weathers and clean frames, (b) held-out weather made differently (the
   transfer protocol's report split, ``docs/transfer.md``); one chained config also runs through
   mmengine's Runner (``tools/test.py``'s path) and must agree with the in-process number;
4. print the tables, write ``results.json`` and side-by-side PNGs, and end with a verdict per claim
   (non-zero exit if one fails).

Every number comes from this run. Sizes and iterations are flags, for users with more time.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import mmmofme  # noqa: F401  (first: it silences the stack's import-time warnings)
from mmmofme.utils.tool_errors import CfgOptionsAction

ROOT = Path(__file__).resolve().parents[1]
WEATHERS = ['rain', 'fog', 'snow', 'raindrop']  # the training renderer's weathers
IMPROVED = ['rain', 'fog', 'snow']  # the stage must improve these; lens drops are reported, not checked
PSNR_SLACK = 0.5  # dB: "no harm" = restored PSNR >= weathered - 0.5
MIOU_SLACK = 1.0  # mIoU points: "no harm" = restored mIoU >= weathered - 1
MIN_RECOVERY = 0.6  # share of the mean mIoU drop recovered over the improved weathers
CHAIN_AGREEMENT = 1.0  # mIoU points between the Runner's chained config and the in-process evaluation
CONFIGS = dict(
    restorer=ROOT / 'configs/synthetic/mofme_synthetic.py',
    segmentor=ROOT / 'configs/synthetic/fastscnn_synthetic.py',
    detector=ROOT / 'configs/synthetic/rtmdet-tiny_synthetic.py',
    seg_chain=ROOT / 'configs/synthetic/mofme-fastscnn_synthetic.py',
    det_chain=ROOT / 'configs/synthetic/mofme-rtmdet-tiny_synthetic.py',
)
# --cfg-options per config name (the restorer's come from --restorer-options); set by main()
OPTIONS: Dict[str, dict] = {}
START = time.time()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='MoFME deweathering -> segmentation / detection demo on '
                                'synthetic street scenes')
    p.add_argument('--data-dir', default='data/synthetic', help='where the synthetic trees are written')
    p.add_argument('--work-dir', default='work_dirs/demo', help='checkpoints, logs, results, PNGs')
    p.add_argument('--num-train', type=int, default=160, help='clean training frames')
    p.add_argument('--num-val', type=int, default=24, help='clean validation frames')
    p.add_argument('--size', default='512x256', help='frame size WxH')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--restorer-config', default=None,
                   help='the restorer config trained, calibrated and put in front of the perception models: '
                        'a MoFMEViT with a confidence head (default: configs/synthetic/mofme_synthetic.py; '
                        'e.g. configs/synthetic/mofme-blurpairs_synthetic.py)')
    p.add_argument('--restorer-options', nargs='+', action=CfgOptionsAction, default={},
                   help='override settings of the restorer config, as tools/train.py --cfg-options '
                        '(e.g. randomness.seed=1)')
    p.add_argument('--restorer-iters', type=int, default=1200)
    p.add_argument('--seg-iters', type=int, default=600)
    p.add_argument('--det-iters', type=int, default=400)
    p.add_argument('--num-png', type=int, default=2, help='side-by-side PNGs per weather')
    p.add_argument('--num-eval', type=int, default=12,
                   help='val frames scored per training weather (every variant of each frame)')
    p.add_argument('--num-transfer', type=int, default=8, help='val frames per held-out weather kind')
    p.add_argument('--num-calib', type=int, default=3,
                   help='calibration frames (the synthetic test split, neither trained on nor reported) '
                        'per kind that choose the restorer\'s confidence range')
    p.add_argument('--calib-tolerance', type=float, default=PSNR_SLACK,
                   help='dB a near-clean kind may lose on the calibration frames under the chosen blend '
                        '(0: none; default the demo\'s no-harm slack)')
    p.add_argument('--transfer-dir', default=None,
                   help='where the held-out weather is written (default: beside --work-dir)')
    p.add_argument('--reuse', action='store_true',
                   help='reuse data and checkpoints of an earlier run with the same settings')
    return p.parse_args(argv)


def log(message: str) -> None:
    minutes, seconds = divmod(int(time.time() - START), 60)
    print(f'[demo {minutes:02d}:{seconds:02d}] {message}', flush=True)


def fail(message: str) -> None:
    print(f'[demo] error: {message}', file=sys.stderr, flush=True)
    sys.exit(2)


def run_tool(args: List[str], stage: str) -> None:
    """Run a project tool in its own process (its mmengine progress and logs stream through)."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env)
    if result.returncode != 0:
        fail(f'{stage} failed (exit {result.returncode}); the output above says why')


# ---------------------------------------------------------------------------------------------------
# 1. data
# ---------------------------------------------------------------------------------------------------
def generate_data(args: argparse.Namespace) -> Path:
    data_dir = Path(args.data_dir).resolve()
    stamp = data_dir / 'demo_settings.json'
    settings = dict(num_train=args.num_train, num_val=args.num_val, num_test=args.num_calib, size=args.size,
                    seed=args.seed)
    if args.reuse and stamp.is_file() and json.loads(stamp.read_text()) == settings:
        log(f'reusing the synthetic data in {data_dir}')
        return data_dir
    if data_dir.exists():
        shutil.rmtree(data_dir)
    log(f'generating {args.num_train} + {args.num_val} + {args.num_calib} (train + val + calibration) '
        f'synthetic frames ({args.size}) in {data_dir}')
    run_tool(['tools/dataset_converters/make_synthetic_cityscapes.py', '--out', str(data_dir),
              '--num-train', str(args.num_train), '--num-val', str(args.num_val), '--num-test',
              str(args.num_calib), '--size', args.size, '--seed', str(args.seed)], 'data generation')
    stamp.write_text(json.dumps(settings))
    return data_dir


# ---------------------------------------------------------------------------------------------------
# 2. training
# ---------------------------------------------------------------------------------------------------
def load_config(name: str):
    """``CONFIGS[name]`` with its ``OPTIONS`` merged in."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(CONFIGS[name]))
    cfg.merge_from_dict(OPTIONS.get(name, {}))
    return cfg


def demo_config(name: str, data_dir: Path, iters: Optional[int] = None, blend: Optional[dict] = None):
    """The config with its ``OPTIONS`` and the demo's data root (and iteration budget, schedule rescaled to
    it; and the restorer's calibrated blend: ``dict(range=(low, high), frame_gate=(low, high) or None)``).
    The chained segmentation config gets the demo's restorer (``--restorer-config``) in front."""
    from mmmofme.evaluation.confidence_calibration import set_confidence_range
    from mmmofme.utils.dataset_config import leaf_datasets
    cfg = load_config(name)
    if name == 'seg_chain':
        cfg.model.restorer = demo_config('restorer', data_dir).model.generator
    if blend is not None:
        set_confidence_range(cfg, blend['range'], blend['frame_gate'])
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for dataset in leaf_datasets(cfg[loader].dataset):  # a wrapper itself takes no data_root
            dataset['data_root'] = str(data_dir)
    if iters is not None:
        old = cfg.train_cfg.max_iters
        cfg.train_cfg.update(max_iters=iters, val_interval=iters)
        cfg.default_hooks.checkpoint.interval = iters
        for sched in cfg.param_scheduler:  # the same schedule, scaled to the new length
            sched.begin = round(sched.get('begin', 0) * iters / old)
            sched.end = max(sched.begin + 1, round(sched.get('end', old) * iters / old))
            if 'T_max' in sched:
                sched.T_max = sched.end - sched.begin
    return cfg


def train(name: str, args: argparse.Namespace, data_dir: Path, iters: int) -> Path:
    """Train one model through tools/train.py, or, with ``--reuse``, keep a checkpoint that is there: one
    an earlier demo trained with the same config, options and budget (its ``demo_settings.json``), or one
    put there by hand (no settings file)."""
    work_dir = Path(args.work_dir).resolve() / name
    ckpt = work_dir / f'iter_{iters}.pth'
    stamp = work_dir / 'demo_settings.json'
    # as read back from the file (tuples become lists), so the comparison below is exact
    settings = json.loads(json.dumps(dict(config=str(Path(CONFIGS[name]).resolve()),
                                          options=OPTIONS.get(name, {}), iters=iters)))
    if args.reuse and ckpt.is_file():
        if not stamp.is_file() or json.loads(stamp.read_text()) == settings:
            log(f'reusing {ckpt}')
            return ckpt
        log(f'not reusing {ckpt}: {stamp} says it was trained with other settings')
    stamp.unlink(missing_ok=True)
    cfg = demo_config(name, data_dir, iters)
    # the evaluation stage scores every model per weather; no validation pass inside training
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    work_dir.mkdir(parents=True, exist_ok=True)
    cfg_file = work_dir / f'{name}_demo.py'
    cfg.dump(str(cfg_file))
    log(f'training the {name} ({iters} iterations): {osp.relpath(CONFIGS[name], ROOT)}')
    run_tool(['tools/train.py', str(cfg_file), '--work-dir', str(work_dir)], f'{name} training')
    if not ckpt.is_file():
        fail(f'{ckpt}: the {name} training wrote no checkpoint')
    stamp.write_text(json.dumps(settings))
    return ckpt


# ---------------------------------------------------------------------------------------------------
# 3. evaluation
# ---------------------------------------------------------------------------------------------------
def render_kinds(args: argparse.Namespace, data_dir: Path, out: Path, kinds: List[str], split: str,
                 num: int, what: str) -> Path:
    """Render transfer-protocol kinds on ``num`` frames of a split of the synthetic tree into ``out``."""
    stamp = out / 'demo_settings.json'
    settings = dict(src=str(data_dir), kinds=kinds, split=split, num=num, seed=args.seed)
    if args.reuse and stamp.is_file() and json.loads(stamp.read_text()) == settings:
        log(f'reusing the {what} in {out}')
        return out
    log(f'rendering {len(kinds)} {what} kinds on {num} {split} frames in {out}')
    run_tool(['tools/dataset_converters/make_transfer_set.py', '--src', str(data_dir), '--out', str(out),
              '--split', split, '--num', str(num), '--seed', str(args.seed), '--kinds', *kinds],
             f'{what} rendering')
    stamp.write_text(json.dumps(settings))
    return out


def generate_transfer_set(args: argparse.Namespace, data_dir: Path) -> Path:
    """Held-out weather (the transfer protocol's report split) rendered on the synthetic val frames."""
    from mmmofme.datasets.transfer import kinds_in_split
    out = Path(args.work_dir).resolve().parent / 'demo_transfer' if args.transfer_dir is None \
        else Path(args.transfer_dir).resolve()
    kinds = [k for k in kinds_in_split('report') if k != 'clean']
    return render_kinds(args, data_dir, out, kinds, 'val', args.num_transfer, 'held-out weather')


def generate_calibration_set(args: argparse.Namespace, data_dir: Path) -> Path:
    """The selection split's kinds (near-clean and selection weather) on the calibration frames."""
    from mmmofme.datasets.transfer import kinds_in_split
    out = Path(args.work_dir).resolve().parent / 'demo_calibration'
    kinds = [k for k in kinds_in_split('selection') if k != 'clean']
    return render_kinds(args, data_dir, out, kinds, 'test', args.num_calib, 'calibration')


def calibrate(args: argparse.Namespace, data_dir: Path, calib_dir: Path, ckpt: Path) -> dict:
    """Choose the restorer's confidence range on the calibration frames
    (``mmmofme.evaluation.confidence_calibration``; no harm there: a near-clean kind loses at most
    ``--calib-tolerance`` dB, by default the demo's own PSNR slack)."""
    import torch
    from mmengine.config import Config

    from mmmofme.apis import init_restorer
    from mmmofme.apis.restorer import restorer_and_tiling
    from mmmofme.datasets.transfer import kinds_in_split, kinds_of
    from mmmofme.evaluation.confidence_calibration import calibrate_confidence_range, markdown_table
    from mmmofme.utils.checkpoint import install_checkpoint_loader
    log(f'choosing the restorer\'s confidence range and frame gate on {args.num_calib} calibration frames '
        f'per kind '
        f'(synthetic test split; selection-split kinds and the training weathers)')
    install_checkpoint_loader()
    tiling = restorer_and_tiling(Config.fromfile(str(CONFIGS['seg_chain'])))[1]
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    restorer = init_restorer(demo_config('restorer', data_dir), str(ckpt), device=device, restore_cfg=tiling)
    sources = [('cityscapes', str(calib_dir), 'test', list(kinds_in_split('selection'))),
               ('synthetic', str(data_dir), 'test', WEATHERS)]
    result = calibrate_confidence_range(restorer, restorer.restore_cfg, sources,
                                        [k.name for k in kinds_of('near-clean')], num=args.num_calib,
                                        near_clean_tolerance=args.calib_tolerance,
                                        weather_tolerance=PSNR_SLACK)
    out = Path(args.work_dir).resolve() / 'calibration'
    out.mkdir(parents=True, exist_ok=True)
    (out / 'confidence_calibration.json').write_text(json.dumps(result, indent=2))
    (out / 'confidence_calibration.md').write_text(markdown_table(result) + '\n')
    return result


def chain_miou(data_dir: Path, ckpts: Dict[str, Path], weather: str, num_frames: int,
               work_dir: Path, blend: dict) -> float:
    """mIoU of the chained segmentation config through mmengine's Runner (the ``tools/test.py`` path), on
    the first ``num_frames`` val frames (every variant), the frames the in-process evaluation scores."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    from mmseg.registry import DATASETS

    from mmmofme.utils.checkpoint import install_checkpoint_loader
    install_checkpoint_loader()
    merged = work_dir / 'seg_chain.pth'
    cfg = demo_config('seg_chain', data_dir, blend=blend)
    cfg_file = work_dir / 'seg_chain_demo.py'
    cfg.dump(str(cfg_file))
    run_tool(['tools/merge_checkpoints.py', '--restorer', str(ckpts['restorer']), '--segmentor',
              str(ckpts['segmentor']), '--out', str(merged), '--config', str(cfg_file)],
             'merging the chain checkpoint')
    dataset = cfg.test_dataloader.dataset
    dataset.weathers = [weather]
    with DefaultScope.overwrite_default_scope('mmseg'):
        infos = DATASETS.build(dict(dataset, pipeline=[], serialize_data=False)).data_list
    frames = set(sorted({info['frame'] for info in infos})[:num_frames])
    dataset.indices = [i for i, info in enumerate(infos) if info['frame'] in frames]
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    cfg.update(load_from=str(merged), work_dir=str(work_dir / 'eval' / 'chain'), log_level='WARNING',
               experiment_name='demo_chain')
    cfg.default_hooks.pop('visualization', None)
    return float(Runner.from_cfg(cfg).test()['mIoU'])


def drop_region_psnr(models, data_dir: Path, num: int) -> Dict[str, float]:
    """PSNR inside the lens drops of raindrop val frames (``mmmofme.evaluation.drop_region``: pixels the
    drops change by > 8 grey levels, squared errors pooled over all frames' drop pixels)."""
    import cv2

    from mmmofme.datasets.layouts import list_pairs
    from mmmofme.evaluation.drop_region import drop_mask, masked_sse, pooled_psnr
    sums = dict(weathered=0.0, restored=0.0)
    count = 0
    for record in list_pairs('synthetic', str(data_dir), 'val', ['raindrop'])[:num]:
        weathered = cv2.imread(record.img_path)[..., ::-1]
        clean = cv2.imread(record.gt_path)[..., ::-1]
        drops = drop_mask(weathered, clean)
        for mode, img in (('weathered', weathered), ('restored', models.restore(weathered))):
            sums[mode] += masked_sse(img, clean, drops)[0]
        count += int(drops.sum()) * clean.shape[-1]  # values inside the drops, all channels
    return {f'psnr_{mode}': pooled_psnr(total, count) for mode, total in sums.items()}


def evaluate_all(args, data_dir: Path, transfer_dir: Path, ckpts: Dict[str, Path],
                 blend: dict) -> dict:
    """In-domain weathers + clean frames, held-out kinds, the chained-config cross-check, lens drops."""
    import torch

    from mmmofme.evaluation.transfer_eval import build_models, evaluate_transfer
    work_dir = Path(args.work_dir).resolve()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    log(f'evaluation on {device}: building the restorer (chain tiling), segmentor and detector once')
    models = build_models(demo_config('restorer', data_dir, blend=blend),
                          ckpts['restorer'],
                          demo_config('segmentor', data_dir), ckpts['segmentor'],
                          demo_config('detector', data_dir), ckpts['detector'],
                          chain_cfg=CONFIGS['seg_chain'], device=device)
    log('training weathers and clean frames (synthetic val set, every variant)')
    in_domain = evaluate_transfer(str(data_dir), models, kinds=WEATHERS + ['clean'], layout='synthetic',
                                  num=args.num_eval, out_dir=str(work_dir / 'in_domain'))
    log(f'held-out weather (transfer protocol, report split): {transfer_dir}')
    held_out = evaluate_transfer(str(transfer_dir), models, out_dir=str(work_dir / 'transfer'))
    log('chained config through the Runner (tools/test.py path), rain')
    chain = dict(weather='rain', runner=chain_miou(data_dir, ckpts, 'rain', args.num_eval, work_dir, blend),
                 in_process=in_domain['kinds']['rain']['mIoU']['restored'])
    drops = drop_region_psnr(models, data_dir, args.num_eval)
    return dict(in_domain=in_domain, held_out=held_out, chain_check=chain, raindrop_inside_drops=drops)


# ---------------------------------------------------------------------------------------------------
# 4. report
# ---------------------------------------------------------------------------------------------------
def table(rows: Dict[str, dict], kinds: List[str]) -> str:
    head = (f'{"kind":<14} | {"PSNR in":>7} {"out":>6} | {"mIoU weath":>10} {"restored":>8} {"clean":>6} '
            f'{"recov":>6} | {"mAcc weath":>10} {"restored":>8} | {"mAP50 weath":>11} {"restored":>8} '
            f'{"clean":>6} | no harm')
    lines = [head, '-' * len(head)]
    for kind in kinds:
        r = rows[kind]
        share = r['recovered']['mIoU']
        lines.append(
            f'{kind:<14} | {r["psnr_in"]:7.2f} {r["psnr_out"]:6.2f} | {r["mIoU"]["weathered"]:10.2f} '
            f'{r["mIoU"]["restored"]:8.2f} {r["mIoU"]["clean"]:6.2f} '
            f'{"n/a" if share is None else f"{share:+.2f}":>6} | {r["mAcc"]["weathered"]:10.2f} '
            f'{r["mAcc"]["restored"]:8.2f} | {r["mAP50"]["weathered"]:11.3f} {r["mAP50"]["restored"]:8.3f} '
            f'{r["mAP50"]["clean"]:6.3f} | {"yes" if r["no_harm"] else "NO"}')
    return '\n'.join(lines)


def mean_recovery(rows: Dict[str, dict], kinds: List[str]) -> Optional[float]:
    """Mean of the per-kind recovered shares that exist (a kind whose weather costs < 0.5 mIoU has none)."""
    from mmmofme.evaluation.transfer_report import mean_share
    return mean_share(rows[k]['recovered']['mIoU'] for k in kinds)


def recovery_of_mean(rows: Dict[str, dict], kinds: List[str]) -> Optional[float]:
    """Share of the mean mIoU drop recovered: (mean restored - mean weathered) / (clean - mean weathered).

    Weathers weigh by how much they cost (a weather that costs 4 points weighs less than one that costs
    20), as the demo's earlier "restored mIoU vs weathered mIoU, mean over weathers" check did.
    """
    from mmmofme.evaluation.transfer_report import MIN_DROP, recovered_share
    mean = [sum(rows[k]['mIoU'][m] for k in kinds) / len(kinds) for m in ('weathered', 'restored', 'clean')]
    return recovered_share(*mean, MIN_DROP['mIoU'])


def percent(share: Optional[float]) -> str:
    """A recovered share as a whole percentage; 'n/a' when there is none."""
    return 'n/a' if share is None else f'{share:.0%}'


def verdicts(results: dict) -> List[tuple]:
    rows = results['in_domain']['kinds']
    checks = []
    for w in IMPROVED:
        r = rows[w]
        checks.append((f'restored PSNR > weathered PSNR ({w}: {r["psnr_out"]:.2f} vs {r["psnr_in"]:.2f} dB)',
                       r['psnr_out'] > r['psnr_in']))
    for w in WEATHERS + ['clean']:
        r = rows[w]
        psnr_ok = r['psnr_out'] >= r['psnr_in'] - PSNR_SLACK
        miou_ok = r['mIoU']['restored'] >= r['mIoU']['weathered'] - MIOU_SLACK
        checks.append((f'no harm on {w}: PSNR {r["psnr_out"]:.2f} >= {r["psnr_in"]:.2f} - {PSNR_SLACK} dB, '
                       f'mIoU {r["mIoU"]["restored"]:.2f} >= {r["mIoU"]["weathered"]:.2f} - {MIOU_SLACK}',
                       psnr_ok and miou_ok))
    # over the weathers the stage must improve: lens drops are reported, not checked (a raindrop frame the
    # gate passes through counts its drop with nothing recovered); the share over all four is shown too
    recovery, per_weather = recovery_of_mean(rows, IMPROVED), mean_recovery(rows, IMPROVED)
    with_drops = recovery_of_mean(rows, WEATHERS)
    checks.append((f'share of the mean mIoU drop over {", ".join(IMPROVED)} recovered >= {MIN_RECOVERY:.0%} '
                   f'({percent(recovery)}; mean of the per-weather shares {percent(per_weather)}; '
                   f'over {", ".join(WEATHERS)} {percent(with_drops)})',
                   recovery is not None and recovery >= MIN_RECOVERY))
    map50 = results['in_domain']['clean']['mAP50']
    checks.append((f'clean bbox mAP50 >= 0.5 on the synthetic val set ({map50:.3f})', map50 >= 0.5))
    chain = results['chain_check']
    checks.append((f'the chained config through the Runner agrees with the in-process evaluation '
                   f'({chain["weather"]} mIoU {chain["runner"]:.2f} vs {chain["in_process"]:.2f}, '
                   f'within {CHAIN_AGREEMENT})',
                   abs(chain['runner'] - chain['in_process']) <= CHAIN_AGREEMENT))
    return checks


def drop_sentence(drops: Dict[str, float]) -> str:
    gain = drops['psnr_restored'] - drops['psnr_weathered']
    text = (f'Lens drops: inside the drops PSNR {drops["psnr_weathered"]:.2f} -> '
            f'{drops["psnr_restored"]:.2f} dB ({gain:+.2f}).')
    if gain <= 0.5:
        text += (' Removing lens drops is not reached at the demo\'s training budget; longer training '
                 '(--restorer-iters, a GPU) is the lever.')
    return text


def write_pngs(args, data_dir: Path, ckpts: Dict[str, Path], blend: dict) -> List[Path]:
    """weathered | restored | clean, each with the segmentation overlay (top) and boxes (bottom)."""
    from mmmofme.visualization.side_by_side import render_side_by_side
    return render_side_by_side(
        data_dir=data_dir, out_dir=Path(args.work_dir).resolve() / 'png', weathers=WEATHERS,
        num_per_weather=args.num_png,
        restorer_cfg=demo_config('restorer', data_dir, blend=blend),
        restorer_ckpt=ckpts['restorer'], seg_cfg=demo_config('segmentor', data_dir),
        seg_ckpt=ckpts['segmentor'], det_cfg=demo_config('detector', data_dir), det_ckpt=ckpts['detector'])


def check_restorer_config(shown: str) -> None:
    """Fail in one line unless the restorer config (with its options) is an mmagic restorer config whose
    generator has a confidence head: the demo trains it and calibrates its blend."""
    if not CONFIGS['restorer'].is_file():
        fail(f'{shown}: no such restorer config')
    try:
        cfg = load_config('restorer')
    except Exception as err:  # noqa: BLE001 - any parse error of the user's file, in one line
        fail(f'{shown}: cannot read the config: {str(err).strip().splitlines()[0]}')
    generator = cfg.get('model', {}).get('generator')
    if generator is None:
        fail(f'{shown}: not a restorer config (no model.generator); the demo trains the restorer itself')
    if not generator.get('confidence_head'):
        fail(f'{shown}: the restorer has no confidence head (confidence_head=True), so there is no blend '
             f'to calibrate')


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
    if args.restorer_config is not None:
        CONFIGS['restorer'] = Path(args.restorer_config).resolve()
    OPTIONS['restorer'] = dict(args.restorer_options)
    check_restorer_config(args.restorer_config or osp.relpath(CONFIGS['restorer']))
    data_dir = generate_data(args)
    transfer_dir = generate_transfer_set(args, data_dir)
    calib_dir = generate_calibration_set(args, data_dir)
    ckpts = dict(restorer=train('restorer', args, data_dir, args.restorer_iters),
                 segmentor=train('segmentor', args, data_dir, args.seg_iters),
                 detector=train('detector', args, data_dir, args.det_iters))
    calibration = calibrate(args, data_dir, calib_dir, ckpts['restorer'])
    blend = dict(range=tuple(calibration['range']), frame_gate=calibration['frame_gate'])
    results = evaluate_all(args, data_dir, transfer_dir, ckpts, blend)
    results['calibration'] = {k: calibration[k] for k in ('range', 'frame_gate', 'feasible',
                                                          'mean_weather_gain', 'worst_near_clean_gain',
                                                          'frames')}
    results['restorer'] = dict(config=osp.relpath(CONFIGS['restorer'], ROOT), options=OPTIONS['restorer'],
                               iters=args.restorer_iters)
    work_dir = Path(args.work_dir).resolve()
    (work_dir / 'results.json').write_text(json.dumps(results, indent=2))
    log('writing side-by-side PNGs')
    pngs = write_pngs(args, data_dir, ckpts, blend)

    print('\nMoFME deweathering -> perception (numbers from this run; PSNR in dB, mIoU / mAcc in %, '
          'bbox mAP50 in [0, 1], recov = share of the mIoU drop recovered)')
    options = ' '.join(f'{k}={v}' for k, v in OPTIONS['restorer'].items())
    print(f'\nRestorer: {results["restorer"]["config"]}{" " + options if options else ""}, '
          f'{args.restorer_iters} iterations')
    from mmmofme.evaluation.confidence_calibration import describe
    unmet = '' if calibration['feasible'] else ' (no candidate met the rule: the least harmful one)'
    print(f'\nConfidence blend: {describe(calibration)}, chosen on {calibration["frames"]} calibration '
          f'frames '
          f'(synthetic test split, selection-split kinds and the training weathers): mean weather gain '
          f'{calibration["mean_weather_gain"]:+.2f} dB, worst near-clean '
          f'{calibration["worst_near_clean_gain"]:+.2f} dB{unmet}; '
          f'{osp.relpath(work_dir / "calibration")}/confidence_calibration.md')
    print('\nThe training renderer\'s weathers and clean frames (synthetic val set):')
    print(table(results['in_domain']['kinds'], WEATHERS + ['clean']))
    held = results['held_out']['kinds']
    print(f'\nHeld-out weather, made differently (transfer protocol, report split; {osp.relpath(work_dir)}'
          f'/transfer/transfer.md):')
    print(table(held, list(held)))
    recovery = mean_recovery(held, [k for k in held if held[k]['family'] != 'near-clean'])
    harmless = sum(r['no_harm'] for r in held.values())
    print(f'held-out weather: no harm on {harmless} of {len(held)} kinds; mean mIoU recovery over the '
          f'weather kinds {percent(recovery)}')
    print('\n' + drop_sentence(results['raindrop_inside_drops']))
    print(f'\nresults: {osp.relpath(work_dir / "results.json")}; PNGs: {osp.relpath(work_dir / "png")} '
          f'({len(pngs)} files)')
    checks = verdicts(results)
    for text, ok in checks:
        print(f'[{"PASS" if ok else "FAIL"}] {text}')
    log('done')
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == '__main__':
    sys.exit(main())
