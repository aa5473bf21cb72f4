# Foggy Cityscapes (Sakaridis et al., IJCV 2018): dehaze, paired restoration.
# data/foggy_cityscapes holds leftImg8bit/ (clean, from Cityscapes) and leftImg8bit_foggy/
# ({frame}_leftImg8bit_foggy_beta_{0.005|0.01|0.02}.png). Train on all densities, evaluate on the
# densest (beta = 0.02), as is customary.
_base_ = ['./synthetic_restoration.py']

data_root = 'data/foggy_cityscapes'
weathers = ['fog']

train_dataloader = dict(
    dataset=dict(layout='foggycityscapes', data_root=data_root, split='train', weathers=weathers))
val_dataloader = dict(
    dataset=dict(layout='foggycityscapes', data_root=data_root, split='val', weathers=weathers, betas=[0.02]))
test_dataloader = val_dataloader
