# Restormer (Table 3: 26.13M) through the same restoration pipeline, built from mmagic's registry.
_base_ = ['../_base_/models/mofme_vit.py', '../_base_/datasets/rain_haze_cityscapes.py',
          '../_base_/schedules/adamw_cosine_200e.py', '../_base_/default_runtime.py']
model = dict(
    generator=dict(_delete_=True, type='Restormer', inp_channels=3, out_channels=3, dim=48,
                   num_blocks=[4, 6, 6, 8], num_refinement_blocks=4, heads=[1, 2, 4, 8],
                   ffn_expansion_factor=2.66, bias=False, LayerNorm_type='WithBias'),
    aux_loss_weights=dict())
train_dataloader = dict(batch_size=64)  # the paper's batch (lr 0.5e-4 is set for it)
