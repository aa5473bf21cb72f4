# M³ViT on Rain/HazeCityscapes (paper Table 3): one noisy top-4 gate per weather tag (rain, fog).
_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/rain_haze_cityscapes.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
model = dict(generator=dict(experts=dict(type='FFNExperts'),
                            router=dict(_delete_=True, type='TaskConditionedRouter', untagged='mean'),
                            num_tasks=2, num_experts=16, top_k=4, img_size=256))
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
