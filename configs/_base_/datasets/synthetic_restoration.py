# Paired restoration on the embedded synthetic default (no download): rain, fog, snow, raindrop.
# Make it with:
#   python tools/dataset_converters/make_synthetic_cityscapes.py --out data/synthetic \
#       --num-train 200 --num-val 50 --size 512x256 --seed 0
# Trees as RainCityscapes / Foggy Cityscapes (+ leftImg8bit_snow, leftImg8bit_raindrop); every sample
# carries `weather` and `task_id` (index in `weathers`) in its metainfo.
dataset_type = 'WeatherPairedDataset'
data_root = 'data/synthetic'
weathers = ['rain', 'fog', 'snow', 'raindrop']  # also the task_id order
patch_size = 256  # random paired crops (the paper augmentation)

train_pipeline = [
    dict(type='LoadImageFromFile', key='img', color_type='color', channel_order='rgb',
         imdecode_backend='cv2'),
    dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb', imdecode_backend='cv2'),
    dict(type='PairedRandomCrop', gt_patch_size=patch_size),  # the dataset sets scale=1
    # horizontal x vertical flip x transpose = the 8 dihedral modes of the released code
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='vertical'),
    dict(type='RandomTransposeHW', keys=['img', 'gt'], transpose_ratio=0.5),
    dict(type='PackInputs', meta_keys=['weather', 'task_id']),  # a list: PackInputs wraps anything else
]
# Full images at test time (the restorer tiles them).
val_pipeline = [
    dict(type='LoadImageFromFile', key='img', color_type='color', channel_order='rgb',
         imdecode_backend='cv2'),
    dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb', imdecode_backend='cv2'),
    dict(type='PackInputs', meta_keys=['weather', 'task_id']),
]
test_pipeline = val_pipeline

train_dataloader = dict(
    num_workers=2,
    batch_size=8,
    persistent_workers=True,
    # epochs that end: the paper configs run EpochBasedTrainLoop (iteration-based configs, e.g. the CPU
    # demo's, set InfiniteSampler themselves)
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, layout='synthetic', data_root=data_root, split='train', weathers=weathers,
                 pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    batch_size=1,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, layout='synthetic', data_root=data_root, split='val', weathers=weathers,
                 test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader

# PSNR / SSIM of mmagic per weather tag + their mean over weathers (keys 'rain/PSNR', ..., 'PSNR').
# RGB, no border crop, as the released code (piq defaults). 'raindrop/PSNR_drops': PSNR inside the lens
# drops (pixels the input differs from the clean frame by > 8 grey levels, pooled MSE), raindrop only.
val_evaluator = [dict(type='PerWeatherMetric',
                      sample_metrics=[dict(type='PSNR'), dict(type='SSIM'), dict(type='DropRegionPSNR')],
                      metric_weathers=dict(PSNR_drops=['raindrop']))]
test_evaluator = val_evaluator
