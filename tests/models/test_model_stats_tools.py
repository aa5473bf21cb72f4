"""tools/analysis_tools/{model_stats,benchmark_moe}.py run on tiny settings and write their json."""
import json
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools'


@pytest.fixture
def _run(run_python):
    def run(script, *args):
        result = run_python(str(TOOLS / script), *args, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
    return run


@pytest.mark.slow
def test_model_stats_writes_rows(_run, tmp_path):
    out = tmp_path / 'stats.json'
    _run('model_stats.py', '--variants', 'dense', 'moe', 'mofme', '--num-experts', '4', '--top-k', '1', '2',
         '--input-size', '32', '--embed-dim', '32', '--depth', '1', '--latency-runs', '0', '--out', str(out))
    rows = json.loads(out.read_text())
    assert [(r['variant'], r['num_experts'], r['top_k']) for r in rows] == [
        ('dense', None, None), ('moe', 4, 1), ('moe', 4, 2), ('mofme', 4, 1), ('mofme', 4, 2)]
    for row in rows:
        assert set(row) == {'variant', 'num_experts', 'top_k', 'input_size', 'params', 'gmac', 'latency_ms',
                            'backend'}
        assert isinstance(row['params'], int) and row['gmac'] > 0 and row['latency_ms'] is None
        assert row['input_size'] == 32
    gmac = {(r['variant'], r['top_k']): r['gmac'] for r in rows}
    # only active experts count: one more expert per token costs more, and top-1 MoE ≈ dense + router
    assert gmac[('moe', 2)] > gmac[('moe', 1)] > gmac[('dense', None)]


@pytest.mark.slow
def test_benchmark_moe_writes_rows(_run, tmp_path):
    out = tmp_path / 'bench.json'
    _run('benchmark_moe.py', '--num-experts', '4', '--top-k', '2', '--tokens', '32', '--dim', '16',
         '--runs', '1', '--out', str(out))
    rows = json.loads(out.read_text())
    assert {r['kind'] for r in rows} == {'dense_ffn', 'moe', 'moe_all_experts', 'fme'}
    for row in rows:
        assert set(row) == {'kind', 'num_experts', 'backend', 'latency_ms'}
        assert row['num_experts'] == 4 and row['latency_ms'] > 0 and row['backend'] == 'onednn'
