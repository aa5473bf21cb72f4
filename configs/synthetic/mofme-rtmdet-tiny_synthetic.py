# The detection chain on the synthetic default: MoFME restores each weathered frame, then the RTMDet-tiny
# of rtmdet-tiny_synthetic.py detects; bbox mAP by mmdet's CocoMetric.
_base_ = ['./rtmdet-tiny_synthetic.py', '../_base_/models/mofme_vit_cpu.py']
model = dict(_delete_=True, type='DeweatherDetector', detector={{_base_.model}},
             restorer={{_base_.mofme_cpu}},
             restore_cfg=dict(mode='slide', crop_size=(128, 128), stride=(96, 96)))
val_dataloader = dict(dataset=dict(weathers=['rain', 'fog', 'snow', 'raindrop']))
test_dataloader = val_dataloader
