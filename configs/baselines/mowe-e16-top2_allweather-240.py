# MoWE / WM-MoE (Luo et al. 2023) on the MoFME ViT: weather-aware router (content + weather features, the
# WGF-CL contrastive loss on the tags) and multi-scale FFN experts (depthwise 1/3/5/7 views), 16 experts,
# top-2 (paper Tables 1, 6). Expert width 2.9375·D: docs/deviations.md.
_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/allweather.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
model = dict(generator=dict(experts=dict(type='MultiScaleExperts', experts=dict(type='FFNExperts'),
                                         kernel_sizes=(1, 3, 5, 7)),
                            router=dict(_delete_=True, type='WeatherAwareRouter', weather_dim=64),
                            num_tasks=3, num_experts=16, top_k=2, mlp_ratio=2.9375, img_size=240),
             aux_loss_weights=dict(loss_lb=1e-2, loss_uc=5e-3, loss_wcl=1e-2),
             test_cfg=dict(crop_size=240))
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
