"""OneS knowledge gathering (Xue et al. 2022, "One Student Knows All Experts Know"): the E FFN experts of
each MoE layer merged into one dense pre-norm FFN, the initialisation of the dense student.

Works on state dicts: every ``<prefix>.ffn.experts.{norm,fc1,fc2}_{weight,bias}`` stack of a
:class:`~.experts.FFNExperts` layer becomes ``<prefix>.ffn.norm.*``, ``<prefix>.ffn.ffn.fc1.*`` and
``<prefix>.ffn.ffn.fc2.*`` of a :class:`~mmmofme.models.layers.PreNormFeedForward`; the router goes;
everything else is kept. Methods (OneS §3.2):

* ``'average'``: the mean of the experts' tensors. When all experts are equal this is that expert, and
  the dense model computes exactly what the MoE did (with renormalised top-k weights).
* ``'sum'``: the sum (OneS's summation baseline).
* ``'svd'``: SVD-KG as read here: each expert's weight matrix is cut to its ⌈r/E⌉ leading singular
  directions (r = min(out, in)) and the E cuts are summed, so the merged rank-r matrix holds every
  expert's principal directions; vectors (biases, norm affines) are averaged.
"""
import math
import re
from collections import OrderedDict
from typing import Dict, Mapping

import torch
from torch import Tensor

GATHER_METHODS = ('average', 'sum', 'svd')
_EXPERT_KEY = re.compile(r'^(?P<layer>.*\.ffn)\.experts\.(?P<name>norm|fc1|fc2)_(?P<kind>weight|bias)$')
_DENSE_NAME = {'norm': 'norm', 'fc1': 'ffn.fc1', 'fc2': 'ffn.fc2'}


def svd_gather(weights: Tensor) -> Tensor:
    """Σ_i of each (out, in) matrix cut to its ⌈r/E⌉ leading singular directions: (E, out, in) → (out, in)."""
    num_experts = weights.shape[0]
    rank = math.ceil(min(weights.shape[1:]) / num_experts)
    u, s, vh = torch.linalg.svd(weights.double(), full_matrices=False)
    cut = u[:, :, :rank] @ torch.diag_embed(s[:, :rank]) @ vh[:, :rank]
    return cut.sum(0).to(weights.dtype)


def gather_tensor(stacked: Tensor, method: str) -> Tensor:
    """One dense tensor from the experts' stacked (E, ...) tensors."""
    if method == 'sum':
        return stacked.sum(0)
    if method == 'svd' and stacked.dim() == 3:
        return svd_gather(stacked)
    return stacked.mean(0)


def gather_ffn_experts(state_dict: Mapping[str, Tensor], method: str = 'average') -> Dict[str, Tensor]:
    """A dense model's state dict from an MoE one whose MoE layers hold FFN experts.

    Raises:
        ValueError: one line: unknown method, no FFN-expert layer, or a layer that is not plain FFN
        experts (feature-modulation / multi-scale experts, a PR-MoE residual FFN).
    """
    if method not in GATHER_METHODS:
        raise ValueError(f'unknown gathering method {method!r}; known: {", ".join(GATHER_METHODS)}')
    layers = {m.group('layer') for key in state_dict if (m := _EXPERT_KEY.match(key))}
    if not layers:
        raise ValueError('no FFN-expert layer (".ffn.experts.fc1_weight" ...) in the state dict: '
                         'is this an MoE checkpoint with FFN experts?')
    gathered: Dict[str, Tensor] = OrderedDict()
    for key, value in state_dict.items():
        match = _EXPERT_KEY.match(key)
        layer = next((name for name in layers if key.startswith(name + '.')), None)
        if match:
            dense = f"{match.group('layer')}.{_DENSE_NAME[match.group('name')]}.{match.group('kind')}"
            gathered[dense] = gather_tensor(value, method).clone()
        elif layer is not None and key.startswith(layer + '.router.'):
            continue  # a dense student has no router
        elif layer is not None:
            raise ValueError(f'{key}: only MoE layers of plain FFN experts can be gathered into a dense FFN')
        else:
            gathered[key] = value
    return gathered
