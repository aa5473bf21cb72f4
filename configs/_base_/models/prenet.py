# PReNet (Ren et al., CVPR 2019): 6 recurrent stages of one shared network (Table 3: 0.17M).
# The MoFME restorer around it: same pixel loss, tiled test and PSNR / SSIM as every restorer config; a
# plain generator has no MoE aux losses.
_base_ = ['./mofme_vit.py']
model = dict(
    generator=dict(_delete_=True, type='PReNet', mid_channels=32, num_stages=6, num_res_blocks=5,
                   recurrent=True),
    aux_loss_weights=dict())
