# M³ViT (Liang et al., NeurIPS 2022) on the MoFME ViT: one noisy top-k gate per weather tag (3 on
# All-Weather), 16 FFN experts, top-2 (paper Tables 1, 6). Without a tag (router.untagged) the mean of
# the gates routes.
_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/allweather.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
model = dict(generator=dict(experts=dict(type='FFNExperts'),
                            router=dict(_delete_=True, type='TaskConditionedRouter', untagged='mean'),
                            num_tasks=3, num_experts=16, top_k=2, img_size=240),
             test_cfg=dict(crop_size=240))
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
