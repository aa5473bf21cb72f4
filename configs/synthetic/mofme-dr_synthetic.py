# MoFME on the synthetic default trained with domain-randomised weather: every training sample is a clean
# frame with weather rendered at load time (RandomWeather), each physical parameter drawn from a
# continuous range that starts at clear weather, under random lighting (ColorJitter on the clean frame
# before the weather, so input and target share it), with identity pairs among the draws. Same network,
# schedule and validation set as mofme_synthetic.py, which trains on the fixed pre-rendered weathers.
#   python tools/train.py configs/synthetic/mofme-dr_synthetic.py
_base_ = ['./mofme_synthetic.py']

crop = 128
train_dataloader = dict(dataset=dict(
    _delete_=True, type='WeatherPairedDataset', layout='synthetic', data_root='data/synthetic', split='train',
    weathers=['clean'],
    pipeline=[
        dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
        dict(type='ColorJitter', keys=['gt'], channel_order='rgb', brightness=0.35, contrast=0.2,
             saturation=0.2, hue=0.02),
        dict(type='LoadSyntheticDepth'),
        dict(type='RandomWeather',
             kind_weights=dict(rain=1.0, fog=1.0, snow=1.0, raindrop=1.0, clean=1.0)),
        dict(type='PairedRandomCrop', gt_patch_size=crop),
        dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='horizontal'),
        dict(type='PackInputs', meta_keys=['weather', 'task_id']),
    ]))
