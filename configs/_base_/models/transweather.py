# TransWeather (Valanarasu et al., CVPR 2022): transformer encoder with intra-patch blocks,
# learnable weather-type queries in the decoder, conv projection tail (Table 3: 38.05M / 6.12 GMAC).
# The MoFME restorer around it: same pixel loss, tiled test and PSNR / SSIM as every restorer config; a
# plain generator has no MoE aux losses.
_base_ = ['./mofme_vit.py']
model = dict(
    generator=dict(_delete_=True, type='TransWeather', embed_dims=[64, 128, 320, 512], num_heads=[1, 2, 4, 4],
                   mlp_ratios=[2, 2, 2, 2], depths=[2, 2, 2, 2], sr_ratios=[4, 2, 2, 1],
                   intra_num_heads=[1, 2, 2], decoder_depth=3, decoder_num_heads=8, decoder_mlp_ratio=4,
                   num_queries=48, drop_path_rate=0.1),
    aux_loss_weights=dict())
