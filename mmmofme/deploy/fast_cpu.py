"""The fast CPU inference path: every convolution and linear on weights packed once for oneDNN.

Eager PyTorch re-lays-out weights (and NCHW activations) on every call: MKL re-packs a linear's weight
for each product, and oneDNN reorders NCHW inputs and the weight into its blocked layout for each
convolution. :func:`fast_cpu_model` does once what inductor's CPU freezing does at compile time, without
compiling: each ``nn.Conv2d`` / ``nn.Linear`` of an eval-mode copy is replaced by a module holding its
oneDNN-packed weight (a ReLU that directly follows a convolution in a ``ResBlock`` / ``ConfidenceHead`` is
fused into it), and convolutions run channels-last. The MoE experts already pack their per-expert
weights (:mod:`mmmofme.models.moe.packed`). Same results as eager to float rounding (tests: 1e-5).

For inference only: the copy shares no storage with the source model and refuses gradients.
"""
import copy
from typing import Tuple

import torch
from torch import Tensor, nn

from .. import compat


class PackedConv2d(nn.Module):
    """An ``nn.Conv2d`` (zero padding) with its weight packed for oneDNN, optionally followed by ReLU.

    Shapes:
        x: (B, C_in, H, W), any memory format → (B, C_out, H', W') channels-last.
    """

    def __init__(self, conv: nn.Conv2d, relu: bool = False) -> None:
        super().__init__()
        self.padding: Tuple[int, int] = tuple(conv.padding)
        self.stride: Tuple[int, int] = tuple(conv.stride)
        self.dilation: Tuple[int, int] = tuple(conv.dilation)
        self.groups = conv.groups
        self.relu = relu
        weight = conv.weight.detach().float()
        # plain attributes, not buffers: a packed weight is an opaque oneDNN tensor, not a state-dict entry
        self.weight = compat.onednn_pack_conv_weight(weight, self.padding, self.stride, self.dilation,
                                                     self.groups)
        self.bias = None if conv.bias is None else conv.bias.detach().float().clone()

    def forward(self, x: Tensor) -> Tensor:
        return compat.onednn_conv(x, self.weight, self.bias, self.padding, self.stride, self.dilation,
                                  self.groups, self.relu)


class PackedLinear(nn.Module):
    """An ``nn.Linear`` with its weight packed for oneDNN.

    Shapes:
        x: (..., in) → (..., out).
    """

    def __init__(self, linear: nn.Linear, tokens_hint: int = 1024) -> None:
        super().__init__()
        self.out_features = linear.out_features
        self.weight = compat.onednn_pack_weight(linear.weight.detach().float(), tokens_hint)
        bias = linear.bias.detach().float() if linear.bias is not None else torch.zeros(linear.out_features)
        self.bias = bias.clone()

    def forward(self, x: Tensor) -> Tensor:
        rows = x.reshape(-1, x.shape[-1])
        return compat.onednn_linear(rows, self.weight, self.bias).view(*x.shape[:-1], self.out_features)


def fast_path_available() -> bool:
    """Whether this torch build has the packed oneDNN convolution and linear (else the copy is eager)."""
    return compat.onednn_conv_available() and compat.onednn_linear_available()


def _packable_conv(module) -> bool:
    """A float32 2-D convolution with numeric zero padding (what the packed op computes)."""
    return (isinstance(module, nn.Conv2d) and module.padding_mode == 'zeros'
            and isinstance(module.padding, tuple) and module.weight.dtype == torch.float32)


def _swap(module: nn.Module) -> None:
    """Replace, in place and recursively, convs and linears by packed ones; fuse conv → ReLU pairs."""
    children = dict(module.named_children())
    fused_act = None
    # conv1 → act (ReLU) → conv2, as in ResBlock and ConfidenceHead: fold the ReLU into conv1
    if _packable_conv(children.get('conv1')) and isinstance(children.get('act'), nn.ReLU):
        module.conv1 = PackedConv2d(children['conv1'], relu=True)
        module.act = nn.Identity()
        fused_act = 'conv1'
    for name, child in children.items():
        if name == fused_act or (fused_act and name == 'act'):
            continue
        if _packable_conv(child):
            setattr(module, name, PackedConv2d(child))
        elif isinstance(child, nn.Linear) and child.weight.dtype == torch.float32:
            setattr(module, name, PackedLinear(child))
        else:
            _swap(child)


def fast_cpu_model(model: nn.Module) -> nn.Module:
    """An inference copy of ``model`` on the fast CPU path (eval mode, no gradients).

    Returns the eval-mode copy unchanged (eager) when the oneDNN ops are missing or the model is not on
    the CPU. Attributes set on the source (``restore_cfg``, ``cfg``) are kept.
    """
    fast = copy.deepcopy(model).eval().requires_grad_(False)
    param = next(fast.parameters(), None)
    if not fast_path_available() or (param is not None and param.device.type != 'cpu'):
        return fast
    _swap(fast)
    fast.fast_cpu = True
    return fast


__all__ = ['PackedConv2d', 'PackedLinear', 'fast_cpu_model', 'fast_path_available']
