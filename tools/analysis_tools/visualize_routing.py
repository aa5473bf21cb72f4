"""Where the experts of a trained MoE / MoFME restorer send each weather's tokens.

    python tools/analysis_tools/visualize_routing.py CONFIG CKPT --out work_dirs/routing \
        [--split val] [--num-frames 4] [--data-root DIR] [--compare CONFIG2 CKPT2] [--tsne]

Reads the config's test set (its layout, data root and weathers), restores ``--num-frames`` frames per
weather whole (not tiled) and records every MoE layer's routing through forward hooks. Writes:

* ``usage.json``: per weather and layer, the share of assignments each expert receives, the usage
  entropy (nats, at most log E) and the share of experts that receive < 1 % of the tokens;
* ``usage_heatmaps.png``: layer × expert heatmaps, one per weather;
* ``frames/{weather}_{i}.png``: the frame, the first-choice expert of each token overlaid, and for UaR
  routers the per-token MC-dropout variance of the router;
* with ``--tsne``: ``tsne.png``, router outputs of the last MoE layer in 2-D (scikit-learn's TSNE) coloured
  by weather, this model and each ``--compare`` model side by side, with the silhouette score of the
  weathers on the router outputs (higher = clearer partitions) in ``usage.json``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='restorer config (model.generator) or chain config (model.restorer)')
    p.add_argument('checkpoint', help='its checkpoint')
    p.add_argument('--out', default='work_dirs/routing', help='output folder')
    p.add_argument('--split', default=None, help="dataset split (default: the config's test split)")
    p.add_argument('--data-root', default=None, help="dataset root (default: the config's)")
    p.add_argument('--num-frames', type=int, default=4, help='frames per weather')
    p.add_argument('--tokens-per-frame', type=int, default=200, help='tokens per frame in the t-SNE')
    p.add_argument('--compare', nargs=2, action='append', default=[], metavar=('CONFIG', 'CKPT'),
                   help='another model for the side-by-side t-SNE (repeatable)')
    p.add_argument('--tsne', action='store_true', help='t-SNE + silhouette (needs scikit-learn)')
    p.add_argument('--names', nargs='+', default=None, metavar='NAME',
                   help='a name per model (the first, then each --compare) for the figures and the JSON '
                        '(default: config file names)')
    return p.parse_args(argv)


def test_records(cfg, split: Optional[str], data_root: Optional[str], num_frames: int) -> dict:
    """``{weather: [PairRecord, ...]}``, the first ``num_frames`` frames of each weather of the test set."""
    from mmmofme.datasets.layouts import list_pairs
    dataset = cfg.test_dataloader.dataset
    records = list_pairs(dataset.get('layout', 'synthetic'), data_root or dataset.data_root,
                         split or dataset.get('split', 'val'), dataset.get('weathers'))
    by_weather: dict = {}
    for record in records:
        frames = by_weather.setdefault(record.weather, [])
        if len(frames) < num_frames:
            frames.append(record)
    return by_weather


def load_network(config: str, checkpoint: str):
    from mmmofme.apis import init_restorer
    from mmmofme.models.moe import MoELayer
    for path in (config, checkpoint):
        if not osp.isfile(path):
            raise SystemExit(f'error: {path}: no such file')
    network = init_restorer(config, checkpoint)
    layers = [m for m in network.modules() if isinstance(m, MoELayer)]
    if not layers:
        raise SystemExit(f'error: {config}: the restorer has no MoE layer (a dense model routes nothing)')
    return network, [layer.experts.num_experts for layer in layers]


def analyse(config: str, checkpoint: str, args: argparse.Namespace, draw_frames: bool, out: str,
            name: Optional[str] = None) -> dict:
    import cv2
    import torch

    from mmmofme.visualization.routing import (
        draw_frame_routing,
        draw_usage_heatmaps,
        route_images,
        token_features,
        usage_statistics,
    )
    network, num_experts = load_network(config, checkpoint)
    records = test_records(network.cfg, args.split, args.data_root, args.num_frames)
    if not records:
        raise SystemExit(f'error: {config}: no test images found (check --data-root / --split)')
    stats, features, labels = {}, [], []
    os.makedirs(osp.join(out, 'frames'), exist_ok=True)
    for weather, frames in records.items():
        images = [cv2.imread(r.img_path)[..., ::-1].copy() for r in frames]
        tensors = [torch.from_numpy(img).permute(2, 0, 1).float() / 255 for img in images]
        routings = route_images(network, tensors, network.patch_size)
        stats[weather] = usage_statistics(routings, num_experts)
        feats = token_features(routings, per_image=args.tokens_per_frame)
        features.append(feats)
        labels += [weather] * len(feats)
        if draw_frames:
            for i, (img, routing) in enumerate(zip(images, routings)):
                draw_frame_routing(img, routing, num_experts[-1],
                                   osp.join(out, 'frames', f'{weather}_{i}.png'),
                                   title=f'{weather}: {osp.basename(frames[i].img_path)}')
    if draw_frames:
        draw_usage_heatmaps(stats, osp.join(out, 'usage_heatmaps.png'), title=name or osp.basename(config))
    return dict(stats=stats, features=np.concatenate(features), labels=labels, num_experts=num_experts)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    pairs = [(args.config, args.checkpoint)] + [tuple(c) for c in args.compare]
    names = args.names or [osp.splitext(osp.basename(c))[0] + (f'_{i}' if i else '') for i, (c, _) in
                           enumerate(pairs)]
    if len(names) != len(pairs) or len(set(names)) != len(names):
        raise SystemExit(f'error: --names needs {len(pairs)} different names (one per model), got {names}')
    models = dict(zip(names, pairs))
    results = {}
    for index, (name, (config, checkpoint)) in enumerate(models.items()):
        results[name] = analyse(config, checkpoint, args, draw_frames=index == 0, out=args.out, name=name)
    report = {name: dict(config=models[name][0], checkpoint=models[name][1], num_experts=r['num_experts'],
                         weathers={w: dict(fraction=s['fraction'].tolist(), entropy=s['entropy'].tolist(),
                                           rare_share=s['rare_share'].tolist(), tokens=s['tokens'])
                                   for w, s in r['stats'].items()})
              for name, r in results.items()}
    if args.tsne:
        from mmmofme.visualization.routing import draw_tsne, tsne_partition
        try:
            panels = {name: tsne_partition(r['features'], r['labels']) for name, r in results.items()}
        except RuntimeError as e:
            raise SystemExit(f'error: {e}')
        draw_tsne(panels, {name: r['labels'] for name, r in results.items()}, osp.join(args.out, 'tsne.png'))
        for name, panel in panels.items():
            report[name]['silhouette'] = panel['silhouette']
    with open(osp.join(args.out, 'usage.json'), 'w') as f:
        json.dump(report, f, indent=2)
    for name, entry in report.items():
        for weather, s in entry['weathers'].items():
            print(f'{name} {weather}: entropy ' + ', '.join(f'{e:.2f}' for e in s['entropy']) + ' nats (max '
                  + ', '.join(f'{np.log(e):.2f}' for e in entry['num_experts'])
                  + '); experts < 1 % of tokens '
                  + ', '.join(f'{r:.0%}' for r in s['rare_share']))
    print(f'written to {args.out}')
    return report


if __name__ == '__main__':
    main()
