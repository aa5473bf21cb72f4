"""tools/test.py on a chained upstream config with a merged checkpoint prints mmseg's aAcc / mIoU / mAcc."""
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mmmofme.mmseg import DeweatherSegmentor

ROOT = Path(__file__).resolve().parents[2]
PSPNET = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
pytestmark = pytest.mark.slow


def write_cityscapes_val(root: Path, n: int = 2, size=(64, 128)) -> None:
    """A Cityscapes-layout val split (leftImg8bit + gtFine labelTrainIds) of random frames."""
    rng = np.random.default_rng(0)
    for folder in ('leftImg8bit/val/city', 'gtFine/val/city'):
        (root / folder).mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(root / f'leftImg8bit/val/city/f{i}_leftImg8bit.png'),
                    rng.integers(0, 256, (*size, 3), dtype=np.uint8))
        cv2.imwrite(str(root / f'gtFine/val/city/f{i}_gtFine_labelTrainIds.png'),
                    rng.integers(0, 19, size, dtype=np.uint8))


def test_tools_test_on_a_chained_config_prints_miou(tmp_path, run_python):
    data_root = tmp_path / 'cityscapes'
    write_cityscapes_val(data_root)
    config = tmp_path / 'chain_pspnet.py'
    config.write_text(textwrap.dedent(f"""\
        _base_ = '{PSPNET}'
        custom_imports = dict(imports=['mmmofme.mmseg', 'chain_stand_ins'])
        model = dict(_delete_=True, type='DeweatherSegmentor', segmentor={{{{_base_.model}}}},
                     restorer=dict(type='ChainTestPixelRestorer'),
                     restore_cfg=dict(mode='slide', crop_size=(32, 64)))
        """))
    # a chain checkpoint as users make it: restorer + segmentor files merged by the tool
    torch.manual_seed(0)
    chain = DeweatherSegmentor(restorer=dict(type='ChainTestPixelRestorer'), segmentor=dict(cfg_path=PSPNET))
    torch.save(dict(state_dict={f'generator.{k}': v for k, v in chain.restorer.state_dict().items()}),
               tmp_path / 'restorer.pth')
    torch.save(dict(state_dict=chain.segmentor.state_dict(), meta={}), tmp_path / 'pspnet.pth')
    run = lambda *args: run_python(*args, cwd=tmp_path, pythonpath=[Path(__file__).parent])
    merged = run(str(ROOT / 'tools/merge_checkpoints.py'), '--restorer', 'restorer.pth', '--segmentor',
                 'pspnet.pth', '--out', 'chain.pth', '--config', str(config))
    assert merged.returncode == 0, merged.stderr[-2000:]

    loader = 'test_dataloader'
    tested = run(str(ROOT / 'tools/test.py'), str(config), 'chain.pth', '--work-dir', 'work', '--cfg-options',
                 f'{loader}.dataset.data_root={data_root}', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False', f'{loader}.dataset.pipeline.1.scale=(128,64)')
    assert tested.returncode == 0, tested.stderr[-3000:]
    log = tested.stdout + tested.stderr
    assert 'aAcc' in log and 'mIoU' in log and 'mAcc' in log
    assert 'Load checkpoint from chain.pth' in log and 'missing keys' not in log
