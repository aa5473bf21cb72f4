"""Evaluation helpers that no maintained library provides (PSNR / SSIM / mIoU / mAP come from mmagic,
mmseg and mmdet)."""
from .seams import seam_visibility, tile_borders

__all__ = ['seam_visibility', 'tile_borders']
