"""The rows of the reproduction tables (paper Tables 1, 2, 4), derived from the shipped configs.

A **family** is every restorer config whose file name starts with the same word (``moe-e16-top2_…`` →
``moe``) and whose model is a ``MoFMERestorer`` with a ``MoFMEViT`` generator; its **variant** is that
generator without its size keys (width, depth, crop, E, top-k …): the router, the expert set, and keys
such as ``num_tasks``, ``residual_ffn``, ``expert_pyramid``. New families (M³ViT, MoWE, …) are picked up
as soon as their configs exist. A **row** is a variant plus the table's E / top-k, trained on one base
config through ``--cfg-options`` (:func:`generator_options`).

Table 1's ladder on a family base: the base, ``+FME`` (experts → ``FeatureModulationExperts``, inside a
wrapping expert set such as MoWE's multi-scale one), ``+UaR`` (a ``TopKRouter`` → ``UncertaintyAwareRouter``;
a router with an ``uncertainty`` argument gets ``uncertainty=dict(mc_samples=5, mc_dropout=0.1)``) and
``+FME+UaR``; the dense ViT is the floor. A config whose name carries ``fme`` / ``uar`` after the family
(``m3vit-fme-uar-e16_…``) defines that rung itself and wins over the derived one. Rows that end up with
the same generator are one row (``moe+fme+uar`` is the ``mofme`` family).
"""
import copy
import glob
import inspect
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..models.archs.variants import UAR

__all__ = ['SIZE_KEYS', 'Family', 'Row', 'discover_families', 'plan_rows', 'generator_options',
           'load_rows_file', 'select_rows', 'rows_in']

#: Generator keys that size a network rather than define its variant (the profile sets them).
SIZE_KEYS = frozenset({
    'type', 'embed_dim', 'depth', 'patch_size', 'img_size', 'num_heads', 'head_dim', 'dropout',
    'stem_channels', 'head_channels', 'image_residual', 'confidence_head', 'confidence_range', 'frame_gate',
    'init_cfg',
    'num_experts', 'top_k'})
#: Restorer (``model``) keys a family may need besides its generator (MoWE's weight of its router loss).
MODEL_KEYS = ('aux_loss_weights', )
UNCERTAINTY = dict(mc_samples=UAR['mc_samples'], mc_dropout=UAR['mc_dropout'])
FME = dict(type='FeatureModulationExperts')
RUNGS = ('base', '+UaR', '+FME', '+FME+UaR')
DEFAULT_CONFIG_GLOBS = ('configs/baselines/*.py', 'configs/mofme/*.py')


@dataclass
class Family:
    """A variant family found in the configs: its name, base generator variant, the rungs its configs
    spell out (``{'+FME+UaR': variant}``), restorer keys (``model``) and source configs."""
    name: str
    variant: Dict[str, Any]
    configs: List[str] = field(default_factory=list)
    rungs: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    model: Dict[str, Any] = field(default_factory=dict)


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
    model: Dict[str, Any] = field(default_factory=dict)

    @property
    def experts(self) -> Optional[int]:
        return None if self.generator.get('experts') is None else self.generator.get('num_experts')

    def to_dict(self) -> dict:
        dense = self.generator.get('experts') is None
        return dict(name=self.name, family=self.family, rung=self.rung, generator=self.generator,
                    model=self.model, tables=self.tables, aliases=self.aliases,
                    fme=not dense and has_fme(self.generator), uar=not dense and has_uar(self.generator))

    def options(self) -> List[str]:
        """``--cfg-options`` of the row on a restorer config."""
        return generator_options(self.generator) + generator_options(self.model, 'model')


def parse_config_name(config_path: str) -> Tuple[str, str]:
    """``moe-e16-top2_allweather-240.py`` → ``('moe', 'base')``; ``m3vit-fme-uar-e16_…`` → ``('m3vit',
    '+FME+UaR')``."""
    words = re.split(r'[-_]', osp.splitext(osp.basename(config_path))[0].lower())
    rung = ''.join(tag for word, tag in (('fme', '+FME'), ('uar', '+UaR')) if word in words[1:])
    return words[0], rung or 'base'


def discover_families(patterns: Sequence[str] = DEFAULT_CONFIG_GLOBS, root: str = '.'
                      ) -> Tuple[Dict[str, Family], Dict[str, str]]:
    """Families of the configs matching ``patterns`` (relative to ``root``), and the skipped configs
    with the reason (not a ``MoFMEViT`` restorer, or a variant that disagrees with its family's first
    config of the same rung after the size keys are dropped)."""
    from mmengine.config import Config
    families: Dict[str, Family] = {}
    skipped: Dict[str, str] = {}
    first: Dict[Tuple[str, str], Tuple[str, Dict[str, Any]]] = {}
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
        name, rung = parse_config_name(path)
        if (name, rung) in first:
            source, known = first[(name, rung)]
            if _normalised(known) != _normalised(variant):
                skipped[path] = f'variant differs from {source} ({variant})'
            elif name in families:
                families[name].configs.append(path)
            continue
        first[(name, rung)] = (path, variant)
        family = families.setdefault(name, Family(name, variant if rung == 'base' else {}))
        family.configs.append(path)
        if rung == 'base':
            family.variant = variant
            family.model = {k: _plain(model[k]) for k in MODEL_KEYS if k in model}
        else:
            family.rungs[rung] = variant
    for name in [n for n, f in families.items() if not f.variant]:
        for path in families.pop(name).configs:
            skipped[path] = f'a {name} rung without a {name} base config'
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


def _takes_uncertainty(cls: Optional[type]) -> bool:
    return cls is not None and 'uncertainty' in inspect.signature(cls.__init__).parameters


def has_uar(variant: Dict[str, Any]) -> bool:
    """The router is the UaR, or a router routing as the UaR (its ``uncertainty`` set)."""
    from ..models.moe import UncertaintyAwareRouter
    router = variant.get('router') or {}
    cls = _router_class(router) if router else None
    return cls is not None and (issubclass(cls, UncertaintyAwareRouter)
                                or router.get('uncertainty') is not None)


def _inner_experts(experts: Dict[str, Any]) -> Dict[str, Any]:
    """The expert set a wrapper (e.g. MoWE's multi-scale one, ``experts=dict(...)``) holds, or itself."""
    inner = experts.get('experts')
    return inner if isinstance(inner, dict) else experts


def has_fme(variant: Dict[str, Any]) -> bool:
    return _inner_experts(variant.get('experts') or {}).get('type') == FME['type']


def with_uar(variant: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The variant with the uncertainty-aware router, or None where no UaR reading of its router is
    known (neither a ``TopKRouter`` nor a router with an ``uncertainty`` argument)."""
    out = copy.deepcopy(variant)
    if has_uar(out):
        return out
    router = out['router']
    if router['type'] == 'TopKRouter':
        out['router'] = dict(UAR, **{k: v for k, v in router.items() if k != 'type'})
    elif _takes_uncertainty(_router_class(router)):
        out['router'] = dict(router, uncertainty=dict(UNCERTAINTY))
    else:
        return None
    return out


def with_fme(variant: Dict[str, Any]) -> Dict[str, Any]:
    """The variant with FME experts (inside a wrapping expert set, its other keys kept)."""
    out = copy.deepcopy(variant)
    experts = out['experts']
    if isinstance(experts.get('experts'), dict):
        experts['experts'] = dict(FME)
    else:
        out['experts'] = dict(FME)
    return out


def _rung_variant(family: Family, rung: str) -> Optional[Dict[str, Any]]:
    if rung in family.rungs:  # spelled out by a config of the family
        return copy.deepcopy(family.rungs[rung])
    variant = family.variant
    if rung == 'base':
        return copy.deepcopy(variant)
    out = with_fme(variant) if 'FME' in rung else copy.deepcopy(variant)
    return with_uar(out) if 'UaR' in rung else out


def plan_rows(families: Dict[str, Family], *, num_experts: int = 16, top_k: int = 2, num_tasks: int = 1,
              full_ladder: Sequence[str] = ('moe',), fme_uar: Optional[Sequence[str]] = None,
              scaling_families: Sequence[str] = ('moe', 'mofme'),
              scaling_experts: Sequence[int] = (16, 64, 128), downstream: str = 'base'
              ) -> Tuple[List[Row], List[str]]:
    """The rows of Tables 1, 2 and 4, deduplicated, and notes on rungs that could not be built.

    Args:
        families: from :func:`discover_families`.
        num_experts, top_k: Table 1's E and k (the paper: 16, top-2), for every family.
        num_tasks: gates of a task-gated family (MMoE, M³ViT …): the number of task ids of the data.
        full_ladder: families that get all four rungs.
        fme_uar: families that get base and +FME+UaR (None: every other MoE family); the rest only
            their base (the paper's Table 1: the full ladder on MoE, base and +FME+UaR on M³ViT and MoWE).
        scaling_families: families of Table 2 / Fig. 4; ``'mofme'`` means MoE + FME + UaR.
        scaling_experts: E of Table 2 (top-k stays ``top_k``).
        downstream: ``'base'`` chains every MoE family base and MoFME (Table 4's rows); ``'all'`` every
            Table 1 row (the dense floor too); ``'none'`` none.
    """
    rows: List[Row] = []
    notes: List[str] = []

    def add(name: str, family: str, rung: str, variant: Dict[str, Any], table: str, experts: int,
            model: Optional[Dict[str, Any]] = None) -> None:
        generator, model = dict(variant), dict(model or {})
        if variant.get('experts') is not None:
            generator.update(num_experts=experts, top_k=top_k)
            if variant.get('num_tasks', 1) > 1:
                generator['num_tasks'] = num_tasks
        for row in rows:
            if row.generator == generator and row.model == model:
                if table not in row.tables:
                    row.tables.append(table)
                if name != row.name and name not in row.aliases:
                    row.aliases.append(name)
                return
        rows.append(Row(name, family, rung, generator, [table], model=model))

    moe_families = [f for f in families.values() if f.variant.get('experts') is not None]
    add('dense', 'dense', 'base', dict(experts=None), 'ladder', 0)
    # bases first (a family that is already FME + UaR, i.e. MoFME, joins the ladder of its base below)
    ordered = sorted(moe_families, key=lambda f: (has_fme(f.variant) and has_uar(f.variant),
                                                  f.name not in full_ladder, f.name))
    for fam in ordered:
        if fam.name in full_ladder:
            rungs = RUNGS
        elif fme_uar is None or fam.name in fme_uar or has_fme(fam.variant) and has_uar(fam.variant):
            rungs = ('base', '+FME+UaR')
        else:
            rungs = ('base', )
        for rung in rungs:
            variant = _rung_variant(fam, rung)
            if variant is None:
                notes.append(f'{fam.name} {rung}: no uncertainty-aware reading of router '
                             f'{fam.variant["router"]["type"]!r} is known; add the row with --rows')
                if rung != '+FME+UaR' or '+FME' in rungs:
                    continue
                rung, variant = '+FME', with_fme(fam.variant)  # the half of the ladder that applies
            name = fam.name if rung == 'base' else fam.name + rung.lower()
            add(name, fam.name, rung, variant, 'ladder', num_experts, fam.model)
    for fam_name in scaling_families:
        if fam_name == 'mofme':
            base = families.get('moe') or families.get('mofme')
            variant = base and _rung_variant(base, '+FME+UaR')
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
            add(name, base.name, 'scaling', variant, 'scaling', experts, base.model)
    if downstream != 'none':
        for row in rows:
            mofme = row.name == 'moe+fme+uar' or 'mofme' in row.aliases
            moe_base = row.rung == 'base' and row.family != 'dense'
            if 'ladder' in row.tables and (downstream == 'all' or moe_base or mofme):
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


def generator_options(generator: Dict[str, Any], prefix: str = 'model.generator', _replace: bool = True
                      ) -> List[str]:
    """``--cfg-options`` that set ``generator``'s keys on ``prefix``; a dict value replaces the base's dict
    whole (``_delete_=True``), so no key of the base's router or expert set is left over; the dicts nested
    in it are new with it."""
    options = []
    for key, value in generator.items():
        if isinstance(value, dict):
            options += [f'{prefix}.{key}._delete_=True'] if _replace else []
            options += generator_options(value, f'{prefix}.{key}', _replace=False)
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
