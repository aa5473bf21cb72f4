# MoFME on the synthetic default trained with domain-randomised weather: every training sample is a clean
# frame with weather rendered at load time (RandomWeather), each physical parameter drawn from a
# continuous range that starts at clear weather, under random lighting (ColorJitter on the clean frame
# before the weather, so input and target share it), with identity pairs among the draws
# (../_base_/datasets/synthetic_randomised_weather.py). Same network, schedule and validation set as
# mofme_synthetic.py, which trains on the fixed pre-rendered weathers.
#   python tools/train.py configs/synthetic/mofme-dr_synthetic.py
_base_ = ['./mofme_synthetic.py', '../_base_/datasets/synthetic_randomised_weather.py']

train_dataloader = dict(dataset=dict(
    _delete_=True, type='WeatherPairedDataset', layout='synthetic', data_root='data/synthetic', split='train',
    weathers=['clean'], pipeline={{_base_.randomised_weather_pipeline}}))
