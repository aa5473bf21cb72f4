"""Reproduce the paper's evidence: Table 1 ladder, Table 2 / Fig. 4 expert scaling, Table 4 downstream.

    python tools/analysis_tools/reproduce.py --profile cpu --jobs 2 --work-dir work_dirs/reproduce_cpu
    python tools/analysis_tools/reproduce.py --profile paper --segmentor-checkpoint pspnet_r18.pth

Every row is a variant of one base restorer config, set through ``--cfg-options`` (``router=dict(...)``,
``experts=dict(...)``, ``experts=None`` for the dense ViT); the rows come from the families the shipped
configs define (``mmmofme.evaluation.reproduction_plan``), so new ones (M³ViT, MoWE …) join by their
configs alone; ``--rows FILE`` adds hand-written rows. Each row trains once per seed through
``tools/train.py`` (same data, iterations and seeds for all rows); its PSNR / SSIM per weather (and
raindrop's PSNR inside the drops) are the Runner's validation after the last iteration. Rows of Table 4
are then chained in front of one frozen segmentor trained on clean frames (``tools/test.py`` on the
chained config, one test set per weather, mmseg's ``IoUMetric``), next to the segmentor on weathered and
on clean frames.

Outputs in ``--work-dir``: ``results.md`` (the paper's tables, mean ± std over seeds, and every claim as a
seed-paired difference with its spread; a difference inside its spread is a tie), ``results.json``,
``psnr_vs_params.png`` and ``per_weather.png``, and ``reproduce.log`` (one line per finished run with the
ETA). Finished runs with the same options are reused (``--fresh`` retrains).
"""
import argparse
import copy
import functools
import json
import os
import os.path as osp
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from compare_routers import last_validation  # noqa: E402
from sweep_restorer import format_seconds, last_checkpoint, read_test_metrics, run_tool  # noqa: E402

from mmmofme.evaluation import reproduction_plan as plan  # noqa: E402
from mmmofme.evaluation.reproduction_report import markdown_report, plot_report  # noqa: E402

TOOLS = osp.join(ROOT, 'tools')


@dataclass
class Profile:
    """What a profile fixes: the base config, the network size, the schedule, the data, the chain."""
    name: str
    config: str
    seeds: Sequence[int]
    iters: Optional[int]
    generator: Dict[str, object]  # size keys set on every row
    num_experts: int = 16
    top_k: int = 2
    num_tasks: int = 1
    scaling_experts: Sequence[int] = (16, 64, 128)
    fme_uar: Optional[Sequence[str]] = ('m3vit', 'mowe')  # Table 1's other bases (None: every family)
    weathers: Sequence[str] = ()
    options: List[str] = field(default_factory=list)  # fixed --cfg-options
    data: Optional[dict] = None  # synthetic generator arguments (None: the config's data)
    segmentor: Optional[dict] = None  # dict(config, iters, options) trained once on clean frames
    chain: Optional[dict] = None  # dict(config, options, weathers, generator_prefix)
    downstream_top_k: Optional[int] = None
    jobs: int = 1

    def schedule_options(self, iters: Optional[int]) -> List[str]:
        if iters is None:
            return []
        opts = [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
                f'default_hooks.checkpoint.interval={iters}',
                f'default_hooks.logger.interval={max(1, iters // 6)}']
        if self.name == 'cpu':  # mofme_synthetic.py: linear warm-up, then cosine to the end
            warmup = max(1, iters // 10)
            opts += [f'param_scheduler.0.end={warmup}', f'param_scheduler.1.begin={warmup}',
                     f'param_scheduler.1.end={iters}', f'param_scheduler.1.T_max={iters - warmup}']
        return opts


def loader_options(loaders: Sequence[str], **values) -> List[str]:
    return [f'{loader}.{key}={value}' for loader in loaders for key, value in values.items()]


CPU_SYNTHETIC = dict(num_train=96, num_val=4, size='512x256', seed=0)
PROFILES = {
    # Two CPU cores: D=64 ViT on 64x64 crops, 300 iterations, 3 seeds, every run on the same generated data.
    'cpu': Profile(
        name='cpu', config='configs/synthetic/mofme_synthetic.py', seeds=(0, 1, 2), iters=300, jobs=2,
        generator=dict(embed_dim=64, num_heads=4, head_dim=16, img_size=64, stem_channels=16,
                       head_channels=32, confidence_head=False, frame_gate=None),
        num_tasks=5,  # the synthetic training weathers rain, fog, snow, raindrop, clean are task ids 0-4
        weathers=('rain', 'fog', 'snow', 'raindrop'),
        options=['train_dataloader.dataset.pipeline.3.gt_patch_size=64', 'model.test_cfg.crop_size=64',
                 'model.test_cfg.stride=48',
                 *loader_options(('train_dataloader', 'val_dataloader'), num_workers=0,
                                 persistent_workers=False)],
        data=CPU_SYNTHETIC,
        segmentor=dict(config='configs/synthetic/fastscnn_synthetic.py', iters=400,
                       options=loader_options(('train_dataloader',), num_workers=0, persistent_workers=False)
                       + ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None']),
        chain=dict(config='configs/synthetic/mofme-fastscnn_synthetic.py', generator_prefix='model.restorer',
                   options=['model.restore_cfg.crop_size=(64,64)', 'model.restore_cfg.stride=(48,48)'])),
    # The paper: its sizes and schedules on All-Weather (Tables 1, 2); Table 4 restorers trained on
    # Rain/HazeCityscapes at top-4 (Table 3's setting) in front of a user-supplied PSPNet-R18. For a GPU.
    'paper': Profile(
        name='paper', config='configs/mofme/mofme-e16-top2_allweather-240.py', seeds=(0, 1, 2), iters=None,
        generator={}, num_tasks=3, weathers=('rain+fog', 'snow', 'raindrop'),
        chain=dict(config='configs/chain/mofme_pspnet-r18_raincityscapes.py',
                   generator_prefix='model.restorer',
                   restorer_config='configs/mofme/mofme-e16-top4_rain-haze-cityscapes-256.py',
                   weathers=('rain',), num_tasks=2, options=[]),
        downstream_top_k=4),
    # The tests' tiny restorer (a folder of pairs passed with --cfg-options): the CI smoke run.
    'tiny': Profile(
        name='tiny', config='tests/configs/tiny_restorer.py', seeds=(0, 1), iters=4, generator={},
        num_experts=4, top_k=2, scaling_experts=(4, 8)),
}


# ---------------------------------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------------------------------
def run_record(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def train_run(config: str, options: List[str], work_dir: str, fresh: bool) -> dict:
    """Train one row and seed through ``tools/train.py``; the Runner's last validation is its metrics."""
    record_path = osp.join(work_dir, 'run.json')
    old = run_record(record_path)
    if not fresh and old and old['status'] == 'ok' and old['options'] == options and old['config'] == config:
        old['reused'] = True
        return old
    os.makedirs(work_dir, exist_ok=True)
    train_dir = osp.join(work_dir, 'train')
    code, seconds = run_tool([osp.join(TOOLS, 'train.py'), config, '--work-dir', train_dir,
                              '--cfg-options', *options], osp.join(work_dir, 'train.log'))
    record = dict(config=config, options=options, train_seconds=round(seconds, 1), checkpoint=None,
                  metrics={})
    checkpoint = last_checkpoint(train_dir)
    if code != 0 or checkpoint is None:
        record['status'] = f'train failed (exit {code}, see {osp.join(work_dir, "train.log")})'
    else:
        record['checkpoint'] = checkpoint
        try:
            record['metrics'] = last_validation(Path(train_dir))
            record['status'] = 'ok'
        except (FileNotFoundError, ValueError) as e:
            record['status'] = f'no validation metrics: {e}'
    with open(record_path, 'w') as f:
        json.dump(record, f, indent=2)
    return record


def seg_metrics(work_dir: str) -> Dict[str, float]:
    return {k: v for k, v in read_test_metrics(work_dir).items() if k in ('mIoU', 'mAcc')}


def chain_run(chain_cfg: str, options: List[str], weathers: Sequence[str], restorer_ckpt: Optional[str],
              seg_ckpt: str, work_dir: str, fresh: bool) -> dict:
    """Test the chained config once per weather (``tools/test.py``, mmseg's ``IoUMetric``) on one checkpoint
    holding the restorer's and the segmentor's weights (``restorer_ckpt=None``: the segmentor alone behind
    an ``IdentityRestorer``). Metric keys ``{weather}/mIoU``, ``{weather}/mAcc``."""
    record_path = osp.join(work_dir, 'chain.json')
    sources = [p for p in (restorer_ckpt, seg_ckpt) if p]
    old = run_record(record_path)
    unchanged = old and old['options'] == options and old['sources'] == sources \
        and old['weathers'] == list(weathers) and all(osp.getmtime(p) <= old['time'] for p in sources)
    if not fresh and unchanged and old['status'] == 'ok':
        return old
    import torch
    merge = load_tool('merge_checkpoints')
    if restorer_ckpt is None:
        weights = {f'segmentor.{k}': v for k, v in merge.read_checkpoint(seg_ckpt, ['segmentor.']).items()}
    else:
        weights = merge.merge(restorer_ckpt, seg_ckpt, 'segmentor')
    os.makedirs(work_dir, exist_ok=True)
    merged = osp.join(work_dir, 'chain.pth')
    torch.save(dict(state_dict=weights, meta={}), merged)
    metrics, status, seconds = {}, 'ok', 0.0
    for weather in weathers:
        test_dir = osp.join(work_dir, 'chain_test', weather)
        log = osp.join(work_dir, f'chain_test_{weather}.log')
        code, took = run_tool([osp.join(TOOLS, 'test.py'), chain_cfg, merged, '--work-dir', test_dir,
                               '--cfg-options', *options, f"test_dataloader.dataset.weathers=['{weather}']"],
                              log)
        seconds += took
        found = seg_metrics(test_dir) if code == 0 else {}
        if not found:
            status = f'chain test failed (exit {code}, see {log})'
            break
        metrics.update({f'{weather}/{k}': v for k, v in found.items()})
    os.remove(merged)  # a merged copy of two files that stay
    record = dict(options=options, sources=sources, weathers=list(weathers), time=time.time(),
                  seconds=round(seconds, 1), metrics=metrics, status=status)
    with open(record_path, 'w') as f:
        json.dump(record, f, indent=2)
    return record


@functools.lru_cache(maxsize=None)
def load_tool(name: str):
    """``tools/<name>.py`` as a module (the tools are scripts, not a package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('reproduce_' + name.replace('/', '_'),
                                                  osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------------
# model statistics
# ---------------------------------------------------------------------------------------------------
def parse_options(options: Sequence[str]) -> dict:
    """``['a.b=1', ...]`` → ``{'a.b': 1}`` exactly as ``tools/train.py``'s ``DictAction`` reads them."""
    from mmengine.config import DictAction
    parsed = {}
    for option in options:
        key, _, value = option.partition('=')
        parsed[key] = DictAction._parse_iterable(value)
    return parsed


def row_stats(config: str, options: List[str], crop: Optional[int]) -> dict:
    """Parameters and GMAC (attention counted / the paper's convention) of a row's generator."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import MODELS

    import mmmofme.models  # noqa: F401  (registers MoFMEViT and its parts)
    stats_tool = load_tool('analysis_tools/model_stats')
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(parse_options(options))
    net = MODELS.build(cfg.model.generator).eval()
    crop = crop or cfg.model.generator.get('img_size', 256)
    image = torch.rand(1, 3, crop, crop)
    return dict(params=int(sum(p.numel() for p in net.parameters())),
                gmac=round(stats_tool.count_gmac(net, image, True), 4),
                gmac_paper=round(stats_tool.count_gmac(net, image, False), 4))


# ---------------------------------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------------------------------
def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--profile', choices=sorted(PROFILES), default='cpu')
    p.add_argument('--work-dir', default=None, help='default work_dirs/reproduce_<profile>')
    p.add_argument('--config', default=None, help="base restorer config (default: the profile's)")
    p.add_argument('--seeds', type=int, nargs='+', default=None, help="default: the profile's (3)")
    p.add_argument('--iters', type=int, default=None, help="training iterations (default: the profile's)")
    p.add_argument('--variants', nargs='+', default=None, metavar='ROW',
                   help='only these rows (names or aliases, see --dry-run)')
    p.add_argument('--configs', nargs='+', default=list(plan.DEFAULT_CONFIG_GLOBS),
                   help='config globs the variant families are read from')
    p.add_argument('--rows', default=None, help='extra rows: a file with rows = [dict(name=, generator=)]')
    p.add_argument('--downstream', choices=['base', 'all', 'none'], default='base',
                   help='Table 4 rows: the family bases and MoFME, every Table 1 row, or none')
    p.add_argument('--no-scaling', action='store_true', help='leave out Table 2 / Fig. 4')
    p.add_argument('--data-root', default=None, help='generated data (cpu: default data/reproduce_cpu)')
    p.add_argument('--seg-iters', type=int, default=None,
                   help="segmentor iterations (default: the profile's)")
    p.add_argument('--segmentor-checkpoint', default=None,
                   help='a trained segmentor instead of training one (required by --profile paper)')
    p.add_argument('--jobs', type=int, default=None,
                   help="runs at once, one single-threaded process each (default: the profile's)")
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE', help='added to every run')
    p.add_argument('--fresh', action='store_true', help='retrain runs that a previous call finished')
    p.add_argument('--dry-run', action='store_true', help='print the rows and the runs, train nothing')
    return p.parse_args(argv)


def generate_data(profile: Profile, data_root: str, jobs: int, logger) -> None:
    stamp = osp.join(data_root, 'reproduce_settings.json')
    if osp.isfile(stamp) and run_record(stamp) == profile.data:
        logger.info(f'reusing the generated data in {data_root}')
        return
    if osp.exists(data_root) and os.listdir(data_root):
        raise SystemExit(f'error: {data_root}: exists and was not generated with {profile.data}; '
                         'remove it or pass another --data-root')
    d = profile.data
    logger.info(f'generating {d["num_train"]} + {d["num_val"]} synthetic frames into {data_root}')
    code, _ = run_tool([osp.join(TOOLS, 'dataset_converters', 'make_synthetic_cityscapes.py'),
                        '--out', data_root, '--num-train', str(d['num_train']), '--num-val',
                        str(d['num_val']), '--size', d['size'], '--seed', str(d['seed']),
                        '--workers', str(jobs)],
                       data_root.rstrip('/') + '.log')
    if code != 0:
        raise SystemExit(f'error: data generation failed (exit {code}); see {data_root.rstrip("/")}.log')
    with open(stamp, 'w') as f:
        json.dump(d, f)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    profile = copy.deepcopy(PROFILES[args.profile])
    config = args.config or profile.config
    if not osp.isfile(osp.join(ROOT, config)):
        raise SystemExit(f'error: {config}: config file not found')
    iters = args.iters or profile.iters
    args.jobs = args.jobs or profile.jobs
    if args.jobs > 1:  # parallel runs, each on one core: torch's own threads would only compete
        os.environ.setdefault('OMP_NUM_THREADS', '1')
    seeds = args.seeds or list(profile.seeds)
    root = osp.abspath(args.work_dir or osp.join('work_dirs', f'reproduce_{profile.name}'))
    os.makedirs(root, exist_ok=True)
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance(f'reproduce_{int(time.time() * 1e3)}', logger_name='reproduce',
                                   log_file=osp.join(root, 'reproduce.log'))

    families, skipped = plan.discover_families(args.configs, ROOT)
    for path, why in skipped.items():
        logger.info(f'config {osp.relpath(path, ROOT)} skipped: {why}')
    rows, notes = plan.plan_rows(
        families, num_experts=profile.num_experts, top_k=profile.top_k, num_tasks=profile.num_tasks,
        fme_uar=profile.fme_uar,
        scaling_experts=() if args.no_scaling else profile.scaling_experts,
        downstream=args.downstream if profile.chain else 'none')
    try:
        if args.rows:
            rows += plan.load_rows_file(args.rows, profile.num_experts, profile.top_k)
        if args.variants:
            rows = plan.select_rows(rows, args.variants)
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    for note in notes:
        logger.warning(note)
    logger.info(f'families: {", ".join(families)}; rows: ' + ', '.join(f'{r.name} {r.tables}' for r in rows))

    data_root = None
    if profile.data is not None:
        data_root = osp.abspath(args.data_root or osp.join('data', f'reproduce_{profile.name}'))
    data_opts = [] if data_root is None else loader_options(
        ('train_dataloader', 'val_dataloader', 'test_dataloader'), **{'dataset.data_root': data_root})
    size_opts = plan.generator_options(profile.generator)
    base_opts = [*profile.options, *data_opts, *profile.schedule_options(iters), *size_opts,
                 *args.cfg_options]
    runs = [(row, seed) for row in rows for seed in seeds]
    if args.dry_run:
        for row, seed in runs:
            print(f'{row.name} seed {seed}: ' + ' '.join(row.options()))
        return dict(rows=[r.to_dict() for r in rows], runs=len(runs))

    if data_root is not None:
        generate_data(profile, data_root, args.jobs, logger)
    downstream_rows = plan.rows_in(rows, 'downstream')
    segmentor = None
    if downstream_rows:
        segmentor = prepare_segmentor(profile, args, root, data_root, logger)

    crop = int(profile.generator.get('img_size') or 0) or None  # None: the config's own crop
    results = dict(profile=profile.name, config=config, iters=iters, seeds=seeds, data_root=data_root,
                   options=base_opts, rows=[r.to_dict() for r in rows], notes=notes, runs=[],
                   segmentor=segmentor)
    for row, entry in zip(rows, results['rows']):
        entry.update(row_stats(config, [*base_opts, *row.options()], crop))

    start, done = time.monotonic(), 0
    logger.info(f'{len(runs)} runs ({len(rows)} rows x {len(seeds)} seeds) of {config}, '
                f'{args.jobs} at a time, '
                f'into {root}')

    def one(row: plan.Row, seed: int) -> dict:
        run_dir = osp.join(root, 'runs', row.name, f'seed{seed}')
        options = [*base_opts, *row.options(), f'randomness.seed={seed}']
        record = train_run(config, options, run_dir, args.fresh)
        out = dict(row=row.name, seed=seed, status=record['status'], metrics=dict(record['metrics']),
                   train_seconds=record['train_seconds'], reused=record.get('reused', False),
                   checkpoint=record['checkpoint'])
        if 'downstream' in row.tables and segmentor and record['status'] == 'ok':
            generator, restorer = dict(row.generator), record['checkpoint']
            if profile.chain.get('restorer_config'):  # Table 4's restorers train on the chain's own data
                if generator.get('experts') is not None:
                    generator.update(top_k=profile.downstream_top_k or generator['top_k'])
                    if generator.get('num_tasks', 1) > 1:
                        generator['num_tasks'] = profile.chain['num_tasks']
                down = train_run(profile.chain['restorer_config'], [
                    *plan.generator_options(profile.generator), *args.cfg_options,
                    *plan.generator_options(generator), *plan.generator_options(row.model, 'model'),
                    f'randomness.seed={seed}'],
                    osp.join(run_dir, 'downstream'), args.fresh)
                if down['status'] != 'ok':
                    return dict(out, status=down['status'])
                restorer = down['checkpoint']
            chain_opts = [*chain_data_options(profile, data_root), *plan.generator_options(
                dict(profile.generator, **generator), profile.chain['generator_prefix'])]
            chain = chain_run(profile.chain['config'], chain_opts, segmentor['weathers'], restorer,
                              segmentor['checkpoint'], run_dir, args.fresh)
            out['metrics'].update({f'restored/{k}': v for k, v in chain['metrics'].items()})
            if chain['status'] != 'ok':
                out['status'] = chain['status']
        return out

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(one, row, seed) for row, seed in runs]
        for future in as_completed(futures):
            run = future.result()
            results['runs'].append(run)
            done += 1
            elapsed = time.monotonic() - start
            eta = elapsed / done * (len(runs) - done)
            shown = ', '.join(f'{k} {v:.3f}' for k, v in run['metrics'].items()
                              if k in ('PSNR', 'SSIM') or k.endswith(('mIoU', '/PSNR_drops')))
            logger.info(f'[{done}/{len(runs)}] {run["row"]} seed {run["seed"]}: {run["status"]}'
                        + (' (reused)' if run['reused'] else '') + (f' ({shown})' if shown else '')
                        + f'; train {run["train_seconds"]:.0f} s; elapsed {format_seconds(elapsed)}, '
                        f'ETA {format_seconds(eta)}')
            with open(osp.join(root, 'results.json'), 'w') as f:  # rewritten after every run
                json.dump(results, f, indent=2)

    results['runs'].sort(key=lambda r: ([row.name for row in rows].index(r['row']), r['seed']))
    results['wall_seconds'] = round(time.monotonic() - start, 1)
    # CPU time of every train / test process (the estimate of a run on an otherwise idle machine)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    results['child_cpu_seconds'] = round(children.ru_utime + children.ru_stime, 1)
    given = argv if argv is not None else sys.argv[1:]
    command = 'python tools/analysis_tools/reproduce.py ' + ' '.join(given)
    report = markdown_report(results, command)
    results['report'] = report['claims']
    with open(osp.join(root, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    with open(osp.join(root, 'results.md'), 'w') as f:
        f.write(report['markdown'])
    plots = plot_report(results, root)
    logger.info(f'results: {osp.join(root, "results.md")}, results.json, ' + ', '.join(plots) + '\n'
                + report['markdown'])
    failed = [f'{r["row"]} seed {r["seed"]}' for r in results['runs'] if r['status'] != 'ok']
    if failed:
        logger.error(f'{len(failed)} run(s) failed: {", ".join(failed)}')
        raise SystemExit(1)
    return results


IDENTITY = ['model.restorer._delete_=True', 'model.restorer.type=IdentityRestorer']


def prepare_segmentor(profile: Profile, args: argparse.Namespace, root: str, data_root: Optional[str],
                      logger) -> Optional[dict]:
    """The frozen segmentor (trained here once on clean frames, or ``--segmentor-checkpoint``), the chained
    per-weather test config, and the segmentor's scores on weathered and clean frames: the same chained
    config with an ``IdentityRestorer``, so every number of Table 4 comes through one pipeline."""
    seg_dir = osp.join(root, 'segmentor')
    os.makedirs(seg_dir, exist_ok=True)
    weathers = list(profile.chain.get('weathers', profile.weathers))
    checkpoint = args.segmentor_checkpoint
    if checkpoint is None and profile.segmentor is None:
        logger.warning('no --segmentor-checkpoint: Table 4 is left out')
        return None
    if checkpoint is None:
        seg = profile.segmentor
        iters = args.seg_iters or seg['iters']
        options = [f'train_cfg.max_iters={iters}', f'default_hooks.checkpoint.interval={iters}',
                   f'param_scheduler.0.end={iters}', 'randomness.seed=0', *seg['options']]
        if data_root is not None:
            options += loader_options(('train_dataloader',), **{'dataset.data_root': data_root})
        record = run_record(osp.join(seg_dir, 'run.json'))
        if args.fresh or not record or record.get('options') != options or not record.get('checkpoint'):
            logger.info(f'training the segmentor on clean frames ({seg["config"]}, {iters} iterations)')
            code, seconds = run_tool([osp.join(TOOLS, 'train.py'), seg['config'], '--work-dir',
                                      osp.join(seg_dir, 'train'), '--cfg-options', *options],
                                     osp.join(seg_dir, 'train.log'))
            record = dict(options=options, checkpoint=last_checkpoint(osp.join(seg_dir, 'train')),
                          seconds=round(seconds, 1))
            if code != 0 or record['checkpoint'] is None:
                raise SystemExit(f'error: segmentor training failed (exit {code}); see {seg_dir}/train.log')
            with open(osp.join(seg_dir, 'run.json'), 'w') as f:
                json.dump(record, f, indent=2)
        checkpoint = record['checkpoint']
    record = chain_run(profile.chain['config'], [*chain_data_options(profile, data_root), *IDENTITY],
                       [*weathers, 'clean'], None, checkpoint, osp.join(seg_dir, 'baseline'), args.fresh)
    if record['status'] != 'ok':
        raise SystemExit(f'error: segmentor baseline: {record["status"]}')
    logger.info('segmentor on weathered / clean frames: ' + ', '.join(
        f'{k} {v:.2f}' for k, v in record['metrics'].items() if k.endswith('mIoU')))
    return dict(checkpoint=checkpoint, weathers=weathers, metrics=record['metrics'])


def chain_data_options(profile: Profile, data_root: Optional[str]) -> List[str]:
    """The chain's test set on the generated data, loaded in the test process (no workers)."""
    options = ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
    if data_root is not None:
        options.append(f'test_dataloader.dataset.data_root={data_root}')
    return [*options, *profile.chain.get('options', [])]


if __name__ == '__main__':
    main()
