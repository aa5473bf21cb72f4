"""Side-by-side PNGs for people: weathered | restored | clean, with segmentation and detections.

Uses the libraries' own inference APIs (``mmseg.apis.inference_model``, ``mmdet.apis.inference_detector``)
and the project's ``init_restorer`` / ``restore`` for the restorer.
"""
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np

from ..apis import init_restorer, restore
from ..utils.checkpoint import install_checkpoint_loader

PANEL_NAMES = ('weathered', 'MoFME restored', 'clean')


def _label(img: np.ndarray, text: str) -> np.ndarray:
    out = img.copy()
    cv2.rectangle(out, (0, 0), (8 + 9 * len(text), 20), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def overlay_segmentation(bgr: np.ndarray, labels: np.ndarray, palette: Sequence[Sequence[int]],
                         alpha: float = 0.55) -> np.ndarray:
    """Blend the class colours (RGB palette) of ``labels`` (H, W) over a BGR image."""
    colours = np.zeros_like(bgr)
    for cls, rgb in enumerate(palette):
        colours[labels == cls] = rgb[::-1]
    valid = (labels < len(palette))[..., None]
    return np.where(valid, (alpha * colours + (1 - alpha) * bgr).astype(np.uint8), bgr)


def draw_boxes(bgr: np.ndarray, boxes: np.ndarray, labels: np.ndarray, scores: np.ndarray,
               classes: Sequence[str], palette: Sequence[Sequence[int]],
               score_thr: float = 0.3) -> np.ndarray:
    out = bgr.copy()
    for (x1, y1, x2, y2), label, score in zip(boxes.astype(int), labels, scores):
        if score < score_thr:
            continue
        colour = tuple(int(c) for c in palette[int(label) % len(palette)][::-1])
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 2)
        cv2.putText(out, f'{classes[int(label)]} {score:.2f}', (x1, max(y1 - 3, 10)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1, cv2.LINE_AA)
    return out


def render_side_by_side(data_dir: Path, out_dir: Path, weathers: Sequence[str], num_per_weather: int,
                        restorer_cfg, restorer_ckpt: Path, seg_cfg, seg_ckpt: Path, det_cfg,
                        det_ckpt: Path, split: str = 'val') -> List[Path]:
    """Write ``{weather}_{frame}.png`` mosaics; returns their paths."""
    from mmdet.apis import inference_detector, init_detector
    from mmengine.model.utils import revert_sync_batchnorm
    from mmengine.registry import DefaultScope
    from mmseg.apis import inference_model, init_model

    from ..datasets.layouts import list_pairs

    install_checkpoint_loader()  # the libraries' init_model / init_detector read the checkpoints below
    restorer = init_restorer(restorer_cfg, str(restorer_ckpt))  # the restorer's own test tiling
    segmentor = revert_sync_batchnorm(init_model(seg_cfg, str(seg_ckpt), device='cpu'))
    detector = init_detector(det_cfg, str(det_ckpt), device='cpu')
    seg_palette = segmentor.dataset_meta['palette']
    det_meta: Dict = detector.dataset_meta
    det_palette = det_meta.get('palette') or [(220, 20, 60)] * len(det_meta['classes'])

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for weather in weathers:
        seen = set()
        for record in list_pairs('synthetic', str(data_dir), split, [weather]):
            if record.frame in seen or len(seen) >= num_per_weather:
                continue
            seen.add(record.frame)
            weathered = cv2.imread(record.img_path)
            clean = cv2.imread(record.gt_path)
            restored = restore(restorer, weathered)
            top, bottom = [], []
            for name, bgr in zip(PANEL_NAMES, (weathered, restored, clean)):
                # each library's inference API builds its test pipeline in the current scope
                with DefaultScope.overwrite_default_scope('mmseg'):
                    seg = inference_model(segmentor, bgr).pred_sem_seg.data[0].cpu().numpy()
                with DefaultScope.overwrite_default_scope('mmdet'):
                    det = inference_detector(detector, bgr).pred_instances
                top.append(_label(overlay_segmentation(bgr, seg, seg_palette), f'{name}: segmentation'))
                bottom.append(_label(draw_boxes(bgr, det.bboxes.cpu().numpy(), det.labels.cpu().numpy(),
                                                det.scores.cpu().numpy(), det_meta['classes'], det_palette),
                                     f'{name}: detection'))
            mosaic = np.vstack([np.hstack([_label(weathered, 'weathered'), _label(restored, 'MoFME restored'),
                                           _label(clean, 'clean')]), np.hstack(top), np.hstack(bottom)])
            path = out_dir / f'{weather}_{record.frame.replace("/", "_")}.png'
            cv2.imwrite(str(path), mosaic)
            written.append(path)
    return written
