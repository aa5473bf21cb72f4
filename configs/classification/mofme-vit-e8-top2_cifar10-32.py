# Table 5's MoFME-ViT: the ViT with 8 feature-modulation experts + one shared FFN (Eq. 4-6) in every other
# block, routed top-2 by the uncertainty-aware router (Eq. 7; plain top-k at eval).
_base_ = ['./vit_cifar10-32.py']
model = dict(backbone=dict(experts=dict(type='FeatureModulationExperts'),
                           router=dict(type='UncertaintyAwareRouter', mc_samples=5, mc_dropout=0.1),
                           num_experts=8, top_k=2, moe_blocks=[1, 3]))
