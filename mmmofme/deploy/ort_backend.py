"""An exported restorer run by onnxruntime, as a callable the tiling and ``restore`` accept.

``OnnxRestorer(path)(tiles)`` maps (n, 3, h, w) float tensors in [0, 1] to restored tiles, like the
PyTorch restorer, so ``tiled_restore`` / ``mmmofme.apis.restore`` / ``tools/deweather.py`` use either.
A task-id graph is called as the PyTorch restorer is, ``OnnxRestorer(path)(tiles, task_ids)``; tiling
callers bind the ids with :class:`mmmofme.apis.TaskRestorer`, which repeats them over the tiles.
"""
import os.path as osp
from typing import Dict, Optional

import numpy as np
import torch
from torch import Tensor


class OnnxRestorer:
    """A restorer graph from ``tools/deployment/pytorch2onnx.py`` in an onnxruntime CPU session.

    Args:
        path: the .onnx file (input ``image`` (B, 3, H, W), and ``task_id`` (B,) for a task-gated
            restorer; one output).
        threads: onnxruntime intra-op threads (None: its default, all cores).
        restore_cfg: the tiling :func:`mmmofme.apis.restore` uses (as ``init_restorer`` sets it).

    Attributes:
        num_tasks: task ids the graph takes (its ``task_id`` input), 1 for a graph without task ids.

    Raises:
        ValueError: one line naming the file: missing, or not a graph onnxruntime can load; when called,
            a task-id graph given no ids, a wrong count or ids out of [0, num_tasks).
    """

    def __init__(self, path: str, threads: Optional[int] = None, restore_cfg: Optional[dict] = None) -> None:
        import onnxruntime as ort
        if not osp.isfile(path):
            raise ValueError(f'{path}: no such ONNX model file')
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only
        try:
            self.session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
        except Exception as err:  # onnxruntime raises its own Fail / InvalidProtobuf / ... classes
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(f'{path}: not a loadable ONNX model ({first})') from None
        from .onnx_export import FRAME_GATE_KEY, TASK_INPUT, TASKS_KEY
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.num_tasks = int(metadata.get(TASKS_KEY, 1))
        inputs = self.session.get_inputs()
        extra = [TASK_INPUT] if self.num_tasks > 1 else []  # a task-id graph's second input
        if not inputs or len(inputs[0].shape) != 4 or [i.name for i in inputs[1:]] != extra:
            wanted = ' + '.join(['(B, 3, H, W)'] + [f'{name!r} (B,)' for name in extra])
            raise ValueError(f'{path}: expected inputs {wanted}, got {[(i.name, i.shape) for i in inputs]}')
        self.path = path
        self.input_name = inputs[0].name
        self.restore_cfg = restore_cfg
        gate = metadata.get(FRAME_GATE_KEY)
        self.frame_gate = None if gate is None else tuple(float(v) for v in gate.split(','))

    @property
    def gates_frames(self) -> bool:
        """True for a graph with a frame gate: ``tiled_restore`` stitches :meth:`tile_outputs` and calls
        :meth:`gate_frames`, as for the PyTorch model."""
        return self.frame_gate is not None

    def task_feed(self, task_ids: Optional[Tensor], batch: int) -> Dict[str, np.ndarray]:
        """The ``task_id`` feed for ``batch`` images; empty for a graph without task ids, which ignores
        ``task_ids`` as a single-task PyTorch restorer does."""
        if self.num_tasks == 1:
            return {}
        from ..models.moe import check_task_ids
        from .onnx_export import TASK_INPUT
        if task_ids is None:
            raise ValueError(f'{self.path}: the graph takes task ids (num_tasks={self.num_tasks}): pass '
                             f'task_ids, one per image (export with --no-task-ids for a graph without)')
        try:  # onnxruntime would index a gate out of range, or fail on the count, with a long message
            ids = check_task_ids(torch.as_tensor(task_ids).cpu(), batch, self.num_tasks)
        except ValueError as err:
            raise ValueError(f'{self.path}: {err}') from None
        return {TASK_INPUT: ids.numpy()}

    def tile_outputs(self, images: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        """(n, 3, h, w) float (+ (n,) task ids) → the graph's raw output (n, C, h, w) as float32 on the
        input's device."""
        feed = {self.input_name: np.ascontiguousarray(images.detach().float().cpu().numpy()),
                **self.task_feed(task_ids, images.shape[0])}
        out = self.session.run(None, feed)[0]
        return torch.from_numpy(out).to(images.device)

    def gate_frames(self, images: Tensor, stitched: Tensor) -> Tensor:
        """Blend stitched (B, 4, H, W) graph outputs with the frames by the frame gate (MoFMEViT's rule)."""
        from ..models.layers import gate_stitched_frames
        return gate_stitched_frames(images, stitched, self.frame_gate)

    def __call__(self, images: Tensor, task_ids: Optional[Tensor] = None) -> Tensor:
        """(n, 3, h, w) float (+ (n,) task ids) → restored (n, 3, h, w) float32 on the input's device
        (whole images)."""
        out = self.tile_outputs(images, task_ids)
        return self.gate_frames(images, out) if self.gates_frames else out

    def __repr__(self) -> str:
        return f'OnnxRestorer({self.path!r})'


def init_onnx_restorer(config, model_path: str, restore_cfg: Optional[dict] = None,
                       threads: Optional[int] = None) -> OnnxRestorer:
    """An :class:`OnnxRestorer` tiled as ``config`` says (as :func:`mmmofme.apis.init_restorer` tiles).

    Args:
        config: the restorer or chain config the graph was exported from (its tiling is used).
        model_path: the .onnx restorer graph.
        restore_cfg: tiling overrides (``crop_size`` / ``stride`` / ``max_batch`` / ``mode='whole'``).
        threads: onnxruntime intra-op threads.
    """
    from mmengine.config import Config

    from ..apis.restorer import resolve_tiling, restorer_and_tiling
    cfg = config if isinstance(config, Config) else Config.fromfile(str(config))
    restorer_cfg, config_tiling = restorer_and_tiling(cfg)
    return OnnxRestorer(model_path, threads, resolve_tiling(restorer_cfg, config_tiling, restore_cfg))
