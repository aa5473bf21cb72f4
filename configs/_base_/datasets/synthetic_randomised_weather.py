# Domain-randomised weather on the synthetic default: a training pipeline, used by
# configs/synthetic/mofme-dr_synthetic.py and mofme-mixdr_synthetic.py. Each clean training frame gets
# random lighting (ColorJitter on the target before the weather, so input and target share it), then
# weather rendered at load time by RandomWeather (every physical parameter drawn from a range that starts
# at clear weather; identity pairs among the draws), then the 128x128 crops and flips of the fixed-weather
# pipeline. Its dataset loads clean frames only (WeatherPairedDataset with weathers=['clean']).
randomised_weather_pipeline = [
    # `img` (the clean frame, replaced by RandomWeather) is loaded as the fixed-weather pipeline loads it, so
    # both pack their metainfo in one key order: mmagic's DataSample.stack compares the key lists, whose
    # order follows insertion, when a batch mixes the two (mofme-mixdr_synthetic.py). The restorers'
    # MixedBatchDataPreprocessor aligns the order anyway; this keeps mmagic's own DataPreprocessor working.
    dict(type='LoadImageFromFile', key='img', color_type='color', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
    dict(type='ColorJitter', keys=['gt'], channel_order='rgb', brightness=0.35, contrast=0.2, saturation=0.2,
         hue=0.02),
    dict(type='LoadSyntheticDepth'),
    dict(type='RandomWeather', kind_weights=dict(rain=1.0, fog=1.0, snow=1.0, raindrop=1.0, clean=1.0)),
    dict(type='PairedRandomCrop', gt_patch_size=128),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', meta_keys=['weather', 'task_id']),
]
