"""tools/demo.py: schedule scaling, the report table and the sanity verdicts.

The run itself is `make demo`.
"""
import pytest


@pytest.fixture(scope='module')
def demo(load_tool):
    return load_tool('demo')



def fake_row(psnr_in=20.0, psnr_out=25.0, miou=(20.0, 35.0, 40.0), map50=(0.3, 0.5, 0.6), family='weather'):
    modes = ('weathered', 'restored', 'clean')
    share = (miou[1] - miou[0]) / (miou[2] - miou[0]) if miou[2] - miou[0] >= 0.5 else None
    return dict(family=family, psnr_in=psnr_in, psnr_out=psnr_out, mIoU=dict(zip(modes, miou)),
                mAcc=dict(zip(modes, (30.0, 40.0, 50.0))), mAP50=dict(zip(modes, map50)),
                recovered=dict(mIoU=share, mAP50=None),
                no_harm=psnr_out >= psnr_in and miou[1] >= miou[0] - .5)


def fake_results(demo, rows=None, clean_map50=0.6, chain=(30.0, 30.2)):
    kinds = {w: fake_row() for w in demo.WEATHERS}
    kinds['clean'] = fake_row(40.0, 40.0, (40.0, 40.0, 40.0), family='near-clean')
    kinds.update(rows or {})
    return dict(in_domain=dict(kinds=kinds, clean=dict(mIoU=40.0, mAP50=clean_map50)),
                held_out=dict(kinds={'fog-dense': fake_row()}),
                chain_check=dict(weather='rain', runner=chain[0], in_process=chain[1]),
                raindrop_inside_drops=dict(psnr_weathered=15.0, psnr_restored=15.2))


def test_all_checks_pass_on_good_results(demo):
    checks = demo.verdicts(fake_results(demo))
    assert len(checks) == len(demo.IMPROVED) + len(demo.WEATHERS) + 1 + 3 and all(ok for _, ok in checks)
    assert ('share of the mean mIoU drop over rain, fog, snow recovered >= 60% (75%; mean of the '
            'per-weather shares 75%; over rain, fog, snow, raindrop 75%)') in [t for t, _ in checks]


def test_recovery_check_counts_the_improved_weathers_not_the_lens_drops(demo):
    """Raindrop frames passed through unchanged (drop 10, nothing recovered) do not fail the check; the
    share over all four weathers is reported beside it."""
    rows = {w: fake_row(miou=(20.0, 33.0, 40.0)) for w in ('rain', 'fog', 'snow')}  # 65 % each
    rows['raindrop'] = fake_row(psnr_out=20.0, miou=(30.0, 30.0, 40.0))
    checks = dict(demo.verdicts(fake_results(demo, rows)))
    text = ('share of the mean mIoU drop over rain, fog, snow recovered >= 60% (65%; mean of the per-weather '
            'shares 65%; over rain, fog, snow, raindrop 56%)')
    assert checks[text] is True
    rows['snow'] = fake_row(miou=(20.0, 26.0, 40.0))  # (13 + 13 + 6) / 60 = 53 %
    assert not [ok for text, ok in demo.verdicts(fake_results(demo, rows)) if text.startswith('share')][0]


@pytest.mark.parametrize('rows, kwargs, failing', [
    (dict(rain=fake_row(psnr_out=19.8)), {}, 'restored PSNR > weathered PSNR (rain'),
    (dict(raindrop=fake_row(psnr_in=25.0, psnr_out=24.4)), {}, 'no harm on raindrop'),
    (dict(clean=fake_row(40.0, 40.0, (40.0, 38.9, 40.0))), {}, 'no harm on clean'),
    ({w: fake_row(miou=(20.0, 31.0, 40.0)) for w in ('rain', 'fog', 'snow')}, {},
     'share of the mean mIoU drop'),
    ({}, dict(clean_map50=0.49), 'clean bbox mAP50 >= 0.5'),
    ({}, dict(chain=(28.0, 30.2)), 'the chained config through the Runner agrees')])
def test_a_failed_check_is_reported(demo, rows, kwargs, failing):
    checks = demo.verdicts(fake_results(demo, rows, **kwargs))
    assert [text for text, ok in checks if not ok and text.startswith(failing)]
    assert sum(not ok for _, ok in checks) == 1


def test_half_a_point_of_psnr_and_one_of_miou_are_tolerated_as_no_harm(demo):
    rows = dict(raindrop=fake_row(psnr_in=25.0, psnr_out=24.5, miou=(39.8, 38.9, 40.0)))
    assert all(ok for _, ok in demo.verdicts(fake_results(demo, rows)))


def test_recovery_of_the_mean_weighs_weathers_by_their_drop(demo):
    rows = {'fog': fake_row(miou=(20.0, 35.0, 40.0)), 'raindrop': fake_row(miou=(36.0, 35.0, 40.0))}
    # mean weathered 28, restored 35, clean 40: 7 of 12 points back; per-weather shares 0.75 and -0.25
    assert demo.recovery_of_mean(rows, ['fog', 'raindrop']) == pytest.approx(7 / 12)
    assert demo.mean_recovery(rows, ['fog', 'raindrop']) == pytest.approx(0.25)


def test_recovery_is_the_mean_of_the_shares_that_exist(demo):
    rows = {'rain': fake_row(miou=(20.0, 30.0, 40.0)), 'fog': fake_row(miou=(10.0, 40.0, 40.0)),
            'snow': fake_row(miou=(39.8, 39.0, 40.0))}  # snow: drop under 0.5 points, n/a
    assert demo.mean_recovery(rows, ['rain', 'fog', 'snow']) == pytest.approx(0.75)
    assert demo.mean_recovery({'snow': rows['snow']}, ['snow']) is None


def test_table_has_one_row_per_kind_with_the_numbers(demo):
    lines = demo.table({'rain': fake_row()}, ['rain']).splitlines()
    assert len(lines) == 3
    assert lines[2].split() == ['rain', '|', '20.00', '25.00', '|', '20.00', '35.00', '40.00', '+0.75', '|',
                                '30.00', '40.00', '|', '0.300', '0.500', '0.600', '|', 'yes']


def test_drop_sentence_says_when_removal_is_not_reached(demo):
    assert 'not reached' in demo.drop_sentence(dict(psnr_weathered=15.0, psnr_restored=15.2))
    assert 'not reached' not in demo.drop_sentence(dict(psnr_weathered=15.0, psnr_restored=17.0))


def test_schedule_is_rescaled_to_the_iteration_budget(demo, tmp_path):
    cfg = demo.demo_config('restorer', tmp_path, iters=60)
    assert cfg.train_cfg.max_iters == 60 and cfg.default_hooks.checkpoint.interval == 60
    warmup, cosine = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 5)  # 0..50 of 600
    assert (cosine.begin, cosine.end, cosine.T_max) == (5, 60, 55)
    assert cfg.train_dataloader.dataset.data_root == str(tmp_path)


def test_drop_region_psnr_pools_the_drop_pixels_of_the_raindrop_frames(demo, tmp_path):
    """Two raindrop frames (1 and 3 drop pixels; one pixel changed by only 8 grey levels: outside); a
    restorer off by 2 everywhere: PSNR of MSE 4 inside the drops, the input's pooled over 4 pixels."""
    import cv2
    import numpy as np

    clean = np.full((4, 6, 3), 100, np.uint8)
    changes = [{(0, 0): 40, (1, 1): 8}, {(0, 1): 20, (2, 2): 20, (3, 5): 20}]
    for i, change in enumerate(changes):
        frame = f'city_{i:06d}_000019'
        weathered = clean.copy()
        for (y, x), c in change.items():
            weathered[y, x, 2] += c  # one channel
        for tag, img in (('', clean), ('_raindrop', weathered)):
            folder = tmp_path / f'leftImg8bit{tag}' / 'val' / 'city'
            folder.mkdir(parents=True, exist_ok=True)
            name = f'{frame}_leftImg8bit{tag}{"_heavy" if tag else ""}.png'
            cv2.imwrite(str(folder / name), img[..., ::-1])

    class OffByTwo:
        @staticmethod
        def restore(rgb):
            return np.full_like(rgb, 102)

    res = demo.drop_region_psnr(OffByTwo(), tmp_path, num=10)
    weathered_mse = (40 ** 2 + 3 * 20 ** 2) / (4 * 3)  # one channel changed per drop pixel, 3 counted
    assert res['psnr_weathered'] == pytest.approx(10 * np.log10(255 ** 2 / weathered_mse))
    assert res['psnr_restored'] == pytest.approx(10 * np.log10(255 ** 2 / 4))


@pytest.fixture
def restorer_choice(demo, monkeypatch):
    """``--restorer-config`` / ``--restorer-options`` as main() sets them, undone after the test."""
    def choose(config, options=None):
        monkeypatch.setitem(demo.CONFIGS, 'restorer', demo.ROOT / config)
        monkeypatch.setitem(demo.OPTIONS, 'restorer', dict(options or {}))
    return choose


def test_the_chained_config_gets_the_chosen_restorer_and_its_options(demo, restorer_choice, tmp_path):
    restorer_choice('configs/synthetic/mofme-noconf_synthetic.py', {'model.generator.top_k': 2})
    restorer = demo.demo_config('restorer', tmp_path)
    chained = demo.demo_config('seg_chain', tmp_path).model.restorer
    assert restorer.model.generator.top_k == 2 and not restorer.model.generator.confidence_head
    assert chained.to_dict() == restorer.model.generator.to_dict()
    # the blend lands on the chained restorer; the default restorer's has a confidence head
    restorer_choice('configs/synthetic/mofme_synthetic.py')
    blend = dict(range=(0.3, 0.6), frame_gate=(0.5, 0.7))
    chained = demo.demo_config('seg_chain', tmp_path, blend=blend).model.restorer
    assert (chained.confidence_range, chained.frame_gate) == ((0.3, 0.6), (0.5, 0.7))


def test_the_data_root_reaches_every_dataset_inside_wrappers(demo, restorer_choice, tmp_path):
    # mofme-mixdr_synthetic.py trains on ConcatDataset([fixed pairs, RepeatDataset(randomised weather)])
    restorer_choice('configs/synthetic/mofme-mixdr_synthetic.py')
    cfg = demo.demo_config('restorer', tmp_path)
    fixed, randomised = cfg.train_dataloader.dataset.datasets
    assert 'data_root' not in cfg.train_dataloader.dataset and 'data_root' not in randomised
    assert fixed.data_root == randomised.dataset.data_root == cfg.val_dataloader.dataset.data_root \
        == str(tmp_path)


@pytest.mark.parametrize('stamp, retrained', [
    (None, False),  # a checkpoint put there by hand: reused
    (dict(options={'randomness.seed': 1}), False),  # trained by an earlier demo with the same settings
    (dict(options={'randomness.seed': 2}), True),  # other options: trained again
    (dict(options={'randomness.seed': 1}, iters=7), True),  # stamp of another budget
])
def test_reuse_keeps_only_a_checkpoint_of_the_same_settings(demo, restorer_choice, tmp_path, monkeypatch,
                                                            stamp, retrained):
    import argparse
    import json
    restorer_choice('configs/synthetic/mofme_synthetic.py', {'randomness.seed': 1})
    work = tmp_path / 'restorer'
    work.mkdir()
    (work / 'iter_5.pth').write_bytes(b'old')
    if stamp is not None:
        settings = dict(config=str(demo.CONFIGS['restorer']), options={}, iters=5)
        settings.update(stamp)
        (work / 'demo_settings.json').write_text(json.dumps(settings))
    calls = []

    def fake_train(args, stage):
        calls.append(args)
        (work / 'iter_5.pth').write_bytes(b'new')
    monkeypatch.setattr(demo, 'run_tool', fake_train)
    args = argparse.Namespace(work_dir=str(tmp_path), reuse=True)
    ckpt = demo.train('restorer', args, tmp_path, 5)
    assert ckpt == work / 'iter_5.pth' and bool(calls) == retrained
    assert ckpt.read_bytes() == (b'new' if retrained else b'old')
    if retrained:  # the new checkpoint's settings, for the next --reuse
        assert json.loads((work / 'demo_settings.json').read_text())['options'] == {'randomness.seed': 1}
        dumped = (work / 'restorer_demo.py').read_text()
        assert 'seed=1' in dumped and 'max_iters=5' in dumped


@pytest.mark.parametrize('config, options, says', [
    ('configs/synthetic/no_such_config.py', [], 'no such restorer config'),
    ('configs/synthetic/mofme-noconf_synthetic.py', [], 'the restorer has no confidence head'),
    ('configs/synthetic/mofme_synthetic.py', ['model.generator.confidence_head=False'],
     'the restorer has no confidence head'),
    ('configs/synthetic/mofme-fastscnn_synthetic.py', [], 'not a restorer config (no model.generator)'),
])
def test_a_restorer_config_the_demo_cannot_use_is_a_one_line_error(demo, monkeypatch, capsys, config, options,
                                                                  says):
    monkeypatch.setitem(demo.CONFIGS, 'restorer', demo.CONFIGS['restorer'])  # main() sets both
    monkeypatch.setitem(demo.OPTIONS, 'restorer', {})
    argv = ['--restorer-config', str(demo.ROOT / config)]
    argv += ['--restorer-options', *options] if options else []
    with pytest.raises(SystemExit) as exit_info:
        demo.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert '\n' not in err and err.startswith(f'[demo] error: {demo.ROOT / config}: ') and says in err
