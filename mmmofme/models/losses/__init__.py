"""Auxiliary losses of the MoE layers."""
from .contrastive_loss import supervised_contrastive_loss
from .moe_losses import load_balance_loss, selection_mask, uncertainty_loss

__all__ = ['load_balance_loss', 'selection_mask', 'uncertainty_loss', 'supervised_contrastive_loss']
