"""Where a full frame's restoration time goes on this CPU, and the least time its work can take.

For the restoration network of CONFIG (random weights, or ``--checkpoint``), on a batch of tiles as
``tools/deweather.py`` runs them:

* per part of the network (stem, patch embedding, each transformer block, un-patchify head, tail,
  confidence head) its GMAC (mmengine's ``FlopAnalyzer``, attention's two matmuls counted), its time
  (each part re-run on the input it received, all parts timed in turn per round, median) and the rate
  it reaches, in GFLOP/s (1 MAC = 2 FLOP);
* the rate of a large fp32 matrix product (``torch.mm``, 2048²) in the same rounds: what the cores can
  do at best, and the frame's lower bound at that rate;
* with ``--bf16``: the whole network under bf16 autocast, its time ÷ fp32 and the PSNR of its output
  against fp32's, and the bf16 matrix-product rate.

Every number is scaled to one frame of ``--frame`` H W with the config's tiles (non-overlapping unless
the config's stride says otherwise). Example (docs/benchmarks.md)::

    python tools/analysis_tools/frame_time_budget.py \
        configs/mofme/mofme-e16-top4_rain-haze-cityscapes-256.py --frame 1024 2048 --threads 2 --runs 3 --bf16
"""
import argparse
import json
import math
import os.path as osp
import sys
import warnings
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from torch import nn

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from model_stats import build_from_config, sdpa_flop_jit  # noqa: E402  (the tool beside this one)

from mmmofme.apis.inference import tile_plan  # noqa: E402
from mmmofme.apis.restorer import resolve_tiling, restorer_and_tiling  # noqa: E402
from mmmofme.deploy import AutocastRestorer, fast_cpu_model  # noqa: E402
from mmmofme.utils import interleaved_median_ms  # noqa: E402

MATMUL_SIDE = 2048


def network_parts(net: nn.Module) -> Dict[str, nn.Module]:
    """The network's top-level children, a ``ModuleList`` split into its items (it is never called)."""
    parts: Dict[str, nn.Module] = {}
    for name, child in net.named_children():
        if isinstance(child, nn.ModuleList):
            parts.update({f'{name}.{i}': item for i, item in enumerate(child)})
        else:
            parts[name] = child
    return parts


def record_part_inputs(net: nn.Module, parts: Dict[str, nn.Module], images: torch.Tensor) -> Dict[str, tuple]:
    """``{part: (args, kwargs)}`` each part received in one forward of ``net`` (parts not called: absent)."""
    calls: Dict[str, tuple] = {}
    handles = [part.register_forward_pre_hook(
        lambda _m, args, kwargs, name=name: calls.setdefault(name, (args, kwargs)), with_kwargs=True)
        for name, part in parts.items()]
    try:
        with torch.inference_mode():
            net(images)
    finally:
        for handle in handles:
            handle.remove()
    return calls


def part_gmac(net: nn.Module, tile: torch.Tensor, names: List[str]) -> Dict[str, float]:
    """GMAC of each named part (and ``''``, the whole network) on one forward of ``tile``."""
    analyzer = FlopAnalyzer(net, (tile, ))
    analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tracer warnings from the data-dependent dispatch
        by_module = analyzer.by_module()
    return {name: by_module.get(name, 0) / 1e9 for name in ['', *names]}


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.float() - b.float()) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def budget(config: str, frame: Tuple[int, int], runs: int, batch: int, checkpoint: Optional[str] = None,
           backend: str = 'eager', bf16: bool = False, seed: int = 0) -> dict:
    """The measurements of the module docstring, as a dict (times in seconds per frame)."""
    cfg = Config.fromfile(config)
    restorer_cfg, config_tiling = restorer_and_tiling(cfg)
    tiling = resolve_tiling(restorer_cfg, config_tiling)
    tile, stride = tiling['crop_size'], tiling['stride']
    tiles_per_frame = len(tile_plan(frame, tile, stride)[0])
    torch.manual_seed(seed)
    model = build_from_config(config)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    source = (getattr(model, 'generator', None) or model.restorer).eval()  # restorer or chain config
    net = fast_cpu_model(source) if backend == 'fast' else source
    images = torch.rand(batch, 3, *tile)
    parts = network_parts(net)
    calls = record_part_inputs(net, parts, images)
    gmac = part_gmac(source, images[:1], list(calls))  # traced on the plain modules (the analyzer's ops)

    a, b = torch.randn(MATMUL_SIDE, MATMUL_SIDE), torch.randn(MATMUL_SIDE, MATMUL_SIDE)
    fns: Dict[str, Callable[[], object]] = {'network': lambda: net(images), 'matmul fp32': lambda: a @ b}
    fns.update({name: (lambda p=parts[name], c=calls[name]: p(*c[0], **c[1])) for name in calls})
    if bf16:
        a16, b16 = a.bfloat16(), b.bfloat16()
        fns['matmul bf16'] = lambda: a16 @ b16
        # what --precision bf16 runs: the plain modules (the fast path's packed ops are fp32-only)
        net16 = AutocastRestorer(source)
        fns['network bf16'] = lambda: net16(images)
    with torch.inference_mode():
        ms = interleaved_median_ms(fns, runs)
        fp32 = net(images)
        out16 = net16(images) if bf16 else None

    per_frame = tiles_per_frame / batch  # calls of ``batch`` tiles per frame
    matmul_gflops = 2 * MATMUL_SIDE ** 3 / 1e9
    peak = matmul_gflops / (ms['matmul fp32'] / 1e3)
    frame_gflop = 2 * gmac[''] * tiles_per_frame
    rows = []
    for name in calls:
        seconds = ms[name] / 1e3 * per_frame
        gflop = 2 * gmac[name] * tiles_per_frame
        rate = gflop / seconds if seconds else None
        rows.append(dict(part=name, gflop=round(gflop, 3), share_of_work=round(gflop / frame_gflop, 3),
                         seconds=round(seconds, 2), gflops_per_s=None if rate is None else round(rate, 1),
                         share_of_peak=None if rate is None else round(rate / peak, 2)))
    network_s = ms['network'] / 1e3 * per_frame
    result = dict(config=config, frame=list(frame), tile=list(tile), stride=list(stride),
                  tiles_per_frame=tiles_per_frame, batch=batch, backend=backend,
                  threads=torch.get_num_threads(), runs=runs, frame_gflop=round(frame_gflop, 3),
                  network_s=round(network_s, 2), parts_s=round(sum(r['seconds'] for r in rows), 2),
                  matmul_fp32_gflops_per_s=round(peak, 1),
                  lower_bound_at_matmul_rate_s=round(frame_gflop / peak, 2), parts=rows)
    if bf16:
        result.update(network_bf16_s=round(ms['network bf16'] / 1e3 * per_frame, 2),
                      bf16_vs_fp32=round(ms['network bf16'] / ms['network'], 2),
                      bf16_psnr_vs_fp32_db=round(psnr(out16, fp32), 1),
                      bf16_max_abs_diff=float((out16 - fp32).abs().max()),
                      matmul_bf16_gflops_per_s=round(matmul_gflops / (ms['matmul bf16'] / 1e3), 1))
    return result


def format_table(result: dict) -> str:
    lines = [f'{result["config"]}: one {result["frame"][0]}x{result["frame"][1]} frame = '
             f'{result["tiles_per_frame"]} tiles of {result["tile"][0]}x{result["tile"][1]}, '
             f'{result["batch"]} a call, {result["threads"]} threads, backend {result["backend"]}, '
             f'median of {result["runs"]} rounds',
             f'{"part":<14}{"GFLOP":>9}{"work":>7}{"s":>8}{"GFLOP/s":>9}{"of peak":>9}']
    for row in result['parts']:
        lines.append(f'{row["part"]:<14}{row["gflop"]:>9.1f}{row["share_of_work"]:>7.1%}{row["seconds"]:>8.2f}'
                     f'{row["gflops_per_s"] or 0:>9.1f}{row["share_of_peak"] or 0:>9.0%}')
    lines.append(f'network: {result["network_s"]} s per frame ({result["parts_s"]} s in the parts), '
                 f'{result["frame_gflop"]} GFLOP; fp32 matmul {result["matmul_fp32_gflops_per_s"]} GFLOP/s '
                 f'-> lower bound {result["lower_bound_at_matmul_rate_s"]} s per frame')
    if 'bf16_vs_fp32' in result:
        lines.append(f'bf16 autocast: {result["network_bf16_s"]} s per frame '
                     f'({result["bf16_vs_fp32"]}x fp32), '
                     f'output {result["bf16_psnr_vs_fp32_db"]} dB PSNR vs fp32 (max abs diff '
                     f'{result["bf16_max_abs_diff"]:.1e}); bf16 matmul '
                     f'{result["matmul_bf16_gflops_per_s"]} GFLOP/s')
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='restorer or chain config')
    parser.add_argument('--checkpoint', help='weights (default: the config\'s initial weights, seeded)')
    parser.add_argument('--frame', type=int, nargs=2, default=[1024, 2048], metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=8, help='tiles per call (tools/deweather.py: 8)')
    parser.add_argument('--runs', type=int, default=3, help='timed rounds (after one warm-up round)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--backend', choices=['eager', 'fast'], default='eager')
    parser.add_argument('--bf16', action='store_true', help='also time the network under bf16 autocast')
    parser.add_argument('--out', help='write the result as JSON here')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    result = budget(args.config, tuple(args.frame), args.runs, args.batch, args.checkpoint, args.backend,
                    args.bf16)
    print(format_table(result))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
