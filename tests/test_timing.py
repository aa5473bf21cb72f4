"""interleaved_median_ms: every callable once per round, in turn; medians from the timed rounds only."""
import pytest

from mmmofme.utils import interleaved_median_ms, timing


def test_rounds_interleave_the_callables_and_skip_the_warm_up(monkeypatch):
    calls = []
    clock = iter(range(0, 10_000, 1))  # perf_counter advances 1 s per reading
    monkeypatch.setattr(timing.time, 'perf_counter', lambda: next(clock))
    medians = interleaved_median_ms({'a': lambda: calls.append('a'), 'b': lambda: calls.append('b')}, runs=3)
    assert calls == ['a', 'b'] * 4  # warm-up round + 3 timed rounds, in turn
    assert medians == {'a': 1000.0, 'b': 1000.0}  # start and stop are consecutive readings: 1 s


def test_runs_must_be_positive():
    with pytest.raises(ValueError, match='runs must be >= 1'):
        interleaved_median_ms({'a': lambda: None}, runs=0)
