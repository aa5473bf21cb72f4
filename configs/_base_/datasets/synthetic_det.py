# Detection view of the synthetic default: weathered images + the frame's COCO instances (8 Cityscapes
# instance classes), annotations/instancesonly_filtered_gtFine_{split}.json. Every weathered variant is its
# own image (unique img_id), so CocoMetric builds its ground truth from the samples: ann_file=None and
# 'instances' kept in PackDetInputs' meta_keys. The model config sets the data preprocessor.
dataset_type = 'WeatherCityscapesDetDataset'
data_root = 'data/synthetic'
det_weathers = ['rain', 'fog', 'snow', 'raindrop']
img_scale = (512, 256)  # (w, h)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.8, 1.25), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                                          'weather', 'instances')),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', layout='synthetic',
                 weathers=det_weathers,
                 filter_cfg=dict(filter_empty_gt=True, min_size=32), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', layout='synthetic',
                 weathers=det_weathers,
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='CocoMetric', ann_file=None, metric='bbox', format_only=False)
test_evaluator = val_evaluator
