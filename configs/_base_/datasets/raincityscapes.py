# RainCityscapes (Hu et al., CVPR 2019): derain, paired restoration.
# data/raincityscapes holds leftImg8bit/ (clean, from Cityscapes) and leftImg8bit_rain/ (36 variants per
# frame: {frame}_leftImg8bit_rain_alpha_{a}_beta_{b}_dropsize_{d}_pattern_{p}.png), splits train / val.
_base_ = ['./synthetic_restoration.py']

data_root = 'data/raincityscapes'
weathers = ['rain']

train_dataloader = dict(
    dataset=dict(layout='raincityscapes', data_root=data_root, split='train', weathers=weathers))
val_dataloader = dict(
    dataset=dict(layout='raincityscapes', data_root=data_root, split='val', weathers=weathers))
test_dataloader = val_dataloader
