"""tools/analysis_tools/sweep_restorer.py: grid parsing, and a 2-point sweep of the tiny restorer config."""
import importlib.util
import json
from pathlib import Path

import pytest
from test_tools import CONFIG, ROOT, data_options, make_pairs

spec = importlib.util.spec_from_file_location(
    'sweep_restorer', ROOT / 'tools' / 'analysis_tools' / 'sweep_restorer.py')
sweep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sweep)


def test_grid_is_the_product_of_its_axes_and_lists_stay_whole():
    grid = sweep.parse_grid(['model.generator.num_experts=8,16',
                             "train_dataloader.dataset.weathers=['rain','fog'],['raindrop']"])
    assert grid[1][1] == ["['rain','fog']", "['raindrop']"]
    points = sweep.grid_points(grid)
    assert len(points) == 4
    assert points[0] == {'model.generator.num_experts': '8',
                         'train_dataloader.dataset.weathers': "['rain','fog']"}
    assert sweep.point_name(3, points[3]) == "03_num_experts-16_weathers-raindrop"
    with pytest.raises(ValueError):
        sweep.parse_grid(['no_equals_sign'])
    with pytest.raises(ValueError):
        sweep.parse_grid(['a=1,,2'])


def test_run_tool_creates_the_log_folder(tmp_path):
    # a fresh clone has no data/ folder: reproduce.py's first step logs to data/reproduce_cpu.log
    log = tmp_path / 'not' / 'yet' / 'there.log'
    code, seconds = sweep.run_tool(['-c', 'print("hello")'], str(log))
    assert code == 0 and seconds >= 0
    assert log.read_text().strip() == 'hello'


@pytest.mark.slow
def test_two_point_sweep_writes_one_row_per_point(tmp_path):
    data_root = tmp_path / 'pairs'
    make_pairs(data_root, n=4)
    out = tmp_path / 'sweep'
    rows = sweep.main([str(CONFIG), '--grid', 'model.generator.num_experts=2,4',
                       '--grid', 'train_cfg.max_iters=4', '--work-dir', str(out),
                       '--cfg-options', *data_options(data_root), 'train_cfg.val_interval=4'])
    assert [r['status'] for r in rows] == ['ok', 'ok']
    saved = json.loads((out / 'results.json').read_text())
    assert [p['overrides']['model.generator.num_experts'] for p in saved['points']] == ['2', '4']
    for point in saved['points']:
        assert 10 < point['metrics']['PSNR'] < 60 and 0 < point['metrics']['SSIM'] <= 1
        assert Path(point['checkpoint']).name == 'iter_4.pth'
    table = [line for line in (out / 'results.md').read_text().splitlines() if line.startswith('| 0')]
    assert len(table) == 2
    for line in table:  # point, num_experts, max_iters, PSNR, SSIM, train (s), status
        cells = [c.strip() for c in line.strip('|').split('|')]
        assert float(cells[3]) > 10 and 0 < float(cells[4]) <= 1 and cells[-1] == 'ok'
    assert 'ETA' in (out / 'sweep.log').read_text()
