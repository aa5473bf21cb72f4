"""Inference fast path for per-expert linears on CPU: weights packed once for oneDNN, not per call.

At E = 128 an expert sees ~16 tokens. For such skinny products MKL re-packs the (out, in) weight on
every call, which costs as much as the product itself (measured on this CPU, 128 experts × 16 tokens,
D = 384, one thread: ``F.linear`` 115 ms, prepacked oneDNN 70 ms for an FFN expert pass). Training
needs autograd and changing weights, so the packed copies serve only calls that need no gradient, and
are rebuilt whenever a source parameter changes (another tensor, or its in-place version counter).
The private oneDNN ops are reached through :mod:`mmmofme.compat`; without them the experts use ``F.linear``.
"""
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ... import compat
from .dispatch import is_tracing

PackedPair = Tuple[Tensor, Tensor]  # (oneDNN-packed (out, in) weight, (out,) bias)


def packed_path_usable(x: Tensor, params: Sequence[Tensor]) -> bool:
    """Whether ``x`` may go through prepacked weights: float32 on CPU, oneDNN on, no gradient needed, and
    not being traced / exported (a graph records ``F.linear``, which exporters and freezing understand)."""
    if not compat.onednn_linear_available() or is_tracing():
        return False
    if x.device.type != 'cpu' or x.dtype != torch.float32 or x.requires_grad:
        return False
    return not (torch.is_grad_enabled() and any(p.requires_grad for p in params))


def packed_linear(x: Tensor, packed: PackedPair, gelu: bool = False) -> Tensor:
    """``x @ W.T + b`` (then exact GELU, fused) with a weight from :class:`PackedExpertLinears`.

    Shapes:
        x: (n, in) contiguous → (n, out).
    """
    weight, bias = packed
    return compat.onednn_linear(x, weight, bias, gelu)


class PackedExpertLinears:
    """Per-expert oneDNN-packed copies of one stacked linear, rebuilt when its sources change.

    Not a module and not part of the state dict: a copy of the owner (``deepcopy``, pickling) starts
    empty and packs again on first use.

    Args:
        tokens_hint: Typical rows per call, for oneDNN's choice of weight layout (any row count works).
    """

    def __init__(self, tokens_hint: int = 16) -> None:
        self.tokens_hint = tokens_hint
        self._sources: Tuple[Tensor, ...] = ()
        self._versions: Optional[tuple] = None
        self._packed: List[PackedPair] = []

    def get(self, sources: Sequence[Tensor], build: Callable[[], Tuple[Tensor, Tensor]]) -> List[PackedPair]:
        """Packed (weight, bias) per expert.

        Args:
            sources: The parameters the stacked weights are computed from (the cache key).
            build: Returns the stacked (E, out, in) weight and (E, out) bias; called on a change only.
        """
        versions = tuple(compat.tensor_version(p) for p in sources)
        same = len(sources) == len(self._sources) and all(a is b for a, b in zip(sources, self._sources))
        if not same or versions != self._versions or None in versions:
            with torch.no_grad():
                weight, bias = build()
                self._packed = [(compat.onednn_pack_weight(w, self.tokens_hint), b.contiguous())
                                for w, b in zip(weight.detach(), bias.detach())]
            self._sources, self._versions = tuple(sources), versions
        return self._packed

    def clear(self) -> None:
        """Drop the packed copies (e.g. when the owner goes back to training)."""
        self._sources, self._versions, self._packed = (), None, []

    def __deepcopy__(self, memo: dict) -> 'PackedExpertLinears':
        return PackedExpertLinears(self.tokens_hint)

    def __getstate__(self) -> dict:
        return {'tokens_hint': self.tokens_hint}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state['tokens_hint'])
