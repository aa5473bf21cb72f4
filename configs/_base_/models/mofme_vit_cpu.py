# The CPU-demo MoFME network (used by configs/synthetic/): D=128, 2 layers, 16 FME experts, top-4,
# uncertainty-aware router, 128x128 crops, starting as the identity (image residual) so a short
# training already improves on its input, and blending its output with the input by a learned per-pixel
# confidence, so clean frames and the clean parts of a frame pass through. At eval the confidence is
# re-scaled from (0.8, 1.0) to (0, 1) per pixel, and a frame whose mean confidence is under 0.6 keeps
# the input exactly (frame gate 0.6-0.7): what the calibration rule chose for the demo restorer after
# training (tools/analysis_tools/calibrate_confidence.py; make demo re-chooses it; docs/transfer.md).
# ~2.35M parameters.
mofme_cpu = dict(type='MoFMEViT', experts=dict(type='FeatureModulationExperts'),
                 router=dict(type='UncertaintyAwareRouter', mc_samples=5, mc_dropout=0.1), num_experts=16,
                 top_k=4, embed_dim=128, depth=2, patch_size=8, img_size=128, stem_channels=16,
                 head_channels=32, image_residual=True, confidence_head=True,
                 confidence_range=(0.8, 1.0), frame_gate=(0.6, 0.7))
