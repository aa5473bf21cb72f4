"""User entry points, as mmseg's ``init_model`` / ``inference_model``: a restorer from any project config
(restorer or chain config) and restoring one image with it, tiled as the config says."""
import inspect
import os.path as osp
from pathlib import Path
from typing import Callable, Optional, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope
from torch import nn

from ..models.chain import parse_restore_cfg, restore_images
from ..utils.checkpoint import RESTORER_PREFIXES, load_weights_into, read_checkpoint
from ..utils.dataset_config import leaf_datasets
from .inference import TaskRestorer

ConfigType = Union[str, Path, Config]
IntPair = Tuple[int, int]


def as_pair(value) -> Optional[IntPair]:
    """``None``, ``n``, ``[n]`` or ``[h, w]`` → ``None`` or ``(h, w)``."""
    if value is None:
        return None
    values = [int(value)] if isinstance(value, (int, float)) else [int(v) for v in value]
    if len(values) not in (1, 2):
        raise ValueError(f'expected H or H W, got {value}')
    return (values[0], values[-1])


def restorer_and_tiling(cfg: Config) -> Tuple[dict, Optional[dict]]:
    """The restorer config of a restorer or chain config, and the config's own test tiling (or None)."""
    model = cfg.get('model')
    if model is None:
        raise ValueError(f'{cfg.filename}: config has no model')
    if 'restorer' in model:  # chain config (DeweatherSegmentor / DeweatherDetector)
        tiling = model.get('restore_cfg')
        return model.restorer, tiling if tiling and tiling.get('mode') == 'slide' else None
    if 'generator' in model:  # mmagic restorer config (MoFMERestorer)
        test_cfg = model.get('test_cfg') or {}
        if not test_cfg.get('crop_size'):
            return model.generator, None
        return model.generator, dict(mode='slide', crop_size=test_cfg['crop_size'],
                                     stride=test_cfg.get('stride'))
    raise ValueError(f'{cfg.filename}: model has neither `restorer` (chain config) nor `generator` '
                     f'(restorer config)')


def task_weathers(cfg: Config) -> Tuple[str, ...]:
    """The weather of each task id, in task-id order, as the config's training dataset sets them (a
    :class:`~mmmofme.mmagic.WeatherPairedDataset`, possibly inside dataset wrappers; of a ConcatDataset,
    the first part: the dataset's own rule, :func:`~mmmofme.datasets.layouts.task_weather_order`); () for
    any other dataset (e.g. a chain config's segmentation dataset, whose weathers say nothing about the
    restorer's task ids)."""
    from ..datasets.layouts import task_weather_order  # deferred: a heavy package
    from ..mmagic.datasets import WeatherPairedDataset
    dataset = leaf_datasets((cfg.get('train_dataloader') or {}).get('dataset') or {})[0]
    kind = dataset.get('type')
    if kind is not WeatherPairedDataset and str(kind).split('.')[-1] != 'WeatherPairedDataset':
        return ()  # e.g. 'mmmofme.WeatherPairedDataset' names it too
    defaults = inspect.signature(WeatherPairedDataset).parameters
    return task_weather_order(dataset.get('layout', defaults['layout'].default), dataset.get('weathers'),
                              dataset.get('task_weathers'))


def resolve_tiling(restorer_cfg: dict, config_tiling: Optional[dict],
                   overrides: Optional[dict] = None) -> dict:
    """Tiles from ``overrides`` (``crop_size`` / ``stride`` / ``max_batch``; a None value counts as not
    given, as an unset command-line flag), else the config's test tiling, else the restorer's
    ``img_size`` (else 256); a full ``restore_cfg`` dict for :func:`~mmmofme.models.chain.restore_images`."""
    config_tiling = config_tiling or {}
    overrides = {key: value for key, value in (overrides or {}).items() if value is not None}
    if overrides.get('mode') == 'whole':
        return parse_restore_cfg(dict(mode='whole'))
    crop = as_pair(overrides.get('crop_size') or config_tiling.get('crop_size') or
                   restorer_cfg.get('img_size', 256))
    stride = as_pair(overrides.get('stride') or
                     (None if overrides.get('crop_size') else config_tiling.get('stride'))) or crop
    max_batch = overrides.get('max_batch', config_tiling.get('max_batch', 8))
    return parse_restore_cfg(dict(mode='slide', crop_size=crop, stride=stride, max_batch=max_batch))


def init_restorer(config: ConfigType,
                  checkpoint: Optional[str] = None,
                  device: str = 'cpu',
                  restore_cfg: Optional[dict] = None,
                  fast_cpu: bool = False,
                  precision: str = 'fp32') -> nn.Module:
    """Build the restorer of a restorer (``model.generator``) or chain (``model.restorer``) config.

    Args:
        config: config file or :class:`~mmengine.config.Config`; its ``custom_imports`` apply and the
            restorer is built in its ``default_scope`` (e.g. mmagic's ``Restormer``).
        checkpoint: restorer weights, read weights-only: an mmagic checkpoint (``generator.*``), a chain
            checkpoint (``restorer.*``) or a bare state dict; None keeps the initial weights.
        device: where the model goes.
        restore_cfg: overrides of the config's tiling (``crop_size``, ``stride``, ``max_batch``, or
            ``mode='whole'``); see :func:`resolve_tiling`.
        fast_cpu: return the inference-only copy on the fast CPU path
            (:func:`mmmofme.deploy.fast_cpu_model`: oneDNN-packed convs and linears; same outputs to
            1e-5); ignored off the CPU.
        precision: ``'fp32'``, or ``'bf16'``: convolutions and matrix products under bf16 autocast
            (:class:`mmmofme.deploy.AutocastRestorer`; about 60 dB PSNR from fp32's output).

    Returns:
        The restorer in eval mode, with ``restore_cfg`` (the tiling :func:`restore` uses) and ``cfg`` set.
    """
    from ..deploy.autocast import check_precision, with_precision  # deferred, as fast_cpu_model
    check_precision(precision)  # before the model is built
    if fast_cpu and precision != 'fp32':  # the packed oneDNN ops are float32 only
        raise ValueError(f'fast_cpu=True runs in fp32 only; got precision {precision!r}')
    cfg = config if isinstance(config, Config) else Config.fromfile(str(config))
    restorer_cfg, config_tiling = restorer_and_tiling(cfg)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(restorer_cfg)
    if checkpoint:
        load_weights_into(model, read_checkpoint(checkpoint, RESTORER_PREFIXES), checkpoint, 'restorer')
    model.restore_cfg = resolve_tiling(restorer_cfg, config_tiling, restore_cfg)
    model.cfg = cfg
    model = model.to(device).eval()
    if fast_cpu and torch.device(device).type == 'cpu':
        from ..deploy.fast_cpu import fast_cpu_model  # deferred: mmmofme.deploy imports this package
        model = fast_cpu_model(model)
    return with_precision(model, precision)


@torch.no_grad()
def restore(model: Union[nn.Module, Callable], image_or_path: Union[np.ndarray, str, Path],
            task_id: Optional[int] = None) -> np.ndarray:
    """Restore one image with a model from :func:`init_restorer`, tiled as its ``restore_cfg`` says.

    Args:
        model: the restorer (a module, or a callable on (n, 3, h, w) tiles with a ``restore_cfg``
            attribute, such as :class:`mmmofme.deploy.OnnxRestorer`).
        image_or_path: an (H, W, 3) uint8 image in BGR order (as OpenCV / mmcv load it), or its file.
        task_id: the image's weather task, for a task-gated restorer (MMoE, M³ViT; see
            :func:`task_weathers`); None restores as the restorer does without ids (MMoE: its gates' mean).

    Returns:
        The restored (H, W, 3) uint8 image, BGR.
    """
    if isinstance(image_or_path, (str, Path)):
        image = cv2.imread(str(image_or_path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f'{image_or_path}: not a readable image' if osp.isfile(image_or_path) else
                             f'{image_or_path}: no such image file')
    else:
        image = image_or_path
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'expected an (H, W, 3) uint8 image, got {image.dtype} {image.shape}')
    # a module, or any callable restorer (e.g. mmmofme.deploy.OnnxRestorer, which has no parameters)
    param = next(model.parameters(), None) if isinstance(model, nn.Module) else None
    device = param.device if param is not None else torch.device('cpu')
    rgb = torch.from_numpy(np.ascontiguousarray(image[..., ::-1])).to(device)
    x = rgb.permute(2, 0, 1)[None].float() / 255
    restore_cfg = getattr(model, 'restore_cfg', None) or parse_restore_cfg(None)
    restore_fn = model if task_id is None else TaskRestorer(model, torch.tensor([task_id], device=device))
    y = restore_images(restore_fn, x, restore_cfg).clamp(0, 1)
    out = (y[0].permute(1, 2, 0) * 255).round().byte().cpu().numpy()
    return np.ascontiguousarray(out[..., ::-1])
