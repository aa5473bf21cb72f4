# Rain/HazeCityscapes (paper Table 3): derain + dehaze trained together, evaluated per weather.
# data/cityscapes holds leftImg8bit/, leftImg8bit_rain/ (RainCityscapes) and leftImg8bit_foggy/ (Foggy
# Cityscapes) side by side; task_id: rain = 0, fog = 1. (Roots kept apart instead? Use a
# dict(type='ConcatDataset', datasets=[...]) of two WeatherPairedDataset with the same
# task_weathers=['rain', 'fog'].)
_base_ = ['./synthetic_restoration.py']

data_root = 'data/cityscapes'
weathers = ['rain', 'fog']

train_dataloader = dict(
    dataset=dict(layout='rainhazecityscapes', data_root=data_root, split='train', weathers=weathers))
val_dataloader = dict(
    dataset=dict(layout='rainhazecityscapes', data_root=data_root, split='val', weathers=weathers,
                 betas=[0.02]))
test_dataloader = val_dataloader
