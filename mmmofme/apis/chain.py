"""What the deweather -> perception chain wrappers share: restore, clamp, re-normalise, freeze, load.

``DeweatherSegmentor`` (mmseg) and ``DeweatherDetector`` (mmdet) differ only in their base class and
in which registry builds the perception model; everything else lives here, free of mmseg / mmdet
imports: resolving ``cfg_path='mmseg::...'`` configs, deriving the outer ``[0, 1]`` RGB data
preprocessor from the perception model's own one, weights-only checkpoint loading, the tiled restore
and the ``DeweatherChainMixin`` holding the restorer. ``tools/merge_checkpoints.py`` and
``tools/deweather.py`` use the same loaders.
"""
import copy
import importlib.util
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope, Registry
from torch import Tensor

from .checkpoint import CheckpointError, load_state_dict
from .inference import tiled_restore

__all__ = [
    'DeweatherChainMixin', 'PerceptionSpec', 'RESTORER_PREFIXES', 'read_state_dict', 'strip_prefix',
    'load_weights_into', 'parse_restore_cfg', 'restore_images'
]

#: Key prefixes under which a restorer is stored: mmagic ``BaseEditModel`` (``MoFMERestorer``)
#: checkpoints and chain checkpoints. A bare ``MoFMEViT`` state dict has none.
RESTORER_PREFIXES = ('generator.', 'restorer.')


def read_state_dict(path: str) -> Dict[str, Tensor]:
    """Weights of a checkpoint file, read weights-only (``mmmofme.apis.checkpoint``); a DDP ``module.``
    prefix is dropped."""
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in load_state_dict(path).items()}


def strip_prefix(state_dict: Dict[str, Tensor], prefixes: Sequence[str]) -> Dict[str, Tensor]:
    """Keep the keys under the first of ``prefixes`` that occurs, without it; no match: all keys."""
    for prefix in prefixes:
        selected = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if selected:
            return selected
    return dict(state_dict)


def load_weights_into(module: nn.Module, state_dict: Dict[str, Tensor], source: str, part: str) -> None:
    """Load ``state_dict`` into ``module`` strictly, failing with one line that names ``source``.

    Args:
        module: the model (part) to load into.
        state_dict: weights whose keys are relative to ``module``.
        source: file the weights came from (for the error message).
        part: what ``module`` is, e.g. ``'restorer'`` (for the error message).
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = [f'{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}' for k, v in expected.items()
                  if k in state_dict and state_dict[k].shape != v.shape]
    if missing or unexpected or mismatched:
        problems = [f'{len(items)} {what} (e.g. {items[:2]})'
                    for what, items in (('missing keys', missing), ('unexpected keys', unexpected),
                                        ('shape mismatches', mismatched)) if items]
        raise CheckpointError(f'{source}: checkpoint does not fit the {part} '
                              f'{type(module).__name__}: {"; ".join(problems)}')
    module.load_state_dict(state_dict, strict=True)
    # Keep Runner.train()'s init_weights() from re-initialising the loaded weights (mmengine BaseModule
    # skips children whose `is_init` is set; for a plain nn.Module this is just an attribute).
    module.is_init = True


def parse_restore_cfg(restore_cfg: Optional[dict]) -> dict:
    """Validate ``restore_cfg`` and fill defaults.

    Args:
        restore_cfg: ``dict(mode='whole')`` (default) or ``dict(mode='slide', crop_size=(h, w),
            stride=(h, w), max_batch=8)``; ``stride`` defaults to ``crop_size`` (no overlap, as the
            paper tests), ``max_batch`` (tiles per restorer call) bounds peak memory.

    Returns:
        A new dict with every key set.
    """
    cfg = dict(restore_cfg or dict(mode='whole'))
    mode = cfg.setdefault('mode', 'whole')
    if mode == 'whole':
        unknown = set(cfg) - {'mode'}
    elif mode == 'slide':
        if 'crop_size' not in cfg:
            raise ValueError("restore_cfg mode='slide' needs crop_size=(h, w)")
        cfg.setdefault('stride', cfg['crop_size'])
        cfg.setdefault('max_batch', 8)
        unknown = set(cfg) - {'mode', 'crop_size', 'stride', 'max_batch'}
    else:
        raise ValueError(f"restore_cfg mode must be 'whole' or 'slide', got {mode!r}")
    if unknown:
        raise ValueError(f'restore_cfg has unknown keys {sorted(unknown)} for mode {mode!r}')
    return cfg


def restore_images(restore_fn: Callable[[Tensor], Tensor], images: Tensor, restore_cfg: dict) -> Tensor:
    """Run ``restore_fn`` on the whole ``(B, C, H, W)`` batch or tile by tile, as ``restore_cfg`` says."""
    if restore_cfg['mode'] == 'whole':
        return restore_fn(images)
    return tiled_restore(restore_fn, images, restore_cfg['crop_size'], restore_cfg['stride'],
                         max_batch=restore_cfg['max_batch'])


def build_in_scope(registry: Registry, cfg: dict, scope: Optional[str]) -> nn.Module:
    """Build ``cfg`` from ``registry`` with ``scope`` as default scope, so nested builds (backbone, heads)
    resolve in the perception library even when the config's own default scope is another one."""
    with DefaultScope.overwrite_default_scope(scope):
        return registry.build(cfg)


@dataclass
class PerceptionSpec:
    """The perception model to chain: its config, the scope it builds in, a checkpoint from ``pretrained``.

    Attributes:
        model_cfg: the model config, unchanged except for ``cfg_path`` resolution and overrides.
        library: ``'mmseg'`` or ``'mmdet'``, the wrapper's library.
        scope: default scope to build it in (``'mmseg'`` / ``'mmdet'`` or the config's ``_scope_``).
        zoo_checkpoint: model-zoo URL when ``cfg_path`` came with ``pretrained=True``.
    """
    model_cfg: ConfigDict
    library: str
    scope: str
    zoo_checkpoint: Optional[str] = None

    @classmethod
    def resolve(cls, cfg: dict, library: str) -> 'PerceptionSpec':
        """Accept a model config, or ``dict(cfg_path='mmseg::...py', pretrained=False, **overrides)``.

        A ``cfg_path`` is read offline from the configs shipped inside the installed package
        (``mmengine.hub.get_config``); its ``model`` field is used (with the top-level
        ``data_preprocessor`` when the model has none, as ``mmengine.hub.get_model`` does) and any other
        keys are merged into it, e.g. ``backbone=dict(init_cfg=None)``.

        Args:
            cfg: the ``segmentor=`` / ``detector=`` argument.
            library: ``'mmseg'`` or ``'mmdet'``, the default scope.
        """
        if not isinstance(cfg, dict):
            raise TypeError(f'expected a model config dict, got {type(cfg).__name__}')
        cfg = ConfigDict(copy.deepcopy(cfg))
        if 'cfg_path' not in cfg:
            return cls(cfg, library, cfg.get('_scope_', library))
        from mmengine.hub import get_config  # deferred: pulls in pkg_resources

        cfg_path = cfg.pop('cfg_path')
        pretrained = bool(cfg.pop('pretrained', False))
        scope = cfg_path.split('::')[0] if '::' in cfg_path else library
        if importlib.util.find_spec(scope) is None:  # get_config would pip-install it
            raise ValueError(f'cfg_path {cfg_path!r}: package {scope!r} is not installed')
        with DefaultScope.overwrite_default_scope(scope):
            full_cfg = get_config(cfg_path, pretrained=pretrained)
        model_cfg = full_cfg.model
        if 'data_preprocessor' not in model_cfg and 'data_preprocessor' in full_cfg:
            model_cfg.data_preprocessor = full_cfg.data_preprocessor
        merged = Config(dict(model=model_cfg))
        merged.merge_from_dict(dict(model=cfg.to_dict()))
        return cls(merged.model, library, scope, full_cfg.get('model_path') if pretrained else None)

    @property
    def preprocessor_cfg(self) -> dict:
        """The perception model's own data preprocessor config (``{}`` when it has none)."""
        return dict(self.model_cfg.get('data_preprocessor') or {})

    def normalisation(self) -> Tuple[List[float], List[float], bool]:
        """``(mean, std, wants_bgr)`` the perception model expects on its input.

        mean / std are in the perception model's channel order; ``wants_bgr`` follows the mm convention
        that pipelines load BGR: a model without ``bgr_to_rgb`` sees BGR. No mean: raw ``0..255``.
        """
        pp = self.preprocessor_cfg
        mean, std = pp.get('mean'), pp.get('std')
        if mean is None:
            mean, std = [0.0] * 3, [1.0] * 3
        mean, std = [float(v) for v in mean], [float(v) for v in std]
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f'the restorer gives 3-channel images, but the perception model normalises '
                             f'with mean={mean}, std={std}')
        return mean, std, not pp.get('bgr_to_rgb', False)

    def outer_preprocessor(self, data_preprocessor: Union[dict, nn.Module, None], default_type: str,
                           pad_value_key: str) -> Union[dict, nn.Module]:
        """The wrapper's data preprocessor config, to be built in the perception library's scope.

        ``None`` derives it from the perception model's own: the same, but giving ``[0, 1]`` RGB padded
        with 0. It keeps everything else (pad ``size`` / ``size_divisor``, ``seg_pad_val``,
        ``batch_augments``, ``test_cfg``), since the perception model's preprocessor no longer runs.
        One that normalises exactly as the perception model's own is treated as ``None``: mmengine's
        Runner passes a config's top-level ``data_preprocessor`` (which mmseg configs define, often
        without the model's own pad ``size``) to any model that sets none.
        """
        if isinstance(data_preprocessor, nn.Module):
            return data_preprocessor
        keys = ('mean', 'std', 'bgr_to_rgb', 'rgb_to_bgr')
        normalisation = lambda cfg: tuple(dict(cfg).get(k) for k in keys)
        if data_preprocessor is not None and normalisation(data_preprocessor) == normalisation(
                self.preprocessor_cfg):
            print_log(f'the given data_preprocessor is the {self.library} model\'s own: using its [0, 1] RGB '
                      'variant as the chain\'s', logger='current')
            data_preprocessor = None
        if data_preprocessor is not None:
            pp = dict(data_preprocessor)
        else:
            pp = self.preprocessor_cfg
            pp.setdefault('type', default_type)
            # Pipelines load BGR unless the model converts RGB->BGR, which means they load RGB.
            pp.update(mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0],
                      bgr_to_rgb=not pp.get('rgb_to_bgr', False), rgb_to_bgr=False)
            pp[pad_value_key] = 0
        # BaseModel builds it from mmengine's root registry, which knows no Seg/Det preprocessor by itself.
        pp.setdefault('_scope_', self.library)
        return pp

    def build(self, registry: Registry) -> nn.Module:
        return build_in_scope(registry, self.model_cfg, self.scope)


class DeweatherChainMixin:
    """Restorer stage of a chain wrapper; mixed in before mmseg's ``BaseSegmentor`` / mmdet's
    ``BaseDetector``.

    The wrapper's outer data preprocessor gives ``[0, 1]`` RGB. :meth:`perception_inputs` restores
    (tiled if ``restore_cfg`` says so), clamps to ``[0, 1]`` and re-applies the perception model's own
    channel order and mean / std, so the perception model sees what its own preprocessor would give.

    Subclasses set ``perception_name`` (the attribute holding the perception model, which is also its
    checkpoint prefix) and call :meth:`_init_deweather_stage` after ``super().__init__``.
    """

    perception_name: str = ''

    @property
    def perception(self) -> nn.Module:
        """The wrapped segmentor / detector."""
        return getattr(self, self.perception_name)

    def _init_deweather_stage(self,
                              restorer: dict,
                              perception: PerceptionSpec,
                              restorer_checkpoint: Optional[str],
                              perception_checkpoint: Optional[str],
                              freeze_restorer: bool,
                              restore_cfg: Optional[dict],
                              restoration_loss_weight: float,
                              aux_loss_weights: Optional[Dict[str, float]]) -> None:
        """Build the restorer and load both checkpoints (``tools/test.py`` applies no ``init_cfg``)."""
        self._check_unit_range_preprocessor()
        if freeze_restorer and restoration_loss_weight > 0:
            raise ValueError('restoration_loss_weight > 0 trains the restorer: set freeze_restorer=False')
        self.restorer = ROOT_MODELS.build(restorer)
        self.freeze_restorer = freeze_restorer
        self.restore_cfg = parse_restore_cfg(restore_cfg)
        self.restoration_loss_weight = float(restoration_loss_weight)
        self.aux_loss_weights = dict(aux_loss_weights if aux_loss_weights is not None else
                                     dict(loss_lb=1e-2, loss_uc=5e-3))
        mean, std, wants_bgr = perception.normalisation()
        # Non-persistent: they come from the config, so chain checkpoints stay restorer.* + perception.*.
        self.register_buffer('perception_mean', torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('perception_std', torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.perception_wants_bgr = wants_bgr

        if restorer_checkpoint:
            load_weights_into(self.restorer, strip_prefix(read_state_dict(restorer_checkpoint),
                                                          RESTORER_PREFIXES), restorer_checkpoint, 'restorer')
        perception_checkpoint = perception_checkpoint or perception.zoo_checkpoint
        if perception_checkpoint:
            load_weights_into(self.perception,
                              strip_prefix(self._read_perception_checkpoint(perception_checkpoint),
                                           [self.perception_name + '.']),
                              perception_checkpoint, self.perception_name)
        if freeze_restorer:
            self.restorer.requires_grad_(False)
            self.restorer.eval()

    @staticmethod
    def _read_perception_checkpoint(path: str) -> Dict[str, Tensor]:
        if not path.startswith(('http://', 'https://')):
            return read_state_dict(path)
        from mmengine.runner.checkpoint import CheckpointLoader  # model-zoo URL (cfg_path, pretrained=True)
        try:
            checkpoint = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        except Exception as err:
            raise CheckpointError(f'{path}: checkpoint cannot be fetched ({type(err).__name__}: {err})') \
                from None
        return checkpoint.get('state_dict', checkpoint)

    def _check_unit_range_preprocessor(self) -> None:
        """The restorer needs ``[0, 1]`` input: refuse an outer preprocessor normalising otherwise."""
        pp = self.data_preprocessor
        ok = (getattr(pp, '_enable_normalize', False) and torch.allclose(pp.mean.float(), torch.zeros(1))
              and torch.allclose(pp.std.float(), torch.full((1, ), 255.)))
        if not ok:
            mean, std = getattr(pp, 'mean', None), getattr(pp, 'std', None)
            raise ValueError(f'{type(self).__name__}: data_preprocessor must give [0, 1] images '
                             f'(mean=[0, 0, 0], std=[255, 255, 255]); got {type(pp).__name__} with '
                             f'mean={None if mean is None else mean.flatten().tolist()}, '
                             f'std={None if std is None else std.flatten().tolist()}. Leave it unset to '
                             f'derive it from the {self.perception_name} data_preprocessor.')

    def train(self, mode: bool = True):
        """Switch train / eval mode; a frozen restorer stays in eval (dropout off, MC-dropout router off)."""
        super().train(mode)
        if self.freeze_restorer:
            self.restorer.eval()
        return self

    def restore(self, inputs: Tensor) -> Tensor:
        """Restore ``[0, 1]`` RGB images ``(B, 3, H, W)``; returns ``[0, 1]`` RGB of the same size."""
        grad = torch.no_grad() if self.freeze_restorer else nullcontext()
        with grad:
            restored = restore_images(self.restorer, inputs, self.restore_cfg)
        return restored.clamp(0, 1)

    def to_perception_space(self, restored: Tensor) -> Tensor:
        """``[0, 1]`` RGB -> the perception model's channel order and ``(x * 255 - mean) / std``."""
        if self.perception_wants_bgr:
            restored = restored.flip(1)
        return (restored * 255 - self.perception_mean) / self.perception_std

    def perception_inputs(self, inputs: Tensor) -> Tensor:
        """Restore, clamp and re-normalise: what the perception model's ``loss`` / ``predict`` get."""
        return self.to_perception_space(self.restore(inputs))

    def restore_for_loss(self, inputs: Tensor, data_samples: Sequence) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Restore for training; with a trainable restorer, also its losses.

        Returns:
            ``(perception inputs, losses)``: ``restorer.loss_lb`` / ``restorer.loss_uc`` (MoE aux losses,
            weighted by ``aux_loss_weights``, when the restorer has ``forward_with_aux``) and
            ``restorer.loss_pix`` (MSE to the clean ``data_sample.gt_img``, when
            ``restoration_loss_weight > 0``). A frozen restorer gives no losses.
        """
        if self.freeze_restorer:
            return self.perception_inputs(inputs), {}
        aux_sums: Dict[str, Tensor] = {}
        calls = [0]

        def restore_with_aux(tiles: Tensor) -> Tensor:
            if not hasattr(self.restorer, 'forward_with_aux'):
                return self.restorer(tiles)
            out, aux = self.restorer.forward_with_aux(tiles)
            for name, value in aux.items():
                aux_sums[name] = aux_sums.get(name, 0) + value
            calls[0] += 1
            return out

        restored = restore_images(restore_with_aux, inputs, self.restore_cfg).clamp(0, 1)
        losses = {f'restorer.{name}': self.aux_loss_weights.get(name, 1.0) * total / calls[0]
                  for name, total in aux_sums.items()}
        if self.restoration_loss_weight > 0:
            pixel_loss = self._pixel_loss(restored, data_samples)
            losses['restorer.loss_pix'] = self.restoration_loss_weight * pixel_loss
        return self.to_perception_space(restored), losses

    def _pixel_loss(self, restored: Tensor, data_samples: Sequence) -> Tensor:
        """MSE between restored images and the clean ``gt_img`` of the samples that carry one.

        ``gt_img``: ``(3, h, w)`` tensor (or ``PixelData``) in the raw input's scale and channel order
        (as loaded, e.g. BGR 0..255), aligned with the input image before padding; it goes through the
        outer preprocessor's channel conversion and mean / std, as the input does.
        """
        pp = self.data_preprocessor
        convert = getattr(pp, '_channel_conversion', getattr(pp, 'channel_conversion', False))
        errors = []
        for i, sample in enumerate(data_samples):
            clean = getattr(sample, 'gt_img', None)
            if clean is None:
                continue
            clean = getattr(clean, 'data', clean).to(restored)
            if convert:
                clean = clean.flip(0)
            clean = (clean - pp.mean.view(3, 1, 1)) / pp.std.view(3, 1, 1)
            h, w = clean.shape[-2:]
            if h > restored.shape[-2] or w > restored.shape[-1]:
                raise ValueError(f'gt_img of sample {i} is {h}x{w}, larger than the input '
                                 f'{tuple(restored.shape[-2:])}')
            errors.append(F.mse_loss(restored[i, :, :h, :w], clean))
        if not errors:
            raise ValueError('restoration_loss_weight > 0 needs clean images: none of the batch data '
                             'samples has gt_img (the pipeline must pack the clean image as gt_img)')
        return torch.stack(errors).mean()

