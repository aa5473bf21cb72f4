"""Parameters, GMAC and median CPU latency of MoFMEViT variants.

GMAC are counted by mmengine.analysis' FlopAnalyzer (one multiply-accumulate = 1) on a traced eval
forward. The sparse dispatch runs each expert only on its own tokens, so the trace holds exactly the
active top-k experts' matmuls, as the paper counts them. ``scaled_dot_product_attention`` has no
built-in handle; ours counts its two matmuls (``--sdpa-flops skip`` drops them, as ptflops does).
Latency: all variants are built first and timed in turn within each round, so their ratios come from
the same stretch of time (the models are held in memory together meanwhile), every variant on the same
backend (``--backend``, printed and in each row): ``fast`` (default) is the fast CPU inference path
(:func:`mmmofme.deploy.fast_cpu_model`: every conv and linear, dense FFN included, on oneDNN-packed
weights), ``eager`` the plain modules (experts still on their own packed weights).

Example::

    python tools/analysis_tools/model_stats.py --variants dense moe mofme \
        --num-experts 16 64 128 --top-k 2 --input-size 240 --latency-runs 10 --out stats.json

With ``--configs`` the models are built from config files instead (the config's ``custom_imports``
and ``default_scope`` are honoured): ``params`` counts the whole model (a chain: restorer and
perception model), ``restorer_params`` and ``gmac`` the restoration network on one crop of its
training / tiling size (``crop``); a perception-only config has no restorer and no GMAC. A classifier
config (an mmpretrain model whose backbone sets ``img_size``) gets the GMAC of the whole classifier on
one ``img_size`` square, reported as ``crop``::

    python tools/analysis_tools/model_stats.py --configs configs/mofme/*.py --sdpa-flops skip
    python tools/analysis_tools/model_stats.py --configs configs/classification/*.py
"""
import argparse
import json
import warnings
from collections import Counter
from typing import Any, Dict, List, Optional

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import get_shape

from mmmofme.deploy import fast_cpu_model
from mmmofme.models import MoFMEViT
from mmmofme.models.archs import ROUTERS, VARIANTS, variant
from mmmofme.utils import interleaved_median_ms


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> Counter:
    """MACs of ``scaled_dot_product_attention``: Q·Kᵀ and P·V, i.e. B·H·Tq·Tk·(d_k + d_v)."""
    q, k, v = (get_shape(t) for t in inputs[:3])
    *batch, tq, dk = q
    tk, dv = k[-2], v[-1]
    macs = tq * tk * (dk + dv)
    for size in batch:
        macs *= size
    return Counter({'scaled_dot_product_attention': macs})


def count_gmac(model: torch.nn.Module, image: torch.Tensor, count_sdpa: bool = True) -> float:
    """GMAC of one forward of ``model`` on ``image`` (model in eval mode)."""
    analyzer = FlopAnalyzer(model, (image, ))
    analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit if count_sdpa else None)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tracer warnings from the data-dependent dispatch
        return analyzer.total() / 1e9


@torch.inference_mode()
def interleaved_latency_ms(models: Dict[str, torch.nn.Module], image: torch.Tensor,
                           runs: int) -> Dict[str, float]:
    """Median wall time (ms) of one forward per model, the models timed in turn in each round."""
    return interleaved_median_ms({name: (lambda m=m: m(image)) for name, m in models.items()}, runs)


def build_from_config(path: str) -> torch.nn.Module:
    """The model of config ``path``, built in the config's default scope after its custom imports."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.utils import import_modules_from_strings
    cfg = Config.fromfile(path)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        return MODELS.build(cfg.model)


def restoration_network(model: torch.nn.Module, model_cfg: dict) -> tuple:
    """(network, crop) of a restorer (``generator``) or a chain (``restorer``); (None, None) otherwise."""
    for attr, crop_cfg in (('generator', model_cfg.get('test_cfg') or {}),
                           ('restorer', model_cfg.get('restore_cfg') or {})):
        net = getattr(model, attr, None)
        if isinstance(net, torch.nn.Module):
            crop = crop_cfg.get('crop_size') or model_cfg[attr].get('img_size', 256)
            return net, crop[0] if isinstance(crop, (tuple, list)) else crop
    return None, None


def classification_network(model: torch.nn.Module, model_cfg: dict) -> tuple:
    """(model, input side) of a classifier whose backbone config sets ``img_size``; (None, None) otherwise."""
    size = (model_cfg.get('backbone') or {}).get('img_size')
    if size is None or not isinstance(getattr(model, 'head', None), torch.nn.Module):
        return None, None
    return model, size[0] if isinstance(size, (tuple, list)) else size


def config_rows(paths: List[str], count_sdpa: bool) -> List[dict]:
    """Parameters of each config's model and GMAC of its restoration network (or classifier) on one square."""
    from mmengine.config import Config
    rows = []
    for path in paths:
        model = build_from_config(path).eval()
        model_cfg = Config.fromfile(path).model
        net, crop = restoration_network(model, model_cfg)
        row = dict(config=path, params=int(sum(p.numel() for p in model.parameters())),
                   restorer_params=None, crop=crop, gmac=None)
        if net is not None:
            row['restorer_params'] = int(sum(p.numel() for p in net.parameters()))
        else:
            net, crop = classification_network(model, model_cfg)
            row['crop'] = crop
        if net is not None:
            # a chain freezes its restorer; the trace needs the autograd path (not the packed inference one)
            net.eval().requires_grad_(True)
            row['gmac'] = round(count_gmac(net, torch.rand(1, 3, crop, crop), count_sdpa), 6)
        rows.append(row)
        print(json.dumps(row), flush=True)
        del model, net
    return rows


def _round(value: Optional[float], digits: int = 3) -> Optional[float]:
    return None if value is None else round(value, digits)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--configs', nargs='+', default=None,
                        help='build the models from these config files instead of --variants')
    parser.add_argument('--variants', nargs='+', default=['dense', 'moe', 'mofme'], choices=list(VARIANTS))
    parser.add_argument('--num-experts', nargs='+', type=int, default=[16])
    parser.add_argument('--top-k', nargs='+', type=int, default=[2])
    parser.add_argument('--input-size', type=int, default=240, help='square crop; sizes the pos-embed too')
    parser.add_argument('--latency-runs', type=int, default=10, help='0 skips timing')
    parser.add_argument('--router', default=None, choices=list(ROUTERS),
                        help="swap every variant's router (default: each variant's own)")
    parser.add_argument('--embed-dim', type=int, default=384)
    parser.add_argument('--depth', type=int, default=2)
    parser.add_argument('--patch-size', type=int, default=8)
    parser.add_argument('--sdpa-flops', default='count', choices=['count', 'skip'])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--backend', default='fast', choices=['fast', 'eager'],
                        help='latency backend of every variant: the fast CPU path or eager modules')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s choice); 1 is steadier on a busy CPU')
    parser.add_argument('--out', default=None, help='json file for the rows')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.configs:
        rows = config_rows(args.configs, args.sdpa_flops == 'count')
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(rows, f, indent=2)
        return rows
    image = torch.rand(1, 3, args.input_size, args.input_size)
    rows, models = [], {}
    for name in args.variants:
        dense = VARIANTS[name].get('experts', {}) is None
        settings = [(None, None)] if dense else [
            (e, k) for e in args.num_experts for k in args.top_k if k <= e]
        for num_experts, top_k in settings:
            extra = {} if dense else dict(num_experts=num_experts, top_k=top_k)
            model = MoFMEViT(**variant(name, args.router, embed_dim=args.embed_dim, depth=args.depth,
                                       patch_size=args.patch_size, img_size=args.input_size, **extra)).eval()
            params = int(sum(p.numel() for p in model.parameters()))
            rows.append(dict(variant=name, num_experts=num_experts, top_k=top_k,
                             input_size=args.input_size, params=params,
                             gmac=round(count_gmac(model, image, args.sdpa_flops == 'count'), 6),
                             latency_ms=None, backend=args.backend))
            if args.latency_runs > 0:  # kept for timing; all variants are then timed round by round
                models[str(len(rows) - 1)] = fast_cpu_model(model) if args.backend == 'fast' else model
    print(f'latency backend: {args.backend} for every variant', flush=True)
    latencies = interleaved_latency_ms(models, image, args.latency_runs) if models else {}
    for index, row in enumerate(rows):
        row['latency_ms'] = _round(latencies.get(str(index)))
        print(json.dumps(row), flush=True)
    print_ratios(rows)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


def print_ratios(rows: List[dict]) -> None:
    """Print MoFME ÷ MoE (same E, k) and MoFME ÷ dense for params, GMAC and latency."""
    by_key = {(r['variant'], r['num_experts'], r['top_k']): r for r in rows}
    dense = by_key.get(('dense', None, None))
    for (name, e, k), row in by_key.items():
        if name != 'mofme':
            continue
        for name, ref in (('moe', by_key.get(('moe', e, k))), ('dense', dense)):
            if ref is None:
                continue
            ratios = [f'{key} {row[key] / ref[key]:.3f}' for key in ('params', 'gmac', 'latency_ms')
                      if row[key] is not None and ref[key]]
            print(f'mofme(E={e}, k={k}) / {name}: ' + ', '.join(ratios))


if __name__ == '__main__':
    main()
