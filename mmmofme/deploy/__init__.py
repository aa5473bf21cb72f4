"""Deployment: ONNX export of restorers and chains, an onnxruntime restorer, and the fast CPU path."""
from .onnx_export import (
    MIN_OPSET,
    ExportError,
    RestorerGraph,
    SegmentorChainGraph,
    check_opset,
    dynamic_example,
    example_input,
    expert_node_count,
    export_onnx,
    graph_for,
    max_opset,
)
from .ort_backend import OnnxRestorer, init_onnx_restorer

__all__ = [
    'MIN_OPSET', 'ExportError', 'RestorerGraph', 'SegmentorChainGraph', 'check_opset', 'dynamic_example',
    'example_input', 'expert_node_count', 'export_onnx', 'graph_for', 'max_opset', 'OnnxRestorer',
    'init_onnx_restorer'
]
