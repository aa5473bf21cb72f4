"""Choosing the confidence range: the candidate grid, the one-pass sweep equals the model run at each
range, the rule on hand-built numbers, the config setter, and the tool end to end on a tiny tree."""
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmmofme.evaluation.confidence_calibration import (
    RangeSweep,
    calibration_samples,
    candidate_ranges,
    choose_confidence_range,
    set_confidence_range,
    sweep_confidence_ranges,
)
from mmmofme.models.archs import MoFMEViT

TINY = dict(embed_dim=32, depth=1, img_size=32, num_heads=2, head_dim=16, stem_channels=8, head_channels=16,
            num_experts=4, top_k=2, image_residual=True, confidence_head=True)


def tiny_model(seed: int = 0) -> MoFMEViT:
    torch.manual_seed(seed)
    model = MoFMEViT(**TINY).eval()
    with torch.no_grad():  # a non-trivial restoration and confidence (both heads start flat)
        model.tail.body[-1].weight.normal_(std=0.5)
        model.confidence.conv2.weight.normal_(std=2.0)
    return model


def test_candidates_cap_high_at_one_and_drop_repeats():
    assert candidate_ranges([0.8, 0.95], [0.1, 0.2]) == [(0.8, 0.9), (0.8, 1.0), (0.95, 1.0)]
    with pytest.raises(ValueError, match='no valid'):
        candidate_ranges([1.0], [0.1])


def test_one_pass_sweep_equals_the_model_at_each_range():
    model = tiny_model()
    ranges = [(0.0, 1.0), (0.4, 0.6), (0.9, 1.0)]
    x = torch.rand(2, 3, 40, 48)
    with torch.no_grad():
        swept = RangeSweep(model, ranges)(x)
        assert swept.shape == (2, 9, 40, 48)
        for k, rng in enumerate(ranges):
            model.confidence_range = rng
            torch.testing.assert_close(swept[:, 3 * k:3 * k + 3], model(x))
    # a range that keeps everything below 1.0 as input leaves the input where the confidence is < 1
    assert not torch.equal(swept[:, :3], x)


def test_sweep_needs_a_confidence_head():
    with pytest.raises(ValueError, match='without a confidence head'):
        RangeSweep(MoFMEViT(**dict(TINY, confidence_head=False)), [(0.5, 1.0)])(torch.rand(1, 3, 32, 32))
    with pytest.raises(TypeError, match='no restore_with_confidence'):
        RangeSweep(torch.nn.Identity(), [(0.5, 1.0)])


def hand_sweep():
    # three ranges; 'clean' and 'jpeg' near-clean, 'rain' and 'fog' weather
    return dict(ranges=[[0.5, 0.7], [0.8, 1.0], [0.9, 1.0]],
                kinds=dict(clean=dict(psnr_in=40.0, psnr_out=[38.0, 40.0, 40.0]),
                           jpeg=dict(psnr_in=30.0, psnr_out=[29.0, 30.1, 30.0]),
                           rain=dict(psnr_in=15.0, psnr_out=[20.0, 19.5, 19.0]),
                           fog=dict(psnr_in=15.0, psnr_out=[21.0, 20.5, 20.0])))


def test_rule_takes_the_best_weather_gain_that_harms_no_near_clean_kind():
    result = choose_confidence_range(hand_sweep(), near_clean=['jpeg'])
    assert result['range'] == (0.8, 1.0) and result['feasible']
    assert result['mean_weather_gain'] == pytest.approx(5.0)
    assert [c['feasible'] for c in result['candidates']] == [False, True, True]
    assert result['near_clean'] == ['clean', 'jpeg'] and result['weather'] == ['rain', 'fog']


def test_tolerances_widen_what_passes():
    result = choose_confidence_range(hand_sweep(), near_clean=['jpeg'], near_clean_tolerance=2.0)
    assert result['range'] == (0.5, 0.7)
    # every weather must gain >= 4.8 dB: only (0.5, 0.7) does, and it harms clean frames, so none passes;
    # the least harmful ones tie at 0 dB and the better weather gain decides
    strict = choose_confidence_range(hand_sweep(), near_clean=['jpeg'], weather_tolerance=-4.8)
    assert strict['range'] == (0.8, 1.0) and not strict['feasible']


def test_without_a_passing_candidate_the_least_harmful_is_returned_as_not_feasible():
    sweep = hand_sweep()
    sweep['kinds']['jpeg']['psnr_out'] = [28.0, 29.5, 29.8]
    result = choose_confidence_range(sweep, near_clean=['jpeg'])
    assert result['range'] == (0.9, 1.0) and not result['feasible']
    assert result['worst_near_clean_gain'] == pytest.approx(-0.2)


def test_rule_needs_both_groups():
    sweep = hand_sweep()
    with pytest.raises(ValueError, match='needs near-clean and weather kinds'):
        choose_confidence_range(dict(sweep, kinds={'rain': sweep['kinds']['rain']}), near_clean=[])


def test_set_confidence_range_in_restorer_and_chain_configs():
    head = dict(type='MoFMEViT', confidence_head=True)
    restorer = Config(dict(model=dict(type='MoFMERestorer', generator=head)))
    assert set_confidence_range(restorer, [0.9, 1]).model.generator.confidence_range == (0.9, 1.0)
    chain = Config(dict(model=dict(type='DeweatherSegmentor', restorer=head)))
    assert set_confidence_range(chain, (0.8, 0.95)).model.restorer.confidence_range == (0.8, 0.95)
    with pytest.raises(ValueError, match='has no confidence head'):
        set_confidence_range(Config(dict(model=dict(generator=dict(type='MoFMEViT')))), (0.9, 1.0))


@pytest.fixture(scope='module')
def calib_tree(tmp_path_factory, synthetic_val):
    from mmmofme.datasets.transfer.writer import write_transfer_set
    out = str(tmp_path_factory.mktemp('calib_tree'))
    write_transfer_set(synthetic_val, out, ['clean', 'jpeg', 'fog-patchy'], None, seed=0, split='val',
                       workers=1)
    return out


def test_samples_take_one_frame_per_kind_and_frame(calib_tree):
    samples = calibration_samples([('cityscapes', calib_tree, 'val', ['clean', 'jpeg', 'fog-patchy'])], num=2)
    assert [s[0] for s in samples] == ['clean'] * 2 + ['jpeg'] * 2 + ['fog-patchy'] * 2
    assert samples[0][1] == samples[0][2]  # a clean frame is its own target
    assert all(s[1] != s[2] for s in samples[2:])


def test_sweep_scores_identity_range_as_no_change(calib_tree):
    samples = calibration_samples([('cityscapes', calib_tree, 'val', ['clean', 'fog-patchy'])], num=1)
    model = tiny_model()
    with torch.no_grad():  # confidence 0 everywhere: every range returns the input
        model.confidence.conv2.weight.zero_()
        model.confidence.conv2.bias.fill_(-20.0)
    tiling = dict(mode='slide', crop_size=(32, 32), stride=(24, 24), max_batch=8)
    sweep = sweep_confidence_ranges(model, tiling, samples, [(0.5, 1.0), (0.9, 1.0)])
    assert sweep['kinds']['clean'] == dict(frames=1, psnr_in=40.0, psnr_out=[40.0, 40.0])
    fog = sweep['kinds']['fog-patchy']
    assert fog['psnr_in'] < 30 and np.allclose(fog['psnr_out'], fog['psnr_in'])


def test_tool_writes_the_choice_and_a_calibrated_config(calib_tree, tmp_path, load_tool):
    tool = load_tool('analysis_tools/calibrate_confidence')
    cfg = Config(dict(model=dict(type='MoFMERestorer', generator=dict(type='MoFMEViT', **TINY))))
    cfg_file = tmp_path / 'tiny.py'
    cfg.dump(str(cfg_file))
    ckpt = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict={f'generator.{k}': v for k, v in tiny_model().state_dict().items()}), ckpt)
    rc = tool.main([str(cfg_file), str(ckpt), '--transfer-tree', calib_tree, '--transfer-kinds', 'clean',
                    'fog-patchy', '--split', 'val', '--num', '1', '--chain-config', 'none', '--lows', '0.5',
                    '0.9', '--widths', '0.1', '--out-dir', str(tmp_path / 'out')])
    result = json.loads((tmp_path / 'out/confidence_calibration.json').read_text())
    assert rc == (0 if result['feasible'] else 1)
    assert [tuple(c['range']) for c in result['candidates']] == [(0.5, 0.6), (0.9, 1.0)]
    calibrated = Config.fromfile(str(tmp_path / 'out/tiny_calibrated.py'))
    assert tuple(calibrated.model.generator.confidence_range) == tuple(result['range'])
    assert '**chosen**' in (tmp_path / 'out/confidence_calibration.md').read_text()
