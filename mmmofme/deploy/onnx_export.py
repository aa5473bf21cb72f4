"""ONNX export of a restorer (any ``MoFMEViT`` variant) or of a restorer + segmentor chain, as one graph.

Export goes through ``torch.onnx.export(dynamo=True)`` (``torch.export`` then onnxscript). The MoE
layers record the traceable form of the sparse dispatch (:func:`~mmmofme.models.moe.masked_dispatch`):
one ``NonZero`` per expert selects that expert's tokens, so the graph stays sparse at any routing.

Graphs:

* restorer: ``image`` (B, 3, H, W) RGB in [0, 1] → ``restored`` (B, 3, H, W); batch, height and width
  are dynamic (an MMoE restorer is exported without task ids: its gates' mean, as in eval without ids);
* chain (``DeweatherSegmentor``): ``image`` (B, 3, H, W) RGB in [0, 1] → ``seg_logits`` (B, K, H, W),
  i.e. the chain's ``encode_decode`` (restore, clamp, re-normalise, segment, resize to the input). With
  whole-frame restoration batch, H and W are dynamic; with tiled restoration (``restore_cfg`` mode
  ``'slide'``) the tile grid and the tiles per call depend on the frame and batch size, so the graph is
  fixed to the example's size.
"""
import os
import os.path as osp
import warnings
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

#: Opsets the dynamo exporter writes (onnxscript's translation starts at 18).
MIN_OPSET = 18


class ExportError(ValueError):
    """A request the exporter cannot serve; the message is one line and names the cause."""


def max_opset() -> int:
    """Highest opset ``torch.onnx`` exports to (23 with torch 2.14)."""
    from torch.onnx import _constants
    return int(getattr(_constants, 'ONNX_MAX_OPSET', MIN_OPSET))


def check_opset(opset: Optional[int]) -> Optional[int]:
    """``opset`` if the exporter supports it (None: the exporter's default), else :class:`ExportError`."""
    if opset is not None and not MIN_OPSET <= opset <= max_opset():
        raise ExportError(f'opset {opset} is not supported: torch.onnx (dynamo) exports opsets '
                          f'{MIN_OPSET}..{max_opset()}')
    return opset


#: ONNX metadata key of a restorer graph with a frame gate: ``"low,high"``.
FRAME_GATE_KEY = 'mmmofme.frame_gate'


class RestorerGraph(nn.Module):
    """What a restorer ONNX graph computes: ``restorer(image)`` (no task ids, no aux losses).

    A restorer with a frame gate (``MoFMEViT(frame_gate=...)``) is exported as its
    :meth:`~mmmofme.models.archs.MoFMEViT.tile_outputs` (blended output + confidence, 4 channels), with
    the gate in the graph's metadata (:data:`FRAME_GATE_KEY`): the gate needs the whole frame's mean
    confidence, so :class:`~mmmofme.deploy.OnnxRestorer` stitches tiles and gates whole frames, as
    ``tiled_restore`` does for the PyTorch model.

    Shapes:
        image: (B, 3, H, W) in [0, 1] → (B, 3, H, W), or (B, 4, H, W) with a frame gate.
    """

    def __init__(self, restorer: nn.Module) -> None:
        super().__init__()
        self.restorer = restorer
        gate = getattr(restorer, 'frame_gate', None)
        self.metadata = {} if gate is None else {FRAME_GATE_KEY: f'{gate[0]!r},{gate[1]!r}'}

    def forward(self, image: Tensor) -> Tensor:
        if self.metadata:
            return self.restorer.tile_outputs(image)
        return self.restorer(image)


class SegmentorChainGraph(nn.Module):
    """What a chain ONNX graph computes: a ``DeweatherSegmentor``'s logits at the input's size.

    Shapes:
        image: (B, 3, H, W) RGB in [0, 1] (the chain's outer preprocessor's output, unpadded) →
        (B, K, H, W) segmentation logits.
    """

    def __init__(self, chain: nn.Module) -> None:
        super().__init__()
        self.chain = chain

    def forward(self, image: Tensor) -> Tensor:
        size = image.shape[2:]  # a torch.Size: mmseg resizes the logits to it (its slide-test branch)
        metas = [dict(img_shape=size, ori_shape=size)]
        return self.chain.encode_decode(image, metas)


def graph_for(model: nn.Module, chain: bool) -> Tuple[nn.Module, bool]:
    """``(graph module, whether H and W can be dynamic)`` for a restorer or (``chain``) a chain model."""
    if not chain:
        return RestorerGraph(model).eval(), True
    if not hasattr(model, 'encode_decode') or not hasattr(model, 'restore_cfg'):
        raise ExportError(f'--chain needs a DeweatherSegmentor chain, got {type(model).__name__}')
    return SegmentorChainGraph(model).eval(), model.restore_cfg['mode'] == 'whole'


def export_onnx(graph: nn.Module,
                example: Tensor,
                path: str,
                output_name: str,
                dynamic_hw: bool = True,
                opset: Optional[int] = None,
                optimize: bool = True) -> str:
    """Export ``graph`` (one image tensor in, one tensor out) to ``path``; returns ``path``.

    Args:
        graph: e.g. :class:`RestorerGraph` / :class:`SegmentorChainGraph`, in eval mode.
        example: an example (B, 3, H, W) input (:func:`dynamic_example` for a dynamic graph).
        path: the .onnx file; weights are stored inside it (external data only past protobuf's 2 GB).
        output_name: the graph output's name.
        dynamic_hw: keep batch, H and W symbolic; else the graph is fixed to the example's size.
        opset: ONNX opset, :data:`MIN_OPSET` .. :func:`max_opset` (None: the exporter's default).
        optimize: run onnxscript's graph optimizer (constant folding, dead-code removal); off only
            saves export time (tests), onnxruntime optimises the graph again when it loads it.
    """
    check_opset(opset)
    graph.eval()  # the wrapper too (torch.onnx warns about a module left in training mode)
    folder = osp.dirname(osp.abspath(path))
    if not osp.isdir(folder):
        raise ExportError(f'{path}: output folder {folder} does not exist')
    # Dim.DYNAMIC, not ranges: the restorer's shape checks (grid >= 2, grid != the table's grid) would be
    # reported as range violations; the graph computes every case alike (tests cover the edge sizes).
    dims = {0: torch.export.Dim.DYNAMIC, 2: torch.export.Dim.DYNAMIC, 3: torch.export.Dim.DYNAMIC}
    weight_bytes = sum(p.numel() * p.element_size() for p in graph.parameters())
    with torch.no_grad(), warnings.catch_warnings():
        # torch.export notes the MoE layers' routing statistics (plain attributes set in forward)
        warnings.filterwarnings('ignore', message='.*were assigned during export.*')
        program = torch.onnx.export(graph, (example, ), dynamo=True,
                                    dynamic_shapes=(dims, ) if dynamic_hw else None,
                                    input_names=['image'], output_names=[output_name],
                                    opset_version=opset, optimize=optimize, verbose=False)
    if weight_bytes > 1.8e9:  # beyond protobuf's 2 GB: weights beside the graph, in PATH.data
        if getattr(graph, 'metadata', None):
            raise ExportError(f'{path}: a restorer with a frame gate over 1.8 GB of weights is not exported '
                              f'(its metadata would need the external-data writer)')
        program.save(path, external_data=True)
        return path
    tmp = path + '.partial'
    try:
        program.save(tmp, external_data=False)
        metadata = getattr(graph, 'metadata', None)
        if metadata:
            import onnx
            proto = onnx.load(tmp)
            onnx.helper.set_model_props(proto, metadata)
            onnx.save(proto, tmp)
        os.replace(tmp, path)  # no partial .onnx left behind on failure
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return path


def expert_node_count(onnx_path: str) -> int:
    """Number of ``NonZero`` nodes in a graph: one per expert of every MoE layer when routing is sparse."""
    import onnx
    model = onnx.load(onnx_path, load_external_data=False)
    return sum(node.op_type == 'NonZero' for node in model.graph.node)


def example_input(shape: Sequence[int]) -> Tensor:
    """A (B, 3, H, W) example in [0, 1] from ``shape`` = (B, H, W)."""
    batch, height, width = (int(v) for v in shape)
    return torch.rand(batch, 3, height, width)


def dynamic_example(restorer: nn.Module) -> Tensor:
    """An example that keeps every size symbolic when traced: batch 2 (a 1 would be specialised) and a
    token grid other than the position table's (whose size would otherwise be taken as fixed)."""
    height, width = getattr(restorer, 'img_size', (256, 256))
    patch = int(getattr(restorer, 'patch_size', 8))
    return example_input((2, height + patch, width + 2 * patch))
