# The chain on the synthetic default: MoFME restores each weathered frame (128x128 tiles overlapping by 32
# px, cross-faded), then the Fast-SCNN segmentor of fastscnn_synthetic.py predicts; mIoU / mAcc by mmseg's
# IoUMetric. Weights: one checkpoint from tools/merge_checkpoints.py, or set restorer_checkpoint /
# perception_checkpoint. Pick the weather with --cfg-options test_dataloader.dataset.weathers="['fog']".
_base_ = ['./fastscnn_synthetic.py', '../_base_/models/mofme_vit_cpu.py']
model = dict(_delete_=True, type='DeweatherSegmentor', segmentor={{_base_.model}},
             restorer={{_base_.mofme_cpu}},
             restore_cfg=dict(mode='slide', crop_size=(128, 128), stride=(96, 96)))
val_dataloader = dict(dataset=dict(weathers=['rain', 'fog', 'snow', 'raindrop']))
test_dataloader = val_dataloader
