"""The arithmetic and the tables of the transfer protocol (``docs/transfer.md``); no model, no torch.

Definitions:

* **recovered share** of a metric on a kind: ``(restored - weathered) / (clean - weathered)``: 1 when
  restoring brings the metric back to its clean value, 0 when it changes nothing, < 0 when it harms.
  When the weather costs less than ``min_drop`` (``clean - weathered < min_drop``: 0.5 mIoU points,
  0.005 mAP50) there is nothing to recover: the share is ``None`` (n/a) and left out of every mean.
* **no harm** on a kind: ``restored PSNR >= weathered PSNR`` and ``restored mIoU >= weathered mIoU -
  0.5``. Per-image PSNR is capped at :data:`PSNR_CAP` dB before averaging (identical images would be
  +inf; differences above 40 dB, under 2.55 grey levels RMS, count as none).
"""
import math
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

__all__ = ['PSNR_CAP', 'MIN_DROP', 'MIOU_TOLERANCE', 'recovered_share', 'mean_share', 'no_harm', 'summarise',
           'markdown_report']

PSNR_CAP = 40.0
#: the smallest clean - weathered drop a recovered share is computed for (metric scale: mIoU in %,
#: mAP50 in [0, 1])
MIN_DROP = {'mIoU': 0.5, 'mAcc': 0.5, 'mAP50': 0.005}
MIOU_TOLERANCE = 0.5


def recovered_share(weathered: float, restored: float, clean: float, min_drop: float) -> Optional[float]:
    """``(restored - weathered) / (clean - weathered)``, or ``None`` when ``clean - weathered < min_drop``."""
    drop = clean - weathered
    if not drop >= min_drop:  # also catches NaN
        return None
    return (restored - weathered) / drop


def mean_share(shares: Iterable[Optional[float]]) -> Optional[float]:
    """Mean of the shares that are not ``None`` (``None`` if all are)."""
    kept = [s for s in shares if s is not None]
    return sum(kept) / len(kept) if kept else None


def no_harm(psnr_weathered: float, psnr_restored: float, miou_weathered: float, miou_restored: float,
            tolerance: float = MIOU_TOLERANCE) -> bool:
    """The no-harm verdict of a kind (PSNR capped at :data:`PSNR_CAP`, mIoU in % with ``tolerance``)."""
    return (min(psnr_restored, PSNR_CAP) >= min(psnr_weathered, PSNR_CAP)
            and miou_restored >= miou_weathered - tolerance)


def summarise(kinds: Mapping[str, dict], names: Sequence[str]) -> Dict[str, dict]:
    """Per family and ``'all'`` over ``names``: mean recovered shares (with how many kinds count), mean
    PSNR gain, no-harm count."""
    groups: Dict[str, List[str]] = {}
    for name in names:
        groups.setdefault(kinds[name]['family'], []).append(name)
    groups['all'] = list(names)
    out = {}
    for group, members in groups.items():
        rows = [kinds[n] for n in members]
        entry = dict(kinds=len(rows), no_harm=sum(r['no_harm'] for r in rows),
                     psnr_gain=sum(r['psnr_out'] - r['psnr_in'] for r in rows) / len(rows))
        for metric in ('mIoU', 'mAP50'):
            shares = [r['recovered'][metric] for r in rows]
            entry[f'recovered_{metric}'] = mean_share(shares)
            entry[f'counted_{metric}'] = sum(s is not None for s in shares)
        out[group] = entry
    return out


def _share(value: Optional[float]) -> str:
    return 'n/a' if value is None else f'{value:+.2f}'


def _psnr(value: float) -> str:
    return f'{value:.2f}' if math.isfinite(value) else 'inf'


def markdown_report(results: Mapping, splits: Mapping[str, Sequence[str]]) -> str:
    """One table per split (a row per kind, then a summary per family) as Markdown."""
    kinds = results['kinds']
    lines = []
    for split, names in splits.items():
        names = [n for n in names if n in kinds]
        if not names:
            continue
        lines += [f'### {split} split', '',
                  '| kind | family | PSNR in → out | SSIM in → out | mIoU weathered / restored / clean | '
                  'recovered mIoU | mAP50 weathered / restored / clean | recovered mAP50 | no harm |',
                  '|---|---|---|---|---|---|---|---|---|']
        for name in names:
            r = kinds[name]
            m, d = r['mIoU'], r['mAP50']
            lines.append(
                f'| {name} | {r["family"]} | {_psnr(r["psnr_in"])} → {_psnr(r["psnr_out"])} | '
                f'{r["ssim_in"]:.3f} → {r["ssim_out"]:.3f} | '
                f'{m["weathered"]:.2f} / {m["restored"]:.2f} / {m["clean"]:.2f} | '
                f'{_share(r["recovered"]["mIoU"])} | '
                f'{d["weathered"]:.3f} / {d["restored"]:.3f} / {d["clean"]:.3f} | '
                f'{_share(r["recovered"]["mAP50"])} | {"yes" if r["no_harm"] else "**NO**"} |')
        lines += ['', '| family | kinds | no harm | mean PSNR gain (dB) | mean recovered mIoU (kinds '
                  'counted) | mean recovered mAP50 (kinds counted) |', '|---|---|---|---|---|---|']
        for group, s in summarise(kinds, names).items():
            lines.append(f'| {group} | {s["kinds"]} | {s["no_harm"]}/{s["kinds"]} | {s["psnr_gain"]:+.2f} | '
                         f'{_share(s["recovered_mIoU"])} ({s["counted_mIoU"]}) | '
                         f'{_share(s["recovered_mAP50"])} ({s["counted_mAP50"]}) |')
        lines.append('')
    return '\n'.join(lines)
