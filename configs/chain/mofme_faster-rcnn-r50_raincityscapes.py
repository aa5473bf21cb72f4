# MoFME in front of mmdet's own Faster R-CNN R-50-FPN Cityscapes config, evaluated on RainCityscapes val
# (bbox mAP by mmdet's CocoMetric; every rainy variant of a frame shares its COCO instances, from
# tools/dataset_converters/cityscapes_to_coco.py). Chaining = the 5 lines below `_base_`.
#   python tools/merge_checkpoints.py --restorer RESTORER.pth --detector FASTER_RCNN.pth --out chain.pth
#   python tools/test.py configs/chain/mofme_faster-rcnn-r50_raincityscapes.py chain.pth
_base_ = 'mmdet::cityscapes/faster-rcnn_r50_fpn_1x_cityscapes.py'
custom_imports = dict(imports=['mmmofme.mmdet'], allow_failed_imports=False)
model = dict(_delete_=True, type='DeweatherDetector', detector={{_base_.model}},
             restorer=dict(type='MoFMEViT', router=dict(type='UncertaintyAwareRouter'), num_experts=16,
                           top_k=4, embed_dim=384, depth=2, img_size=256),  # FME experts by default
             restore_cfg=dict(mode='slide', crop_size=(256, 256), stride=(192, 192)))

# Rainy variants get their own image ids, so CocoMetric builds its ground truth from the samples.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                                          'weather', 'instances')),
]
val_dataloader = dict(dataset=dict(_delete_=True, type='WeatherCityscapesDetDataset',
                                   data_root='data/cityscapes', split='val', layout='raincityscapes',
                                   weathers=['rain'], test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='CocoMetric', ann_file=None, metric='bbox')
test_evaluator = val_evaluator
# a fixed seed: a run is reproducible (mmengine draws a random one otherwise)
randomness = dict(seed=42)
