"""Train and test one restorer config over a grid of ``--cfg-options`` overrides.

Every point of the grid (the product of the ``--grid`` axes) gets its own work dir under
``--work-dir``: ``tools/train.py`` trains it, ``tools/test.py`` tests its last checkpoint, and the
test metrics are read from the JSON log mmengine writes into the test work dir (the per-weather
``{weather}/PSNR`` / ``{weather}/SSIM`` keys and their means). The sweep writes ``results.json``
and ``results.md`` (one table row per point) into ``--work-dir`` and logs its progress, with an
ETA, to ``sweep.log`` there.

Example::

    python tools/analysis_tools/sweep_restorer.py configs/synthetic/mofme_synthetic.py \
        --grid "model.generator.num_experts=8,16" --grid "train_cfg.max_iters=300,600" \
        --work-dir work_dirs/sweep

A value holding commas (a list) is bracketed: ``--grid "train_dataloader.dataset.weathers=['raindrop'],
['raindrop','clean']"``; commas inside brackets or quotes do not split values.
"""
import argparse
import itertools
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from glob import glob
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.logging import MMLogger

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')


def split_values(text: str) -> List[str]:
    """Split ``text`` at the commas that are not inside brackets or quotes."""
    values, depth, quote, start = [], 0, None, 0
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in '\'"':
            quote = char
        elif char in '([{':
            depth += 1
        elif char in ')]}':
            depth -= 1
        elif char == ',' and depth == 0:
            values.append(text[start:i].strip())
            start = i + 1
    values.append(text[start:].strip())
    if any(not v for v in values):
        raise ValueError(f'empty value in {text!r}')
    return values


def parse_grid(axes: Sequence[str]) -> List[Tuple[str, List[str]]]:
    """``['a.b=1,2', 'c=x']`` -> ``[('a.b', ['1', '2']), ('c', ['x'])]``."""
    grid = []
    for axis in axes:
        key, sep, values = axis.partition('=')
        if not sep or not key.strip():
            raise ValueError(f'--grid takes KEY=V1,V2,...; got {axis!r}')
        grid.append((key.strip(), split_values(values)))
    keys = [k for k, _ in grid]
    if len(set(keys)) != len(keys):
        raise ValueError(f'a key is given twice in --grid: {keys}')
    return grid


def grid_points(grid: List[Tuple[str, List[str]]]) -> List[Dict[str, str]]:
    """Every combination of the axes' values, first axis slowest."""
    keys = [k for k, _ in grid]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(v for _, v in grid))]


def point_name(index: int, point: Dict[str, str]) -> str:
    """A work-dir name: the index, then the last part of each key with its value."""
    parts = [f'{key.rsplit(".", 1)[-1]}-{value}' for key, value in point.items()]
    name = re.sub(r'[^A-Za-z0-9_.=-]+', '', '_'.join(parts))[:80]
    return f'{index:02d}_{name}' if name else f'{index:02d}'


def run_tool(args: List[str], log_path: str) -> Tuple[int, float]:
    """Run ``python args...`` from the repository root, output into ``log_path``; (exit code, seconds)."""
    start = time.monotonic()
    os.makedirs(osp.dirname(osp.abspath(log_path)), exist_ok=True)  # a fresh clone has no data/ yet
    with open(log_path, 'w') as log:
        code = subprocess.call([sys.executable, *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return code, time.monotonic() - start


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint mmengine's CheckpointHook names in ``work_dir/last_checkpoint``."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        path = f.read().strip()
    return path if osp.isfile(path) else None


def read_test_metrics(work_dir: str) -> Dict[str, float]:
    """The metrics of the newest test run in ``work_dir``: ``{timestamp}/{timestamp}.json``."""
    logs = sorted(p for p in glob(osp.join(work_dir, '*', '*.json'))
                  if osp.basename(p) == osp.basename(osp.dirname(p)) + '.json')
    if not logs:
        return {}
    with open(logs[-1]) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    metrics = {}
    for line in lines:
        metrics.update({k: float(v) for k, v in line.items() if isinstance(v, (int, float))
                        and not isinstance(v, bool) and k not in ('step', 'iter', 'epoch')})
    return metrics


def metric_columns(rows: List[dict]) -> List[str]:
    """Mean metrics first (``PSNR``, ``SSIM``), then per weather (``rain/PSNR``, ...)."""
    keys = sorted({k for row in rows for k in row['metrics']})
    return [k for k in keys if '/' not in k] + [k for k in keys if '/' in k]


def markdown_table(rows: List[dict], keys: List[str]) -> str:
    columns = metric_columns(rows)
    header = ['point', *keys, *columns, 'train (s)', 'status']
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for row in rows:
        cells = [row['name'], *(row['overrides'][k] for k in keys)]
        cells += [f'{row["metrics"][c]:.4f}' if c in row['metrics'] else '—' for c in columns]
        cells += [f'{row["train_seconds"]:.0f}', row['status']]
        lines.append('| ' + ' | '.join(str(c).replace('|', '\\|') for c in cells) + ' |')
    return '\n'.join(lines) + '\n'


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    return f'{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}'


def run_point(config: str, overrides: List[str], work_dir: str) -> dict:
    """Train and test one point; returns its row (metrics empty when a step failed)."""
    train_dir, test_dir = osp.join(work_dir, 'train'), osp.join(work_dir, 'test')
    os.makedirs(work_dir, exist_ok=True)
    options = ['--cfg-options', *overrides] if overrides else []
    row = dict(work_dir=work_dir, metrics={}, train_seconds=0.0, test_seconds=0.0, checkpoint=None)
    code, row['train_seconds'] = run_tool(
        [osp.join(TOOLS, 'train.py'), config, '--work-dir', train_dir, *options],
        osp.join(work_dir, 'train.log'))
    checkpoint = last_checkpoint(train_dir)
    if code != 0 or checkpoint is None:
        row['status'] = f'train failed (exit {code}, see train.log)'
        return row
    row['checkpoint'] = checkpoint
    code, row['test_seconds'] = run_tool(
        [osp.join(TOOLS, 'test.py'), config, checkpoint, '--work-dir', test_dir, *options],
        osp.join(work_dir, 'test.log'))
    row['metrics'] = read_test_metrics(test_dir) if code == 0 else {}
    row['status'] = 'ok' if row['metrics'] else f'test failed (exit {code}, see test.log)'
    return row


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='base config (any config tools/train.py and tools/test.py take)')
    parser.add_argument('--grid', action='append', required=True, metavar='KEY=V1,V2,...',
                        help='one axis of the grid, in --cfg-options syntax; repeat for more axes')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='overrides applied to every point (e.g. the data root)')
    parser.add_argument('--work-dir', default=None,
                        help='root of the per-point work dirs (default work_dirs/sweep_<config name>)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    config = osp.abspath(args.config)
    if not osp.isfile(config):
        raise SystemExit(f'error: {args.config}: config file not found')
    grid = parse_grid(args.grid)
    keys = [k for k, _ in grid]
    points = grid_points(grid)
    root = osp.abspath(args.work_dir or osp.join(
        'work_dirs', 'sweep_' + osp.splitext(osp.basename(config))[0]))
    os.makedirs(root, exist_ok=True)
    logger = MMLogger.get_instance(f'sweep_restorer_{int(time.time() * 1e3)}', logger_name='sweep',
                                   log_file=osp.join(root, 'sweep.log'))
    logger.info(f'{len(points)} points of {args.config} into {root}')

    rows, start = [], time.monotonic()
    for index, point in enumerate(points):
        name = point_name(index, point)
        overrides = [*args.cfg_options, *(f'{k}={v}' for k, v in point.items())]
        logger.info(f'[{index + 1}/{len(points)}] {name}: ' + ' '.join(f'{k}={v}' for k, v in point.items()))
        row = dict(name=name, overrides=point, **run_point(config, overrides, osp.join(root, name)))
        rows.append(row)
        elapsed = time.monotonic() - start
        eta = elapsed / (index + 1) * (len(points) - index - 1)
        shown = ', '.join(f'{k} {v:.4f}' for k, v in row['metrics'].items() if '/' not in k)
        logger.info(f'[{index + 1}/{len(points)}] {name}: {row["status"]}'
                    + (f' ({shown})' if shown else '') + f'; train {row["train_seconds"]:.0f} s, '
                    f'test {row["test_seconds"]:.0f} s; elapsed {format_seconds(elapsed)}, '
                    f'ETA {format_seconds(eta)}')
        with open(osp.join(root, 'results.json'), 'w') as f:  # rewritten after every point
            json.dump(dict(config=args.config, grid=dict(grid), cfg_options=args.cfg_options, points=rows),
                      f, indent=2)

    table = markdown_table(rows, keys)
    with open(osp.join(root, 'results.md'), 'w') as f:
        f.write(f'`{args.config}`, test metrics per point\n\n' + table)
    logger.info('results: ' + osp.join(root, 'results.md') + '\n' + table)
    failed = [r['name'] for r in rows if r['status'] != 'ok']
    if failed:
        logger.error(f'{len(failed)} point(s) failed: {", ".join(failed)}')
        raise SystemExit(1)
    return rows


if __name__ == '__main__':
    main()
