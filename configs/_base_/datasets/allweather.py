# All-Weather (TransWeather's mix of Outdoor-Rain, Snow100K, RainDrop; paper Tables 1, 2, 6), laid out as
# the released MoFME code reads it:
#   data/allweather/train/{input,gt}/NAME
#   data/allweather/test_rain/{input,gt}/NAME        Outdoor-Rain Test1 -> weather 'rain+fog'
#   data/allweather/test_snow/{input,gt}/NAME        Snow100K-L          -> 'snow'
#   data/allweather/test_raindrop/{input,gt}/NAME    RainDrop test_a     -> 'raindrop' (GT: _rain -> _clean)
# Training names are tagged by rule (mmmofme.datasets.layouts.ALLWEATHER_TRAIN_RULES). Add
# list_file='allweather.txt' to read TransWeather's list instead of the folder. Unlike the released code,
# images are not resized to 720x480 (its test lists are also capped at 5001 files; not here).
_base_ = ['./synthetic_restoration.py']

data_root = 'data/allweather'
weathers = ['rain+fog', 'snow', 'raindrop']

train_dataloader = dict(dataset=dict(layout='allweather', data_root=data_root, split='train',
                                     weathers=weathers))
val_dataloader = dict(dataset=dict(layout='allweather', data_root=data_root, split='test', weathers=weathers))
test_dataloader = val_dataloader
