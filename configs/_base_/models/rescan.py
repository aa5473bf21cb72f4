# RESCAN (Li et al., ECCV 2018): conv-GRU context aggregation with SE, 4 stages, additive
# prediction (Table 3: 0.15M).
# The MoFME restorer around it: same pixel loss, tiled test and PSNR / SSIM as every restorer config; a
# plain generator has no MoE aux losses.
_base_ = ['./mofme_vit.py']
model = dict(
    generator=dict(_delete_=True, type='RESCAN', mid_channels=24, depth=7, num_stages=4, se_hidden=6,
                   prediction='additive'),
    aux_loss_weights=dict())
