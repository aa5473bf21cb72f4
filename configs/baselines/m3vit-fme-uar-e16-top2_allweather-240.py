# Table 1's M³ViT + FME + UaR: M³ViT's per-weather gates routing as the uncertainty-aware router (Eq. 7)
# in training, feature-modulation experts (Eq. 4-6) instead of FFN experts.
_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/allweather.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
model = dict(generator=dict(experts=dict(type='FeatureModulationExperts'),
                            router=dict(_delete_=True, type='TaskConditionedRouter', untagged='mean',
                                        uncertainty=dict(mc_samples=5, mc_dropout=0.1)),
                            num_tasks=3, num_experts=16, top_k=2, img_size=240),
             test_cfg=dict(crop_size=240))
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
