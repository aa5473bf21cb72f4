"""The reproduction tables' in-drops PSNR column (``raindrop/PSNR_drops``), on hand numbers."""
from mmmofme.evaluation.reproduction_report import markdown_report


def _run(row, seed, **metrics):
    return dict(row=row, seed=seed, status='ok', metrics=metrics)


def _table(markdown, title):
    """The rows of one table (header first) as lists of stripped cells."""
    block = markdown.split(title)[1].split('\n## ')[0]
    lines = [line for line in block.splitlines() if line.startswith('| ')]
    return [[c.strip() for c in line.split('|')[1:-1]] for line in lines]


def _results(with_drops):
    rows = [dict(name='moe', family='moe', rung='base', generator=dict(num_experts=16),
                 tables=['ladder', 'scaling'], params=2e6, gmac=1.0, gmac_paper=0.5),
            dict(name='dense', family='dense', rung='base', generator={}, tables=['ladder'], params=1e6)]
    drops = {'moe': (14.0, 15.0), 'dense': (12.0, 12.5)}
    runs = [_run(name, seed, **{'rain/PSNR': 20.0 + seed, 'raindrop/PSNR': 22.0, 'PSNR': 21.0, 'SSIM': 0.8,
                                'rain/SSIM': 0.8, 'raindrop/SSIM': 0.8},
                 **({'raindrop/PSNR_drops': drops[name][seed]} if with_drops else {}))
            for name in ('moe', 'dense') for seed in (0, 1)]
    return dict(profile='cpu', config='c.py', iters=4, seeds=[0, 1], rows=rows, runs=runs)


def test_drop_column_in_ladder_and_scaling_tables():
    md = markdown_report(_results(True), 'cmd')['markdown']
    ladder = _table(md, '## Table 1')
    assert ladder[0][-3:] == ['mean PSNR', 'mean SSIM', 'raindrop PSNR in drops']
    assert [r[0] for r in ladder[1:]] == ['moe', 'dense']
    assert ladder[1][-1] == '14.50 ± 0.71' and ladder[2][-1] == '12.25 ± 0.35'  # mean ± std over seeds
    assert all(len(r) == len(ladder[0]) for r in ladder)
    scaling = _table(md, '## Table 2')
    assert scaling[0][-3:] == ['rain PSNR', 'raindrop PSNR', 'raindrop PSNR in drops']
    assert scaling[1][0] == 'moe' and scaling[1][-1] == '14.50 ± 0.71'
    assert all(len(r) == len(scaling[0]) for r in scaling)


def test_no_drop_column_without_the_metric():
    md = markdown_report(_results(False), 'cmd')['markdown']
    for title in ('## Table 1', '## Table 2'):
        table = _table(md, title)
        assert 'in drops' not in ' '.join(table[0]) and all(len(r) == len(table[0]) for r in table)
