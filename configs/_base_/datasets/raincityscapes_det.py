# Detection view of RainCityscapes: rainy images + the frame's COCO instances. Build
# data/raincityscapes/annotations/instancesonly_filtered_gtFine_{train,val}.json from gtFine with
#   python tools/dataset_converters/cityscapes_to_coco.py data/raincityscapes
_base_ = ['./synthetic_det.py']

data_root = 'data/raincityscapes'
det_weathers = ['rain']
img_scale = (2048, 1024)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(2048, 800), (2048, 1024)], keep_ratio=True),
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
    batch_size=2,
    dataset=dict(data_root=data_root, layout='raincityscapes', weathers=det_weathers,
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, layout='raincityscapes', weathers=det_weathers, pipeline=test_pipeline))
test_dataloader = val_dataloader
