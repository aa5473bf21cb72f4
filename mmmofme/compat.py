"""The one place that reaches private torch / mmengine APIs, each behind a check and a public fallback.

* oneDNN prepacked linears (``torch.ops.mkldnn._reorder_linear_weight`` / ``_linear_pointwise``): the
  CPU fast path of the MoE experts. Without them :func:`onednn_linear_available` is False and the experts
  run plain ``F.linear`` (same results).
* oneDNN prepacked convolutions (``torch.ops.mkldnn._reorder_convolution_weight`` /
  ``torch.ops.mkldnn._convolution_pointwise``, what inductor's CPU freezing emits): the fast CPU
  inference path (:mod:`mmmofme.deploy.fast_cpu`); without them it keeps ``nn.Conv2d`` (same results).
* a tensor's in-place version counter (``Tensor._version``): tells the packed copies when a weight
  changed. Without it :func:`tensor_version` gives None, which never matches, so weights are re-packed
  on every call (correct, slower).
* the channel conversion flag of mmengine's ``ImgDataPreprocessor`` (``_channel_conversion``; mmseg's
  ``SegDataPreProcessor`` has a public ``channel_conversion``).

``MMMOFME_PUBLIC_ONLY=1`` (read at import) disables every private path, to test the fallbacks.
"""
import os
from typing import Any, Callable, Optional, Tuple

import torch
from torch import Tensor

PUBLIC_ONLY = os.environ.get('MMMOFME_PUBLIC_ONLY', '') == '1'


def _torch_at_least(major: int, minor: int) -> bool:
    parts = torch.__version__.split('+')[0].split('.')
    return (int(parts[0]), int(parts[1])) >= (major, minor)


def _find_onednn_ops(pack: str, run: str) -> Optional[Tuple[Callable, Callable]]:
    # The prepacked (pack, run) pairs exist in torch >= 2.1 builds with oneDNN; the ops' schemas used below
    # are those of torch 2.1 .. 2.14.
    if PUBLIC_ONLY or not _torch_at_least(2, 1):
        return None
    try:
        if not torch.backends.mkldnn.is_available():
            return None
        ops = torch.ops.mkldnn
        return getattr(ops, pack), getattr(ops, run)
    except (AttributeError, RuntimeError):
        return None


_ONEDNN = _find_onednn_ops('_reorder_linear_weight', '_linear_pointwise')
# what inductor's CPU freezing emits for convolutions
_ONEDNN_CONV = _find_onednn_ops('_reorder_convolution_weight', '_convolution_pointwise')


def onednn_linear_available() -> bool:
    """Whether the prepacked oneDNN linear can be used now (built in, and oneDNN not switched off)."""
    return _ONEDNN is not None and torch.backends.mkldnn.enabled


def onednn_pack_weight(weight: Tensor, tokens_hint: int) -> Tensor:
    """Pack an (out, in) float32 CPU weight once for oneDNN, laid out for ~``tokens_hint`` rows a call."""
    if _ONEDNN is None:
        raise RuntimeError('the oneDNN prepacked linear is not available in this torch build')
    return _ONEDNN[0](weight.contiguous(), tokens_hint)


def onednn_linear(x: Tensor, packed_weight: Tensor, bias: Tensor, gelu: bool = False) -> Tensor:
    """``x @ W.T + b`` (then exact GELU, fused) with a weight from :func:`onednn_pack_weight`.

    Shapes:
        x: (n, in) → (n, out).
    """
    if _ONEDNN is None:
        raise RuntimeError('the oneDNN prepacked linear is not available in this torch build')
    return _ONEDNN[1](x.contiguous(), packed_weight, bias, 'gelu' if gelu else 'none', [],
                      'none' if gelu else '')


def onednn_conv_available() -> bool:
    """Whether the prepacked oneDNN 2-D convolution can be used now."""
    return _ONEDNN_CONV is not None and torch.backends.mkldnn.enabled


def onednn_pack_conv_weight(weight: Tensor, padding, stride, dilation, groups: int) -> Tensor:
    """Reorder an (out, in/groups, kh, kw) float32 CPU weight once into oneDNN's blocked layout."""
    if _ONEDNN_CONV is None:
        raise RuntimeError('the oneDNN prepacked convolution is not available in this torch build')
    return _ONEDNN_CONV[0](weight.contiguous(), list(padding), list(stride), list(dilation), groups)


def onednn_conv(x: Tensor, packed_weight: Tensor, bias: Optional[Tensor], padding, stride, dilation,
                groups: int, relu: bool = False) -> Tensor:
    """2-D convolution (then ReLU, fused) of a channels-last ``x`` with a weight from
    :func:`onednn_pack_conv_weight`; the result is channels-last."""
    if _ONEDNN_CONV is None:
        raise RuntimeError('the oneDNN prepacked convolution is not available in this torch build')
    return _ONEDNN_CONV[1](x.contiguous(memory_format=torch.channels_last), packed_weight, bias,
                           list(padding), list(stride), list(dilation), groups, 'relu' if relu else 'none',
                           [], '')


def tensor_version(tensor: Tensor) -> Optional[int]:
    """The tensor's in-place modification counter, or None where it cannot be read."""
    if PUBLIC_ONLY:
        return None
    return getattr(tensor, '_version', None)


def preprocessor_converts_channels(preprocessor: Any) -> bool:
    """Whether an mmengine-style image data preprocessor swaps RGB / BGR.

    mmseg's ``SegDataPreProcessor`` exposes ``channel_conversion``; mmengine's ``ImgDataPreprocessor``
    (and mmdet's, which derives from it) keeps it in ``_channel_conversion`` (mmengine 0.x).
    """
    if hasattr(preprocessor, 'channel_conversion'):
        return bool(preprocessor.channel_conversion)
    if not PUBLIC_ONLY and hasattr(preprocessor, '_channel_conversion'):
        return bool(preprocessor._channel_conversion)
    raise AttributeError(f'{type(preprocessor).__name__}: cannot tell whether it converts RGB/BGR '
                         '(no channel_conversion attribute)')


def preprocessor_normalizes(preprocessor: Any) -> bool:
    """Whether an mmengine image data preprocessor normalises (it then holds ``mean`` / ``std`` buffers)."""
    if not hasattr(preprocessor, 'named_buffers'):
        return False
    buffers = dict(preprocessor.named_buffers(recurse=False))
    return 'mean' in buffers and 'std' in buffers
