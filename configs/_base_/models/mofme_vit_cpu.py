# The CPU-demo MoFME network (used by configs/synthetic/): D=128, 2 layers, 16 FME experts, top-4,
# uncertainty-aware router, 128x128 crops, starting as the identity (image residual) so a short
# training already improves on its input. ~2.3M parameters.
mofme_cpu = dict(type='MoFMEViT', experts=dict(type='FeatureModulationExperts'),
                 router=dict(type='UncertaintyAwareRouter', mc_samples=5, mc_dropout=0.1), num_experts=16,
                 top_k=4, embed_dim=128, depth=2, patch_size=8, img_size=128, stem_channels=16,
                 head_channels=32, image_residual=True)
