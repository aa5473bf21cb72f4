"""The restorer over the ImageNet-C corruptions at every severity: PSNR / SSIM in -> out, harm per cell.

mmdet scores detectors over these corruptions (``tools/analysis_tools/test_robustness.py``); this scores
the deweathering stage itself on them: which corruptions it improves, which it leaves alone and which it
harms. It needs no labels and no perception model, so it scans every corruption of ``imagecorruptions``
(Michaelis et al., 2019; Hendrycks & Dietterich, ICLR 2019) at five severities in minutes, where the
transfer protocol (:mod:`mmmofme.evaluation.transfer_eval`) scores a chosen few kinds end to end. Most of
the corruptions are not weather: a stage in front of a driving stack must leave those alone.

A cell is *harmed* when the restored frames' mean PSNR is below the corrupted frames' (the transfer
protocol's PSNR rule); the worst single frame's change is reported beside the mean.
"""
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmengine.utils import ProgressBar

from ..datasets.transfer.external import seeded_global_state
from .transfer_eval import psnr_ssim

__all__ = ['CORRUPTION_GROUPS', 'corruption_names', 'corrupt_frame', 'sweep_corruptions', 'markdown_table',
           'plot_gains']

#: imagecorruptions' own groups (``get_corruption_names``), plus every single corruption name.
CORRUPTION_GROUPS = ('all', 'common', 'validation', 'noise', 'blur', 'weather', 'digital')

RestoreFn = Callable[[np.ndarray], np.ndarray]


def corruption_names(spec: Sequence[str] = ('all',)) -> List[str]:
    """Expand groups and names (``['blur', 'contrast']``) into corruption names, in order, once each."""
    from imagecorruptions import get_corruption_names
    every = get_corruption_names('all')
    names: List[str] = []
    for item in spec:
        if item in CORRUPTION_GROUPS:
            group = get_corruption_names(item)
        elif item in every:
            group = [item]
        else:
            raise ValueError(f'unknown corruption {item!r}; give a group {list(CORRUPTION_GROUPS)} or one of '
                             f'{every}')
        names += [name for name in group if name not in names]
    return names


def corrupt_frame(bgr: np.ndarray, corruption: str, severity: int, rng: np.random.Generator) -> np.ndarray:
    """One corrupted copy of a BGR uint8 frame (imagecorruptions works in RGB); a function of ``rng``."""
    from imagecorruptions import corrupt
    with seeded_global_state(rng):  # imagecorruptions draws from the global numpy state
        out = corrupt(np.ascontiguousarray(bgr[..., ::-1]), corruption_name=corruption, severity=severity)
    out = np.asarray(out)
    if out.shape != bgr.shape:  # a few corruptions return another size or float samples for odd sizes
        import cv2
        out = cv2.resize(out.astype(np.float32), (bgr.shape[1], bgr.shape[0]), interpolation=cv2.INTER_AREA)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)[..., ::-1].copy()


class _CorruptionUnavailable(Exception):
    """The corruption library itself failed (not the restorer)."""


def _cell(restore_fn: RestoreFn, frames: Sequence[np.ndarray], corruption: str, severity: int,
          seed: int) -> dict:
    rng = np.random.default_rng([seed, severity, *corruption.encode()])
    scores = []
    for clean in frames:
        try:
            corrupted = corrupt_frame(clean, corruption, severity, rng)
        except Exception as err:  # noqa: BLE001 - any failure inside the library: the cell is not run
            raise _CorruptionUnavailable(f'{type(err).__name__}: {str(err).splitlines()[0]}') from err
        restored = restore_fn(corrupted)
        if restored.shape != clean.shape or restored.dtype != np.uint8:
            raise ValueError(f'the restorer returned {restored.dtype} {restored.shape} for a {clean.shape} '
                             'uint8 frame')
        scores.append(psnr_ssim(corrupted, clean) + psnr_ssim(restored, clean))
    scores = np.asarray(scores)
    psnr_in, ssim_in, psnr_out, ssim_out = scores.mean(axis=0).tolist()
    return dict(corruption=corruption, severity=severity, frames=len(frames), psnr_in=psnr_in,
                psnr_out=psnr_out, ssim_in=ssim_in, ssim_out=ssim_out, gain=psnr_out - psnr_in,
                worst_frame_gain=float((scores[:, 2] - scores[:, 0]).min()), harmed=psnr_out < psnr_in,
                error=None)


def sweep_corruptions(restore_fn: RestoreFn, frames: Sequence[np.ndarray], corruptions: Sequence[str],
                      severities: Sequence[int] = (1, 2, 3, 4, 5), seed: int = 0,
                      progress: bool = True) -> dict:
    """Score ``restore_fn`` (BGR uint8 frame -> BGR uint8 frame) on every corruption x severity.

    Each (corruption, severity) cell corrupts every clean frame once, from a generator seeded by
    ``seed``, the severity and the name (the same input for every restorer scored). A corruption the
    installed libraries cannot run (imagecorruptions' ``gaussian_blur`` / ``glass_blur`` call an argument
    newer scikit-image removed) is kept as a cell with its one-line ``error`` instead of numbers.

    Returns:
        ``{'cells': [...], 'runtime_s', 'frames', 'seed'}``; a cell has ``corruption``, ``severity``,
        ``psnr_in`` / ``psnr_out`` / ``ssim_in`` / ``ssim_out`` (means over the frames), ``gain`` (PSNR,
        dB), ``worst_frame_gain``, ``harmed`` and ``error``.
    """
    if not frames:
        raise ValueError('no frames to corrupt')
    start = time.perf_counter()
    cells = []
    bar = ProgressBar(len(corruptions) * len(severities)) if progress else None
    for corruption in corruptions:
        for severity in severities:
            try:
                cells.append(_cell(restore_fn, frames, corruption, severity, seed))
            except _CorruptionUnavailable as err:
                cells.append(dict(corruption=corruption, severity=severity, frames=0, harmed=False,
                                  error=str(err)))
            if bar is not None:
                bar.update()
    return dict(cells=cells, frames=len(frames), seed=seed, runtime_s=time.perf_counter() - start)


def _by_corruption(cells: Sequence[dict]) -> Dict[str, Dict[int, dict]]:
    table: Dict[str, Dict[int, dict]] = {}
    for cell in cells:
        table.setdefault(cell['corruption'], {})[cell['severity']] = cell
    return table


def markdown_table(results: dict) -> str:
    """A row per corruption, a column per severity: ``PSNR in → out`` with the gain; harmed cells bold."""
    table = _by_corruption(results['cells'])
    severities = sorted({c['severity'] for c in results['cells']})
    lines = ['| corruption | ' + ' | '.join(f'severity {s}' for s in severities) + ' |',
             '|---|' + '---|' * len(severities)]
    for corruption, row in table.items():
        cells = []
        for s in severities:
            cell = row.get(s)
            if cell is None or cell['error']:
                cells.append('n/a')
                continue
            text = f'{cell["psnr_in"]:.2f} → {cell["psnr_out"]:.2f} ({cell["gain"]:+.2f})'
            cells.append(f'**{text}**' if cell['harmed'] else text)
        lines.append(f'| {corruption} | ' + ' | '.join(cells) + ' |')
    scored = [c for c in results['cells'] if not c['error']]
    harmed = [c for c in scored if c['harmed']]
    summary = f'Harmed (mean restored PSNR below the corrupted input): {len(harmed)} of {len(scored)} cells'
    if harmed:
        worst = min(harmed, key=lambda c: c['gain'])
        summary += f'; worst {worst["corruption"]} severity {worst["severity"]} ({worst["gain"]:+.2f} dB)'
    lines += ['', summary + '.']
    for cell in results['cells']:
        if cell['error']:
            lines.append(f'Not run: {cell["corruption"]} severity {cell["severity"]}: {cell["error"]}')
    return '\n'.join(lines)


def plot_gains(results: dict, path: str, title: Optional[str] = None) -> None:
    """A heat map of the PSNR gain (dB), corruptions x severities, red where the restorer harms."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    table = _by_corruption(results['cells'])
    severities = sorted({c['severity'] for c in results['cells']})
    gains = np.array([[row[s]['gain'] if s in row and not row[s]['error'] else np.nan for s in severities]
                      for row in table.values()])
    limit = max(1.0, float(np.nanmax(np.abs(gains)))) if np.isfinite(gains).any() else 1.0
    fig, ax = plt.subplots(figsize=(1.2 * len(severities) + 3, 0.38 * len(table) + 1.5))
    image = ax.imshow(gains, cmap='RdBu', vmin=-limit, vmax=limit, aspect='auto')
    for (i, j), gain in np.ndenumerate(gains):
        ax.text(j, i, 'n/a' if np.isnan(gain) else f'{gain:+.2f}', ha='center', va='center', fontsize=8)
    ax.set_xticks(range(len(severities)), [str(s) for s in severities])
    ax.set_yticks(range(len(table)), list(table))
    ax.set_xlabel('severity')
    ax.set_title(title or 'PSNR gain of the restorer (dB): blue helps, red harms')
    fig.colorbar(image, ax=ax, label='restored - corrupted PSNR (dB)')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
