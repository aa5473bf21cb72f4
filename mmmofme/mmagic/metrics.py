"""Per-weather restoration metrics: mmagic's own PSNR / SSIM, grouped by the sample's weather tag."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Union

from mmagic.evaluation.metrics.base_sample_wise_metric import BaseSampleWiseMetric
from mmagic.registry import METRICS
from mmengine.logging import print_log

__all__ = ['PerWeatherMetric']


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
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.inner = [m if isinstance(m, BaseSampleWiseMetric) else METRICS.build(m) for m in sample_metrics]
        names = [m.metric for m in self.inner]
        if len(set(names)) != len(names):
            raise ValueError(f'PerWeatherMetric got metrics with the same name: {names}')
        self.weathers = tuple(weathers) if weathers is not None else None
        self.weather_key = weather_key

    def prepare(self, module, dataloader) -> None:
        super().prepare(module, dataloader)
        for m in self.inner:
            m.prepare(module, dataloader)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Score each sample with every inner metric and remember its weather."""
        scores: Dict[str, list] = {}
        for m in self.inner:
            start = len(m.results)
            m.process(data_batch, data_samples)
            scores[m.metric] = [r[m.metric] for r in m.results[start:]]
            del m.results[start:]  # the wrapper owns the results (collected across ranks by BaseMetric)
        for i, sample in enumerate(data_samples):
            if self.weather_key not in sample:
                raise KeyError(f"PerWeatherMetric: data sample has no '{self.weather_key}' meta key; pack it "
                               f"with PackInputs(meta_keys=['{self.weather_key}', 'task_id'])")
            self.results.append(dict({name: vals[i] for name, vals in scores.items()},
                                     weather=sample[self.weather_key]))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Per-weather means (through each inner metric) and their mean over weathers."""
        groups = defaultdict(list)
        for r in results:
            groups[r['weather']].append(r)
        order = list(self.weathers or (self.dataset_meta or {}).get('weathers', ()) or ())
        order = [w for w in order if w in groups] + [w for w in groups if w not in order]
        out: Dict[str, float] = {}
        for m in self.inner:
            per = []
            for w in order:
                value = float(m.compute_metrics([{m.metric: r[m.metric]} for r in groups[w]])[m.metric])
                out[f'{w}/{m.metric}'] = value
                per.append(value)
            out[m.metric] = sum(per) / len(per) if per else float('nan')
        self._log_table(out, order, {w: len(groups[w]) for w in order})
        return out

    def _log_table(self, out: Dict[str, float], order: List[str], counts: Dict[str, int]) -> None:
        names = [m.metric for m in self.inner]
        rows = [['weather', 'images'] + names]
        rows += [[w, str(counts[w])] + [f'{out[f"{w}/{n}"]:.4f}' for n in names] for w in order]
        rows.append(['average', str(sum(counts.values()))] + [f'{out[n]:.4f}' for n in names])
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
