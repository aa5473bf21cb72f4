"""tools/analysis_tools/frame_time_budget.py on the tiny restorer: the work is split over the parts, the
frame's tiles and the lower bound follow from the measured numbers."""
import math
from pathlib import Path

import pytest

from mmmofme.apis.inference import tile_plan

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def result(load_tool):
    tool = load_tool('analysis_tools/frame_time_budget')
    return tool, tool.main([str(ROOT / 'tests' / 'configs' / 'tiny_restorer.py'), '--frame', '64', '96',
                            '--batch', '3', '--runs', '1', '--threads', '1', '--bf16'])


def test_tiles_follow_the_configs_tiling(result):
    _, out = result
    assert out['tile'] == [32, 32] and out['stride'] == [16, 16]  # tests/configs/tiny_restorer.py
    assert out['tiles_per_frame'] == len(tile_plan((64, 96), (32, 32), (16, 16))[0]) == 15


def test_parts_hold_the_networks_work(result):
    _, out = result
    names = [row['part'] for row in out['parts']]
    assert names[:2] == ['stem', 'patch_embed'] and 'blocks.0' in names and 'tail' in names
    # every multiply-accumulate of the network happens inside one of its top-level parts
    assert math.isclose(sum(row['gflop'] for row in out['parts']), out['frame_gflop'], rel_tol=0.02)
    assert math.isclose(sum(row['share_of_work'] for row in out['parts']), 1.0, abs_tol=0.01)
    assert all(row['seconds'] >= 0 for row in out['parts'])


def test_lower_bound_and_bf16(result):
    tool, out = result
    bound = out['frame_gflop'] / out['matmul_fp32_gflops_per_s']
    assert math.isclose(out['lower_bound_at_matmul_rate_s'], bound, rel_tol=0.02, abs_tol=0.005)
    assert out['bf16_psnr_vs_fp32_db'] > 35  # bf16 keeps ~3 significant digits: far above 8-bit images
    assert out['bf16_max_abs_diff'] > 0      # and is really another precision
    assert 'bf16 autocast' in tool.format_table(out)
