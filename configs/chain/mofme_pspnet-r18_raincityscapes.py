# MoFME in front of mmseg's own PSPNet-R18 Cityscapes config, evaluated on RainCityscapes val
# (rainy frames + gtFine labels; aAcc / mIoU / mAcc by mmseg's IoUMetric). Chaining = the 5 lines
# below `_base_`; the rest points the test set at the rainy frames. Weights: one file from
#   python tools/merge_checkpoints.py --restorer RESTORER.pth --segmentor PSPNET.pth --out chain.pth
#   python tools/test.py configs/chain/mofme_pspnet-r18_raincityscapes.py chain.pth
_base_ = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmmofme.mmseg'], allow_failed_imports=False)
model = dict(_delete_=True, type='DeweatherSegmentor', segmentor={{_base_.model}},
             restorer=dict(type='MoFMEViT', router=dict(type='UncertaintyAwareRouter'), num_experts=16,
                           top_k=4, embed_dim=384, depth=2, img_size=256),  # FME experts by default
             restore_cfg=dict(mode='slide', crop_size=(256, 256), stride=(192, 192)))

weathered_val = dict(type='WeatherCityscapesSegDataset', data_root='data/cityscapes', split='val',
                     layout='raincityscapes', weathers=['rain'], test_mode=True,
                     pipeline={{_base_.test_pipeline}})
val_dataloader = dict(dataset=dict(_delete_=True, **weathered_val))
test_dataloader = val_dataloader
# a fixed seed: a run is reproducible (mmengine draws a random one otherwise)
randomness = dict(seed=42)
