"""The paper's restorer variants as ``MoFMEViT`` keyword arguments, for tools and tests.

They differ only by their router, expert set and (MMoE) task gates or (PR-MoE) dense residual FFN with a
pyramid of expert counts; the shipped configs spell the same dicts out.
"""
import copy
from typing import Any, Dict, Optional

UAR = dict(type='UncertaintyAwareRouter', mc_samples=5, mc_dropout=0.1)
TOPK = dict(type='TopKRouter')

#: Router readings by short name (``model_stats.py --router``).
ROUTERS: Dict[str, dict] = {'topk': TOPK, 'uar': UAR}

#: Variant name → ``MoFMEViT`` keyword arguments (the router may be swapped, see :func:`variant`).
VARIANTS: Dict[str, Dict[str, Any]] = {
    'dense': dict(experts=None),
    'moe': dict(experts=dict(type='FFNExperts'), router=TOPK),
    'mofme': dict(experts=dict(type='FeatureModulationExperts'), router=UAR),
    'mmoe': dict(experts=dict(type='FFNExperts'), router=TOPK, num_tasks=3),
    'prmoe': dict(experts=dict(type='FFNExperts'), router=TOPK, residual_ffn=True, expert_pyramid=True),
}


def variant(name: str, router: Optional[str] = None, **overrides: Any) -> Dict[str, Any]:
    """``MoFMEViT`` kwargs of variant ``name`` (optionally with router ``'topk'`` / ``'uar'``) + overrides.

    Raises:
        ValueError: naming the unknown variant or router and the known ones.
    """
    if name not in VARIANTS:
        raise ValueError(f'unknown variant {name!r}; known: {", ".join(VARIANTS)}')
    kwargs = copy.deepcopy(VARIANTS[name])
    if router is not None:
        if router not in ROUTERS:
            raise ValueError(f'unknown router {router!r}; known: {", ".join(ROUTERS)}')
        kwargs['router'] = copy.deepcopy(ROUTERS[router])
    kwargs.update(overrides)
    return kwargs
