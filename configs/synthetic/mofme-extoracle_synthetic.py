# An upper bound, not a recipe: mofme-blurpairs_synthetic.py that also trains on the external renderers of
# the transfer protocol's report split (imagecorruptions fog, snow, frost and spatter at severity 3),
# rendered on the training frames. Scored on the report split's val frames, it says how much of those
# kinds' mIoU drop this network recovers at this budget when it has seen them, which bounds what any
# transfer recipe can reach on them (docs/transfer.md, "How far transfer can go").
#   python tools/dataset_converters/make_transfer_set.py --src data/synthetic --split train \
#       --out data/transfer_train --kinds ic-fog-3 ic-snow-3 ic-frost-3 ic-spatter-3
#   python tools/train.py configs/synthetic/mofme-extoracle_synthetic.py
_base_ = ['./mofme-blurpairs_synthetic.py']

external_kinds = ['ic-fog-3', 'ic-snow-3', 'ic-frost-3', 'ic-spatter-3']
_fixed = {{_base_.train_dataloader.dataset}}
_external = dict(type='WeatherPairedDataset', layout='cityscapes', data_root='data/transfer_train',
                 split='train', weathers=external_kinds,
                 # the base's train_weathers, spelled out: a base placeholder cannot be concatenated
                 task_weathers=['rain', 'fog', 'snow', 'raindrop', 'clean'] + external_kinds,
                 pipeline={{_base_.train_dataloader.dataset.pipeline}})
train_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets=[_fixed, _external],
                                     ignore_keys=['weathers', 'dataset_name']))
