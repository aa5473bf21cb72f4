"""ONNX export of a restorer (any ``MoFMEViT`` variant) or of a restorer + segmentor chain, as one graph.

Export goes through ``torch.onnx.export(dynamo=True)`` (``torch.export`` then onnxscript). The MoE
layers record the traceable form of the sparse dispatch (:func:`~mmmofme.models.moe.masked_dispatch`):
one ``NonZero`` per expert selects that expert's tokens, so the graph stays sparse at any routing.

Graphs:

* restorer: ``image`` (B, 3, H, W) RGB in [0, 1] → ``restored`` (B, 3, H, W); batch, height and width
  are dynamic;
* task-gated restorer (MMoE, M³ViT: routers whose task id picks the gate, see
  :func:`~mmmofme.models.moe.task_gate_count`): a second input ``task_id`` (B,) int64, one id per image in
  [0, num_tasks), and ``restored = restorer(image, task_id)``; the task count is in the graph's metadata
  (:data:`TASKS_KEY`). The "no task id" case of PyTorch (the mean of the gates, or M³ViT's
  ``router.untagged``) is a graph of its own, exported with ``RestorerGraph(restorer, task_ids=False)``
  (``pytorch2onnx.py --no-task-ids``): an explicit choice at export rather than a sentinel id, so a
  task-id graph never silently routes by the mean. MoWE's router reads no tag at eval: its graph has no
  ``task_id`` input, as its PyTorch forward ignores the ids;
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

from ..models.moe import task_gate_count

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
#: ONNX metadata key of a restorer graph with a ``task_id`` input: the number of tasks, e.g. ``"3"``.
TASKS_KEY = 'mmmofme.num_tasks'
#: Name of a task-gated restorer graph's second input: (B,) int64.
TASK_INPUT = 'task_id'


class RestorerGraph(nn.Module):
    """What a restorer ONNX graph computes: ``restorer(image)``, or ``restorer(image, task_id)`` for a
    task-gated restorer (no aux losses).

    A restorer with a frame gate (``MoFMEViT(frame_gate=...)``) is exported as its
    :meth:`~mmmofme.models.archs.MoFMEViT.tile_outputs` (blended output + confidence, 4 channels), with
    the gate in the graph's metadata (:data:`FRAME_GATE_KEY`): the gate needs the whole frame's mean
    confidence, so :class:`~mmmofme.deploy.OnnxRestorer` stitches tiles and gates whole frames, as
    ``tiled_restore`` does for the PyTorch model.

    Args:
        restorer: the restorer, in eval mode.
        task_ids: give a task-gated restorer its ``task_id`` input; False exports what it computes
            without ids (the gates' mean), as before task-id graphs existed.

    Shapes:
        image: (B, 3, H, W) in [0, 1]; task_id: (B,) int64 → (B, 3, H, W), or (B, 4, H, W) with a frame
        gate.
    """

    def __init__(self, restorer: nn.Module, task_ids: bool = True) -> None:
        super().__init__()
        self.restorer = restorer
        self.num_tasks = task_gate_count(restorer) if task_ids else 1
        self.input_names = ['image', TASK_INPUT] if self.num_tasks > 1 else ['image']
        gate = getattr(restorer, 'frame_gate', None)
        self.frame_gated = gate is not None
        self.metadata = {} if gate is None else {FRAME_GATE_KEY: f'{gate[0]!r},{gate[1]!r}'}
        if self.num_tasks > 1:
            self.metadata[TASKS_KEY] = str(self.num_tasks)

    def forward(self, image: Tensor, task_id: Optional[Tensor] = None) -> Tensor:
        restore = self.restorer.tile_outputs if self.frame_gated else self.restorer
        return restore(image) if task_id is None else restore(image, task_id)


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


def graph_for(model: nn.Module, chain: bool, task_ids: bool = True) -> Tuple[nn.Module, bool]:
    """``(graph module, whether H and W can be dynamic)`` for a restorer or (``chain``) a chain model;
    ``task_ids``: as :class:`RestorerGraph` (a chain restores without ids, as its PyTorch forward does)."""
    if not chain:
        return RestorerGraph(model, task_ids).eval(), True
    if not hasattr(model, 'encode_decode') or not hasattr(model, 'restore_cfg'):
        raise ExportError(f'--chain needs a DeweatherSegmentor chain, got {type(model).__name__}')
    if model.restore_cfg.get('precision', 'fp32') != 'fp32':  # the graph would bake in bf16 casts
        raise ExportError(f"--chain exports the fp32 chain: remove restore_cfg precision="
                          f"{model.restore_cfg['precision']!r} from the config")
    return SegmentorChainGraph(model).eval(), model.restore_cfg['mode'] == 'whole'


def example_inputs(graph: nn.Module, image: Tensor) -> Tuple[Tensor, ...]:
    """The traced inputs of ``graph`` for an example ``image``: with a ``task_id`` input, one id per image
    (ids vary across the batch, so no single gate is taken as fixed)."""
    num_tasks = getattr(graph, 'num_tasks', 1)
    if num_tasks == 1:
        return (image, )
    return image, torch.arange(image.shape[0]) % num_tasks


def export_onnx(graph: nn.Module,
                example: Tensor,
                path: str,
                output_name: str,
                dynamic_hw: bool = True,
                opset: Optional[int] = None,
                optimize: bool = True) -> str:
    """Export ``graph`` (an image, and task ids when it takes them, in; one tensor out) to ``path``.

    Args:
        graph: e.g. :class:`RestorerGraph` / :class:`SegmentorChainGraph`, in eval mode.
        example: an example (B, 3, H, W) input (:func:`dynamic_example` for a dynamic graph); a task-id
            graph's example ids come from :func:`example_inputs`.
        path: the .onnx file; weights are stored inside it (external data only past protobuf's 2 GB).
        output_name: the graph output's name.
        dynamic_hw: keep batch, H and W symbolic; else the graph is fixed to the example's size.
        opset: ONNX opset, :data:`MIN_OPSET` .. :func:`max_opset` (None: the exporter's default).
        optimize: run onnxscript's graph optimizer (constant folding, dead-code removal); off only
            saves export time (tests), onnxruntime optimises the graph again when it loads it.

    Returns:
        ``path``.
    """
    check_opset(opset)
    graph.eval()  # the wrapper too (torch.onnx warns about a module left in training mode)
    folder = osp.dirname(osp.abspath(path))
    if not osp.isdir(folder):
        raise ExportError(f'{path}: output folder {folder} does not exist')
    # Dim.DYNAMIC, not ranges: the restorer's shape checks (grid >= 2, grid != the table's grid) would be
    # reported as range violations; the graph computes every case alike (tests cover the edge sizes).
    inputs = example_inputs(graph, example)
    dynamic = torch.export.Dim.DYNAMIC
    dims = ({0: dynamic, 2: dynamic, 3: dynamic}, {0: dynamic})[:len(inputs)]  # image, task ids
    weight_bytes = sum(p.numel() * p.element_size() for p in graph.parameters())
    with torch.no_grad(), warnings.catch_warnings():
        # torch.export notes the MoE layers' routing statistics (plain attributes set in forward)
        warnings.filterwarnings('ignore', message='.*were assigned during export.*')
        try:
            program = torch.onnx.export(graph, inputs, dynamo=True,
                                        dynamic_shapes=dims if dynamic_hw else None,
                                        input_names=getattr(graph, 'input_names', ['image'])[:len(inputs)],
                                        output_names=[output_name],
                                        opset_version=opset, optimize=optimize, verbose=False)
        except torch.onnx.OnnxExporterError as err:
            # the model refused the example (e.g. M³ViT with router.untagged='error' and no task ids):
            # its own one-line message, not the exporter's page of next steps
            if isinstance(err.__cause__, ValueError):
                raise ExportError(f'{path}: {err.__cause__}') from None
            raise
    if weight_bytes > 1.8e9:  # beyond protobuf's 2 GB: weights beside the graph, in PATH.data
        if getattr(graph, 'metadata', None):
            raise ExportError(f'{path}: a restorer with a frame gate or task ids over 1.8 GB of weights is '
                              f'not exported (its metadata would need the external-data writer)')
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
