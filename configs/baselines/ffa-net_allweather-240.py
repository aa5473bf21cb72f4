# FFA-Net on All-Weather (rain+fog, snow, raindrop trained together), restored in 240x240 tiles; the paper's
# schedule (AdamW 0.5e-4 cosine, 200 epochs, batch 64), as every baseline here.
_base_ = ['../_base_/models/ffa-net.py', '../_base_/datasets/allweather.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
model = dict(test_cfg=dict(crop_size=240))
# the paper's batch (lr 0.5e-4 is set for it)
train_dataloader = dict(batch_size=64)
