"""tools/demo.py: schedule scaling, the report table and the sanity verdicts.

The run itself is `make demo`.
"""
import pytest


@pytest.fixture(scope='module')
def demo(load_tool):
    return load_tool('demo')



def fake_results(demo, restored_psnr=25.0, clean_map50=0.6):
    seg = dict(clean=dict(aAcc=90.0, mIoU=40.0, mAcc=50.0), weathered=dict(aAcc=80.0, mIoU=20.0, mAcc=30.0),
               restored=dict(aAcc=85.0, mIoU=30.0, mAcc=40.0))
    det = dict(clean=dict(mAP=0.4, mAP50=clean_map50), weathered=dict(mAP=0.2, mAP50=0.3),
               restored=dict(mAP=0.3, mAP50=0.5))
    return dict(
        restoration={w: dict(psnr_weathered=20.0, psnr_restored=restored_psnr, ssim_weathered=0.8,
                             ssim_restored=0.9) for w in demo.WEATHERS},
        segmentation={w: seg for w in demo.WEATHERS}, detection={w: det for w in demo.WEATHERS})


def test_all_checks_pass_on_good_results(demo):
    checks = demo.verdicts(fake_results(demo))
    assert len(checks) == len(demo.WEATHERS) + 3 and all(ok for _, ok in checks)
    assert 'restored mIoU > weathered mIoU (mean over weathers: 30.00 vs 20.00)' in [t for t, _ in checks]


@pytest.mark.parametrize('kwargs, failing', [
    (dict(restored_psnr=19.0), 'restored PSNR > weathered PSNR (rain'),
    (dict(clean_map50=0.49), 'clean bbox mAP50 >= 0.5')])
def test_a_failed_check_is_reported(demo, kwargs, failing):
    checks = demo.verdicts(fake_results(demo, **kwargs))
    assert any(text.startswith(failing) and not ok for text, ok in checks)


def test_table_has_one_row_per_weather_with_the_numbers(demo):
    lines = demo.table(fake_results(demo)).splitlines()
    assert len(lines) == 2 + len(demo.WEATHERS)
    assert lines[2].split() == ['rain', '|', '20.00', '25.00', '|', '20.00', '30.00', '40.00', '|',
                                '30.00', '40.00', '50.00', '|', '0.300', '0.500', '0.600']


def test_schedule_is_rescaled_to_the_iteration_budget(demo, tmp_path):
    cfg = demo.demo_config('restorer', tmp_path, iters=60)
    assert cfg.train_cfg.max_iters == 60 and cfg.default_hooks.checkpoint.interval == 60
    warmup, cosine = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 5)  # 0..50 of 600
    assert (cosine.begin, cosine.end, cosine.T_max) == (5, 60, 55)
    assert cfg.train_dataloader.dataset.data_root == str(tmp_path)
