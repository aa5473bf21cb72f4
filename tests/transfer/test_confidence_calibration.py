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
        assert swept.shape == (2, 10, 40, 48)
        for k, rng in enumerate(ranges):
            model.confidence_range = rng
            torch.testing.assert_close(swept[:, 3 * k:3 * k + 3], model(x))
        torch.testing.assert_close(swept[:, -1:], model.restore_with_confidence(x)[1])
    # a range that keeps everything below 1.0 as input leaves the input where the confidence is < 1
    assert not torch.equal(swept[:, :3], x)


def test_sweep_needs_a_confidence_head():
    with pytest.raises(ValueError, match='without a confidence head'):
        RangeSweep(MoFMEViT(**dict(TINY, confidence_head=False)), [(0.5, 1.0)])(torch.rand(1, 3, 32, 32))
    with pytest.raises(TypeError, match='no restore_with_confidence'):
        RangeSweep(torch.nn.Identity(), [(0.5, 1.0)])


def hand_sweep():
    # three ranges, no frame gate; 'clean' and 'jpeg' near-clean, 'rain' and 'fog' weather
    return dict(candidates=[dict(range=r, frame_gate=None) for r in ([0.5, 0.7], [0.8, 1.0], [0.9, 1.0])],
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


def test_rule_compares_gated_and_ungated_candidates_and_breaks_ties_towards_the_input():
    sweep = hand_sweep()
    sweep['candidates'] += [dict(range=[0.5, 0.7], frame_gate=[0.6, 0.8]),
                            dict(range=[0.5, 0.7], frame_gate=[0.7, 0.8])]
    # the gates leave clean and jpeg exact and keep the full weather gain of the loosest range
    for kind, outs in (('clean', [40.0, 40.0]), ('jpeg', [30.0, 30.0]), ('rain', [20.0, 20.0]),
                       ('fog', [21.0, 21.0])):
        sweep['kinds'][kind]['psnr_out'] += outs
    result = choose_confidence_range(sweep, near_clean=['jpeg'])
    assert result['range'] == (0.5, 0.7) and result['frame_gate'] == (0.7, 0.8)  # the tie: the higher gate
    assert result['mean_weather_gain'] == pytest.approx(5.5) and result['feasible']
    assert [c['frame_gate'] for c in result['candidates']] == [None, None, None, (0.6, 0.8), (0.7, 0.8)]


def test_sweep_applies_each_frame_gate_to_the_stitched_frame(calib_tree):
    from mmmofme.apis.inference import tiled_restore
    from mmmofme.evaluation.transfer_eval import capped_psnr, read_bgr
    samples = calibration_samples([('cityscapes', calib_tree, 'val', ['fog-patchy'])], num=1)
    model = tiny_model()
    tiling = dict(mode='slide', crop_size=(32, 32), stride=(24, 24), max_batch=8)
    gates = [None, (0.0, 0.01), (0.99, 1.0)]
    sweep = sweep_confidence_ranges(model, tiling, samples, [(0.2, 0.6)], gates=gates)
    assert [c['frame_gate'] for c in sweep['candidates']] == [None, [0.0, 0.01], [0.99, 1.0]]
    fog = sweep['kinds']['fog-patchy']
    weathered = np.ascontiguousarray(read_bgr(samples[0][1])[..., ::-1])
    x = torch.from_numpy(weathered).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        mean_conf = tiled_restore(model.tile_outputs, x, 32, 24)[:, 3].mean().item()
        model.confidence_range, model.frame_gate = (0.2, 0.6), (0.0, 0.01)
        gated = tiled_restore(model, x, 32, 24).clamp(0, 1)
    assert 0.01 < mean_conf < 0.99  # so gate (0, 0.01) passes everything and (0.99, 1) nothing
    expected = capped_psnr((gated[0].permute(1, 2, 0) * 255).round().byte().numpy(),
                           np.ascontiguousarray(read_bgr(samples[0][2])[..., ::-1]))
    assert fog['psnr_out'][0] == pytest.approx(expected, abs=1e-6)   # no gate
    assert fog['psnr_out'][1] == pytest.approx(expected, abs=1e-6)   # a gate that passes
    assert fog['psnr_out'][2] == pytest.approx(fog['psnr_in'])       # a gate that keeps the input


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
    assert chain.model.restorer.frame_gate is None
    assert set_confidence_range(chain, (0.5, 0.8), [0.6, 0.8]).model.restorer.frame_gate == (0.6, 0.8)
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
    assert [c['range'] for c in sweep['candidates']] == [[0.5, 1.0], [0.9, 1.0]]
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
                    '0.9', '--widths', '0.1', '--frame-gates', '0.3,0.6', '--out-dir', str(tmp_path / 'out')])
    result = json.loads((tmp_path / 'out/confidence_calibration.json').read_text())
    assert rc == (0 if result['feasible'] else 1)
    assert [tuple(c['range']) for c in result['candidates']] == [(0.5, 0.6), (0.9, 1.0)] * 2
    assert [c['frame_gate'] for c in result['candidates']] == [None, None, [0.3, 0.6], [0.3, 0.6]]
    calibrated = Config.fromfile(str(tmp_path / 'out/tiny_calibrated.py'))
    assert tuple(calibrated.model.generator.confidence_range) == tuple(result['range'])
    gate = calibrated.model.generator.frame_gate
    assert (None if gate is None else list(gate)) == result['frame_gate']
    assert '**chosen**' in (tmp_path / 'out/confidence_calibration.md').read_text()
