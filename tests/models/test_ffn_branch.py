"""The shared FFN branch builder and block runner used by MoFMEViT and the mmpretrain backbone."""
import torch
from torch import nn

from mmmofme.models.layers import PreNormFeedForward
from mmmofme.models.moe import MoELayer
from mmmofme.models.moe.ffn_branch import build_ffn_branch, run_blocks


class AuxBlock(nn.Module):
    """Adds ``shift`` to the tokens, records the grid it was given, returns fixed aux losses."""

    def __init__(self, shift: float, aux: dict) -> None:
        super().__init__()
        self.shift, self.aux, self.grids = shift, aux, []

    def forward(self, tokens, task_ids=None, grid=None):
        self.grids.append(grid)
        return tokens + self.shift, {k: torch.tensor(v) for k, v in self.aux.items()}


def test_run_blocks_sums_losses_by_name_and_passes_the_grid():
    blocks = [AuxBlock(1.0, {'loss_lb': 0.5}), AuxBlock(2.0, {'loss_lb': 0.25, 'loss_uc': 1.0}),
              AuxBlock(3.0, {'loss_wcl': 4.0}), AuxBlock(0.0, {'loss_wcl': 0.5})]
    tokens, aux = run_blocks(blocks, torch.zeros(2, 5, 3), grid=(1, 5))
    assert torch.equal(tokens, torch.full((2, 5, 3), 6.0))
    assert {k: float(v) for k, v in aux.items()} == {'loss_lb': 0.75, 'loss_uc': 1.0, 'loss_wcl': 4.5}
    assert all(block.grids == [(1, 5)] for block in blocks)


def test_run_blocks_gives_zero_losses_without_moe_layers():
    _, aux = run_blocks([AuxBlock(1.0, {})], torch.zeros(1, 2, 3))
    assert {k: float(v) for k, v in aux.items()} == {'loss_lb': 0.0, 'loss_uc': 0.0}


def test_build_ffn_branch_dense_moe_and_residual_moe():
    router = dict(type='TopKRouter')
    dense = build_ffn_branch(None, router, dim=8, num_experts=0, top_k=2, residual_ffn=True)
    assert type(dense) is PreNormFeedForward  # residual_ffn only applies to an MoE branch
    moe = build_ffn_branch(dict(type='FFNExperts'), router, dim=8, num_experts=4, top_k=2)
    residual = build_ffn_branch(dict(type='FFNExperts'), router, dim=8, num_experts=4, top_k=2,
                                residual_ffn=True)
    assert isinstance(moe, MoELayer) and moe.residual is None
    assert isinstance(residual.residual, PreNormFeedForward)
    # the residual FFN adds exactly one dense FFN's parameters
    extra = sum(p.numel() for p in residual.parameters()) - sum(p.numel() for p in moe.parameters())
    assert extra == sum(p.numel() for p in PreNormFeedForward(8, 4.0, 0.1).parameters())
