"""Latency of one FFN-position layer of each kind on the same tokens (CPU, eval, no grad).

Kinds: ``dense_ffn`` (LN + FFN), ``moe`` (sparse dispatch over FFN experts), ``moe_all_experts`` (every
expert on every token, weights zero off the top-k, as the released code computes MoE), ``fme``
(feature-modulation experts + one shared FFN, sparse dispatch). Timings of one E are interleaved so
their ratios come from the same stretch of time.

Every kind runs on the same linear backend (``--backend``, printed): ``onednn`` (default) packs every
weight once for oneDNN (the experts' own packed path; dense layers through
:func:`mmmofme.deploy.fast_cpu_model`), ``mkl`` switches oneDNN off so every product is ``F.linear``
through MKL. (Before, the experts ran on oneDNN and the dense FFN on MKL, which flattered the experts.)

Example::

    python tools/analysis_tools/benchmark_moe.py --num-experts 16 64 128 --top-k 2 --tokens 1024 \
        --dim 384 --runs 10 --backend onednn --out bench.json
"""
import argparse
import contextlib
import json
from typing import Callable, Dict, List, Optional

import torch
from torch import Tensor

from mmmofme.deploy import fast_cpu_model
from mmmofme.models.layers import PreNormFeedForward
from mmmofme.models.moe import FeatureModulationExperts, FFNExperts, MoELayer, TopKRouter
from mmmofme.utils import interleaved_median_ms

KINDS = ('dense_ffn', 'moe', 'moe_all_experts', 'fme')
BACKENDS = ('onednn', 'mkl')


def all_experts_forward(layer: MoELayer, x: Tensor) -> Tensor:
    """Masked dense MoE: every expert on every token, combined with zero weights off the top-k."""
    tokens = x.reshape(-1, x.shape[-1])
    route = layer.router(tokens)
    dense_weights = torch.zeros_like(route.probs).scatter(1, route.indices, route.weights)
    routed = layer.experts.prepare(tokens)
    out = 0
    for expert in range(layer.experts.num_experts):
        out = out + dense_weights[:, expert:expert + 1] * layer.experts.expert_forward(expert, routed)
    return layer.experts.finish(out).view_as(x)


def build_kinds(dim: int, num_experts: int, top_k: int,
                backend: str = 'onednn') -> Dict[str, Callable[[Tensor], object]]:
    """The layer of each kind as a callable on (1, N, D) tokens, every linear on ``backend``."""
    dense = PreNormFeedForward(dim).eval()
    moe = MoELayer(TopKRouter(dim, num_experts, top_k), FFNExperts(dim, num_experts)).eval()
    fme = MoELayer(TopKRouter(dim, num_experts, top_k), FeatureModulationExperts(dim, num_experts)).eval()
    if backend == 'onednn':  # dense layers (FFN, routers, FME's shared linear and FFN) packed as well
        dense, moe, fme = (fast_cpu_model(m) for m in (dense, moe, fme))
    return {
        'dense_ffn': dense,
        'moe': moe,
        'moe_all_experts': lambda x: all_experts_forward(moe, x),
        'fme': fme,
    }


def backend_context(backend: str):
    """``mkl``: oneDNN off for the whole run (packed paths then fall back to ``F.linear``)."""
    if backend not in BACKENDS:
        raise ValueError(f'unknown backend {backend!r}; known: {", ".join(BACKENDS)}')
    return torch.backends.mkldnn.flags(enabled=False) if backend == 'mkl' else contextlib.nullcontext()


@torch.inference_mode()
def time_kinds(kinds: Dict[str, Callable], x: Tensor, runs: int) -> Dict[str, float]:
    """Median ms per kind over ``runs`` interleaved rounds, after one warm-up round."""
    return interleaved_median_ms({name: (lambda fn=fn: fn(x)) for name, fn in kinds.items()}, runs)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-experts', nargs='+', type=int, default=[16, 64, 128])
    parser.add_argument('--top-k', type=int, default=2)
    parser.add_argument('--tokens', type=int, default=1024)
    parser.add_argument('--dim', type=int, default=384)
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--kinds', nargs='+', default=list(KINDS), choices=KINDS)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--backend', default='onednn', choices=BACKENDS,
                        help='linear backend of every kind: oneDNN packed weights, or MKL (oneDNN off)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s choice); 1 is steadier on a busy CPU')
    parser.add_argument('--out', default=None)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if args.runs < 1:
        raise ValueError(f'--runs must be >= 1, got {args.runs}')
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    x = torch.randn(1, args.tokens, args.dim)
    rows = []
    print(f'backend: {args.backend} for every kind', flush=True)
    for num_experts in args.num_experts:
        with backend_context(args.backend):
            kinds = {k: v for k, v in build_kinds(args.dim, num_experts, args.top_k, args.backend).items()
                     if k in args.kinds}
            medians = time_kinds(kinds, x, args.runs)
        for kind, ms in medians.items():
            rows.append(dict(kind=kind, num_experts=num_experts, backend=args.backend,
                             latency_ms=round(ms, 3)))
            print(json.dumps(rows[-1]), flush=True)
        if {'dense_ffn', 'moe', 'fme'} <= medians.keys():
            dense, moe, fme = medians['dense_ffn'], medians['moe'], medians['fme']
            print(f'E={num_experts}: moe/(k*dense) {moe / (args.top_k * dense):.2f}  '
                  f'fme/dense {fme / dense:.2f}  fme/moe {fme / moe:.2f}', flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == '__main__':
    main()
