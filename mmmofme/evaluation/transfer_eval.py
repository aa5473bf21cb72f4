"""The transfer protocol's evaluation: per held-out kind, restoration PSNR / SSIM in -> out,
segmentation mIoU / mAcc and detection bbox mAP50 on weathered / restored / clean input.

Every model is built once and every frame is handled in this process: each weathered frame is
restored once (through :func:`mmmofme.models.chain.restore_images`, the chain's one restoration path)
and both perception models see the weathered and the restored frame; the clean frames are scored
once. Metrics are the libraries' own: mmagic's ``psnr`` / ``ssim``, mmseg's ``IoUMetric``, mmdet's
``CocoMetric``. Definitions (recovered share, no harm): :mod:`mmmofme.evaluation.transfer_report`.
"""
import contextlib
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmengine.utils import ProgressBar

from ..apis import init_restorer
from ..apis.restorer import restorer_and_tiling
from ..datasets.layouts import CLEAN_TAG, DatasetLayoutError, cityscapes_clean_path
from ..datasets.transfer import SPLITS, get_kind, split_of
from ..models.chain import restore_images  # the chain's one restoration path
from ..utils.checkpoint import install_checkpoint_loader
from .transfer_report import MIN_DROP, PSNR_CAP, markdown_report, no_harm, recovered_share, summarise

__all__ = ['DEFAULT_CHAIN_CONFIG', 'TransferModels', 'build_models', 'tree_kinds', 'evaluate_transfer',
           'write_outputs']

DEFAULT_CHAIN_CONFIG = Path(__file__).resolve().parents[2] / 'configs/synthetic/mofme-fastscnn_synthetic.py'
ConfigLike = Union[str, Path, Config]


def _config(cfg: ConfigLike) -> Config:
    return Config.fromfile(str(cfg)) if isinstance(cfg, (str, Path)) else cfg.copy()


@dataclass
class TransferModels:
    """The three models, built once: the restorer with its tiling, the segmentor, the detector."""

    restorer: torch.nn.Module
    restore_cfg: dict
    segmentor: torch.nn.Module
    detector: torch.nn.Module

    @torch.no_grad()
    def restore(self, rgb: np.ndarray) -> np.ndarray:
        """Restore one RGB uint8 frame (the chain's restoration: tiled, clamped to [0, 1])."""
        device = next(self.restorer.parameters(), torch.empty(0)).device
        x = torch.from_numpy(np.ascontiguousarray(rgb)).to(device).permute(2, 0, 1)[None].float() / 255
        y = restore_images(self.restorer, x, self.restore_cfg).clamp(0, 1)
        return (y[0].permute(1, 2, 0) * 255).round().byte().cpu().numpy()

    def segment(self, bgr: Sequence[np.ndarray]) -> List[np.ndarray]:
        """Label maps (H, W) of BGR frames, through the segmentor config's test pipeline."""
        from mmseg.apis import inference_model
        with DefaultScope.overwrite_default_scope('mmseg'):
            results = inference_model(self.segmentor, list(bgr))
        return [r.pred_sem_seg.data[0].cpu() for r in (results if isinstance(results, list) else [results])]

    def detect(self, bgr: Sequence[np.ndarray]) -> List[dict]:
        """``pred_instances`` (bboxes, scores, labels) of BGR frames, through the detector's test pipeline."""
        from mmdet.apis import inference_detector
        with DefaultScope.overwrite_default_scope('mmdet'):
            results = inference_detector(self.detector, list(bgr))
        results = results if isinstance(results, list) else [results]
        keys = ('bboxes', 'scores', 'labels')
        return [{k: getattr(r.pred_instances, k).cpu() for k in keys} for r in results]


def _path(ckpt) -> Optional[str]:
    return None if ckpt is None else str(ckpt)


def build_models(restorer_cfg: ConfigLike, restorer_ckpt: Optional[str], seg_cfg: ConfigLike,
                 seg_ckpt: Optional[str], det_cfg: ConfigLike, det_ckpt: Optional[str],
                 chain_cfg: Optional[ConfigLike] = DEFAULT_CHAIN_CONFIG,
                 device: str = 'cpu',
                 fast_cpu: bool = False, precision: str = 'fp32') -> TransferModels:
    """Build the three models once.

    Args:
        restorer_cfg: A restorer config (``model.generator``) or chain config (``model.restorer``).
        restorer_ckpt: Its checkpoint (``None`` only for a restorer without parameters, e.g.
            ``IdentityRestorer``), read weights-only by :func:`mmmofme.apis.init_restorer`.
        seg_cfg: Segmentor config (mmseg); its ``test_pipeline`` prepares the frames.
        seg_ckpt: Segmentor checkpoint (``None``: random weights, for tests).
        det_cfg: Detector config (mmdet); its test dataloader pipeline prepares the frames.
        det_ckpt: Detector checkpoint (``None``: random weights, for tests).
        chain_cfg: Chain config whose ``model.restore_cfg`` tiles the restorer (the chain's tiling);
            ``None``: the restorer config's own test tiling.
        device: Where the models run (``'cuda'`` when there is one).
        fast_cpu: Restore on the fast CPU inference path (:func:`mmmofme.deploy.fast_cpu_model`; same
            outputs to 1e-5).
        precision: The restorer's arithmetic, ``'fp32'`` or ``'bf16'`` (:func:`mmmofme.apis.init_restorer`).
    """
    from mmdet.apis import init_detector
    from mmengine.model.utils import revert_sync_batchnorm
    from mmseg.apis import init_model

    import mmmofme.mmdet  # noqa: F401  (register the project's modules in each library)
    import mmmofme.mmseg  # noqa: F401

    install_checkpoint_loader()
    tiling = None if chain_cfg is None else restorer_and_tiling(_config(chain_cfg))[1]
    restorer = init_restorer(_config(restorer_cfg), None if restorer_ckpt is None else str(restorer_ckpt),
                             device=device, restore_cfg=tiling, fast_cpu=fast_cpu, precision=precision)
    if restorer_ckpt is None and any(True for _ in restorer.parameters()):
        raise ValueError(f'the restorer {type(restorer).__name__} has weights but no checkpoint was given')
    segmentor = init_model(_config(seg_cfg), _path(seg_ckpt), device=device)
    if device == 'cpu':
        segmentor = revert_sync_batchnorm(segmentor)
    # a palette given: init_detector does not build the config's test dataset (its data may be elsewhere)
    detector = init_detector(_config(det_cfg), _path(det_ckpt), palette='random', device=device)
    return TransferModels(restorer.eval(), restorer.restore_cfg, segmentor.eval(), detector.eval())


def tree_kinds(data_root: str) -> List[str]:
    """The kinds a transfer tree holds, from its ``transfer_meta.json`` (written by the writer)."""
    meta = Path(data_root) / 'transfer_meta.json'
    if not meta.is_file():
        raise DatasetLayoutError(f'{meta}: missing; {data_root} is not a transfer tree (write one with '
                                 f'tools/dataset_converters/make_transfer_set.py)')
    kinds = list(json.loads(meta.read_text())['kinds'])
    if not kinds:
        raise DatasetLayoutError(f'{meta}: the tree holds no kind')
    return kinds


def read_bgr(path: str) -> np.ndarray:
    """BGR uint8 frame; fails naming the file."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f'{path}: cannot read the image (missing, truncated or not an image)')
    return img


class _Scores:
    """The metric objects of one (kind, input) pair, fed frame by frame."""

    def __init__(self, seg_classes: Sequence[str], det_classes: Sequence[str]) -> None:
        from mmdet.evaluation import CocoMetric
        from mmseg.evaluation import IoUMetric
        self.iou = IoUMetric(iou_metrics=['mIoU'])
        self.iou.dataset_meta = dict(classes=tuple(seg_classes))
        self.coco = CocoMetric(ann_file=None, metric='bbox', classwise=False)
        self.coco.dataset_meta = dict(classes=tuple(det_classes))

    def add(self, index: int, seg_pred: torch.Tensor, seg_gt: np.ndarray, det_pred: dict,
            det_gt: dict) -> None:
        gt = torch.from_numpy(seg_gt)
        self.iou.process({}, [dict(pred_sem_seg=dict(data=seg_pred), gt_sem_seg=dict(data=gt))])
        self.coco.process({}, [dict(pred_instances=det_pred, img_id=index, ori_shape=det_gt['ori_shape'],
                                    instances=det_gt['instances'])])

    def compute(self) -> Dict[str, float]:
        with _quiet():
            seg = self.iou.compute_metrics(self.iou.results)
            det = self.coco.compute_metrics(self.coco.results)
        # CocoMetric returns no bbox keys when no frame has a single detection: that is an AP of 0
        return dict(aAcc=float(seg['aAcc']), mIoU=float(seg['mIoU']), mAcc=float(seg['mAcc']),
                    mAP=float(det.get('bbox_mAP', 0.0)), mAP50=float(det.get('bbox_mAP_50', 0.0)))


@contextlib.contextmanager
def _quiet():
    """Silence the metrics' own tables (the current MMLogger below WARNING, pycocotools' prints)."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def capped_psnr(img: np.ndarray, clean: np.ndarray) -> float:
    """mmagic's PSNR of two (H, W, C) images, capped at :data:`PSNR_CAP` (as every report averages it)."""
    from mmagic.evaluation.metrics.psnr import psnr
    return min(float(psnr(img, clean, input_order='HWC')), PSNR_CAP)


def psnr_ssim(img: np.ndarray, clean: np.ndarray) -> tuple:
    """``(capped PSNR, SSIM)`` of two (H, W, C) uint8 images, by mmagic's metrics."""
    from mmagic.evaluation.metrics.ssim import ssim
    return capped_psnr(img, clean), float(ssim(img, clean, input_order='HWC'))


def _frames(data_root: str, split: str, kinds: Sequence[str], num: Optional[int], layout: str = 'cityscapes'):
    """Per kind the ``(frame key, weathered image path)`` samples (several per frame where a tree holds
    several variants, e.g. the synthetic default's rain settings), plus the ground truth per frame,
    through the project's dataset classes (which check the tree and name any missing file)."""
    from mmmofme.mmdet.datasets import WeatherCityscapesDetDataset
    from mmmofme.mmseg.datasets import WeatherCityscapesSegDataset

    common = dict(data_root=data_root, split=split, layout=layout, test_mode=True, pipeline=[],
                  serialize_data=False)
    weathered = [k for k in kinds if k != CLEAN_TAG]
    with _quiet():
        seg = WeatherCityscapesSegDataset(weathers=weathered or [CLEAN_TAG], **common)
        det = WeatherCityscapesDetDataset(weathers=[CLEAN_TAG], **common)
    frames = sorted({info['frame'] for info in seg.data_list})[:num]
    chosen = set(frames)
    samples: Dict[str, List[tuple]] = {k: [] for k in kinds}
    seg_gt: Dict[str, str] = {}
    for info in sorted(seg.data_list, key=lambda info: info['img_path']):
        seg_gt[info['frame']] = info['seg_map_path']
        if info['frame'] in chosen and info['weather'] in samples and info['weather'] != CLEAN_TAG:
            samples[info['weather']].append((info['frame'], info['img_path']))
    if CLEAN_TAG in samples:
        samples[CLEAN_TAG] = [(f, cityscapes_clean_path(data_root, split, f)) for f in frames]
    det_gt = {info['frame']: dict(instances=info['instances'], ori_shape=(info['height'], info['width']))
              for info in det.data_list}
    for kind in kinds:
        missing = sorted(chosen - {frame for frame, _ in samples[kind]})
        if missing:
            raise DatasetLayoutError(f'{data_root}: kind {kind!r} lacks {len(missing)} of {len(frames)} '
                                     f'frames (e.g. {missing[0]})')
    unannotated = [f for f in frames if f not in det_gt]
    if unannotated:
        raise DatasetLayoutError(f'{data_root}: {len(unannotated)} frames have no COCO entry (e.g. '
                                 f'{unannotated[0]})')
    return frames, samples, seg_gt, det_gt, seg.metainfo['classes'], det.metainfo['classes']


def _family(kind: str) -> Tuple[str, List[str]]:
    """A registered kind's family and splits; the training renderer's own weathers are ``'training'``."""
    try:
        return get_kind(kind).family, list(split_of(kind))
    except KeyError:
        return 'training', []


def evaluate_transfer(data_root: str, models: TransferModels, kinds: Optional[Sequence[str]] = None,
                      split: str = 'val', num: Optional[int] = None, out_dir: Optional[str] = None,
                      logger: Optional[MMLogger] = None, layout: str = 'cityscapes') -> dict:
    """Score the restorer and the perception models on every kind of a transfer tree (or the weathers
    of another Cityscapes-layout tree, e.g. ``layout='synthetic'`` for the training renderer's own).

    Args:
        data_root: Transfer tree (``tools/dataset_converters/make_transfer_set.py``).
        models: :func:`build_models`.
        kinds: Kinds to score (default: every kind of the tree).
        split: Split folder of the tree.
        num: Frames per kind (default all); every variant of a chosen frame is scored.
        out_dir: Where to write ``transfer.md``, ``transfer.json`` and the PNGs (:func:`write_outputs`);
            ``None`` writes nothing.
        logger: Progress logger (default an ``MMLogger`` named ``transfer_eval``).
        layout: Dataset layout of ``data_root`` (:func:`mmmofme.datasets.layouts.list_pairs`).

    Returns:
        ``{'settings', 'clean', 'kinds': {kind: {...}}, 'summary': {split: {family: {...}}},
        'runtime_s'}``; per kind: ``family``, ``splits``, ``frames``, ``psnr_in`` / ``psnr_out``,
        ``ssim_in`` / ``ssim_out``, ``mIoU`` / ``mAcc`` / ``mAP50`` each ``{weathered, restored, clean}``,
        ``recovered`` (``mIoU``, ``mAP50``; ``None`` = n/a), ``no_harm``.
    """
    start = time.time()
    logger = logger or MMLogger.get_instance('transfer_eval', log_level='INFO')
    kinds = list(kinds) if kinds is not None else tree_kinds(data_root)
    families = {k: _family(k) for k in kinds}
    frames, samples, seg_gt_paths, det_gt, seg_classes, det_classes = _frames(data_root, split, kinds, num,
                                                                               layout)
    logger.info(f'transfer evaluation: {len(kinds)} kinds x {len(frames)} frames of {data_root} ({split})')

    clean_scores = _Scores(seg_classes, det_classes)
    clean_pred = {}
    seg_gt = {}
    for i, frame in enumerate(frames):
        bgr = read_bgr(cityscapes_clean_path(data_root, split, frame))
        seg_gt[frame] = cv2.imread(seg_gt_paths[frame], cv2.IMREAD_UNCHANGED)
        clean_pred[frame] = (bgr, models.segment([bgr])[0], models.detect([bgr])[0])
        clean_scores.add(i, clean_pred[frame][1], seg_gt[frame], clean_pred[frame][2], det_gt[frame])
    clean = clean_scores.compute()

    results = {}
    examples = []
    bar = ProgressBar(sum(len(v) for v in samples.values()))
    for kind in kinds:
        scores = dict(weathered=_Scores(seg_classes, det_classes), restored=_Scores(seg_classes, det_classes))
        image_scores = []
        for i, (frame, path) in enumerate(samples[kind]):
            clean_bgr, clean_seg, clean_det = clean_pred[frame]
            weathered = clean_bgr if kind == CLEAN_TAG else read_bgr(path)
            restored = np.ascontiguousarray(models.restore(weathered[..., ::-1])[..., ::-1])
            clean_rgb = clean_bgr[..., ::-1]
            image_scores.append(psnr_ssim(weathered[..., ::-1], clean_rgb) + psnr_ssim(restored[..., ::-1],
                                                                                         clean_rgb))
            if kind == CLEAN_TAG:  # the weathered input is the clean frame: its predictions are known
                seg = [clean_seg] + models.segment([restored])
                det = [clean_det] + models.detect([restored])
            else:
                seg, det = models.segment([weathered, restored]), models.detect([weathered, restored])
            for j, mode in enumerate(('weathered', 'restored')):
                scores[mode].add(i, seg[j], seg_gt[frame], det[j], det_gt[frame])
            if i == 0:
                examples.append((kind, weathered[..., ::-1], restored[..., ::-1], clean_rgb))
            bar.update()
        metrics = {mode: s.compute() for mode, s in scores.items()}
        metrics['clean'] = clean
        psnr_in, ssim_in, psnr_out, ssim_out = np.mean(np.asarray(image_scores), axis=0).tolist()
        row = dict(family=families[kind][0], splits=families[kind][1], frames=len(samples[kind]),
                   psnr_in=psnr_in,
                   psnr_out=psnr_out, ssim_in=ssim_in, ssim_out=ssim_out)
        for key in ('mIoU', 'mAcc', 'mAP50'):
            row[key] = {mode: metrics[mode][key] for mode in ('weathered', 'restored', 'clean')}
        row['recovered'] = {key: recovered_share(*(row[key][m] for m in ('weathered', 'restored', 'clean')),
                                                 MIN_DROP[key]) for key in ('mIoU', 'mAP50')}
        row['no_harm'] = no_harm(psnr_in, psnr_out, row['mIoU']['weathered'], row['mIoU']['restored'])
        results[kind] = row
    bar.file.write('\n')
    splits = {s: [k for k in names if k in results] for s, names in SPLITS.items()}
    out = dict(settings=dict(data_root=str(data_root), split=split, frames=len(frames), kinds=kinds,
                             restore_cfg=dict(models.restore_cfg), psnr_cap=PSNR_CAP, min_drop=MIN_DROP),
               clean=clean, kinds=results,
               summary={s: summarise(results, names) for s, names in splits.items() if names},
               runtime_s=round(time.time() - start, 1))
    logger.info(f'transfer evaluation done in {out["runtime_s"]:.0f} s')
    if out_dir is not None:
        write_outputs(out, Path(out_dir), examples)
    return out


def write_outputs(results: dict, out_dir: Path, examples: Sequence = ()) -> Dict[str, Path]:
    """``transfer.md``, ``transfer.json``, ``transfer_bars.png`` and (with examples)
    ``transfer_examples.png`` in ``out_dir``."""
    from ..visualization.transfer_plots import bar_plot, example_mosaic

    out_dir.mkdir(parents=True, exist_ok=True)
    splits = {s: [k for k in names if k in results['kinds']] for s, names in SPLITS.items()}
    files = {key: out_dir / f'transfer{suffix}' for key, suffix in (('md', '.md'), ('json', '.json'),
                                                                     ('bars', '_bars.png'))}
    files['md'].write_text(markdown_report(results, splits))
    files['json'].write_text(json.dumps(results, indent=1))
    bar_plot(results['kinds'], list(results['kinds']), files['bars'])
    if examples:
        files['examples'] = example_mosaic(examples, out_dir / 'transfer_examples.png')
    return files
