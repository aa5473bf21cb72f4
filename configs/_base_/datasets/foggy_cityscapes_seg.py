# Segmentation view of Foggy Cityscapes: foggy images + the frame's gtFine labelTrainIds; trained on all
# densities, evaluated on the densest (beta = 0.02).
# data/foggy_cityscapes: leftImg8bit/, leftImg8bit_foggy/, gtFine/.
_base_ = ['./raincityscapes_seg.py']

data_root = 'data/foggy_cityscapes'
seg_weathers = ['fog']

train_dataloader = dict(dataset=dict(data_root=data_root, layout='foggycityscapes', weathers=seg_weathers))
val_dataloader = dict(
    dataset=dict(data_root=data_root, layout='foggycityscapes', weathers=seg_weathers, betas=[0.02]))
test_dataloader = val_dataloader
