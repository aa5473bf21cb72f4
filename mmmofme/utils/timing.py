"""Latency of several callables measured side by side, so that their ratios share one stretch of time."""
import statistics
import time
from typing import Callable, Dict, List


def interleaved_median_ms(fns: Dict[str, Callable[[], object]], runs: int) -> Dict[str, float]:
    """Median wall time (ms) of each callable over ``runs`` rounds, after one warm-up round.

    Each round calls every callable once, in order, so a slow stretch of a busy machine hits all of
    them alike instead of whichever happened to run then.

    Args:
        fns: Name → zero-argument callable.
        runs: Timed rounds, ≥ 1.
    """
    if runs < 1:
        raise ValueError(f'runs must be >= 1, got {runs}')
    times: Dict[str, List[float]] = {name: [] for name in fns}
    for round_idx in range(runs + 1):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if round_idx:
                times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}
