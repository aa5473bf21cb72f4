"""End-to-end demo on the embedded synthetic default (``make demo``): weather → MoFME → perception.

1. generate the synthetic street scenes with rain / fog / snow / raindrop renderings;
2. train the MoFME restorer (mmagic), a Fast-SCNN segmentor (mmseg) and an RTMDet-tiny detector (mmdet)
   on clean frames, each through ``tools/train.py`` with the configs in ``configs/synthetic/``;
3. evaluate per weather: restoration PSNR / SSIM (weathered vs restored), segmentation aAcc / mIoU /
   mAcc and detection bbox mAP on (a) weathered input, (b) MoFME-restored input through the chained
   configs, (c) clean input;
4. print one table like the paper's Table 4, write ``results.json`` and side-by-side PNGs, and end with
   a verdict per sanity check (non-zero exit if one fails).

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

ROOT = Path(__file__).resolve().parents[1]
WEATHERS = ['rain', 'fog', 'snow', 'raindrop']
CONFIGS = dict(
    restorer=ROOT / 'configs/synthetic/mofme_synthetic.py',
    segmentor=ROOT / 'configs/synthetic/fastscnn_synthetic.py',
    detector=ROOT / 'configs/synthetic/rtmdet-tiny_synthetic.py',
    seg_chain=ROOT / 'configs/synthetic/mofme-fastscnn_synthetic.py',
    det_chain=ROOT / 'configs/synthetic/mofme-rtmdet-tiny_synthetic.py',
)
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
    p.add_argument('--restorer-iters', type=int, default=600)
    p.add_argument('--seg-iters', type=int, default=600)
    p.add_argument('--det-iters', type=int, default=500)
    p.add_argument('--num-png', type=int, default=2, help='side-by-side PNGs per weather')
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
    settings = dict(num_train=args.num_train, num_val=args.num_val, size=args.size, seed=args.seed)
    if args.reuse and stamp.is_file() and json.loads(stamp.read_text()) == settings:
        log(f'reusing the synthetic data in {data_dir}')
        return data_dir
    if data_dir.exists():
        shutil.rmtree(data_dir)
    log(f'generating {args.num_train} + {args.num_val} synthetic frames ({args.size}) in {data_dir}')
    run_tool(['tools/dataset_converters/make_synthetic_cityscapes.py', '--out', str(data_dir),
              '--num-train', str(args.num_train), '--num-val', str(args.num_val), '--size', args.size,
              '--seed', str(args.seed)], 'data generation')
    stamp.write_text(json.dumps(settings))
    return data_dir


# ---------------------------------------------------------------------------------------------------
# 2. training
# ---------------------------------------------------------------------------------------------------
def demo_config(name: str, data_dir: Path, iters: Optional[int] = None):
    """The config with the demo's data root (and iteration budget, schedule rescaled to it)."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(CONFIGS[name]))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(data_dir)
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
    work_dir = Path(args.work_dir).resolve() / name
    ckpt = work_dir / f'iter_{iters}.pth'
    if args.reuse and ckpt.is_file():
        log(f'reusing {ckpt}')
        return ckpt
    cfg = demo_config(name, data_dir, iters)
    # the evaluation stage scores every model per weather; no validation pass inside training
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    work_dir.mkdir(parents=True, exist_ok=True)
    cfg_file = work_dir / f'{name}_demo.py'
    cfg.dump(str(cfg_file))
    log(f'training the {name} ({iters} iterations): {CONFIGS[name].relative_to(ROOT)}')
    run_tool(['tools/train.py', str(cfg_file), '--work-dir', str(work_dir)], f'{name} training')
    if not ckpt.is_file():
        fail(f'{ckpt}: the {name} training wrote no checkpoint')
    return ckpt


# ---------------------------------------------------------------------------------------------------
# 3. evaluation
# ---------------------------------------------------------------------------------------------------
def evaluate(cfg, checkpoint: Path, name: str, work_dir: Path) -> Dict[str, float]:
    """``Runner.test()`` of a config on a checkpoint, in this process (quiet logs)."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    class CaptureMetrics(Hook):  # mmagic's MultiTestLoop reports metrics to hooks only
        metrics: Dict[str, float] = {}

        def after_test_epoch(self, runner, metrics=None) -> None:
            CaptureMetrics.metrics = dict(metrics or {})

    from mmmofme.utils.checkpoint import install_checkpoint_loader
    install_checkpoint_loader()
    cfg.load_from = str(checkpoint)
    cfg.work_dir = str(work_dir / 'eval' / name)
    cfg.experiment_name = f'demo_{name}'
    cfg.log_level = 'WARNING'
    cfg.test_dataloader.num_workers = 1
    cfg.test_dataloader.persistent_workers = False
    cfg.default_hooks.pop('visualization', None)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(CaptureMetrics(), priority='LOWEST')
    metrics = runner.test()
    return metrics if metrics is not None else CaptureMetrics.metrics


def set_weathers(cfg, weathers: List[str]):
    cfg.test_dataloader.dataset.weathers = weathers
    return cfg


def evaluate_all(args, data_dir: Path, ckpts: Dict[str, Path]) -> Dict[str, Dict[str, Dict[str, float]]]:
    work_dir = Path(args.work_dir).resolve()
    results: Dict[str, Dict[str, Dict[str, float]]] = dict(restoration={}, segmentation={}, detection={})

    log('restoration: PSNR / SSIM per weather of the weathered input and of MoFME\'s output')
    cfg = demo_config('restorer', data_dir)
    cfg.model.generator = dict(type='IdentityRestorer')  # the input itself, through the same metric
    weathered = evaluate(cfg, ckpts['restorer'], 'psnr_weathered', work_dir)
    restored = evaluate(demo_config('restorer', data_dir), ckpts['restorer'], 'psnr_restored', work_dir)
    for w in WEATHERS:
        results['restoration'][w] = dict(
            psnr_weathered=weathered[f'{w}/PSNR'], psnr_restored=restored[f'{w}/PSNR'],
            ssim_weathered=weathered[f'{w}/SSIM'], ssim_restored=restored[f'{w}/SSIM'])

    chain_ckpts = dict(
        segmentation=merge(ckpts['restorer'], ckpts['segmentor'], 'segmentor', 'seg_chain', work_dir),
        detection=merge(ckpts['restorer'], ckpts['detector'], 'detector', 'det_chain', work_dir))
    tasks = dict(segmentation=('segmentor', 'seg_chain', seg_metrics),
                 detection=('detector', 'det_chain', det_metrics))
    for task, (bare, chain, pick) in tasks.items():
        log(f'{task}: clean input')
        clean = pick(evaluate(set_weathers(demo_config(bare, data_dir), ['clean']), ckpts[bare],
                              f'{task}_clean', work_dir))
        for w in WEATHERS:
            log(f'{task}: {w} - weathered input, then MoFME-restored input (chained config)')
            row = dict(clean=clean)
            row['weathered'] = pick(evaluate(set_weathers(demo_config(bare, data_dir), [w]), ckpts[bare],
                                             f'{task}_{w}_weathered', work_dir))
            row['restored'] = pick(evaluate(set_weathers(demo_config(chain, data_dir), [w]),
                                            chain_ckpts[task], f'{task}_{w}_restored', work_dir))
            results[task][w] = row
    return results


def merge(restorer: Path, perception: Path, kind: str, chain: str, work_dir: Path) -> Path:
    out = work_dir / f'{chain}.pth'
    run_tool(['tools/merge_checkpoints.py', '--restorer', str(restorer), f'--{kind}', str(perception),
              '--out', str(out), '--config', str(CONFIGS[chain])], f'merging checkpoints for {chain}')
    return out


def seg_metrics(metrics: Dict[str, float]) -> Dict[str, float]:
    return dict(aAcc=metrics['aAcc'], mIoU=metrics['mIoU'], mAcc=metrics['mAcc'])


def det_metrics(metrics: Dict[str, float]) -> Dict[str, float]:
    return dict(mAP=metrics['coco/bbox_mAP'], mAP50=metrics['coco/bbox_mAP_50'])


# ---------------------------------------------------------------------------------------------------
# 4. report
# ---------------------------------------------------------------------------------------------------
def table(results) -> str:
    head = (f'{"weather":<9} | {"PSNR in":>7} {"PSNR out":>8} | {"mIoU weath":>10} {"restored":>8} '
            f'{"clean":>6} | {"mAcc weath":>10} {"restored":>8} {"clean":>6} | '
            f'{"mAP50 weath":>11} {"restored":>8} {"clean":>6}')
    lines = [head, '-' * len(head)]
    for w in WEATHERS:
        r, s, d = results['restoration'][w], results['segmentation'][w], results['detection'][w]
        lines.append(
            f'{w:<9} | {r["psnr_weathered"]:7.2f} {r["psnr_restored"]:8.2f} | '
            f'{s["weathered"]["mIoU"]:10.2f} {s["restored"]["mIoU"]:8.2f} {s["clean"]["mIoU"]:6.2f} | '
            f'{s["weathered"]["mAcc"]:10.2f} {s["restored"]["mAcc"]:8.2f} {s["clean"]["mAcc"]:6.2f} | '
            f'{d["weathered"]["mAP50"]:11.3f} {d["restored"]["mAP50"]:8.3f} {d["clean"]["mAP50"]:6.3f}')
    return '\n'.join(lines)


def mean(results, task: str, mode: str, key: str) -> float:
    return sum(results[task][w][mode][key] for w in WEATHERS) / len(WEATHERS)


def verdicts(results) -> List[tuple]:
    checks = []
    for w in WEATHERS:
        r = results['restoration'][w]
        checks.append((f'restored PSNR > weathered PSNR ({w}: {r["psnr_restored"]:.2f} vs '
                       f'{r["psnr_weathered"]:.2f} dB)', r['psnr_restored'] > r['psnr_weathered']))
    clean = results['segmentation'][WEATHERS[0]]['clean']['mIoU']
    weathered = mean(results, 'segmentation', 'weathered', 'mIoU')
    restored = mean(results, 'segmentation', 'restored', 'mIoU')
    checks.append((f'clean mIoU > weathered mIoU (mean over weathers: {clean:.2f} vs {weathered:.2f})',
                   clean > weathered))
    checks.append((f'restored mIoU > weathered mIoU (mean over weathers: {restored:.2f} vs {weathered:.2f})',
                   restored > weathered))
    map50 = results['detection'][WEATHERS[0]]['clean']['mAP50']
    checks.append((f'clean bbox mAP50 >= 0.5 on the synthetic val set ({map50:.3f})', map50 >= 0.5))
    return checks


def write_pngs(args, data_dir: Path, ckpts: Dict[str, Path]) -> List[Path]:
    """weathered | restored | clean, each with the segmentation overlay (top) and boxes (bottom)."""
    from mmmofme.visualization.side_by_side import render_side_by_side
    return render_side_by_side(
        data_dir=data_dir, out_dir=Path(args.work_dir).resolve() / 'png', weathers=WEATHERS,
        num_per_weather=args.num_png, restorer_cfg=demo_config('restorer', data_dir),
        restorer_ckpt=ckpts['restorer'], seg_cfg=demo_config('segmentor', data_dir),
        seg_ckpt=ckpts['segmentor'], det_cfg=demo_config('detector', data_dir), det_ckpt=ckpts['detector'])


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
    data_dir = generate_data(args)
    ckpts = dict(restorer=train('restorer', args, data_dir, args.restorer_iters),
                 segmentor=train('segmentor', args, data_dir, args.seg_iters),
                 detector=train('detector', args, data_dir, args.det_iters))
    results = evaluate_all(args, data_dir, ckpts)
    work_dir = Path(args.work_dir).resolve()
    (work_dir / 'results.json').write_text(json.dumps(results, indent=2))
    log('writing side-by-side PNGs')
    pngs = write_pngs(args, data_dir, ckpts)

    print('\nMoFME deweathering -> perception on the synthetic val set (numbers from this run; '
          'mIoU / mAcc in %, bbox mAP50 in [0, 1])')
    print(table(results))
    print(f'\nresults: {osp.relpath(work_dir / "results.json")}; PNGs: {osp.relpath(work_dir / "png")} '
          f'({len(pngs)} files)')
    checks = verdicts(results)
    for text, ok in checks:
        print(f'[{"PASS" if ok else "FAIL"}] {text}')
    log('done')
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == '__main__':
    sys.exit(main())
