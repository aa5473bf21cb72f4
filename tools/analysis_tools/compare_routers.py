"""Train the same restorer with each router reading and compare validation PSNR / SSIM per weather.

    python tools/analysis_tools/compare_routers.py configs/synthetic/mofme_synthetic.py \
        --iters 300 --work-dir work_dirs/compare_routers --out routers.json

Variants: the plain top-k router (Eq. 1-2), the uncertainty-aware router with Eq. 7 applied to the
probabilities (the settled reading) and to the logits (the alternative the paper's wording admits).
Each runs ``tools/train.py`` with the same seed and data; the last validation is read from its log.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = {
    'topk': dict(type='TopKRouter'),
    'uar_probs': dict(type='UncertaintyAwareRouter', calibrate='probs'),
    'uar_logits': dict(type='UncertaintyAwareRouter', calibrate='logits'),
}


def variant_config(config: str, router: dict, work_dir: Path) -> Path:
    """A config file inheriting ``config`` with its generator's router replaced by ``router``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / 'config.py'
    fields = ''.join(f', {key}={value!r}' for key, value in router.items())
    path.write_text(f'_base_ = [{str(Path(config).resolve())!r}]\n'
                    f'model = dict(generator=dict(router=dict(_delete_=True{fields})))\n')
    return path


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Compare router readings on one restorer config')
    p.add_argument('config', help='restorer config (mmagic, MoFMERestorer with a MoFMEViT generator)')
    p.add_argument('--iters', type=int, default=300, help='training iterations per variant')
    p.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument('--work-dir', default='work_dirs/compare_routers')
    p.add_argument('--out', default=None, help='json file for the results')
    p.add_argument('--cfg-options', nargs='+', default=[], help='extra overrides for every variant')
    return p.parse_args()


def last_validation(work_dir: Path) -> Dict[str, float]:
    """The last logged validation scalars (the run's ``vis_data/scalars.json``)."""
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    if not logs:
        raise FileNotFoundError(f'{work_dir}: no scalars.json (did the training run?)')
    rows = [json.loads(line) for line in logs[-1].read_text().splitlines()]
    val = [r for r in rows if any(k.endswith('PSNR') for k in r)]
    if not val:
        raise ValueError(f'{logs[-1]}: no validation PSNR logged')
    return {k: v for k, v in val[-1].items() if k.endswith(('PSNR', 'SSIM', 'PSNR_drops'))}  # drops: raindrop


def main() -> int:
    args = parse_args()
    results: List[dict] = []
    for name in args.variants:
        work_dir = Path(args.work_dir) / name
        config = variant_config(args.config, VARIANTS[name], work_dir)
        options = [f'train_cfg.max_iters={args.iters}',
                   f'train_cfg.val_interval={args.iters}',
                   f'default_hooks.checkpoint.interval={args.iters}', *args.cfg_options]
        print(f'[compare_routers] training {name} ({args.iters} iterations)', flush=True)
        run = subprocess.run([sys.executable, str(ROOT / 'tools/train.py'), str(config), '--work-dir',
                              str(work_dir), '--cfg-options', *options])
        if run.returncode != 0:
            print(f'error: training {name} failed (exit {run.returncode})', file=sys.stderr)
            return 1
        results.append(dict(variant=name, iters=args.iters, **last_validation(work_dir)))
    keys = sorted({k for r in results for k in r if k.endswith(('PSNR', 'SSIM'))})
    print('variant      ' + '  '.join(f'{k:>14}' for k in keys))
    for r in results:
        print(f'{r["variant"]:<12} ' + '  '.join(f'{r.get(k, float("nan")):14.4f}' for k in keys))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
