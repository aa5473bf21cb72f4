"""Peak memory of restoring one full Cityscapes frame (2048x1024) with the paper-size MoFME, per backend.

    python tools/analysis_tools/deweather_memory.py [--config CONFIG] [--height 1024 --width 2048] \
        --backends eager fast onnxruntime [--onnx model.onnx] [--modes slide whole] [--threads 2] \
        [--crop-size H [W]] [--stride H [W]] [--max-batch N] [--out rows.json]

CONFIG (default: the paper-size MoFME-16, ``configs/mofme/mofme-e16-top4_rain-haze-cityscapes-256.py``)
gives the restorer, built with random weights (``--seed``: memory does not depend on their values), and
its tiling. Backends, as ``benchmark_deploy.py`` names them:

* ``eager``: the PyTorch restorer (``init_restorer``),
* ``fast``: the fast CPU path (``init_restorer(..., fast_cpu=True)``),
* ``onnxruntime``: the graph of ``tools/deployment/pytorch2onnx.py`` (``--no-task-ids``), exported first in
  a process of its own into a temporary folder, or ``--onnx PATH``; the measured process only loads the
  .onnx (``init_onnx_restorer``), as ``tools/deweather.py --backend onnxruntime`` does.

Every backend and mode is measured in a fresh process of its own (no import of torch in this one), so one
backend's memory never counts in another's. ``slide`` restores the frame tile by tile as
``tools/deweather.py`` does (the config's test tiling, at most 8 tiles a call; ``--crop-size``,
``--stride``, ``--max-batch`` override it as there), ``whole`` the full frame at once. Memory is the
measured process's own: ``VmRSS`` / ``VmHWM`` of ``/proc/self/status`` (``getrusage``'s ``ru_maxrss``
would also count the parent's peak, which a process inherits through ``exec``). One line per
measurement: the peak RSS, the RSS with the model loaded and the frame allocated (before restoring), and
the increase while restoring. Errors (missing config or ONNX file, a graph onnxruntime cannot load) are
one line; a failed measurement makes the exit status 1, a bad argument 2.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAPER_CONFIG = osp.join(ROOT, 'configs', 'mofme', 'mofme-e16-top4_rain-haze-cityscapes-256.py')
BACKENDS = ('eager', 'fast', 'onnxruntime')
MODES = ('slide', 'whole')


def process_memory_gib() -> dict:
    """This process's resident memory now (``rss``) and its peak so far (``hwm``), in GiB (Linux)."""
    values = {}
    with open('/proc/self/status') as f:
        for line in f:
            key, _, rest = line.partition(':')
            if key in ('VmRSS', 'VmHWM'):
                values[key[2:].lower()] = int(rest.split()[0]) / 2**20  # kB
    return values


def tiling(args: argparse.Namespace, mode: str) -> dict:
    """The ``restore_cfg`` overrides of ``mode`` and the tiling flags (as ``tools/deweather.py`` passes
    them to ``init_restorer`` / ``init_onnx_restorer``)."""
    if mode == 'whole':
        return dict(mode='whole')
    return dict(crop_size=args.crop_size, stride=args.stride, max_batch=args.max_batch)


def measure(args: argparse.Namespace) -> dict:
    """Restore one random frame with ``args.backends[0]`` in ``args.modes[0]``; this process's memory."""
    import torch

    from mmmofme.apis import init_restorer
    from mmmofme.models.chain import restore_images
    backend, mode = args.backends[0], args.modes[0]
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if backend == 'onnxruntime':
        from mmmofme.deploy import init_onnx_restorer
        restorer = init_onnx_restorer(args.config, args.onnx, tiling(args, mode), threads=args.threads)
    else:
        restorer = init_restorer(args.config, restore_cfg=tiling(args, mode), fast_cpu=backend == 'fast')
    frame = torch.rand(1, 3, args.height, args.width, generator=torch.Generator().manual_seed(0))
    loaded = process_memory_gib()
    start = time.perf_counter()
    with torch.no_grad():
        out = restore_images(restorer, frame, restorer.restore_cfg)
    seconds = time.perf_counter() - start
    assert out.shape == frame.shape, (out.shape, frame.shape)
    end = process_memory_gib()
    return dict(backend=backend, mode=mode, restore_cfg=restorer.restore_cfg, config=args.config,
                height=args.height, width=args.width, threads=args.threads, pid=os.getpid(),
                rss_loaded_gib=round(loaded['rss'], 3), peak_before_frame_gib=round(loaded['hwm'], 3),
                peak_rss_gib=round(end['hwm'], 3), increase_gib=round(end['hwm'] - loaded['rss'], 3),
                seconds=round(seconds, 2))


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ''


def child_failure(run: subprocess.CompletedProcess) -> str:
    """One line on why a child process failed: its last stderr line, or the signal that ended it."""
    if run.returncode < 0:
        return f'killed by signal {-run.returncode}' + (' (out of memory?)' if run.returncode == -9 else '')
    line = last_line(run.stderr)
    return line[len('error: '):] if line.startswith('error: ') else line or f'exit status {run.returncode}'


def run_child(command: List[str]) -> subprocess.CompletedProcess:
    """``command`` in a child process that imports this checkout's ``mmmofme``, output captured."""
    path = os.pathsep.join(p for p in (ROOT, os.environ.get('PYTHONPATH')) if p)
    return subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=path))


def export_graph(config: str, folder: str) -> str:
    """``config``'s restorer (initial weights) exported by ``tools/deployment/pytorch2onnx.py`` in a
    process of its own; the .onnx path. A ValueError with the exporter's one-line error on failure."""
    path = osp.join(folder, osp.splitext(osp.basename(config))[0] + '.onnx')
    command = [sys.executable, osp.join(ROOT, 'tools', 'deployment', 'pytorch2onnx.py'), config, 'none',
               '--out', path, '--no-task-ids']
    start = time.perf_counter()
    run = run_child(command)
    if run.returncode != 0:
        raise ValueError(f'export failed: {child_failure(run)}')
    print(f'onnxruntime: exported {path} in a separate process ({time.perf_counter() - start:.0f} s)',
          flush=True)
    return path


def child_command(args: argparse.Namespace, backend: str, mode: str) -> List[str]:
    """The command line measuring one backend in one mode."""
    command = [sys.executable, osp.abspath(__file__), '--child', '--config', args.config,
               '--backends', backend, '--modes', mode, '--height', str(args.height), '--width',
               str(args.width), '--threads', str(args.threads), '--seed', str(args.seed)]
    for flag, values in (('--crop-size', args.crop_size), ('--stride', args.stride),
                         ('--max-batch', [args.max_batch] if args.max_batch else None)):
        command += [flag, *(str(v) for v in values)] if values else []
    return command + (['--onnx', args.onnx] if backend == 'onnxruntime' else [])


def describe(row: dict) -> str:
    cfg = row['restore_cfg']
    how = 'whole frame' if cfg['mode'] == 'whole' else (
        f'{"x".join(map(str, cfg["crop_size"]))} tiles, stride {"x".join(map(str, cfg["stride"]))}, '
        f'{cfg["max_batch"]} a call')
    return (f'{row["backend"]:>11} ({row["mode"]}): peak RSS {row["peak_rss_gib"]:.2f} GiB; '
            f'{row["rss_loaded_gib"]:.2f} GiB with the model loaded, +{row["increase_gib"]:.2f} GiB while '
            f'restoring {row["width"]}x{row["height"]} ({how}, {row["threads"]} threads), '
            f'{row["seconds"]:.1f} s, pid {row["pid"]}')


def run_all(args: argparse.Namespace, folder: str) -> tuple:
    """(rows, failures): each backend and mode measured in a child process of its own (an exported
    graph goes into ``folder``)."""
    rows, failures = [], []
    for backend in args.backends:
        if backend == 'onnxruntime' and not args.onnx:
            try:
                args.onnx = export_graph(args.config, folder)
            except ValueError as err:
                failures.append(f'onnxruntime: {err}')
                print(failures[-1], file=sys.stderr, flush=True)
                continue
        for mode in args.modes:
            run = run_child(child_command(args, backend, mode))
            if run.returncode != 0:
                failures.append(f'{backend} ({mode}): failed: {child_failure(run)}')
                print(failures[-1], file=sys.stderr, flush=True)
                continue
            rows.append(json.loads(last_line(run.stdout)))
            print(describe(rows[-1]), flush=True)
    return rows, failures


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=PAPER_CONFIG, help='restorer or chain config (default: MoFME-16)')
    p.add_argument('--backends', nargs='+', default=['eager'], choices=BACKENDS)
    p.add_argument('--onnx', help='restorer graph for onnxruntime (default: exported from CONFIG)')
    p.add_argument('--modes', nargs='+', default=['slide'], choices=MODES)
    p.add_argument('--height', type=int, default=1024)
    p.add_argument('--width', type=int, default=2048)
    p.add_argument('--crop-size', type=int, nargs='+', help='tile size H [W] (default: the config\'s)')
    p.add_argument('--stride', type=int, nargs='+', help='tile step H [W] (default: the config\'s)')
    p.add_argument('--max-batch', type=int, help='tiles per restorer call (default 8)')
    p.add_argument('--threads', type=int, default=2, help='torch and onnxruntime threads of the measured '
                   'process')
    p.add_argument('--seed', type=int, default=0, help='seed of the random weights')
    p.add_argument('--out', help='json file for the rows')
    p.add_argument('--child', action='store_true', help=argparse.SUPPRESS)  # one measurement
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.child:
        try:
            print(json.dumps(measure(args)), flush=True)
        except (ValueError, FileNotFoundError) as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
        return 0
    problem = (f'{args.config}: no such config file' if not osp.isfile(args.config) else
               f'{args.onnx}: no such ONNX model file' if args.onnx and not osp.isfile(args.onnx) else
               '--onnx is used only with --backends onnxruntime'
               if args.onnx and 'onnxruntime' not in args.backends else None)
    if problem:
        print(f'error: {problem}', file=sys.stderr)
        return 2
    args.config, args.onnx = osp.abspath(args.config), args.onnx and osp.abspath(args.onnx)
    with tempfile.TemporaryDirectory() as tmp:
        rows, failures = run_all(args, tmp)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=2)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
