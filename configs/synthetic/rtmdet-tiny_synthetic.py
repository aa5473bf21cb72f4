# A small detector (mmdet's RTMDet-tiny, from scratch) trained on the clean synthetic frames: the
# downstream detector of the demo. It trains on 128x256 crops at the frames' own scale and predicts on
# whole 512x256 frames. The model is the installed upstream one (mmdet::), with 8 Cityscapes classes.
_base_ = ['mmdet::_base_/default_runtime.py', '../_base_/datasets/synthetic_det.py']
# (an import above `_base_` would switch mmengine to its lazy-import config syntax)
from mmengine.hub import get_config  # noqa: E402
custom_imports = dict(imports=['mmmofme.mmdet'], allow_failed_imports=False)

model = get_config('mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py').model.to_dict()
model['backbone']['init_cfg'] = None  # no ImageNet weights can be downloaded: train from scratch
model['bbox_head']['num_classes'] = 8
model['test_cfg'] = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.01,
                         nms=dict(type='nms', iou_threshold=0.6), max_per_img=100)

crop = (128, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=(512, 256), ratio_range=(0.8, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop, allow_negative_crop=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=16, num_workers=1, batch_sampler=None,
                        dataset=dict(weathers=['clean'], pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(weathers=['clean']))
test_dataloader = val_dataloader

iters = 500
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=4e-3, weight_decay=0.05),
                     paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=iters - 50, eta_min=4e-5, by_epoch=False, begin=50, end=iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
# a fixed seed: a run is reproducible (mmengine draws a random one otherwise)
randomness = dict(seed=42)
