"""A per-pixel confidence that lets a restorer fall back to its input: ``out = x + c · (restored − x)``."""
from typing import Optional, Tuple

from torch import Tensor, nn

from .conv_blocks import conv3x3

__all__ = ['ConfidenceHead', 'blend_with_input', 'frame_gate_weight', 'gate_stitched_frames',
           'rescale_confidence']


def blend_with_input(inputs: Tensor, restored: Tensor, confidence: Tensor) -> Tensor:
    """``inputs + confidence · (restored − inputs)``: the input where confidence is 0, the restoration at 1.

    Shapes:
        inputs, restored: (B, C, H, W); confidence: broadcastable to them, e.g. (B, 1, H, W), in [0, 1].
    """
    return inputs + confidence * (restored - inputs)


def rescale_confidence(confidence: Tensor, low: float, high: float) -> Tensor:
    """Map ``confidence`` linearly so that ``low`` and below become 0 and ``high`` and above 1.

    ``(0, 1)`` is the identity on [0, 1]. A higher ``low`` keeps more of the input: pixels the head is
    only mildly sure about pass through unchanged.
    """
    return ((confidence - low) / (high - low)).clamp(0, 1)


def frame_gate_weight(confidence: Tensor, low: float, high: float) -> Tensor:
    """One weight per frame: the frame's mean confidence re-scaled by ``(low, high)``.

    Whether a frame has weather at all is clearer over the whole frame than at a pixel or a tile: a tile
    of clear sky looks like fog, a frame of clear sky and road does not. Frames whose mean confidence is
    ``low`` or below keep the input exactly.

    Shapes:
        confidence: (B, 1, H, W) in [0, 1] over whole frames → (B, 1, 1, 1).
    """
    return rescale_confidence(confidence.mean(dim=(1, 2, 3), keepdim=True), low, high)


def gate_stitched_frames(x: Tensor, stitched: Tensor, frame_gate: Optional[Tuple[float, float]]) -> Tensor:
    """``x + g · (blended − x)`` on stitched tile outputs, ``g`` the :func:`frame_gate_weight` of their
    confidence over each whole frame (1 without a gate). Shared by every restorer that tiles with a gate.

    Shapes:
        x: (B, 3, H, W) frames; stitched: (B, 4, H, W), the blended output and the confidence → (B, 3, H, W).
    """
    gate = 1.0 if frame_gate is None else frame_gate_weight(stitched[:, 3:], *frame_gate)
    return blend_with_input(x, stitched[:, :3], gate)


class ConfidenceHead(nn.Module):
    """conv3x3 → ReLU → conv3x3 to one logit per pixel: how sure the restorer is that a pixel needs it.

    Trained (by the restorer's confidence loss) to say where the input differs from the clean target, so
    clean frames and the clean parts of a frame pass through unchanged. The last bias starts at 0
    (confidence 0.5).

    Args:
        channels: Input feature channels C.

    Shapes:
        x: (B, C, H, W) → logits (B, 1, H, W).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(channels // 2, 1)
        self.conv1 = conv3x3(channels, hidden)
        self.act = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(hidden, 1)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv2(self.act(self.conv1(x)))
