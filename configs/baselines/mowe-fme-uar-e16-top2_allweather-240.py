# Table 1's MoWE + FME + UaR: the weather-aware router routing as the uncertainty-aware router (Eq. 7) in
# training, multi-scale feature-modulation experts (the shared FFN at the usual width 4·D).
_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/allweather.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
model = dict(generator=dict(experts=dict(type='MultiScaleExperts',
                                         experts=dict(type='FeatureModulationExperts'),
                                         kernel_sizes=(1, 3, 5, 7)),
                            router=dict(_delete_=True, type='WeatherAwareRouter', weather_dim=64,
                                        uncertainty=dict(mc_samples=5, mc_dropout=0.1)),
                            num_tasks=3, num_experts=16, top_k=2, img_size=240),
             aux_loss_weights=dict(loss_lb=1e-2, loss_uc=5e-3, loss_wcl=1e-2),
             test_cfg=dict(crop_size=240))
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
