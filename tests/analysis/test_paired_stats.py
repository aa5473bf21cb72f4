"""Seed-paired differences, the tie rule and the recovered share of the reproduction tables, on hand
numbers."""
import math

import pytest

from mmmofme.evaluation.paired_stats import by_seed, format_mean_std, mean_std, paired_difference
from mmmofme.evaluation.reproduction_report import claims, recovery_by_seed


def test_mean_and_sample_std():
    mean, std = mean_std([20.0, 21.0, 22.5])
    assert mean == pytest.approx(21.1666667)
    # sample std (ddof=1): sqrt(((-7/6)^2 + (-1/6)^2 + (4/3)^2) / 2)
    assert std == pytest.approx(math.sqrt((49 / 36 + 1 / 36 + 16 / 9) / 2))
    assert mean_std([3.0]) == (3.0, None)
    assert format_mean_std([20.0, 21.0, 22.5]) == '21.17 ± 1.26'
    assert format_mean_std([3.0]) == '3.00' and format_mean_std([]) == '—'
    with pytest.raises(ValueError):
        mean_std([])
    with pytest.raises(ValueError):
        mean_std([1.0, float('nan')])


def test_paired_difference_uses_the_common_seeds_and_the_tie_rule():
    # A beats B by 0.10, 0.12, 0.08 dB on seeds 0-2: mean 0.10, std 0.02 -> outside its spread
    a = {0: 20.10, 1: 20.52, 2: 19.98, 7: 99.0}
    b = {0: 20.00, 1: 20.40, 2: 19.90}
    diff = paired_difference(a, b)
    assert diff.seeds == (0, 1, 2)  # seed 7 has no partner
    assert diff.mean == pytest.approx(0.10) and diff.std == pytest.approx(0.02)
    assert diff.verdict == 'A'
    assert paired_difference(b, a).verdict == 'B'
    # differences +0.3, -0.1, +0.1: mean 0.1, std 0.2 -> a tie although the mean is positive
    tie = paired_difference({0: 1.3, 1: 0.9, 2: 1.1}, {0: 1.0, 1: 1.0, 2: 1.0})
    assert tie.mean == pytest.approx(0.1) and tie.std == pytest.approx(0.2) and tie.verdict == 'tie'
    # two seeds, differences 2 and 0: mean 1 < std sqrt(2) -> tie
    two = paired_difference({0: 2.0, 1: 0.0}, {0: 0.0, 1: 0.0})
    assert two.std == pytest.approx(2 ** 0.5) and two.verdict == 'tie'
    one = paired_difference({0: 2.0}, {0: 1.0})
    assert one.mean == 1.0 and one.std is None and one.verdict == 'n/a'
    assert paired_difference({0: 1.0}, {1: 1.0}) is None


def _run(row, seed, **metrics):
    return dict(row=row, seed=seed, status='ok', metrics=metrics)


def test_claims_pair_each_ingredient_with_the_row_without_it():
    rows = [dict(name=n, family=f, rung=r, generator={}, tables=['ladder']) for n, f, r in (
        ('dense', 'dense', 'base'), ('moe', 'moe', 'base'), ('moe+uar', 'moe', '+UaR'),
        ('moe+fme', 'moe', '+FME'), ('moe+fme+uar', 'moe', '+FME+UaR'))]
    psnr = {'dense': (19.0, 19.2, 19.1), 'moe': (20.0, 20.1, 20.2), 'moe+uar': (20.3, 20.0, 20.2),
            'moe+fme': (19.90, 20.00, 20.10), 'moe+fme+uar': (20.05, 20.15, 20.25)}
    runs = [_run(name, seed, PSNR=v) for name, values in psnr.items() for seed, v in enumerate(values)]
    found = {(c['a'], c['b']): c for c in claims(dict(rows=rows, runs=runs), metrics=('PSNR',))}
    assert set(found) == {('moe+uar', 'moe'), ('moe+fme', 'moe'), ('moe+fme+uar', 'moe+fme'),
                          ('moe+fme+uar', 'moe'), ('moe+fme+uar', 'dense')}
    # UaR vs top-k: +0.3, -0.1, 0.0 -> mean 0.0667, std 0.2082: a tie
    uar = found[('moe+uar', 'moe')]
    assert uar['mean'] == pytest.approx(0.2 / 3) and uar['std'] == pytest.approx(0.2081666)
    assert uar['verdict'] == 'tie'
    # FME + UaR vs FME: +0.15 on every seed -> std 0, A higher
    assert found[('moe+fme+uar', 'moe+fme')]['mean'] == pytest.approx(0.15)
    assert found[('moe+fme+uar', 'moe+fme')]['verdict'] == 'A'
    # FME vs FFN experts: -0.1 on every seed -> B (moe) higher
    assert found[('moe+fme', 'moe')]['verdict'] == 'B'
    assert by_seed([r for r in runs if r['row'] == 'dense'], 'PSNR') == {0: 19.0, 1: 19.2, 2: 19.1}


def test_recovered_share_per_seed_against_weathered_and_clean():
    # segmentor: weathered rain 30, fog 40 (clean 50); fog drop 10, rain drop 20
    results = dict(segmentor=dict(weathers=['rain', 'fog'], metrics={'rain/mIoU': 30.0, 'fog/mIoU': 40.0,
                                                                     'fog/mAcc': 45.0, 'clean/mIoU': 50.0}),
                   runs=[_run('mofme', 0, **{'restored/rain/mIoU': 45.0, 'restored/fog/mIoU': 40.0}),
                         _run('mofme', 1, **{'restored/rain/mIoU': 25.0, 'restored/fog/mIoU': 50.0})])
    shares = recovery_by_seed(results, 'mofme', ['rain', 'fog'])
    assert shares[0]['rain'] == pytest.approx(0.75) and shares[0]['fog'] == pytest.approx(0.0)
    assert shares[0]['mean'] == pytest.approx(0.375)
    assert shares[1]['rain'] == pytest.approx(-0.25) and shares[1]['fog'] == pytest.approx(1.0)
    # a weather that costs less than 0.5 mIoU has no share and is left out of the mean
    results['segmentor']['metrics']['fog/mIoU'] = 49.8
    shares = recovery_by_seed(results, 'mofme', ['rain', 'fog'])
    assert shares[0]['fog'] is None and shares[0]['mean'] == pytest.approx(0.75)
