"""Tables, claims and plots of ``tools/analysis_tools/reproduce.py`` from its ``results`` dict; no torch.

``results['rows']``: the rows (``mmmofme.evaluation.reproduction_plan.Row.to_dict()`` plus ``params``,
``gmac``, ``gmac_paper``); ``results['runs']``: one entry per row and seed with ``metrics``
(``{weather}/PSNR``, ``PSNR`` = mean over weathers, ``SSIM`` likewise, ``raindrop/PSNR_drops`` = PSNR
inside the lens drops (``mmmofme.evaluation.drop_region``), and for Table 4 rows
``restored/{weather}/mIoU`` / ``mAcc``); ``results['segmentor']['metrics']``: the segmentor on weathered
and clean frames (``{weather}/mIoU``, ``clean/mIoU`` …).
"""
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

from .paired_stats import by_seed, format_mean_std, mean_std, paired_difference
from .transfer_report import MIN_DROP, mean_share, recovered_share

__all__ = ['weathers_of', 'claims', 'markdown_report', 'plot_report', 'recovery_by_seed']

DROPS = 'PSNR_drops'  # DropRegionPSNR's key: PSNR inside the drops, for the weathers that have it


def weathers_of(runs: Sequence[Mapping], metric: str = 'PSNR') -> List[str]:
    """Weathers with a ``{weather}/{metric}`` key, in the order they first appear."""
    out: List[str] = []
    for run in runs:
        for key in run.get('metrics', {}):
            parts = key.split('/')
            if len(parts) == 2 and parts[1] == metric and parts[0] not in out:
                out.append(parts[0])
    return out


def _runs(results: Mapping, row: str) -> List[Mapping]:
    return [r for r in results['runs'] if r['row'] == row and r['status'] == 'ok']


def _cell(results: Mapping, row: str, key: str, digits: int = 2) -> str:
    return format_mean_std([r['metrics'][key] for r in _runs(results, row) if key in r['metrics']], digits)


def _has(rows: Mapping[str, Mapping], name: str) -> bool:
    return name in rows


def _claim_pairs(rows: Mapping[str, Mapping]) -> List[tuple]:
    """(what, A, B) pairs: each ingredient against the row without it, MoFME against the floor, and
    MoFME against MoE at every scaled E."""
    pairs = []
    families = sorted({r['family'] for r in rows.values() if r['rung'] == 'base' and r['family'] != 'dense'})
    for fam in families:
        for what, a, b in (('UaR vs top-k router', f'{fam}+uar', fam),
                           ('FME vs FFN experts', f'{fam}+fme', fam),
                           ('UaR vs top-k router, FME experts', f'{fam}+fme+uar', f'{fam}+fme'),
                           ('FME + UaR vs base', f'{fam}+fme+uar', fam)):
            if _has(rows, a) and _has(rows, b):
                pairs.append((f'{what} ({fam})', a, b))
    if _has(rows, 'moe+fme+uar') and _has(rows, 'dense'):
        pairs.append(('MoFME vs dense ViT', 'moe+fme+uar', 'dense'))
    for name, row in rows.items():
        moe = 'moe-e' + name.rsplit('-e', 1)[-1]
        if row['rung'] == 'scaling' and name.startswith('moe+fme+uar-e') and _has(rows, moe):
            pairs.append((f'MoFME vs MoE at E={row["generator"]["num_experts"]}', name, moe))
    return pairs


def claims(results: Mapping, metrics: Sequence[str] = ('PSNR', 'SSIM', 'restored/mIoU')) -> List[dict]:
    """Every claim as a seed-paired difference A − B per metric (``restored/mIoU``: mean over weathers)."""
    rows = {r['name']: r for r in results['rows']}
    out = []
    for what, a, b in _claim_pairs(rows):
        for metric in metrics:
            diff = paired_difference(_metric_by_seed(results, a, metric), _metric_by_seed(results, b, metric))
            if diff is not None:
                out.append(dict(claim=what, a=a, b=b, metric=metric, **diff.to_dict()))
    return out


def _metric_by_seed(results: Mapping, row: str, metric: str) -> Dict:
    runs = _runs(results, row)
    if metric.startswith('restored/') and '/' not in metric[len('restored/'):]:
        name = metric.split('/', 1)[1]  # the mean over the weathers of restored/{weather}/{name}
        out = {}
        for run in runs:
            values = [v for k, v in run['metrics'].items()
                      if k.startswith('restored/') and k.endswith('/' + name)]
            if values:
                out[run['seed']] = sum(values) / len(values)
        return out
    return by_seed(runs, metric)


def _verdict(claim: Mapping, digits: int) -> str:
    spread = '—' if claim['std'] is None else f'{claim["std"]:.{digits}f}'
    text = f'{claim["mean"]:+.{digits}f} ± {spread}'
    word = {'A': f'**{claim["a"]} higher**', 'B': f'**{claim["b"]} higher**',
            'tie': 'tie (inside the spread)', 'n/a': 'no verdict (one seed)'}[claim['verdict']]
    return f'{text} | {word}'


def recovery_by_seed(results: Mapping, row: str, weathers: Sequence[str], metric: str = 'mIoU') -> Dict:
    """``{seed: {weather: share or None, 'mean': mean share}}`` of the weather drop the row recovers
    (``transfer_report.recovered_share`` against the segmentor on weathered and clean frames)."""
    base = (results.get('segmentor') or {}).get('metrics', {})
    clean = base.get(f'clean/{metric}')
    out = {}
    for run in _runs(results, row):
        shares = {}
        for w in weathers:
            restored = run['metrics'].get(f'restored/{w}/{metric}')
            weathered = base.get(f'{w}/{metric}')
            shares[w] = (None if None in (restored, weathered, clean)
                         else recovered_share(weathered, restored, clean, MIN_DROP[metric]))
        shares['mean'] = mean_share(shares.values())
        out[run['seed']] = shares
    return out


def _share_cell(values: Sequence[Optional[float]]) -> str:
    kept = [100 * v for v in values if v is not None]
    return 'n/a' if not kept else format_mean_std(kept, 0) + ' %'


def _parts(row: Mapping) -> tuple:
    return ('✓' if row.get('fme') else '—'), ('✓' if row.get('uar') else '—')


def markdown_report(results: Mapping, command: str) -> dict:
    """``{'markdown': the tables, 'claims': claims(results)}``."""
    rows = results['rows']
    weathers = weathers_of(results['runs'])
    ok = [r for r in results['runs'] if r['status'] == 'ok']
    lines = [f'# Reproduction, profile `{results["profile"]}`', '',
             f'Command: `{command}`', '',
             f'Base config `{results["config"]}`, {results["iters"] or "the config’s"} iterations, '
             f'seeds {results["seeds"]}; {len(ok)} of {len(results["runs"])} runs finished. Values are '
             'mean ± sample std over the seeds; a claim is the seed-paired difference A − B, a tie when it '
             'lies inside its own spread (|mean| ≤ std).', '']
    if results.get('child_cpu_seconds') is not None:
        lines += [f'Wall time {results["wall_seconds"] / 60:.1f} min; CPU time of the train / test processes '
                  f'{results["child_cpu_seconds"] / 60:.1f} min.', '']
    per_weather = ''.join(f' | {w} PSNR / SSIM' for w in weathers)
    drop_weathers = weathers_of(results['runs'], DROPS)  # raindrop (none without the metric)
    drops_head = [f'{w} PSNR in drops' for w in drop_weathers]

    def drops_cells(name: str) -> List[str]:
        return [_cell(results, name, f'{w}/{DROPS}') for w in drop_weathers]

    ladder = [r for r in rows if 'ladder' in r['tables']]
    if ladder:
        lines += ['## Table 1: ablation ladder', '',
                  f'| row | FME | UaR | params (M) | GMAC (paper conv. / with attention){per_weather}'
                  ' | mean PSNR | mean SSIM' + ''.join(f' | {h}' for h in drops_head) + ' |',
                  '|---|---|---|---|---|' + '---|' * len(weathers) + '---|---|' + '---|' * len(drop_weathers)]
        for r in ladder:
            fme, uar = _parts(r)
            cells = [f'{_cell(results, r["name"], f"{w}/PSNR")} / {_cell(results, r["name"], f"{w}/SSIM", 4)}'
                     for w in weathers]
            lines.append(f'| {r["name"]} | {fme} | {uar} | {r.get("params", 0) / 1e6:.3f} | '
                         f'{r.get("gmac_paper", float("nan")):.3f} / {r.get("gmac", float("nan")):.3f}'
                         + ''.join(f' | {c}' for c in cells) + f' | {_cell(results, r["name"], "PSNR")} | '
                         f'{_cell(results, r["name"], "SSIM", 4)}'
                         + ''.join(f' | {c}' for c in drops_cells(r['name'])) + ' |')
        lines.append('')
    scaling = [r for r in rows if 'scaling' in r['tables']]
    if scaling:
        lines += ['## Table 2 / Fig. 4: number of experts (top-k as Table 1)', '',
                  '| row | E | params (M) | GMAC (paper conv.) | mean PSNR | mean SSIM |' +
                  ''.join(f' {h} |' for h in [f'{w} PSNR' for w in weathers] + drops_head),
                  '|---|---|---|---|---|---|' + '---|' * (len(weathers) + len(drop_weathers))]
        for r in sorted(scaling, key=lambda r: (r['family'], 'fme' in r['name'],
                                                r['generator'].get('num_experts'))):
            lines.append(f'| {r["name"]} | {r["generator"].get("num_experts")} | '
                         f'{r.get("params", 0) / 1e6:.3f} | '
                         f'{r.get("gmac_paper", float("nan")):.3f} | {_cell(results, r["name"], "PSNR")} | '
                         f'{_cell(results, r["name"], "SSIM", 4)} |'
                         + ''.join(f' {_cell(results, r["name"], f"{w}/PSNR")} |' for w in weathers)
                         + ''.join(f' {c} |' for c in drops_cells(r['name'])))
        lines.append('')
    downstream = [r for r in rows if 'downstream' in r['tables']]
    seg = (results.get('segmentor') or {}).get('metrics', {})
    if downstream and seg:
        seg_weathers = [w for w in results['segmentor']['weathers']]
        lines += ['## Table 4: segmentation after deweathering (mIoU / mAcc in %)', '',
                  '| input | ' + ' | '.join(f'{w} mIoU / mAcc' for w in seg_weathers) +
                  ' | recovered share of the mIoU drop: ' + ' / '.join(seg_weathers) + ' | mean share |',
                  '|---|' + '---|' * len(seg_weathers) + '---|---|']
        lines.append('| weathered (no restorer) | ' + ' | '.join(
            f'{seg.get(f"{w}/mIoU", float("nan")):.2f} / {seg.get(f"{w}/mAcc", float("nan")):.2f}'
            for w in seg_weathers) + ' | 0 (by definition) | 0 |')
        for r in downstream:
            shares = recovery_by_seed(results, r['name'], seg_weathers)
            cells = [f'{_cell(results, r["name"], f"restored/{w}/mIoU")} / '
                     f'{_cell(results, r["name"], f"restored/{w}/mAcc")}' for w in seg_weathers]
            per_w = ' / '.join(_share_cell([s[w] for s in shares.values()]) for w in seg_weathers)
            lines.append(f'| restored by {r["name"]} | ' + ' | '.join(cells) + f' | {per_w} | '
                         f'{_share_cell([s["mean"] for s in shares.values()])} |')
        clean = f'{seg.get("clean/mIoU", float("nan")):.2f} / {seg.get("clean/mAcc", float("nan")):.2f}'
        lines.append('| clean frames | ' + ' | '.join(clean for _ in seg_weathers)
                     + ' | 100 % (by definition) | |')
        lines += ['', 'Recovered share = (restored − weathered) / (clean − weathered) per seed '
                  '(`mmmofme.evaluation.transfer_report.recovered_share`; n/a where the weather costs '
                  '< 0.5 mIoU), '
                  'then mean ± std over the seeds.', '']
    found = claims(results)
    if found:
        lines += ['## Claims (seed-paired A − B)', '',
                  '| claim | A | B | metric | A − B (mean ± std) | verdict |',
                  '|---|---|---|---|---|---|']
        for c in found:
            digits = 4 if c['metric'] == 'SSIM' else 2
            lines.append(f'| {c["claim"]} | {c["a"]} | {c["b"]} | {c["metric"]} | {_verdict(c, digits)} |')
        lines.append('')
    if results.get('notes'):
        lines += ['Notes: ' + '; '.join(results['notes']), '']
    return dict(markdown='\n'.join(lines), claims=found)


def plot_report(results: Mapping, out_dir: str) -> List[str]:
    """``psnr_vs_params.png`` (Fig. 4: mean PSNR ± std against parameters, E marked) and
    ``per_weather.png`` (Table 1 rows, PSNR per weather ± std); returns the file names written."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    rows = results['rows']
    weathers = weathers_of(results['runs'])
    written = []

    def stat(name: str, key: str):
        values = [r['metrics'][key] for r in _runs(results, name) if key in r['metrics']]
        if not values:
            return None
        mean, std = mean_std(values)
        return mean, std or 0.0

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for r in rows:
        s = stat(r['name'], 'PSNR')
        if s is None or 'params' not in r:
            continue
        ax.errorbar(r['params'] / 1e6, s[0], yerr=s[1], fmt='o', capsize=3)
        experts = r['generator'].get('num_experts') if r['generator'].get('experts') is not None else None
        ax.annotate(r['name'] + (f' (E={experts})' if experts else ''), (r['params'] / 1e6, s[0]), fontsize=7,
                    xytext=(4, 3), textcoords='offset points')
    for family in ('moe', 'moe+fme+uar'):
        line = sorted((r['params'] / 1e6, stat(r['name'], 'PSNR')[0]) for r in rows
                      if 'scaling' in r['tables'] and 'params' in r and stat(r['name'], 'PSNR')
                      and (r['name'] == family or r['name'].startswith(family + '-e')))
        if len(line) > 1:
            ax.plot(*zip(*line), '-', alpha=0.5, label=family)
    ax.set_xscale('log')
    ax.set_xlabel('parameters (M, log scale)')
    ax.set_ylabel('mean PSNR over weathers (dB)')
    ax.set_title(f'PSNR vs parameters ({results["profile"]} profile, mean ± std over seeds)')
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(osp.join(out_dir, 'psnr_vs_params.png'), dpi=120)
    plt.close(fig)
    written.append('psnr_vs_params.png')

    ladder = [r['name'] for r in rows if 'ladder' in r['tables']]
    keys = [f'{w}/PSNR' for w in weathers] or ['PSNR']
    if ladder:
        fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(keys) * len(ladder) / 3), 4.5))
        width = 0.8 / len(ladder)
        for i, name in enumerate(ladder):
            stats = [stat(name, k) or (float('nan'), 0.0) for k in keys]
            ax.bar([j + i * width for j in range(len(keys))], [s[0] for s in stats], width,
                   yerr=[s[1] for s in stats], capsize=2, label=name)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))])
        ax.set_xticklabels([k.split('/')[0] for k in keys])
        spans = [(s[0] - s[1], s[0] + s[1]) for n in ladder for k in keys for s in [stat(n, k)] if s]
        if spans:  # the bars' tops and their error bars, not the axis down to 0 dB
            ax.set_ylim(min(lo for lo, _ in spans) - 0.5, max(hi for _, hi in spans) + 0.3)
        ax.set_ylabel('PSNR (dB)')
        ax.set_title('PSNR per weather, Table 1 rows (mean ± std over seeds)')
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(osp.join(out_dir, 'per_weather.png'), dpi=120)
        plt.close(fig)
        written.append('per_weather.png')
    return written
