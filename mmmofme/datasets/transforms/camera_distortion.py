"""Camera-side changes applied alike to a weathered input and its clean target.

A restorer trained only on ``weather(clean) -> clean`` pairs from one camera learns that anything unlike
that camera is weather: it "restores" exposure errors, colour casts, sensor noise, compression and blur
towards its training frames, and harms frames that need nothing. :class:`PairedCameraDistortion` puts the
same exposure / contrast / saturation / colour-cast / blur / noise / JPEG change on both images of a pair
(one draw, one noise field), so the target keeps it: the restorer learns to remove weather whatever the
camera did, and to leave what the camera did alone. On identity pairs (the ``clean`` tag) it makes
near-clean pairs whose target is the distorted input itself.

The operations and their ranges differ from the transfer protocol's near-clean kinds
(:mod:`mmmofme.datasets.transfer`): gains in sRGB (not linear light), Gaussian blur (not a motion line
kernel), Gaussian noise in sRGB (not shot + read noise in linear light), JPEG quality 40-90 (not 30).
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS

from .worker_rng import worker_rng

__all__ = ['CAMERA_DISTORTION_RANGES', 'PairedCameraDistortion', 'distort_pair']

# (low, high) of each operation's parameter, in the order the operations are applied (a camera's order:
# light and colour, optics, sensor noise, compression).
CAMERA_DISTORTION_RANGES: Dict[str, Tuple[float, float]] = dict(
    brightness=(0.7, 1.4),     # mmcv.adjust_brightness factor
    contrast=(0.75, 1.3),      # mmcv.adjust_contrast factor
    saturation=(0.7, 1.3),     # mmcv.adjust_color factor
    colour_gain=(0.9, 1.1),    # per-channel gain, drawn per channel
    blur_sigma=(0.3, 1.5),     # Gaussian blur, px (the transform runs on crops: no frame size)
    noise_std=(1.0, 8.0),      # Gaussian noise, grey levels
    jpeg_quality=(40.0, 90.0),  # OpenCV JPEG quality
)


def _apply(op: str, images: Sequence[np.ndarray], value, noise: Optional[np.ndarray]) -> list:
    if op == 'brightness':
        return [mmcv.adjust_brightness(im, value) for im in images]
    if op == 'contrast':
        return [mmcv.adjust_contrast(im, value) for im in images]
    if op == 'saturation':
        return [mmcv.adjust_color(im, value) for im in images]
    if op == 'colour_gain':
        return [np.clip(im.astype(np.float32) * value, 0, 255).round().astype(np.uint8) for im in images]
    if op == 'blur_sigma':
        return [cv2.GaussianBlur(im, (0, 0), sigmaX=value) for im in images]
    if op == 'noise_std':
        return [np.clip(im.astype(np.float32) + noise, 0, 255).round().astype(np.uint8) for im in images]
    if op == 'jpeg_quality':
        # one encoder for both; OpenCV reads the array as BGR, the channel order only moves chroma
        params = [int(cv2.IMWRITE_JPEG_QUALITY), int(round(value))]
        return [cv2.imdecode(cv2.imencode('.jpg', im, params)[1], cv2.IMREAD_UNCHANGED).reshape(im.shape)
                for im in images]
    raise KeyError(op)


def distort_pair(images: Sequence[np.ndarray], rng: np.random.Generator,
                 ranges: Mapping[str, Tuple[float, float]] = CAMERA_DISTORTION_RANGES,
                 op_prob: float = 0.5) -> Tuple[list, dict]:
    """Apply each operation of ``ranges`` with probability ``op_prob``, one draw for all ``images``.

    Args:
        images: Same-size ``(H, W, 3)`` uint8 images (e.g. a weathered input and its clean target).
        rng: Random generator.
        ranges: ``{operation: (low, high)}``, a subset of :data:`CAMERA_DISTORTION_RANGES` (order kept).
        op_prob: Probability of each operation.

    Returns:
        The changed images (same shapes and dtype) and ``{operation: value}`` of the operations applied.
    """
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        raise ValueError(f'distort_pair: the images differ in size: {sorted(shapes)}')
    out, applied = list(images), {}
    for op in CAMERA_DISTORTION_RANGES:
        if op not in ranges or rng.random() >= op_prob:
            continue
        low, high = ranges[op]
        value = rng.uniform(low, high, size=3) if op == 'colour_gain' else float(rng.uniform(low, high))
        noise = (rng.standard_normal(out[0].shape).astype(np.float32) * value
                 if op == 'noise_std' else None)
        out = _apply(op, out, value, noise)
        applied[op] = value.tolist() if op == 'colour_gain' else value
    return out, applied


@TRANSFORMS.register_module()
class PairedCameraDistortion(BaseTransform):
    """With probability ``prob``, the same camera-side change on ``results['img']`` and ``results['gt']``.

    Put it after the crop (it costs per pixel). Sets ``results['camera_distortion']`` to the operations
    applied (``{}`` when none).

    Args:
        prob: Probability that a sample is changed at all.
        op_prob: Probability of each operation in a changed sample.
        ranges: Overrides of :data:`CAMERA_DISTORTION_RANGES`; an operation set to ``None`` is never
            applied.
        seed: Seed of the transform's generator (with the dataloader worker id); ``None`` follows the
            run's ``randomness.seed``.
    """

    def __init__(self, prob: float = 0.5, op_prob: float = 0.5,
                 ranges: Optional[Mapping[str, Optional[Tuple[float, float]]]] = None,
                 seed: Optional[int] = None) -> None:
        if not 0 <= prob <= 1 or not 0 <= op_prob <= 1:
            raise ValueError(f'PairedCameraDistortion: prob and op_prob must be in [0, 1], got {prob}, '
                             f'{op_prob}')
        self.ranges = dict(CAMERA_DISTORTION_RANGES)
        for op, spec in (ranges or {}).items():
            if op not in CAMERA_DISTORTION_RANGES:
                raise ValueError(f'PairedCameraDistortion: unknown operation {op!r}; known: '
                                 f'{sorted(CAMERA_DISTORTION_RANGES)}')
            if spec is None:
                self.ranges.pop(op)
            else:
                self.ranges[op] = (float(spec[0]), float(spec[1]))
        self.prob, self.op_prob, self.seed = prob, op_prob, seed
        self._rng: Optional[np.random.Generator] = None

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:  # lazily, so each dataloader worker (a forked copy) seeds its own stream
            self._rng = worker_rng(self.seed)
        return self._rng

    def transform(self, results: dict) -> dict:
        applied: dict = {}
        # prob 0 draws nothing (not even the generator's seed from numpy): a config can carry the
        # transform switched off without changing any other random draw of its training
        if self.prob > 0 and self.rng.random() < self.prob:
            (results['img'], results['gt']), applied = distort_pair(
                [results['img'], results['gt']], self.rng, self.ranges, self.op_prob)
        results['camera_distortion'] = applied
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, op_prob={self.op_prob}, '
                f'ops={list(self.ranges)}, seed={self.seed})')
