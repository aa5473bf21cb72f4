"""L_lb (GShard form of Eq. 8) and L_uc (Eq. 10) against hand computation."""
import pytest
import torch

from mmmofme.models.losses import load_balance_loss, selection_mask, uncertainty_loss


def test_selection_mask_has_k_ones_per_row():
    mask = selection_mask(torch.tensor([[0, 2], [1, 2]]), 4)
    assert mask.tolist() == [[1, 0, 1, 0], [0, 1, 1, 0]]


def test_load_balance_loss_matches_hand_computation():
    probs = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.7, 0.2, 0.1]])
    indices = torch.tensor([[0, 1], [1, 2], [2, 0], [0, 1]])
    # slots: expert0 ×3, expert1 ×3, expert2 ×2 of 8 → f = (3/8, 3/8, 2/8)
    # P = column means = (1.5/4, 1.3/4, 1.2/4) = (0.375, 0.325, 0.3)
    expected = 3 * (3 / 8 * 0.375 + 3 / 8 * 0.325 + 2 / 8 * 0.3)  # = 1.0125
    assert load_balance_loss(probs, indices).item() == pytest.approx(expected, rel=1e-6)


def test_load_balance_loss_is_one_when_balanced_and_e_when_collapsed():
    uniform = torch.full((4, 4), 0.25)
    assert load_balance_loss(uniform, torch.tensor([[0], [1], [2], [3]])).item() == pytest.approx(1.0)
    collapsed = torch.tensor([[1.0, 0, 0, 0]]).repeat(5, 1)
    assert load_balance_loss(collapsed, torch.zeros(5, 1, dtype=torch.long)).item() == pytest.approx(4.0)


def test_load_balance_loss_gradient_flows_through_probabilities_only():
    logits = torch.randn(6, 4, requires_grad=True)
    probs = logits.softmax(-1)
    load_balance_loss(probs, probs.topk(2).indices).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_uncertainty_loss_matches_hand_computation():
    variance = torch.tensor([[0.01, 0.02, 0.03], [0.04, 0.05, 0.06]])
    indices = torch.tensor([[2, 0], [1, 2]])
    expected = 3 / 2 * ((0.03 + 0.01) + (0.05 + 0.06))
    assert uncertainty_loss(variance, indices).item() == pytest.approx(expected, rel=1e-6)
