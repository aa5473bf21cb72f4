"""The paper's restorer variants as ``MoFMEViT`` keyword arguments, for tools and tests.

They differ only by their router, expert set and (MMoE, M³ViT) task gates or (PR-MoE) dense residual FFN
with a pyramid of expert counts; the shipped configs spell the same dicts out.
"""
import copy
from typing import Any, Dict, Optional

UAR = dict(type='UncertaintyAwareRouter', mc_samples=5, mc_dropout=0.1)
UAR_SETTINGS = dict(mc_samples=5, mc_dropout=0.1)  # ``router.uncertainty`` of routers that can act as the UaR
#: MoWE's expert hidden ratio: the paper leaves the width open; 1128 = 2.9375·384 gives its 34.15M.
MOWE_MLP_RATIO = 2.9375
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
    # M³ViT: one noisy top-k gate per weather task (All-Weather's 3), FFN experts
    'm3vit': dict(experts=dict(type='FFNExperts'), router=dict(type='TaskConditionedRouter'), num_tasks=3),
    # MoWE: weather-aware router + multi-scale FFN experts, expert width 2.9375·D (docs/deviations.md)
    'mowe': dict(experts=dict(type='MultiScaleExperts'), router=dict(type='WeatherAwareRouter'), num_tasks=3,
                 mlp_ratio=MOWE_MLP_RATIO),
    # Table 1's FME + UaR rows on those bases: the same routers routing as the UaR, FME experts
    'm3vit-fme-uar': dict(experts=dict(type='FeatureModulationExperts'),
                          router=dict(type='TaskConditionedRouter', uncertainty=UAR_SETTINGS), num_tasks=3),
    'mowe-fme-uar': dict(experts=dict(type='MultiScaleExperts',
                                      experts=dict(type='FeatureModulationExperts')),
                         router=dict(type='WeatherAwareRouter', uncertainty=UAR_SETTINGS), num_tasks=3),
    # OneS: the dense student the MoE's experts are gathered into (tools/model_converters/moe_to_dense.py)
    'ones': dict(experts=None),
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
