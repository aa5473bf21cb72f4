"""The perception model a chain wraps: config resolution (``cfg_path='mmseg::...'``), the scope it builds
in, its normalisation and the chain's outer ``[0, 1]`` RGB data preprocessor derived from its own."""
import copy
import importlib.util
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.registry import DefaultScope, Registry


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
