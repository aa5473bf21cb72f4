"""Deployment: ONNX export of restorers and chains, an onnxruntime restorer, and the fast CPU path."""
from .autocast import PRECISIONS, AutocastRestorer, with_precision
from .fast_cpu import PackedConv2d, PackedLinear, fast_cpu_model, fast_path_available
from .onnx_export import (
    MIN_OPSET,
    TASK_INPUT,
    TASKS_KEY,
    ExportError,
    RestorerGraph,
    SegmentorChainGraph,
    check_opset,
    dynamic_example,
    example_input,
    example_inputs,
    expert_node_count,
    export_onnx,
    graph_for,
    max_opset,
)
from .ort_backend import OnnxRestorer, init_onnx_restorer

__all__ = [
    'MIN_OPSET', 'TASK_INPUT', 'TASKS_KEY', 'ExportError', 'RestorerGraph', 'SegmentorChainGraph',
    'check_opset', 'dynamic_example', 'example_input', 'example_inputs', 'expert_node_count', 'export_onnx',
    'graph_for', 'max_opset', 'OnnxRestorer', 'init_onnx_restorer', 'PackedConv2d', 'PackedLinear',
    'fast_cpu_model', 'fast_path_available', 'AutocastRestorer', 'PRECISIONS', 'with_precision'
]
