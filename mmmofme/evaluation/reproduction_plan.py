"""The rows of the reproduction tables (paper Tables 1, 2, 4), derived from the shipped configs.

A **family** is every restorer config whose file name starts with the same word (``moe-e16-top2_…`` →
``moe``) and whose model is a ``MoFMERestorer`` with a ``MoFMEViT`` generator; its **variant** is that
generator without its size keys (width, depth, crop, E, top-k …): the router, the expert set, and keys
such as ``num_tasks``, ``residual_ffn``, ``expert_pyramid``. New families (M³ViT, MoWE, …) are picked up
as soon as their configs exist. A **row** is a variant plus the table's E / top-k, trained on one base
config through ``--cfg-options`` (:func:`generator_options`).

Table 1's ladder on a family base: the base, ``+FME`` (experts → ``FeatureModulationExperts``), ``+UaR``
(a ``TopKRouter`` → ``UncertaintyAwareRouter``, its other keys kept) and ``+FME+UaR``; the dense ViT is the
floor. Rows that end up with the same generator are one row (``moe+fme+uar`` is the ``mofme`` family).
"""
import copy
import glob
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..models.archs.variants import UAR

__all__ = ['SIZE_KEYS', 'Family', 'Row', 'discover_families', 'plan_rows', 'generator_options',
           'load_rows_file', 'select_rows', 'rows_in']

#: Generator keys that size a network rather than define its variant (the profile sets them).
SIZE_KEYS = frozenset({
    'type', 'embed_dim', 'depth', 'patch_size', 'img_size', 'num_heads', 'head_dim', 'mlp_ratio', 'dropout',
    'stem_channels', 'head_channels', 'image_residual', 'confidence_head', 'confidence_range', 'init_cfg',
    'num_experts', 'top_k'})
FME = dict(type='FeatureModulationExperts')
RUNGS = ('base', '+UaR', '+FME', '+FME+UaR')
DEFAULT_CONFIG_GLOBS = ('configs/baselines/*.py', 'configs/mofme/*.py')


@dataclass
class Family:
    """A variant family found in the configs: its name, generator variant dict and source configs."""
    name: str
    variant: Dict[str, Any]
    configs: List[str] = field(default_factory=list)


@dataclass
class Row:
    """One table row: ``generator`` holds the variant keys plus ``num_experts`` / ``top_k`` (and
    ``num_tasks`` for task-gated families); ``tables`` names the tables it appears in."""
    name: str
    family: str
    rung: str
    generator: Dict[str, Any]
    tables: List[str] = field(default_factory=list)
    aliases: List[str] = field(default_factory=list)

    @property
    def experts(self) -> Optional[int]:
        return None if self.generator.get('experts') is None else self.generator.get('num_experts')

    def to_dict(self) -> dict:
        return dict(name=self.name, family=self.family, rung=self.rung, generator=self.generator,
                    tables=self.tables, aliases=self.aliases)


def family_name(config_path: str) -> str:
    """``configs/baselines/moe-e16-top2_allweather-240.py`` → ``'moe'``."""
    return re.split(r'[-_]', osp.splitext(osp.basename(config_path))[0], maxsplit=1)[0].lower()


def discover_families(patterns: Sequence[str] = DEFAULT_CONFIG_GLOBS, root: str = '.'
                      ) -> Tuple[Dict[str, Family], Dict[str, str]]:
    """Families of the configs matching ``patterns`` (relative to ``root``), and the skipped configs
    with the reason (not a ``MoFMEViT`` restorer, or a variant that disagrees with its family's first
    config after the size keys are dropped)."""
    from mmengine.config import Config
    families: Dict[str, Family] = {}
    skipped: Dict[str, str] = {}
    paths = sorted({p for pattern in patterns for p in glob.glob(osp.join(root, pattern))})
    for path in paths:
        try:
            model = Config.fromfile(path).get('model') or {}
        except Exception as e:  # a config another library cannot load here is reported, not fatal
            skipped[path] = f'cannot be read: {type(e).__name__}: {str(e).splitlines()[0][:120]}'
            continue
        generator = model.get('generator') or {}
        if model.get('type') != 'MoFMERestorer' or generator.get('type') != 'MoFMEViT':
            skipped[path] = f'not a MoFMEViT restorer ({model.get("type")}, {generator.get("type")})'
            continue
        variant = {k: _plain(v) for k, v in generator.items() if k not in SIZE_KEYS}
        variant.setdefault('experts', FME)  # MoFMEViT's defaults, spelled out
        variant.setdefault('router', dict(type='TopKRouter'))
        name = family_name(path)
        if name not in families:
            families[name] = Family(name, variant, [path])
        elif _normalised(families[name].variant) == _normalised(variant):
            families[name].configs.append(path)
        else:
            skipped[path] = f'variant differs from {families[name].configs[0]} ({variant})'
    return families, skipped


def _plain(value: Any) -> Any:
    """ConfigDict / tuple → dict / list, recursively (rows are JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _normalised(variant: Dict[str, Any]) -> Dict[str, Any]:
    """The variant with the task count reduced to 'task-gated or not' (it follows the dataset)."""
    out = copy.deepcopy(variant)
    if out.get('num_tasks', 1) > 1:
        out['num_tasks'] = 'per-task'
    return out


def _router_class(router: Dict[str, Any]) -> Optional[type]:
    from mmengine.registry import MODELS

    from ..models.moe import TopKRouter  # noqa: F401  (registers the routers)
    return MODELS.get(router['type'])


def has_uar(variant: Dict[str, Any]) -> bool:
    from ..models.moe import UncertaintyAwareRouter
    cls = _router_class(variant['router'])
    return cls is not None and issubclass(cls, UncertaintyAwareRouter)


def has_fme(variant: Dict[str, Any]) -> bool:
    return (variant.get('experts') or {}).get('type') == FME['type']


def with_uar(variant: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The variant with the uncertainty-aware router, or None where no UaR reading of its router is
    known (a router type other than ``TopKRouter`` that is not a UaR already)."""
    out = copy.deepcopy(variant)
    if has_uar(out):
        return out
    if out['router']['type'] != 'TopKRouter':
        return None
    out['router'] = dict(UAR, **{k: v for k, v in out['router'].items() if k != 'type'})
    return out


def with_fme(variant: Dict[str, Any]) -> Dict[str, Any]:
    out = copy.deepcopy(variant)
    out['experts'] = dict(FME)
    return out


def _rung_variant(variant: Dict[str, Any], rung: str) -> Optional[Dict[str, Any]]:
    if rung == 'base':
        return copy.deepcopy(variant)
    out = with_fme(variant) if 'FME' in rung else copy.deepcopy(variant)
    return with_uar(out) if 'UaR' in rung else out


def plan_rows(families: Dict[str, Family], *, num_experts: int = 16, top_k: int = 2, num_tasks: int = 1,
              full_ladder: Sequence[str] = ('moe',), scaling_families: Sequence[str] = ('moe', 'mofme'),
              scaling_experts: Sequence[int] = (16, 64, 128), downstream: str = 'base'
              ) -> Tuple[List[Row], List[str]]:
    """The rows of Tables 1, 2 and 4, deduplicated, and notes on rungs that could not be built.

    Args:
        families: from :func:`discover_families`.
        num_experts, top_k: Table 1's E and k (the paper: 16, top-2), for every family.
        num_tasks: gates of a task-gated family (MMoE, M³ViT …): the number of task ids of the data.
        full_ladder: families that get all four rungs; the other MoE families get base and +FME+UaR
            (the paper's Table 1).
        scaling_families: families of Table 2 / Fig. 4; ``'mofme'`` means MoE + FME + UaR.
        scaling_experts: E of Table 2 (top-k stays ``top_k``).
        downstream: ``'base'`` chains the dense row, every family base and MoFME (Table 4); ``'all'``
            every Table 1 row; ``'none'`` none.
    """
    rows: List[Row] = []
    notes: List[str] = []

    def add(name: str, family: str, rung: str, variant: Dict[str, Any], table: str, experts: int) -> None:
        generator = dict(variant)
        if variant.get('experts') is not None:
            generator.update(num_experts=experts, top_k=top_k)
            if variant.get('num_tasks', 1) > 1:
                generator['num_tasks'] = num_tasks
        for row in rows:
            if row.generator == generator:
                if table not in row.tables:
                    row.tables.append(table)
                if name != row.name and name not in row.aliases:
                    row.aliases.append(name)
                return
        rows.append(Row(name, family, rung, generator, [table]))

    moe_families = [f for f in families.values() if f.variant.get('experts') is not None]
    add('dense', 'dense', 'base', dict(experts=None), 'ladder', 0)
    # bases first (a family that is already FME + UaR, i.e. MoFME, joins the ladder of its base below)
    ordered = sorted(moe_families, key=lambda f: (has_fme(f.variant) and has_uar(f.variant),
                                                  f.name not in full_ladder, f.name))
    for fam in ordered:
        rungs = RUNGS if fam.name in full_ladder else ('base', '+FME+UaR')
        for rung in rungs:
            variant = _rung_variant(fam.variant, rung)
            if variant is None:
                notes.append(f'{fam.name} {rung}: no uncertainty-aware reading of router '
                             f'{fam.variant["router"]["type"]!r} is known; add the row with --rows')
                if rung != '+FME+UaR' or '+FME' in rungs:
                    continue
                rung, variant = '+FME', with_fme(fam.variant)  # the half of the ladder that applies
            name = fam.name if rung == 'base' else fam.name + rung.lower()
            add(name, fam.name, rung, variant, 'ladder', num_experts)
    for fam_name in scaling_families:
        if fam_name == 'mofme':
            base = families.get('moe') or families.get('mofme')
            variant = base and _rung_variant(base.variant, '+FME+UaR')
            label = 'moe+fme+uar' if 'moe' in families else 'mofme'
        else:
            base = families.get(fam_name)
            variant = base and copy.deepcopy(base.variant)
            label = fam_name
        if not variant:
            notes.append(f'scaling: no {fam_name} family in the configs')
            continue
        for experts in scaling_experts:
            name = label if experts == num_experts else f'{label}-e{experts}'
            add(name, base.name, 'scaling', variant, 'scaling', experts)
    if downstream != 'none':
        for row in rows:
            mofme = row.name == 'moe+fme+uar' or 'mofme' in row.aliases
            if 'ladder' in row.tables and (downstream == 'all' or row.rung == 'base' or mofme):
                row.tables.append('downstream')
    return rows, notes


def select_rows(rows: Sequence[Row], names: Sequence[str]) -> List[Row]:
    """The rows named (by name or alias) in ``names``, in table order.

    Raises:
        ValueError: naming the unknown names and the known rows.
    """
    wanted = set(names)
    unknown = wanted - {n for r in rows for n in (r.name, *r.aliases)}
    if unknown:
        raise ValueError(f'unknown row(s) {sorted(unknown)}; known: {", ".join(r.name for r in rows)}')
    return [r for r in rows if r.name in wanted or wanted & set(r.aliases)]


def load_rows_file(path: str, num_experts: int, top_k: int) -> List[Row]:
    """Extra rows from a config-style file: ``rows = [dict(name=..., family=..., generator=dict(...),
    tables=['ladder'])]``; a generator without ``num_experts`` / ``top_k`` gets the table's."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise ValueError(f'{path}: rows file not found')
    entries = Config.fromfile(path).get('rows')
    if not isinstance(entries, (list, tuple)) or not entries:
        raise ValueError(f'{path}: needs a non-empty list `rows = [dict(name=..., generator=dict(...))]`')
    rows = []
    for entry in entries:
        entry = _plain(entry)
        if 'name' not in entry or not isinstance(entry.get('generator'), dict):
            raise ValueError(f'{path}: every row needs a name and a generator dict, got {entry}')
        generator = dict(entry['generator'])
        if generator.get('experts', FME) is not None:
            generator.setdefault('num_experts', num_experts)
            generator.setdefault('top_k', top_k)
        rows.append(Row(entry['name'], entry.get('family', entry['name']), entry.get('rung', 'extra'),
                        generator, list(entry.get('tables', ['ladder']))))
    return rows


def generator_options(generator: Dict[str, Any], prefix: str = 'model.generator') -> List[str]:
    """``--cfg-options`` that set ``generator``'s keys on ``prefix``; dict values replace the base's dict
    whole (``_delete_=True``), so no key of the base's router or expert set is left over."""
    options = []
    for key, value in generator.items():
        if isinstance(value, dict):
            options.append(f'{prefix}.{key}._delete_=True')
            options += [f'{prefix}.{key}.{k}={_literal(v)}' for k, v in value.items()]
        else:
            options.append(f'{prefix}.{key}={_literal(value)}')
    return options


def _literal(value: Any) -> str:
    """A value as mmengine's ``DictAction`` reads it back (None, bools, numbers, strings, lists)."""
    if isinstance(value, (list, tuple)):
        inner = ','.join(_literal(v) for v in value)
        return f'[{inner}]' if isinstance(value, list) else f'({inner},)' if len(value) == 1 else f'({inner})'
    return str(value)


def rows_in(rows: Iterable[Row], table: str) -> List[Row]:
    return [r for r in rows if table in r.tables]
