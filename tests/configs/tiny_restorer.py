# A tiny MoFME restorer on a folder of paired images (``input/`` and ``gt/``, same file names):
# the smallest real config the tool tests train and evaluate end to end.
_base_ = ['../../configs/_base_/default_runtime.py', '../../configs/_base_/models/mofme_vit.py']

data_root = 'data/tiny_pairs'  # the tests pass the generated folder with --cfg-options
crop = 32

model = dict(
    generator=dict(num_experts=4, top_k=2, embed_dim=32, depth=1, img_size=crop, stem_channels=8,
                   head_channels=16),
    test_cfg=dict(crop_size=crop, stride=crop // 2))

load_pair = [
    dict(type='LoadImageFromFile', key='img', color_type='color', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
]
train_pipeline = load_pair + [
    dict(type='SetValues', dictionary=dict(scale=1)),  # PairedRandomCrop reads the SR scale
    dict(type='PairedRandomCrop', gt_patch_size=crop),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = load_pair + [dict(type='PackInputs')]
dataset = dict(type='BasicImageDataset', data_root=data_root, data_prefix=dict(img='input', gt='gt'))

train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(dataset, pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='PSNR'), dict(type='SSIM')]
test_evaluator = val_evaluator

train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=40)
val_cfg = dict(type='MultiValLoop')  # mmagic's loops drive its sample-wise metrics
test_cfg = dict(type='MultiTestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=3e-3))
param_scheduler = []
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=40, by_epoch=False, save_best=None))
log_processor = dict(by_epoch=False)
