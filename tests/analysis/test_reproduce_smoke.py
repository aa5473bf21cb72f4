"""CI smoke run of tools/analysis_tools/reproduce.py: 2 rows x 2 seeds x 4 iterations of the tiny config."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def make_pairs(root: Path, n: int = 3) -> None:
    """Smooth images and a veiled copy of each (``input/``, ``gt/``)."""
    rng = np.random.default_rng(0)
    (root / 'input').mkdir(parents=True)
    (root / 'gt').mkdir()
    for i in range(n):
        clean = cv2.GaussianBlur(rng.uniform(0, 255, (40, 56, 3)), (0, 0), 4).astype(np.uint8)
        cv2.imwrite(str(root / 'gt' / f'{i}.png'), clean)
        cv2.imwrite(str(root / 'input' / f'{i}.png'), (0.6 * clean + 90).astype(np.uint8))


def test_two_rows_two_seeds_write_tables_json_and_plots(tmp_path, load_tool):
    reproduce = load_tool('analysis_tools/reproduce')
    make_pairs(tmp_path / 'pairs')
    out = tmp_path / 'out'
    data = [f'{loader}.dataset.data_root={tmp_path / "pairs"}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    results = reproduce.main([
        '--profile', 'tiny', '--variants', 'dense', 'moe', '--jobs', '2', '--work-dir', str(out),
        '--configs', 'configs/baselines/dense_allweather-240.py',
        'configs/baselines/moe-e16-top2_allweather-240.py',
        '--cfg-options', *data])
    saved = json.loads((out / 'results.json').read_text())
    assert [(r['row'], r['seed'], r['status']) for r in saved['runs']] == [
        ('dense', 0, 'ok'), ('dense', 1, 'ok'), ('moe', 0, 'ok'), ('moe', 1, 'ok')]
    rows = {r['name']: r for r in saved['rows']}
    assert set(rows) == {'dense', 'moe'} and rows['moe']['params'] > rows['dense']['params'] > 0
    for run in saved['runs']:
        assert 5 < run['metrics']['PSNR'] < 60 and 0 < run['metrics']['SSIM'] <= 1
    assert results['runs'] == saved['runs']
    table = (out / 'results.md').read_text()
    ladder = [line for line in table.split('## Table 1')[1].split('##')[0].splitlines()
              if line.startswith('| ')]
    assert [line.split('|')[1].strip() for line in ladder[1:]] == ['dense', 'moe']
    mean_psnr = np.mean([r['metrics']['PSNR'] for r in saved['runs'] if r['row'] == 'dense'])
    assert f'{mean_psnr:.2f} ± ' in ladder[1]  # the table cell is the mean ± std of the two seeds
    log = (out / 'reproduce.log').read_text()
    assert log.count('ETA') == 4 and '[4/4]' in log
    assert (out / 'psnr_vs_params.png').stat().st_size > 0 and (out / 'per_weather.png').stat().st_size > 0
