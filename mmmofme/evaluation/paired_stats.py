"""Seeds, spreads and ties: the arithmetic behind every claim of the reproduction tables; no torch.

Definitions (``docs/reproduction.md``):

* a row's value is the **mean ± sample standard deviation** (``ddof=1``) over its seeds;
* a claim "A beats B" compares the two rows **seed by seed** (same seed = same data order and the same
  initial draw of every part the two variants share): ``d_s = A_s - B_s``; its mean and the sample
  standard deviation of the ``d_s`` are reported;
* **tie rule**: the difference is a tie when ``|mean d| <= std d`` (it lies inside its own spread), and
  there is no verdict at all with fewer than two common seeds (no spread to compare with).
"""
import math
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Sequence, Tuple

__all__ = ['mean_std', 'PairedDifference', 'paired_difference', 'format_mean_std', 'by_seed']


def mean_std(values: Sequence[float]) -> Tuple[float, Optional[float]]:
    """(mean, sample std) of ``values``; the std is None for a single value. NaN-free input required.

    Raises:
        ValueError: on an empty sequence or a non-finite value (a failed run must not become a number).
    """
    values = [float(v) for v in values]
    if not values:
        raise ValueError('mean_std of no values')
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f'non-finite value in {values}')
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


@dataclass
class PairedDifference:
    """``A - B`` over the seeds both rows have.

    Attributes:
        mean: mean of the per-seed differences.
        std: their sample standard deviation (None with one seed).
        seeds: the common seeds, sorted.
        verdict: ``'A'`` (A higher, outside the spread), ``'B'`` (B higher), ``'tie'`` (inside the spread)
            or ``'n/a'`` (fewer than two common seeds: no spread, no claim).
    """
    mean: float
    std: Optional[float]
    seeds: Tuple
    verdict: str

    def to_dict(self) -> dict:
        return dict(mean=self.mean, std=self.std, seeds=list(self.seeds), verdict=self.verdict)


def paired_difference(a: Mapping, b: Mapping) -> Optional[PairedDifference]:
    """Seed-paired ``a - b`` for ``{seed: value}`` maps; None when they share no seed.

    Higher is better is the caller's reading (PSNR, SSIM, mIoU); the verdict only says which is higher.
    """
    seeds = tuple(sorted(set(a) & set(b)))
    if not seeds:
        return None
    mean, std = mean_std([a[s] - b[s] for s in seeds])
    if std is None:
        verdict = 'n/a'
    elif abs(mean) <= std:
        verdict = 'tie'
    else:
        verdict = 'A' if mean > 0 else 'B'
    return PairedDifference(mean, std, seeds, verdict)


def format_mean_std(values: Sequence[float], digits: int = 2) -> str:
    """``'20.13 ± 0.05'`` (one value: ``'20.13'``; none: ``'—'``)."""
    if not values:
        return '—'
    mean, std = mean_std(values)
    return f'{mean:.{digits}f}' if std is None else f'{mean:.{digits}f} ± {std:.{digits}f}'


def by_seed(rows: Sequence[Mapping], key: str) -> Dict:
    """``{seed: row['metrics'][key]}`` over the rows that have ``key``."""
    return {r['seed']: r['metrics'][key] for r in rows if key in r.get('metrics', {})}
