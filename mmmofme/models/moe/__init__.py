"""Mixture-of-experts components: routers, expert sets, the shared sparse dispatch and the layer."""
from .builder import build_part, registered_types
from .dispatch import group_sizes, is_tracing, masked_dispatch, sparse_dispatch
from .experts import ExpertsBase, FeatureModulationExperts, FFNExperts, MultiScaleExperts
from .moe_layer import MoELayer
from .routers import (
    RouterOutput,
    TaskConditionedRouter,
    TopKRouter,
    UncertaintyAwareRouter,
    WeatherAwareRouter,
    check_task_ids,
    task_gate_count,
    uncertainty_calibration,
)

__all__ = [
    'build_part', 'registered_types', 'group_sizes', 'is_tracing', 'masked_dispatch', 'sparse_dispatch',
    'ExpertsBase', 'FeatureModulationExperts', 'FFNExperts', 'MultiScaleExperts', 'MoELayer', 'RouterOutput',
    'TaskConditionedRouter', 'TopKRouter', 'UncertaintyAwareRouter', 'WeatherAwareRouter',
    'check_task_ids', 'task_gate_count', 'uncertainty_calibration'
]
