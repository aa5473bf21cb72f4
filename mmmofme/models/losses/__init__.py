"""Auxiliary losses of the MoE layers."""
from .moe_losses import load_balance_loss, selection_mask, uncertainty_loss

__all__ = ['load_balance_loss', 'selection_mask', 'uncertainty_loss']
