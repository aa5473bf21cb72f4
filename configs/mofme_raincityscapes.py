# MoFME on Table 3's Rain/HazeCityscapes mixture (RainCityscapes derain + Foggy Cityscapes dehaze, trained
# together, PSNR/SSIM reported per weather), with the paper's setup: 16 FME experts, top-4, the
# uncertainty-aware router, AdamW 0.5e-4 -> 1e-6 cosine, 3 warm-up epochs, 200 epochs, batch 64, 256 crops.
#   python tools/train.py configs/mofme_raincityscapes.py
# Data: data/cityscapes with leftImg8bit, leftImg8bit_rain, leftImg8bit_foggy (see README, "Datasets").
_base_ = ['./mofme/mofme-e16-top4_rain-haze-cityscapes-256.py']
