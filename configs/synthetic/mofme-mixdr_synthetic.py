# mofme-blurpairs_synthetic.py with part of the training drawn from domain-randomised weather: next to the
# fixed pre-rendered pairs, a third of the samples are clean frames with weather rendered at load time
# (RandomWeather: every physical parameter from a range that starts at clear weather, fresh streaks,
# flakes and drops) under random lighting (ColorJitter on the clean frame before the weather, so input and
# target share it). mofme-dr_synthetic.py trains on such draws alone, which lost to the fixed renderings at
# the demo's budget (docs/transfer.md, "Levers"); the mix keeps the fixed renderings the restorer learns
# first and adds the range and lighting variation the held-out weather asks for.
#   python tools/train.py configs/synthetic/mofme-mixdr_synthetic.py
_base_ = ['./mofme-blurpairs_synthetic.py']

dr_repeats = 6  # 160 clean frames x 6 = 960 draws per pass, next to the 1920 fixed pairs: a third
_fixed = {{_base_.train_dataloader.dataset}}
_randomised = dict(
    type='RepeatDataset', times=dr_repeats, dataset=dict(
        type='WeatherPairedDataset', layout='synthetic', data_root={{_base_.data_root}}, split='train',
        weathers=['clean'], task_weathers={{_base_.train_weathers}}, pipeline=[
            # `img` is loaded (the clean frame, replaced by RandomWeather) only so both parts pack their
            # metainfo in one key order: mmagic's DataSample.stack compares the key lists, whose order
            # follows insertion, and a batch takes samples of both parts
            dict(type='LoadImageFromFile', key='img', color_type='color', channel_order='rgb'),
            dict(type='LoadImageFromFile', key='gt', color_type='color', channel_order='rgb'),
            dict(type='ColorJitter', keys=['gt'], channel_order='rgb', brightness=0.35, contrast=0.2,
                 saturation=0.2, hue=0.02),
            dict(type='LoadSyntheticDepth'),
            dict(type='RandomWeather',
                 kind_weights=dict(rain=1.0, fog=1.0, snow=1.0, raindrop=1.0, clean=1.0)),
            dict(type='PairedRandomCrop', gt_patch_size={{_base_.crop}}),
            dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='horizontal'),
            dict(type='PackInputs', meta_keys=['weather', 'task_id']),
        ]))
# the two parts name different weather lists in their metainfo (the randomised part loads clean frames only)
train_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets=[_fixed, _randomised],
                                     ignore_keys=['weathers']))
