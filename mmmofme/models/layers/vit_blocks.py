"""Pre-norm transformer pieces: multi-head self-attention, dense FFN and the block combining them."""
from typing import Dict, Optional, Tuple

import torch.nn.functional as F
from torch import Tensor, nn


class FeedForward(nn.Module):
    """Linear(D→hD) → GELU → Dropout → Linear(hD→D) → Dropout, without a norm of its own.

    Shapes:
        x: (..., D) → (..., D).
    """

    def __init__(self, dim: int, mlp_ratio: float = 4.0, dropout: float = 0.1) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class PreNormFeedForward(nn.Module):
    """The dense baseline's FFN branch: FFN(LN(x)); the caller adds the residual.

    It has the call signature of an MoE layer (``task_ids`` and ``grid`` accepted and ignored, an empty
    aux dict returned), so a transformer block or a PR-MoE layer treats both alike.

    Shapes:
        x: (..., D) → ((..., D), {}).
    """

    def __init__(self, dim: int, mlp_ratio: float = 4.0, dropout: float = 0.1) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.ffn = FeedForward(dim, mlp_ratio, dropout)

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None,
                grid: Optional[Tuple[int, int]] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        return self.ffn(self.norm(x)), {}


class PreNormAttention(nn.Module):
    """Multi-head self-attention branch Proj(SDPA(QKV(LN(x)))); the caller adds the residual.

    The inner width is ``num_heads × head_dim`` (8 × 64 = 512 in the paper), independent of D. The
    qkv projection has no bias; attention probabilities get no dropout, the output projection does.

    Shapes:
        x: (B, T, D) → (B, T, D).
    """

    def __init__(self, dim: int, num_heads: int = 8, head_dim: int = 64, dropout: float = 0.1) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = head_dim
        inner = num_heads * head_dim
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * inner, bias=False)
        self.proj = nn.Linear(inner, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, t, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, heads, T, head_dim)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.drop(self.proj(out.transpose(1, 2).reshape(b, t, -1)))


class TransformerBlock(nn.Module):
    """x ← x + Attn(x); x ← x + Branch(x), where Branch is a dense FFN or an MoE layer.

    Args:
        attn: The attention branch, (B, T, D) → (B, T, D).
        ffn: The FFN branch, ``ffn(x, task_ids=...)`` → ``((B, T, D), aux_losses)``: a
            :class:`PreNormFeedForward` (no aux losses) or an MoE layer.

    Shapes:
        x: (B, T, D) → (B, T, D); ``task_ids``: (B,) or None; ``grid``: the (H, W) token grid (H·W = T),
        passed to the FFN branch when given.
    """

    def __init__(self, attn: nn.Module, ffn: nn.Module) -> None:
        super().__init__()
        self.attn = attn
        self.ffn = ffn

    def forward(self, x: Tensor, task_ids: Optional[Tensor] = None,
                grid: Optional[Tuple[int, int]] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        x = x + self.attn(x)
        if grid is None:
            delta, aux = self.ffn(x, task_ids=task_ids)
        else:
            delta, aux = self.ffn(x, task_ids=task_ids, grid=grid)
        return x + delta, aux
