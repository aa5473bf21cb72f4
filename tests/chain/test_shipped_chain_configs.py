"""The chained configs shipped in configs/chain and configs/synthetic build the intended models."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
SHIPPED = {
    'chain/mofme_pspnet-r18_raincityscapes.py': ('DeweatherSegmentor', 'EncoderDecoder', 'raincityscapes'),
    'chain/mofme_pspnet-r18_foggy-cityscapes.py': ('DeweatherSegmentor', 'EncoderDecoder', 'foggycityscapes'),
    'chain/mofme_faster-rcnn-r50_raincityscapes.py': ('DeweatherDetector', 'FasterRCNN', 'raincityscapes'),
    'synthetic/mofme-fastscnn_synthetic.py': ('DeweatherSegmentor', 'EncoderDecoder', 'synthetic'),
    'synthetic/mofme-rtmdet-tiny_synthetic.py': ('DeweatherDetector', 'RTMDet', 'synthetic'),
}


@pytest.mark.parametrize('name', sorted(SHIPPED))
def test_shipped_chain_config_builds(name):
    wrapper, inner, layout = SHIPPED[name]
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.test_dataloader.dataset.layout == layout
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == wrapper
    perception = model.segmentor if wrapper == 'DeweatherSegmentor' else model.detector
    assert type(perception).__name__ == inner
    assert type(model.restorer).__name__ == 'MoFMEViT'
    assert model.restore_cfg['mode'] == 'slide'
    assert tuple(model.restore_cfg['crop_size']) == (cfg.model.restorer.img_size,) * 2
