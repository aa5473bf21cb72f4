"""The recovered-share arithmetic, the no-harm verdict and the summary, on hand numbers."""
import pytest

from mmmofme.evaluation.transfer_report import (
    MIN_DROP,
    PSNR_CAP,
    markdown_report,
    mean_share,
    no_harm,
    recovered_share,
    summarise,
)


@pytest.mark.parametrize('weathered, restored, clean, expected', [
    (20.0, 30.0, 40.0, 0.5),     # half the drop back
    (20.0, 40.0, 40.0, 1.0),     # all of it
    (20.0, 20.0, 40.0, 0.0),     # nothing
    (20.0, 15.0, 40.0, -0.25),   # harm: a quarter of the drop more
    (20.0, 44.0, 40.0, 1.2),     # better than clean
    (39.6, 45.0, 40.0, None),    # drop 0.4 < 0.5 points: n/a
    (41.0, 30.0, 40.0, None),    # the weather helped: nothing to recover
    (39.5, 39.75, 40.0, 0.5),    # exactly the minimum drop counts
])
def test_recovered_share(weathered, restored, clean, expected):
    share = recovered_share(weathered, restored, clean, MIN_DROP['mIoU'])
    assert share == (None if expected is None else pytest.approx(expected))


def test_map50_uses_its_own_minimum_drop():
    assert recovered_share(0.500, 0.502, 0.504, MIN_DROP['mAP50']) is None
    assert recovered_share(0.50, 0.53, 0.56, MIN_DROP['mAP50']) == pytest.approx(0.5)


def test_mean_share_leaves_out_na():
    assert mean_share([0.5, None, -0.1, None]) == pytest.approx(0.2)
    assert mean_share([None, None]) is None


@pytest.mark.parametrize('psnr_w, psnr_r, miou_w, miou_r, expected', [
    (20.0, 25.0, 30.0, 30.0, True),
    (20.0, 19.9, 30.0, 35.0, False),   # PSNR worse
    (20.0, 25.0, 30.0, 29.5, True),    # within 0.5 mIoU points
    (20.0, 25.0, 30.0, 29.4, False),   # beyond
    (PSNR_CAP, 41.0, 30.0, 30.0, True),   # clean input scores the cap; above it counts as no change
    (PSNR_CAP, 35.0, 30.0, 30.0, False),  # a visible change of a clean frame is harm
])
def test_no_harm(psnr_w, psnr_r, miou_w, miou_r, expected):
    assert no_harm(psnr_w, psnr_r, miou_w, miou_r) is expected


def _row(family, psnr_in, psnr_out, miou, map50, harmless=True):
    shares = {k: recovered_share(*v, MIN_DROP[k]) for k, v in (('mIoU', miou), ('mAP50', map50))}
    return dict(family=family, psnr_in=psnr_in, psnr_out=psnr_out, ssim_in=0.5, ssim_out=0.6,
                mIoU=dict(zip(('weathered', 'restored', 'clean'), miou)),
                mAP50=dict(zip(('weathered', 'restored', 'clean'), map50)), recovered=shares,
                no_harm=harmless)


def test_summary_per_family_and_markdown():
    kinds = {'a': _row('external', 15, 20, (20, 30, 40), (0.2, 0.3, 0.6)),
             'b': _row('external', 12, 12, (10, 10, 40), (0.1, 0.1, 0.6), harmless=False),
             'c': _row('near-clean', 40, 38, (40, 39.8, 40), (0.6, 0.6, 0.6))}
    s = summarise(kinds, ['a', 'b', 'c'])
    assert s['external']['recovered_mIoU'] == pytest.approx(0.25) and s['external']['counted_mIoU'] == 2
    assert s['external']['recovered_mAP50'] == pytest.approx(0.125)
    assert s['external']['no_harm'] == 1 and s['external']['psnr_gain'] == pytest.approx(2.5)
    assert s['near-clean']['recovered_mIoU'] is None and s['near-clean']['counted_mIoU'] == 0
    assert s['all']['kinds'] == 3 and s['all']['counted_mIoU'] == 2
    md = markdown_report(dict(kinds=kinds), {'report': ['a', 'c'], 'selection': ['b']})
    assert md.index('### report split') < md.index('### selection split')
    assert '| a | external | 15.00 → 20.00 | 0.500 → 0.600 | 20.00 / 30.00 / 40.00 | +0.50 |' in md
    assert '| c | near-clean |' in md and '| n/a |' in md
    assert '| b | external |' in md and '**NO**' in md
