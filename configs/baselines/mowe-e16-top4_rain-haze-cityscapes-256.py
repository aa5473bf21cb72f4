# MoWE on Rain/HazeCityscapes (paper Table 3): weather-aware router, multi-scale FFN experts, top-4.
_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/rain_haze_cityscapes.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
model = dict(generator=dict(experts=dict(type='MultiScaleExperts', experts=dict(type='FFNExperts'),
                                         kernel_sizes=(1, 3, 5, 7)),
                            router=dict(_delete_=True, type='WeatherAwareRouter', weather_dim=64),
                            num_tasks=2, num_experts=16, top_k=4, mlp_ratio=2.9375, img_size=256),
             aux_loss_weights=dict(loss_lb=1e-2, loss_uc=5e-3, loss_wcl=1e-2))
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
