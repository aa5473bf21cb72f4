# A tiny restorer on a tiny All-Weather tree (weather tags from the file names, PSNR / SSIM per weather):
# the smallest real config for the tag-using baselines (M³ViT, MoWE). The tests pick the router / expert
# set and pass the generated folder with --cfg-options.
_base_ = ['./tiny_restorer.py']

data_root = 'data/tiny_allweather'
weathers = ['rain+fog', 'snow', 'raindrop']
crop = 32

model = dict(generator=dict(num_tasks=3))
train_pipeline = [
    dict(type='LoadImageFromFile', key='img', color_type='color', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
    dict(type='PairedRandomCrop', gt_patch_size=crop),  # the dataset sets scale=1
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', meta_keys=['weather', 'task_id']),
]
test_pipeline = [
    dict(type='LoadImageFromFile', key='img', color_type='color', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
    dict(type='PackInputs', meta_keys=['weather', 'task_id']),
]
weather_dataset = dict(_delete_=True, type='WeatherPairedDataset', layout='allweather', data_root=data_root,
                       weathers=weathers, serialize_data=False)
train_dataloader = dict(dataset=dict(weather_dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(weather_dataset, split='test', test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='PerWeatherMetric', sample_metrics=[dict(type='PSNR'), dict(type='SSIM')])]
test_evaluator = val_evaluator
