# A small segmentor (mmseg's Fast-SCNN, from scratch) trained on the clean synthetic frames: the
# downstream model of the demo. It trains on 128x256 crops at the frames' own scale (4x cheaper than
# whole frames on a CPU) and predicts on whole 512x256 frames.
_base_ = ['mmseg::_base_/models/fast_scnn.py', '../_base_/datasets/synthetic_seg.py',
          'mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['mmmofme.mmseg'], allow_failed_imports=False)

crop = (128, 256)
model = dict(data_preprocessor=dict(size=crop))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(512, 256), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=8, num_workers=1, persistent_workers=True,
                        dataset=dict(weathers=['clean'], pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(weathers=['clean']))
test_dataloader = val_dataloader

iters = 600
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=4e-3, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=iters, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
# a fixed seed: a run is reproducible (mmengine draws a random one otherwise)
randomness = dict(seed=42)
