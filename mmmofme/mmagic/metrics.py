"""Per-weather restoration metrics: mmagic's own PSNR / SSIM, grouped by the sample's weather tag, and
PSNR inside the lens drops."""
from collections import defaultdict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmagic.evaluation.metrics.base_sample_wise_metric import BaseSampleWiseMetric
from mmagic.evaluation.metrics.metrics_utils import obtain_data
from mmagic.registry import METRICS
from mmengine.logging import print_log

from ..evaluation.drop_region import DROP_THRESHOLD, drop_mask, masked_sse, pooled_psnr

__all__ = ['PerWeatherMetric', 'DropRegionPSNR']


def _fmt(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.4f}'


def _subset(data_batch: Optional[dict], idx: Sequence[int]) -> Optional[dict]:
    """``data_batch`` with its ``inputs`` and ``data_samples`` (list or stacked tensor) cut to ``idx``."""
    if not isinstance(data_batch, Mapping):
        return data_batch
    out = dict(data_batch)
    for key in ('inputs', 'data_samples'):
        value = data_batch.get(key)
        if isinstance(value, torch.Tensor):
            out[key] = value[list(idx)]
        elif isinstance(value, Sequence):
            out[key] = [value[i] for i in idx]
    return out


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@METRICS.register_module()
class DropRegionPSNR(BaseSampleWiseMetric):
    """PSNR on the pixels where the weathered input differs from the ground truth by more than
    ``threshold`` grey levels (max over channels): inside the lens drops for the raindrop weather.

    Squared errors are pooled over the mask pixels of all samples (``mmmofme.evaluation.drop_region``,
    the definition ``tools/demo.py`` reports), so a frame counts by its number of drop pixels and one
    without any adds nothing. ``compute_metrics`` returns no key when no sample had a mask pixel.

    Reads the raw uint8 input of each sample from ``data_batch['inputs']`` (the dataloader's batch, before
    the data preprocessor), ``gt_img`` (0-255) and ``output.pred_img`` (0-255) like mmagic's ``PSNR``; the
    input is brought to the channel order of ``gt_img`` through the samples' metainfo
    (``img_channel_order``, ``gt_img_output_channel_order``: the preprocessor turns gt to BGR at test time).

    Args:
        threshold: Grey levels (0-255) above which a pixel belongs to the mask.
        gt_key, pred_key, collect_device, prefix: As mmagic's ``PSNR``.
    """

    metric = 'PSNR_drops'

    def __init__(self, threshold: float = DROP_THRESHOLD, gt_key: str = 'gt_img', pred_key: str = 'pred_img',
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(gt_key=gt_key, pred_key=pred_key, collect_device=collect_device, prefix=prefix)
        self.threshold = threshold

    def process(self, data_batch: Optional[dict], data_samples: Sequence[dict]) -> None:
        """Append ``{'PSNR_drops': (sum of squared errors, number of values)}`` per sample."""
        if not isinstance(data_batch, Mapping) or 'inputs' not in data_batch:
            raise ValueError(f'{type(self).__name__} needs the weathered inputs: data_batch["inputs"]')
        inputs = data_batch['inputs']
        for i, data in enumerate(data_samples):
            weathered = inputs[i]['img'] if isinstance(inputs[i], Mapping) else inputs[i]
            weathered = self._gt_order(_numpy(weathered), data)
            gt = _numpy(obtain_data(data, self.gt_key))
            pred = _numpy(obtain_data(data['output'], self.pred_key))
            if not weathered.shape == gt.shape == pred.shape:
                raise ValueError(f'{type(self).__name__}: input {weathered.shape}, gt {gt.shape} and '
                                 f'prediction {pred.shape} differ in shape')
            mask = drop_mask(weathered, gt, self.threshold, channel_axis=-3)  # (C, H, W) as mmagic packs
            self.results.append({self.metric: masked_sse(pred, gt, mask, channel_axis=-3)})

    def _gt_order(self, img: np.ndarray, data: Mapping) -> np.ndarray:
        """``img`` (C, H, W) in the channel order of the sample's gt (mmagic's default order: BGR)."""
        src = str(data.get('img_channel_order', 'BGR')).upper()
        dst = data.get(f'{self.gt_key}_output_channel_order', data.get('gt_channel_order', 'BGR'))
        dst = str(dst).upper()
        if img.shape[-3] == 3 and {src, dst} == {'RGB', 'BGR'}:
            return img[..., ::-1, :, :]
        return img

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """PSNR of the MSE pooled over every sample's mask; ``{}`` when no sample had a mask pixel."""
        pairs: List[Tuple[float, int]] = [r[self.metric] for r in results]
        count = sum(n for _, n in pairs)
        if count == 0:
            print_log(f'{self.metric}: no pixel differs from the ground truth by more than '
                      f'{self.threshold} grey levels; not reported', logger='current')
            return {}
        return {self.metric: pooled_psnr(sum(sse for sse, _ in pairs), count)}


@METRICS.register_module()
class PerWeatherMetric(BaseSampleWiseMetric):
    """Wraps sample-wise mmagic metrics (default ``PSNR`` and ``SSIM``) and reports them per weather.

    Each inner metric scores every sample exactly as it would on its own (same ``process``); the scores
    are then grouped by ``data_sample.metainfo[weather_key]`` and averaged by the inner metric's own
    ``compute_metrics``. Returned keys: ``'{weather}/{name}'`` for every weather and ``'{name}'`` = mean
    over the weathers (the "Average" column of the paper's Tables 3 and 6, each weather counting
    once whatever its number of images). A table is printed to the log.

    Works under mmengine's ``ValLoop`` (``evaluate(size)``) and mmagic's ``MultiValLoop``
    (``prepare`` + ``evaluate()``).

    Args:
        sample_metrics: Configs (or instances) of mmagic sample-wise metrics, e.g.
            ``[dict(type='PSNR', convert_to='Y'), dict(type='SSIM')]``.
        weathers: Order of the weathers in the output (default: ``dataset_meta['weathers']`` when the
            dataset provides it, then the order of appearance).
        metric_weathers: Inner metric name → the only weathers it is reported for, e.g.
            ``dict(PSNR_drops=['raindrop'])``; such a metric gets no mean-over-weathers key, so the
            means of the others are untouched (default: every metric for every weather).
        weather_key: Meta key holding the tag.
        collect_device: Device for collecting results across ranks.
        prefix: Optional prefix of every key.

    (Not named ``metrics``: mmagic's ``MultiValLoop`` takes any evaluator entry with a ``metrics`` key
    for an ``Evaluator`` config.)
    """

    metric = 'PerWeather'

    def __init__(self,
                 sample_metrics: Sequence[Union[dict, BaseSampleWiseMetric]] = (dict(type='PSNR'),
                                                                                dict(type='SSIM')),
                 weathers: Optional[Sequence[str]] = None, weather_key: str = 'weather',
                 metric_weathers: Optional[Mapping[str, Sequence[str]]] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.inner = [m if isinstance(m, BaseSampleWiseMetric) else METRICS.build(m) for m in sample_metrics]
        names = [m.metric for m in self.inner]
        if len(set(names)) != len(names):
            raise ValueError(f'PerWeatherMetric got metrics with the same name: {names}')
        self.weathers = tuple(weathers) if weathers is not None else None
        self.weather_key = weather_key
        self.metric_weathers = {name: tuple(ws) for name, ws in (metric_weathers or {}).items()}
        unknown = set(self.metric_weathers) - set(names)
        if unknown:
            raise ValueError(f'PerWeatherMetric: metric_weathers names {sorted(unknown)}, not among {names}')

    def _reported(self, name: str, weather: str) -> bool:
        return name not in self.metric_weathers or weather in self.metric_weathers[name]

    def prepare(self, module, dataloader) -> None:
        super().prepare(module, dataloader)
        for m in self.inner:
            m.prepare(module, dataloader)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Score each sample with every inner metric reported for its weather; remember the weather."""
        for sample in data_samples:
            if self.weather_key not in sample:
                raise KeyError(f"PerWeatherMetric: data sample has no '{self.weather_key}' meta key; pack it "
                               f"with PackInputs(meta_keys=['{self.weather_key}', 'task_id'])")
        weathers = [sample[self.weather_key] for sample in data_samples]
        scores: Dict[str, Dict[int, object]] = {}
        for m in self.inner:
            # a metric limited to some weathers never sees the others' samples (no cost, no failure there)
            idx = [i for i, w in enumerate(weathers) if self._reported(m.metric, w)]
            if not idx:
                continue
            batch, samples = ((data_batch, data_samples) if len(idx) == len(data_samples)
                              else (_subset(data_batch, idx), [data_samples[i] for i in idx]))
            start = len(m.results)
            m.process(batch, samples)
            scores[m.metric] = dict(zip(idx, (r[m.metric] for r in m.results[start:])))
            del m.results[start:]  # the wrapper owns the results (collected across ranks by BaseMetric)
        for i, weather in enumerate(weathers):
            self.results.append(dict({name: vals[i] for name, vals in scores.items() if i in vals},
                                     weather=weather))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Per-weather values (each inner metric's own ``compute_metrics``) and their mean over weathers
        (not for a metric limited by ``metric_weathers``)."""
        groups = defaultdict(list)
        for r in results:
            groups[r['weather']].append(r)
        order = list(self.weathers or (self.dataset_meta or {}).get('weathers', ()) or ())
        order = [w for w in order if w in groups] + [w for w in groups if w not in order]
        out: Dict[str, float] = {}
        for m in self.inner:
            per = []
            for w in order:
                scores = [{m.metric: r[m.metric]} for r in groups[w] if m.metric in r]
                value = m.compute_metrics(scores).get(m.metric) if scores else None
                if value is not None:  # None: limited to other weathers, or nothing to score (no mask pixel)
                    out[f'{w}/{m.metric}'] = float(value)
                    per.append(float(value))
            if m.metric not in self.metric_weathers:
                out[m.metric] = sum(per) / len(per) if per else float('nan')
        self._log_table(out, order, {w: len(groups[w]) for w in order})
        return out

    def _log_table(self, out: Dict[str, float], order: List[str], counts: Dict[str, int]) -> None:
        names = [m.metric for m in self.inner]
        rows = [['weather', 'images'] + names]
        rows += [[w, str(counts[w])] + [_fmt(out.get(f'{w}/{n}')) for n in names] for w in order]
        rows.append(['average', str(sum(counts.values()))] + [_fmt(out.get(n)) for n in names])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ['  '.join(c.rjust(wd) for c, wd in zip(r, widths)) for r in rows]
        print_log('per-weather results:\n' + '\n'.join(lines), logger='current')

    def evaluate(self, size: Optional[int] = None) -> dict:
        """``size`` comes from mmengine's ``Evaluator``; mmagic's ``Evaluator`` sets it in ``prepare``."""
        if size is None:
            size = getattr(self, 'size', None)
        if size is None:
            size = len(self.results)
        return super(BaseSampleWiseMetric, self).evaluate(size)
