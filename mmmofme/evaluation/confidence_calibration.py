"""Choose a restorer's eval-time confidence range on held-out frames, by a fixed rule.

A restorer with a confidence head (``MoFMEViT(confidence_head=True)``) blends its restoration with its
input: ``out = x + s(c) · (restored − x)``, where ``s`` re-scales the learned confidence ``c`` so that
``low`` and below keep the input and ``high`` and above take the restoration
(:func:`mmmofme.models.layers.rescale_confidence`). Where ``(low, high)`` sits is a trade: a low
``low`` restores more weather and also touches more clean pixels. The range is not a training
quantity, so it is chosen after training, on frames and kinds the reported numbers never use:

* **frames**: a calibration split (the synthetic default's ``test`` split in ``make demo``), neither
  trained on nor reported;
* **kinds**: the transfer protocol's *selection* split (near-clean kinds and the selection weather,
  ``docs/transfer.md``) and the training renderer's weathers;
* **candidates**: a per-pixel range ``(low, high)`` and, optionally, a frame gate (the frame's mean
  confidence re-scaled by its own ``(low, high)``, :func:`mmmofme.models.layers.frame_gate_weight`):
  every range with no gate and with each candidate gate;
* **rule** (:func:`choose_confidence_range`): among the candidates, those that leave every
  near-clean kind at least as good as it came in (PSNR, capped at 40 dB as the report caps it) and
  lose at most ``weather_tolerance`` dB on any weather kind; of those, the one with the highest mean
  PSNR gain over the weather kinds (ties: the higher ``low``, which keeps more of the input). When no
  candidate passes, the one whose worst near-clean loss is smallest, reported as not feasible.

Every candidate is scored from one restoration per frame (:class:`RangeSweep` runs the network once
per tile and blends every candidate range; the frame gates are applied to the stitched frame, as
``tiled_restore`` does), through the chain's tiling, so the numbers are those the evaluation of the
chosen candidate gives.
"""
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar
from torch import Tensor, nn

from ..apis.restorer import restorer_and_tiling
from ..datasets.layouts import CLEAN_TAG, list_pairs
from ..models.chain import restore_images
from ..models.layers import blend_with_input, frame_gate_weight, rescale_confidence
from .transfer_eval import capped_psnr, read_bgr

__all__ = ['DEFAULT_LOWS', 'DEFAULT_WIDTHS', 'DEFAULT_GATES', 'candidate_ranges', 'RangeSweep',
           'calibration_samples',
           'sweep_confidence_ranges', 'choose_confidence_range', 'calibrate_confidence_range',
           'set_confidence_range', 'describe', 'markdown_table']

Range = Tuple[float, float]
DEFAULT_LOWS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
DEFAULT_WIDTHS = (0.05, 0.1, 0.2, 0.3)
# frame gates (low, high) of the frame's mean confidence; None (no gate) is always a candidate
DEFAULT_GATES = ((0.5, 0.6), (0.5, 0.7), (0.6, 0.7), (0.6, 0.8), (0.7, 0.8), (0.7, 0.9))


def candidate_ranges(lows: Sequence[float] = DEFAULT_LOWS,
                     widths: Sequence[float] = DEFAULT_WIDTHS) -> List[Range]:
    """``(low, min(low + width, 1))`` for every pair, without repeats, sorted."""
    ranges = {(round(lo, 4), round(min(lo + wd, 1.0), 4)) for lo in lows for wd in widths}
    out = sorted(r for r in ranges if 0.0 <= r[0] < r[1] <= 1.0)
    if not out:
        raise ValueError(f'no valid (low, high) range from lows {lows} and widths {widths}')
    return out


class RangeSweep(nn.Module):
    """Runs a confidence-head restorer once and returns its output under every candidate range.

    Args:
        restorer: A module with ``restore_with_confidence(x) -> (restored, confidence, aux)``
            (:class:`~mmmofme.models.archs.MoFMEViT` with ``confidence_head=True``).
        ranges: K candidate ``(low, high)`` ranges.

    Shapes:
        x: (B, 3, H, W) → (B, 3K + 1, H, W): channels ``3k:3k+3`` are the output under ``ranges[k]``,
        the last the learned confidence (for frame gates, which need the stitched frame).
    """

    def __init__(self, restorer: nn.Module, ranges: Sequence[Range]) -> None:
        super().__init__()
        if not hasattr(restorer, 'restore_with_confidence'):
            raise TypeError(f'{type(restorer).__name__} has no restore_with_confidence(): the confidence '
                            f'range applies to MoFMEViT with confidence_head=True')
        self.restorer = restorer
        self.ranges = [tuple(map(float, r)) for r in ranges]

    def forward(self, x: Tensor) -> Tensor:
        restored, confidence, _ = self.restorer.restore_with_confidence(x)
        if confidence is None:
            raise ValueError(f'{type(self.restorer).__name__} was built without a confidence head '
                             f'(confidence_head=False): there is no range to calibrate')
        return torch.cat([blend_with_input(x, restored, rescale_confidence(confidence, lo, hi))
                          for lo, hi in self.ranges] + [confidence], dim=1)


def calibration_samples(sources: Sequence[Tuple[str, str, str, Sequence[str]]],
                        num: Optional[int] = None) -> List[Tuple[str, str, str]]:
    """``(kind, weathered path, clean path)`` for the first ``num`` frames of each kind.

    Args:
        sources: ``(layout, data_root, split, kinds)`` per tree, e.g. ``('synthetic', root, 'test',
            ['rain', 'fog'])`` for the training renderer's weathers and ``('cityscapes', tree, 'test',
            selection_kinds)`` for a transfer tree.
        num: Frames per kind (default all). A frame with several variants of a kind (the synthetic
            default's rain settings) gives one, chosen round-robin over the frames, so every setting
            is seen and each frame counts once.
    """
    samples = []
    for layout, root, split, kinds in sources:
        for kind in kinds:
            variants: Dict[str, List] = {}
            for rec in sorted(list_pairs(layout, root, split, [kind]), key=lambda r: r.img_path):
                variants.setdefault(rec.frame, []).append(rec)
            frames = sorted(variants)[:num]
            for i, frame in enumerate(frames):
                rec = variants[frame][i % len(variants[frame])]
                samples.append((kind, rec.img_path, rec.gt_path))
    return samples


def _read_rgb(path: str) -> np.ndarray:
    return np.ascontiguousarray(read_bgr(path)[..., ::-1])


Gate = Optional[Range]


@torch.no_grad()
def sweep_confidence_ranges(restorer: nn.Module, restore_cfg: dict, samples: Sequence[Tuple[str, str, str]],
                            ranges: Sequence[Range], logger: Optional[MMLogger] = None,
                            gates: Sequence[Gate] = (None,)) -> dict:
    """PSNR in and out under every candidate, per kind (mean over its frames, each capped at 40 dB).

    Args:
        restorer: The restorer (:class:`RangeSweep` requirements), in eval mode.
        restore_cfg: The tiling the evaluation uses (the chain's ``restore_cfg``).
        samples: :func:`calibration_samples`.
        ranges: :func:`candidate_ranges`.
        gates: Frame gates ``(low, high)``; ``None`` is no gate.

    Returns:
        ``{'candidates': [{'range': [low, high], 'frame_gate': [low, high] or None}, ...],
        'kinds': {kind: {'frames', 'psnr_in', 'psnr_out': [per candidate]}}}``; the candidates are every
        range under each gate, gate by gate.
    """
    logger = logger or MMLogger.get_instance('confidence_calibration', log_level='INFO')
    sweep = RangeSweep(restorer, ranges).eval()
    gates = [None if g is None else tuple(map(float, g)) for g in gates]
    candidates = [dict(range=list(r), frame_gate=None if g is None else list(g))
                  for g in gates for r in ranges]
    device = next(restorer.parameters(), torch.empty(0)).device
    logger.info(f'confidence calibration: {len(samples)} frames x {len(candidates)} candidates '
                f'({len(ranges)} ranges x {len(gates)} frame gates)')
    per_kind: Dict[str, Dict[str, list]] = {}
    bar = ProgressBar(len(samples))
    for kind, img_path, gt_path in samples:
        weathered, clean = _read_rgb(img_path), _read_rgb(gt_path)
        if weathered.shape != clean.shape:
            raise ValueError(f'{img_path}: size {weathered.shape[:2]} differs from its clean frame '
                             f'{gt_path} {clean.shape[:2]}')
        x = torch.from_numpy(weathered).to(device).permute(2, 0, 1)[None].float() / 255
        y = restore_images(sweep, x, restore_cfg)
        blends = y[:, :-1].reshape(len(ranges), 3, *y.shape[-2:])
        outs = []
        for gate in gates:
            weight = 1.0 if gate is None else frame_gate_weight(y[:, -1:], *gate)[0]
            outs.append(blend_with_input(x, blends, weight).clamp(0, 1))
        outs = (torch.cat(outs) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        entry = per_kind.setdefault(kind, dict(psnr_in=[], psnr_out=[]))
        entry['psnr_in'].append(capped_psnr(weathered, clean))
        entry['psnr_out'].append([capped_psnr(out, clean) for out in outs])
        bar.update()
    bar.file.write('\n')
    kinds = {kind: dict(frames=len(e['psnr_in']), psnr_in=float(np.mean(e['psnr_in'])),
                        psnr_out=np.mean(np.asarray(e['psnr_out']), axis=0).tolist())
             for kind, e in per_kind.items()}
    return dict(candidates=candidates, kinds=kinds)


def choose_confidence_range(sweep: Mapping, near_clean: Iterable[str], near_clean_tolerance: float = 0.0,
                            weather_tolerance: float = 0.5) -> dict:
    """The rule of this module's docstring applied to a :func:`sweep_confidence_ranges` result.

    Args:
        sweep: ``{'candidates', 'kinds': {kind: {'psnr_in', 'psnr_out'}}}``.
        near_clean: Kinds that must not be harmed (``clean`` always is one); the others are weather.
        near_clean_tolerance: dB a near-clean kind may lose (0: none).
        weather_tolerance: dB a weather kind may lose.

    Returns:
        ``{'range', 'frame_gate', 'feasible', 'mean_weather_gain', 'worst_near_clean_gain',
        'candidates': [...]}``; per candidate its range and gate, ``feasible``, mean weather gain and
        worst near-clean / weather gains. Ties go to the higher range, then to the higher gate: the
        candidate that keeps more of the input.
    """
    kinds = sweep['kinds']
    keep = set(near_clean) | {CLEAN_TAG}
    protected = [k for k in kinds if k in keep]
    weather = [k for k in kinds if k not in keep]
    if not protected or not weather:
        raise ValueError(f'calibration needs near-clean and weather kinds; got near-clean {protected}, '
                         f'weather {weather}')
    candidates = []
    for i, cand in enumerate(sweep['candidates']):
        gains = {k: kinds[k]['psnr_out'][i] - kinds[k]['psnr_in'] for k in kinds}
        worst_keep = min(gains[k] for k in protected)
        worst_weather = min(gains[k] for k in weather)
        gate = cand.get('frame_gate')
        candidates.append(dict(range=tuple(cand['range']), frame_gate=None if gate is None else tuple(gate),
                               mean_weather_gain=float(np.mean([gains[k] for k in weather])),
                               worst_near_clean_gain=worst_keep, worst_weather_gain=worst_weather,
                               feasible=bool(worst_keep >= -near_clean_tolerance
                                             and worst_weather >= -weather_tolerance)))

    def keeps_input(c: dict) -> tuple:
        return (*c['range'], *(c['frame_gate'] or (0.0, 0.0)))

    feasible = [c for c in candidates if c['feasible']]
    if feasible:
        best = max(feasible, key=lambda c: (round(c['mean_weather_gain'], 6), keeps_input(c)))
    else:
        best = max(candidates, key=lambda c: (round(c['worst_near_clean_gain'], 6), c['mean_weather_gain']))
    return dict(range=best['range'], frame_gate=best['frame_gate'], feasible=best['feasible'],
                mean_weather_gain=best['mean_weather_gain'],
                worst_near_clean_gain=best['worst_near_clean_gain'],
                near_clean=protected, weather=weather, candidates=candidates)


def calibrate_confidence_range(restorer: nn.Module, restore_cfg: dict,
                               sources: Sequence[Tuple[str, str, str, Sequence[str]]],
                               near_clean: Iterable[str],
                               num: Optional[int] = None, ranges: Optional[Sequence[Range]] = None,
                               logger: Optional[MMLogger] = None,
                               gates: Sequence[Gate] = (None,) + DEFAULT_GATES,
                               **rule) -> dict:
    """Samples → sweep → rule: :func:`choose_confidence_range`'s result plus ``'sweep'`` and ``'frames'``.

    ``gates``: the frame gates tried (``None``: no gate); ``rule`` holds :func:`choose_confidence_range`'s
    tolerances.
    """
    samples = calibration_samples(sources, num)
    if not samples:
        raise ValueError(f'no calibration frames in {[(root, split) for _, root, split, _ in sources]}')
    sweep = sweep_confidence_ranges(restorer, restore_cfg, samples, ranges or candidate_ranges(), logger,
                                    gates=gates)
    return dict(choose_confidence_range(sweep, near_clean, **rule), sweep=sweep, frames=len(samples))


def set_confidence_range(cfg: Config, confidence_range: Range, frame_gate: Gate = None) -> Config:
    """Set ``confidence_range`` and ``frame_gate`` of the restorer of a restorer (``model.generator``) or
    chain (``model.restorer``) config, in place; fails when the restorer has no confidence head."""
    restorer_cfg = restorer_and_tiling(cfg)[0]
    if not restorer_cfg.get('confidence_head'):
        raise ValueError(f'{cfg.filename}: the restorer ({restorer_cfg.get("type")}) has no confidence head '
                         f'(confidence_head=True): there is no confidence range to set')
    restorer_cfg['confidence_range'] = tuple(float(v) for v in confidence_range)
    restorer_cfg['frame_gate'] = None if frame_gate is None else tuple(float(v) for v in frame_gate)
    return cfg


def describe(candidate: Mapping) -> str:
    """``range (0.70, 1.00), frame gate (0.60, 0.80)`` (or ``no frame gate``)."""
    gate = candidate.get('frame_gate')
    gate_text = 'no frame gate' if gate is None else f'frame gate ({gate[0]:.2f}, {gate[1]:.2f})'
    return f'range ({candidate["range"][0]:.2f}, {candidate["range"][1]:.2f}), {gate_text}'


def markdown_table(result: Mapping) -> str:
    """The candidates as a Markdown table, the chosen one marked."""
    lines = ['| range (low, high) | frame gate (low, high) | feasible | mean weather gain (dB) | '
             'worst near-clean gain (dB) | worst weather gain (dB) |', '|---|---|---|---|---|---|']
    gate = result.get('frame_gate')
    chosen = (tuple(result['range']), None if gate is None else tuple(gate))
    for c in result['candidates']:
        mark = ' **chosen**' if (tuple(c['range']), c.get('frame_gate')) == chosen else ''
        gate = '—' if c.get('frame_gate') is None else f'({c["frame_gate"][0]:.2f}, {c["frame_gate"][1]:.2f})'
        feasible = 'yes' if c['feasible'] else 'no'
        lines.append(f'| ({c["range"][0]:.2f}, {c["range"][1]:.2f}){mark} | {gate} | {feasible} | '
                     f'{c["mean_weather_gain"]:+.2f} | {c["worst_near_clean_gain"]:+.2f} | '
                     f'{c["worst_weather_gain"]:+.2f} |')
    return '\n'.join(lines)
