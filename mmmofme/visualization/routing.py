"""Routing analysis: which experts the tokens of each weather go to (arrays), and their pictures.

Computation and drawing are apart: :func:`route_images` and :func:`usage_statistics` return numpy arrays
(tested on hand-set routers), the ``draw_*`` functions only paint them with matplotlib.
"""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..models.moe.routing_recorder import RoutingRecorder

__all__ = ['route_images', 'usage_statistics', 'draw_usage_heatmaps', 'draw_frame_routing', 'tsne_partition',
           'draw_tsne']


@torch.no_grad()
def route_images(network: nn.Module, images: Sequence[Tensor], patch_size: int) -> List[dict]:
    """Run ``network`` on each (3, H, W) image in [0, 1] (whole, not tiled) and keep its routing.

    Returns one dict per image: ``first`` (L, h, w) int, the first-choice expert of every token on the
    token grid (h = ceil(H / p)); ``indices`` (L, T, k) int; ``probs`` (L, T, E) float (E of the last
    layer when the layers differ: a list then); ``variance`` (L, h, w) float or None (UaR routers only).
    """
    out = []
    network.eval()
    for image in images:
        h, w = math.ceil(image.shape[-2] / patch_size), math.ceil(image.shape[-1] / patch_size)
        with RoutingRecorder(network) as recorder:
            network(image[None])
        layers = recorder.calls[-1]
        variance = [r.variance for r in layers]
        out.append(dict(
            first=np.stack([r.indices[0, :, 0].reshape(h, w).numpy() for r in layers]),
            indices=np.stack([r.indices[0].numpy() for r in layers]),
            probs=[r.probs[0].numpy() for r in layers],
            variance=None if any(v is None for v in variance) else np.stack([v[0].reshape(h, w).numpy()
                                                                              for v in variance])))
    return out


def usage_statistics(routings: Sequence[dict], num_experts: Sequence[int], rare: float = 0.01) -> dict:
    """Expert usage over ``routings`` (from :func:`route_images`, e.g. the frames of one weather).

    Args:
        routings: per-image routing dicts.
        num_experts: E of each layer.
        rare: an expert is rare when it receives less than this share of the tokens.

    Returns:
        ``counts`` (L, E): token-to-expert assignments (all k choices) — each row sums to tokens × k;
        ``fraction`` (L, E): counts / (tokens × k), rows sum to 1; ``token_share`` (L, E): the share of
        tokens that have the expert among their k; ``entropy`` (L,): of ``fraction`` in nats, in
        [0, log E]; ``rare_share`` (L,): share of the layer's experts with ``token_share < rare``;
        ``tokens``: tokens counted per layer.
    """
    layers = len(num_experts)
    width = max(num_experts)
    counts = np.zeros((layers, width), np.int64)
    tokens = 0
    for routing in routings:
        indices = routing['indices']
        tokens += indices.shape[1]
        for layer in range(layers):
            counts[layer] += np.bincount(indices[layer].reshape(-1), minlength=width)[:width]
    k = routings[0]['indices'].shape[2] if routings else 1
    fraction = counts / max(tokens * k, 1)
    token_share = counts / max(tokens, 1)
    entropy = np.array([-(f[f > 0] * np.log(f[f > 0])).sum() for f in fraction])
    rare_share = np.array([(token_share[layer, :num_experts[layer]] < rare).mean()
                           for layer in range(layers)])
    return dict(counts=counts, fraction=fraction, token_share=token_share, entropy=entropy,
                rare_share=rare_share, tokens=tokens)


def tsne_partition(features: np.ndarray, labels: Sequence[str], seed: int = 0) -> dict:
    """2-D t-SNE of router outputs (N, E) and the silhouette score of ``labels`` on the router outputs
    (scikit-learn; higher = weathers better separated). Raises a one-line error when it is missing."""
    try:
        from sklearn.manifold import TSNE
        from sklearn.metrics import silhouette_score
    except ImportError:
        raise RuntimeError('the t-SNE needs scikit-learn, which is not installed in this environment')
    embedding = TSNE(n_components=2, init='pca', random_state=seed,
                     perplexity=min(30.0, max(2.0, (len(features) - 1) / 3))).fit_transform(features)
    return dict(embedding=embedding, silhouette=float(silhouette_score(features, list(labels))))


# ---------------------------------------------------------------------------------------------------
# drawing
# ---------------------------------------------------------------------------------------------------
def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def draw_usage_heatmaps(stats: Dict[str, dict], out_path: str, title: str = '') -> None:
    """One heatmap (layer × expert, colour = share of assignments) per weather, side by side."""
    plt = _pyplot()
    weathers = list(stats)
    layers, experts = stats[weathers[0]]['fraction'].shape
    fig, axes = plt.subplots(len(weathers), 1, squeeze=False,
                             figsize=(max(6, 0.25 * experts + 2), 1.0 + 1.1 * len(weathers) * layers))
    vmax = max(float(s['fraction'].max()) for s in stats.values())
    for ax, weather in zip(axes[:, 0], weathers):
        s = stats[weather]
        im = ax.imshow(s['fraction'], aspect='auto', cmap='viridis', vmin=0, vmax=vmax)
        ax.set_ylabel('layer')
        ax.set_yticks(range(s['fraction'].shape[0]))
        ax.set_title(f'{weather}: entropy ' + ', '.join(f'{e:.2f}' for e in s['entropy'])
                     + ' nats; experts < 1 % of tokens ' + ', '.join(f'{r:.0%}' for r in s['rare_share']),
                     fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.03)
    axes[-1, 0].set_xlabel('expert')
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def draw_frame_routing(image: np.ndarray, routing: dict, num_experts: int, out_path: str, layer: int = -1,
                       title: str = '') -> None:
    """The frame, its first-choice expert per token overlaid (one colour per expert), and for UaR routers
    the per-token MC-dropout variance. ``image``: (H, W, 3) RGB uint8."""
    plt = _pyplot()
    first = routing['first'][layer]
    variance = routing['variance']
    panels = 3 if variance is not None else 2
    h, w = image.shape[:2]
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 4.2 * h / w + 0.6))
    axes[0].imshow(image)
    axes[0].set_title('input', fontsize=8)
    cmap = plt.get_cmap('tab20' if num_experts <= 20 else 'hsv', num_experts)
    extent = (0, first.shape[1] * w / first.shape[1], first.shape[0] * h / first.shape[0], 0)
    axes[1].imshow(image)
    axes[1].imshow(first, cmap=cmap, vmin=-0.5, vmax=num_experts - 0.5, alpha=0.55, interpolation='nearest',
                   extent=extent)
    layer_number = layer % routing['first'].shape[0]
    axes[1].set_title(f'first-choice expert per token (layer {layer_number})', fontsize=8)
    if variance is not None:
        im = axes[2].imshow(variance[layer], cmap='magma', interpolation='nearest', extent=extent)
        axes[2].set_title('router MC-dropout variance (sum over experts)', fontsize=8)
        fig.colorbar(im, ax=axes[2], fraction=0.03)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def draw_tsne(panels: Dict[str, dict], labels: Dict[str, Sequence[str]], out_path: str) -> None:
    """t-SNE panels side by side (one per model), points coloured by weather, silhouette in the title."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.2), squeeze=False)
    for ax, (name, panel) in zip(axes[0], panels.items()):
        names = np.asarray(labels[name])
        for weather in dict.fromkeys(names):
            pts = panel['embedding'][names == weather]
            ax.scatter(pts[:, 0], pts[:, 1], s=3, label=weather)
        ax.set_title(f'{name}: silhouette {panel["silhouette"]:.3f}', fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=7, markerscale=3)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def token_features(routings: Sequence[dict], layer: int = -1, per_image: Optional[int] = None,
                   seed: int = 0) -> np.ndarray:
    """Router outputs (probabilities) of ``layer`` over ``routings``, at most ``per_image`` tokens of each
    image (a fixed random draw)."""
    rng = np.random.default_rng(seed)
    rows = []
    for routing in routings:
        probs = routing['probs'][layer]
        if per_image is not None and len(probs) > per_image:
            probs = probs[rng.choice(len(probs), per_image, replace=False)]
        rows.append(probs)
    return np.concatenate(rows)
