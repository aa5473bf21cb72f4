_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/allweather.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
model = dict(generator=dict(num_experts=128, top_k=4, img_size=240),
             test_cfg=dict(crop_size=240))
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
