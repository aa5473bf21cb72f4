"""Supervised contrastive loss (Khosla et al., NeurIPS 2020), MoWE's WGF-CL on token weather features."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def supervised_contrastive_loss(features: Tensor, labels: Tensor, temperature: float = 0.1,
                                max_samples: Optional[int] = None) -> Tensor:
    """Mean over anchors of −(1/|P(i)|) Σ_{p∈P(i)} log(exp(z_i·z_p/τ) / Σ_{a≠i} exp(z_i·z_a/τ)).

    z are the L2-normalised features; P(i) the other samples with anchor i's label. Anchors without
    a positive are left out; with none at all the loss is 0 (a graph-connected zero).

    Args:
        features: (N, C) features.
        labels: (N,) integer labels (MoWE: the token's weather tag).
        temperature: τ.
        max_samples: Draw this many samples at random first (the loss is quadratic in N); None: all.

    Returns:
        Scalar tensor.
    """
    if max_samples is not None and features.shape[0] > max_samples:
        keep = torch.randperm(features.shape[0], device=features.device)[:max_samples]
        features, labels = features[keep], labels[keep]
    n = features.shape[0]
    z = F.normalize(features.float(), dim=-1)
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    similarity = (z @ z.t() / temperature).masked_fill(self_mask, float('-inf'))
    log_prob = similarity.log_softmax(-1).masked_fill(self_mask, 0.0)
    positives = (labels.view(-1, 1) == labels.view(1, -1)) & ~self_mask
    counts = positives.sum(1)
    anchors = counts > 0
    if not bool(anchors.any()):
        return features.sum() * 0.0
    per_anchor = -(log_prob * positives).sum(1)[anchors] / counts[anchors]
    return per_anchor.mean()
