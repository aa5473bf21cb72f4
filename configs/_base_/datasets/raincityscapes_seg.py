# Segmentation view of RainCityscapes: rainy images + the frame's gtFine labelTrainIds (make them with
# mmseg's tools/dataset_converters/cityscapes.py).
# data/raincityscapes: leftImg8bit/, leftImg8bit_rain/, gtFine/.
_base_ = ['./synthetic_seg.py']

data_root = 'data/raincityscapes'
seg_weathers = ['rain']
img_scale = (2048, 1024)
crop_size = (512, 1024)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs', meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                                          'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                                          'weather')),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs', meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                                          'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                                          'weather')),
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(data_root=data_root, layout='raincityscapes', weathers=seg_weathers,
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, layout='raincityscapes', weathers=seg_weathers, pipeline=test_pipeline))
test_dataloader = val_dataloader
