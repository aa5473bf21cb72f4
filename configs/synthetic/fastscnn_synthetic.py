# A small segmentor (mmseg's Fast-SCNN, from scratch) trained on the clean synthetic frames: the
# downstream model of the demo. Evaluate it on weathered input by setting the dataset's weathers.
_base_ = ['mmseg::_base_/models/fast_scnn.py', '../_base_/datasets/synthetic_seg.py',
          'mmseg::_base_/default_runtime.py']

model = dict(data_preprocessor=dict(size=(256, 512)))  # the synthetic frames' (h, w)

train_dataloader = dict(batch_size=8, dataset=dict(weathers=['clean']))
val_dataloader = dict(dataset=dict(weathers=['clean']))
test_dataloader = val_dataloader

iters = 1000
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=4e-3, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=iters, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=iters, max_keep_ckpts=1))
custom_imports = dict(imports=['mmmofme.mmseg'], allow_failed_imports=False)
