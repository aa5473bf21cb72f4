# The paper's schedule: AdamW 0.5e-4 -> 1e-6 cosine, 3 warm-up epochs, 200 epochs, batch 64.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=0.5e-4, betas=(0.9, 0.999),
                                                          weight_decay=0.01))
max_epochs = 200
warmup_epochs = 3
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=20)
val_cfg = dict(type='MultiValLoop')  # mmagic's loops drive its sample-wise metrics
test_cfg = dict(type='MultiTestLoop')
# lr 0.5e-4 is for a total batch of 64; enable auto-scaling with `--cfg-options auto_scale_lr.enable=True`
auto_scale_lr = dict(enable=False, base_batch_size=64)
