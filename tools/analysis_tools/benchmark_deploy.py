"""Restoration latency of one restorer on three CPU backends, ratios from the same run.

    python tools/analysis_tools/benchmark_deploy.py CONFIG [CONFIG ...] --sizes 256x256 1024x2048 \
        --backends eager fast onnxruntime --threads 2 --runs 3 --out deploy.json

For every config the restorer (random weights: speed does not depend on their values) is run as
``tools/deweather.py`` runs it: tiled as the config says (``tiled_restore``, at most 8 tiles a call), on

* ``eager``: the PyTorch modules (the MoE experts on their own oneDNN-packed weights),
* ``fast``: the fast CPU path (:func:`mmmofme.deploy.fast_cpu_model`),
* ``onnxruntime``: the graph of ``tools/deployment/pytorch2onnx.py`` (exported here, in a temp folder;
  a task-gated restorer as with ``--no-task-ids``: every backend restores untagged),

timed in turn within each round (median over ``--runs`` after one warm-up), so their ratios share one
stretch of time on a busy machine. Each row: config, size, backend, median seconds, ratio to eager, the
max abs difference from eager's output, and the process's peak RSS so far (all backends' models are held
together, so it bounds each one's from above).
"""
import argparse
import json
import os.path as osp
import resource
import tempfile
import time
from typing import Callable, Dict, List, Optional

import torch

BACKENDS = ('eager', 'fast', 'onnxruntime')


def parse_size(text: str) -> tuple:
    h, w = text.lower().split('x')
    return int(h), int(w)


def build_backends(config: str, names: List[str], folder: str, threads: int) -> tuple:
    """(``name → restore callable`` for the config's restorer, its tiling ``restore_cfg``)."""
    from mmmofme.apis import init_restorer
    from mmmofme.deploy import OnnxRestorer, RestorerGraph, dynamic_example, export_onnx, fast_cpu_model
    model = init_restorer(config)
    fns: Dict[str, Callable] = {}
    for name in names:
        if name == 'eager':
            fns[name] = model
        elif name == 'fast':
            fns[name] = fast_cpu_model(model)
        else:
            path = osp.join(folder, osp.splitext(osp.basename(config))[0] + '.onnx')
            start = time.perf_counter()
            # no task_id input: both backends restore untagged (MMoE: the gates' mean), as eager is called
            export_onnx(RestorerGraph(model, task_ids=False), dynamic_example(model), path, 'restored')
            print(json.dumps(dict(config=config, export_seconds=round(time.perf_counter() - start, 1))),
                  flush=True)
            fns[name] = OnnxRestorer(path, threads=threads)
    return fns, model.restore_cfg


@torch.no_grad()
def time_config(config: str, names: List[str], sizes: List[tuple], runs: int, threads: int,
                folder: str) -> List[dict]:
    from mmmofme.models.chain import restore_images
    fns, restore_cfg = build_backends(config, names, folder, threads)
    rows = []
    for h, w in sizes:
        image = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
        times: Dict[str, List[float]] = {name: [] for name in fns}
        outputs = {}
        for round_idx in range(runs + 1):
            for name, fn in fns.items():
                start = time.perf_counter()
                outputs[name] = restore_images(fn, image, restore_cfg)
                if round_idx:
                    times[name].append(time.perf_counter() - start)
        medians = {name: sorted(t)[len(t) // 2] for name, t in times.items()}
        reference = outputs.get('eager')
        peak_gib = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
        for name in fns:
            diff = None if reference is None else (outputs[name] - reference).abs().max().item()
            ratio = round(medians[name] / medians['eager'], 3) if 'eager' in medians else None
            rows.append(dict(config=config, size=f'{h}x{w}', backend=name, threads=threads,
                             seconds=round(medians[name], 3), vs_eager=ratio, max_abs_diff_vs_eager=diff,
                             peak_rss_gib=peak_gib))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', help='restorer or chain configs')
    parser.add_argument('--sizes', nargs='+', default=['256x256'], help='H x W of the input image')
    parser.add_argument('--backends', nargs='+', default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument('--threads', type=int, default=2, help='torch and onnxruntime intra-op threads')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0, help='seed of the random weights')
    parser.add_argument('--out', default=None, help='json file for the rows')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if args.runs < 1:
        raise SystemExit(f'error: --runs must be >= 1, got {args.runs}')
    torch.set_num_threads(args.threads)
    sizes = [parse_size(s) for s in args.sizes]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for config in args.configs:
            torch.manual_seed(args.seed)
            rows += time_config(config, args.backends, sizes, args.runs, args.threads, folder)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == '__main__':
    main()
