# FFA-Net (Qin et al., AAAI 2020): 3 groups x 19 feature-attention blocks, attention fusion
# (Table 3: 4.46M).
# The MoFME restorer around it: same pixel loss, tiled test and PSNR / SSIM as every restorer config; a
# plain generator has no MoE aux losses.
_base_ = ['./mofme_vit.py']
model = dict(
    generator=dict(_delete_=True, type='FFANet', mid_channels=64, num_groups=3, num_blocks=19, reduction=8),
    aux_loss_weights=dict())
