"""Peak memory of restoring one full Cityscapes frame (2048x1024) with the paper-size MoFME.

    python tools/analysis_tools/deweather_memory.py --height 1024 --width 2048 --crop 256 --modes slide whole

Each mode runs in a fresh process (peak RSS is per process): ``slide`` restores 256x256 tiles through
``tiled_restore`` (what ``restore_cfg=dict(mode='slide')`` and ``tools/deweather.py`` do), ``whole`` the
full frame at once (32,768 tokens of global attention). Randomly initialised weights: memory does not
depend on their values. Prints one line per mode: peak RSS in GiB, the growth over the model's own
footprint, and the wall time.
"""
import argparse
import json
import resource
import subprocess
import sys
import time


def measure(args: argparse.Namespace) -> dict:
    import torch
    from mmengine.registry import MODELS

    import mmmofme  # noqa: F401
    from mmmofme.apis.inference import tiled_restore
    from mmmofme.models.archs import variant
    torch.set_num_threads(args.threads)
    mofme = variant('mofme', num_experts=args.num_experts, top_k=args.top_k, embed_dim=384, depth=2,
                    img_size=args.crop)
    model = MODELS.build(dict(type='MoFMEViT', **mofme)).eval()
    frame = torch.rand(1, 3, args.height, args.width)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    start = time.perf_counter()
    with torch.no_grad():
        out = (tiled_restore(model, frame, args.crop, max_batch=args.tiles_per_batch)
               if args.mode == 'slide' else model(frame))
    seconds = time.perf_counter() - start
    assert out.shape == frame.shape
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return dict(mode=args.mode, height=args.height, width=args.width, crop=args.crop,
                peak_rss_gib=round(peak, 3), growth_gib=round(peak - base, 3), seconds=round(seconds, 2))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--height', type=int, default=1024)
    p.add_argument('--width', type=int, default=2048)
    p.add_argument('--crop', type=int, default=256)
    p.add_argument('--num-experts', type=int, default=16)
    p.add_argument('--top-k', type=int, default=4)
    p.add_argument('--tiles-per-batch', type=int, default=8)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--modes', nargs='+', default=['slide'], choices=['slide', 'whole'])
    p.add_argument('--mode', help=argparse.SUPPRESS)  # one measurement (the child process)
    args = p.parse_args()
    if args.mode:
        print(json.dumps(measure(args)))
        return 0
    for mode in args.modes:
        cmd = [sys.executable, __file__, '--mode', mode] + [
            f'--{k.replace("_", "-")}={v}' for k, v in vars(args).items() if k not in ('modes', 'mode')]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            print(f'{mode}: failed (exit {run.returncode}): {run.stderr.strip().splitlines()[-1:]}')
            continue
        row = json.loads(run.stdout.strip().splitlines()[-1])
        print(f'{mode:>5}: peak RSS {row["peak_rss_gib"]:.2f} GiB (+{row["growth_gib"]:.2f} GiB while '
              f'restoring {args.width}x{args.height}), {row["seconds"]:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
