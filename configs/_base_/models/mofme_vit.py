# MoFME restorer at the paper's size: ViT D=384, L=2, patch 8, every FFN an FME layer with the
# uncertainty-aware router (Eq.7). Variants override generator.experts (None: dense FFN) / router (with
# _delete_=True, so no UaR key is left over) / num_experts / top_k / num_tasks / residual_ffn.
model = dict(
    type='MoFMERestorer',
    generator=dict(
        type='MoFMEViT',
        experts=dict(type='FeatureModulationExperts'),
        router=dict(type='UncertaintyAwareRouter', mc_samples=5, mc_dropout=0.1),
        num_experts=16,
        top_k=4,
        embed_dim=384,
        depth=2,
        patch_size=8,
        img_size=256),
    pixel_loss=dict(type='MSELoss', loss_weight=1.0),
    # VGG16 relu1_2/2_2/3_3 at weight 0.04 as the released code; needs a local weights file, e.g.
    # perceptual_loss=dict(type='PerceptualLoss', layer_weights={'3': 1., '8': 1., '15': 1.},
    #                      vgg_type='vgg16', use_input_norm=False, perceptual_weight=0.04,
    #                      style_weight=0., criterion='mse', pretrained='checkpoints/vgg16.pth'),
    perceptual_loss=None,
    aux_loss_weights=dict(loss_lb=1e-2, loss_uc=5e-3),
    # full images are restored in non-overlapping crops of the training size (the paper's test setup)
    test_cfg=dict(crop_size=256, stride=None),
    data_preprocessor=dict(type='MixedBatchDataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.],
                           output_channel_order='RGB'),
)
