_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/allweather.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
# PR-MoE (DeepSpeed-MoE) routes top-1 to its residual experts; Table 3's 37.53 GMAC matches top-1.
model = dict(generator=dict(experts=dict(type='FFNExperts'), router=dict(_delete_=True, type='TopKRouter'),
                             residual_ffn=True, expert_pyramid=True, num_experts=16, top_k=1, img_size=240),
             test_cfg=dict(crop_size=240))
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
