"""The restorer robustness sweep (ImageNet-C corruptions x severities): cells, harm, table, heat map, tool."""
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mmmofme.evaluation import robustness_sweep as sweep
from mmmofme.evaluation.transfer_report import PSNR_CAP

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location('restorer_robustness_tool',
                                              ROOT / 'tools/analysis_tools/restorer_robustness.py')
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def frames(n=2):
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, (8, 12, 3), dtype=np.uint8)
    base = cv2.resize(coarse, (96, 64), interpolation=cv2.INTER_CUBIC)
    return [np.roll(base, 7 * i, axis=1) for i in range(n)]


def test_groups_expand_to_names_once_and_unknown_names_fail_in_one_line():
    names = sweep.corruption_names(['blur', 'motion_blur', 'contrast'])
    assert names[:2] == ['defocus_blur', 'glass_blur'] and names.count('motion_blur') == 1
    assert names[-1] == 'contrast' and len(sweep.corruption_names(['all'])) == 19
    with pytest.raises(ValueError, match=r"unknown corruption 'haze'; give a group") as err:
        sweep.corruption_names(['haze'])
    assert '\n' not in str(err.value)


def test_a_corrupted_frame_keeps_size_and_type_and_is_a_function_of_the_generator():
    clean = frames(1)[0]
    one = sweep.corrupt_frame(clean, 'gaussian_noise', 3, np.random.default_rng(5))
    assert one.shape == clean.shape and one.dtype == np.uint8 and not np.array_equal(one, clean)
    assert np.array_equal(one, sweep.corrupt_frame(clean, 'gaussian_noise', 3, np.random.default_rng(5)))
    assert not np.array_equal(one, sweep.corrupt_frame(clean, 'gaussian_noise', 3, np.random.default_rng(6)))
    state = np.random.get_state()[1].copy()
    sweep.corrupt_frame(clean, 'gaussian_noise', 3, np.random.default_rng(5))
    assert np.array_equal(np.random.get_state()[1], state)  # the global state is given back


def test_the_identity_harms_nothing_and_a_darkening_restorer_harms_every_cell():
    clean = frames()
    same = sweep.sweep_corruptions(lambda x: x, clean, ['contrast', 'jpeg_compression'], (1, 5),
                                   progress=False)
    assert [(c['corruption'], c['severity']) for c in same['cells']] == [
        ('contrast', 1), ('contrast', 5), ('jpeg_compression', 1), ('jpeg_compression', 5)]
    for cell in same['cells']:
        assert cell['gain'] == 0 and cell['worst_frame_gain'] == 0 and not cell['harmed']
        assert cell['psnr_in'] < PSNR_CAP and cell['ssim_in'] == cell['ssim_out'] < 1 and cell['frames'] == 2
    contrast1, contrast5 = same['cells'][:2]
    assert contrast5['psnr_in'] < contrast1['psnr_in']  # severity means what it says

    dark = sweep.sweep_corruptions(lambda x: x // 2, clean, ['contrast'], (1,), progress=False)['cells'][0]
    assert dark['harmed'] and dark['gain'] < -3 and dark['worst_frame_gain'] <= dark['gain']
    assert dark['psnr_in'] == contrast1['psnr_in']  # the same corrupted input for every restorer


def test_a_corruption_the_library_cannot_run_is_reported_and_a_restorer_error_is_not_swallowed(monkeypatch):
    real = sweep.corrupt_frame

    def flaky(bgr, corruption, severity, rng):
        if corruption == 'glass_blur':
            raise TypeError("gaussian() got an unexpected keyword argument 'multichannel'")
        return real(bgr, corruption, severity, rng)

    monkeypatch.setattr(sweep, 'corrupt_frame', flaky)
    res = sweep.sweep_corruptions(lambda x: x, frames(1), ['glass_blur', 'contrast'], (2,), progress=False)
    broken, fine = res['cells']
    assert broken['error'] == "TypeError: gaussian() got an unexpected keyword argument 'multichannel'"
    assert not broken['harmed'] and fine['error'] is None
    md = sweep.markdown_table(res)
    assert '| glass_blur | n/a |' in md and 'Not run: glass_blur severity 2: TypeError' in md

    def broken_restorer(x):
        raise TypeError('a bug in the restorer')

    with pytest.raises(TypeError, match='a bug in the restorer'):
        sweep.sweep_corruptions(broken_restorer, frames(1), ['contrast'], (1,), progress=False)


def test_the_table_bolds_harmed_cells_and_counts_them_and_the_heat_map_is_written(tmp_path):
    res = sweep.sweep_corruptions(lambda x: (x.astype(int) * 3 // 4).astype(np.uint8), frames(1),
                                  ['brightness', 'contrast'], (1, 2), progress=False)
    gains = {(c['corruption'], c['severity']): c['gain'] for c in res['cells']}
    md = sweep.markdown_table(res)
    assert md.splitlines()[0] == '| corruption | severity 1 | severity 2 |'
    harmed = [c for c in res['cells'] if c['harmed']]
    assert f'{len(harmed)} of 4 cells' in md and md.count('**') == 2 * len(harmed) > 0
    worst = min(gains, key=gains.get)
    assert f'worst {worst[0]} severity {worst[1]} ({gains[worst]:+.2f} dB)' in md
    sweep.plot_gains(res, str(tmp_path / 'gains.png'))
    assert cv2.imread(str(tmp_path / 'gains.png')) is not None


def test_the_tool_runs_a_restorer_checkpoint_end_to_end_and_fails_in_one_line(tmp_path, capsys):
    cfg = tmp_path / 'identity.py'
    cfg.write_text("model = dict(type='MoFMERestorer', generator=dict(type='IdentityRestorer'))\n")
    ckpt = tmp_path / 'identity.pth'
    torch.save(dict(state_dict={}, meta={}), ckpt)
    clean_dir = tmp_path / 'clean'
    clean_dir.mkdir()
    for i, frame in enumerate(frames(3)):
        cv2.imwrite(str(clean_dir / f'{i}.png'), frame)
    out = tmp_path / 'out'
    args = ['--restorer', str(cfg), str(ckpt), '--frames', str(clean_dir), '--num', '2', '--corruptions',
            'contrast', '--severities', '1', '3', '--out-dir', str(out), '--chain-config', 'none']
    assert tool.main(args) == 0
    res = json.loads((out / 'robustness.json').read_text())
    assert [c['severity'] for c in res['cells']] == [1, 3] and res['frames'] == 2
    assert all(c['gain'] == 0 for c in res['cells'])
    assert (out / 'robustness.md').read_text().count('| contrast |') == 1
    assert cv2.imread(str(out / 'robustness.png')) is not None
    capsys.readouterr()

    assert tool.main(['--frames', str(clean_dir)]) == 2
    assert capsys.readouterr().err == 'error: no restorer: give --restorer CONFIG CHECKPOINT or --demo-dir\n'
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert tool.main(['--restorer', str(cfg), str(ckpt), '--frames', str(empty)]) == 2
    assert capsys.readouterr().err.startswith(f'error: {empty}: no images (.png')
    assert tool.main(['--demo-dir', str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f'error: {tmp_path}/restorer/restorer_demo.py: missing (run the demo '
                                       'first: make demo)\n')
