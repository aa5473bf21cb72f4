"""Pairing rules of the weather datasets: which degraded file goes with which clean file, and its weather.

Every layout returns a list of :class:`PairRecord` (degraded path, clean path, weather tag, frame key),
checked for existence only (no decoding, so listing 100k RainCityscapes files stays fast). A missing
partner or an empty split raises one :class:`DatasetLayoutError` that names the path(s) and the count.

Trees (``data_root`` is the folder holding them):

* Cityscapes family (RainCityscapes, Foggy Cityscapes, and the synthetic default, which adds snow and
  raindrop folders in the same style)::

    leftImg8bit/{split}/{city}/{frame}_leftImg8bit.png                               clean
    leftImg8bit_rain/{split}/{city}/{frame}_leftImg8bit_rain_alpha_{a}_beta_{b}_dropsize_{d}_pattern_{p}.png
    leftImg8bit_foggy/{split}/{city}/{frame}_leftImg8bit_foggy_beta_{0.005|0.01|0.02}.png
    leftImg8bit_snow/{split}/{city}/{frame}_leftImg8bit_snow_{level}.png
    leftImg8bit_raindrop/{split}/{city}/{frame}_leftImg8bit_raindrop_{level}.png
    leftImg8bit_{tag}/{split}/{city}/{frame}_leftImg8bit_{tag}.png                  any other tag
    gtFine/{split}/{city}/{frame}_gtFine_{labelTrainIds,instanceIds}.png, ..._polygons.json

  Each weathered file pairs with the clean frame it was rendered from (many variants per frame). Any
  lower-case tag such as ``fog-dense`` (:data:`GENERIC_TAG`) whose ``leftImg8bit_{tag}`` folder exists
  is read with the last pattern (the held-out weather kinds of ``tools/dataset_converters/
  make_transfer_set.py``).

* All-Weather as the released MoFME code reads it (``data/dataset.py``)::

    train/{input,gt}/NAME                  same file name in both
    test_rain/{input,gt}/NAME              Outdoor-Rain Test1 (rain streaks + fog veil): tag ``rain+fog``
    test_snow/{input,gt}/NAME              Snow100K-L: tag ``snow``
    test_raindrop/{input,gt}/NAME          RainDrop test_a: GT name swaps ``_rain`` for ``_clean``

  optionally with a TransWeather list file (one degraded path per line, relative to the split folder,
  e.g. ``input/xxx.png``; its GT is the same path under ``gt/``).
"""
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

WEATHER_TAGS: Tuple[str, ...] = ('rain', 'fog', 'rain+fog', 'snow', 'raindrop')
CLEAN_TAG = 'clean'
_MAX_SHOWN = 5  # paths quoted in an error message


class DatasetLayoutError(FileNotFoundError):
    """A dataset tree does not match its layout (missing partner, empty split, unknown name)."""


@dataclass(frozen=True)
class PairRecord:
    """One degraded/clean pair.

    Attributes:
        img_path: Degraded image (the restorer's input); the clean image itself for ``clean`` records.
        gt_path: Clean image (the restorer's target).
        weather: Weather tag, one of :data:`WEATHER_TAGS` or ``'clean'``.
        split: Split folder the pair was listed from.
        frame: Frame key shared by every variant of one scene: ``'{city}/{frame}'`` for the Cityscapes
            family (locates gtFine labels and COCO annotations), the GT file name for All-Weather.
        params: Degradation parameters parsed from the file name (e.g. ``{'beta': '0.02'}``).
    """

    img_path: str
    gt_path: str
    weather: str
    split: str
    frame: str
    params: Mapping[str, str] = field(default_factory=dict)

    def to_info(self) -> dict:
        """Data-info dict for an mmengine dataset (``img_path``, ``gt_path``, ``weather``, ...)."""
        return dict(img_path=self.img_path, gt_path=self.gt_path, weather=self.weather, split=self.split,
                    frame=self.frame, weather_params=dict(self.params))


# ----------------------------------------------------------------------------------------------
# Shared checks
# ----------------------------------------------------------------------------------------------
def _shown(paths: Sequence[str]) -> str:
    more = f' ... (+{len(paths) - _MAX_SHOWN} more)' if len(paths) > _MAX_SHOWN else ''
    return ', '.join(paths[:_MAX_SHOWN]) + more


def require_partners(pairs: Iterable[Tuple[str, str]], what: str, context: str) -> None:
    """Raise one error listing every ``(source, expected_partner)`` whose partner does not exist.

    Args:
        pairs: ``(source path, expected partner path)`` tuples.
        what: What the partner is, for the message (e.g. ``'clean partner'``).
        context: Dataset/split description that starts the message.

    Raises:
        DatasetLayoutError: If any partner is missing.
    """
    pairs = list(pairs)
    missing = [(src, dst) for src, dst in pairs if not osp.isfile(dst)]
    if missing:
        shown = _shown([f'{dst} (for {src})' for src, dst in missing])
        raise DatasetLayoutError(f'{context}: {len(missing)} of {len(pairs)} files have no {what}: {shown}')


def require_nonempty(records: Sequence, context: str, where: str) -> None:
    """Raise if a split produced no pair at all."""
    if not records:
        raise DatasetLayoutError(f'{context}: 0 pairs found under {where}')


def _match_params(params: Mapping[str, str], wanted: Optional[Mapping[str, Sequence]]) -> bool:
    """Whether parsed name parameters pass a filter such as ``{'beta': [0.02]}`` (numeric-aware)."""
    for key, allowed in (wanted or {}).items():
        allowed = allowed if isinstance(allowed, (list, tuple, set)) else [allowed]
        if not any(_same_value(params[key], a) for a in allowed):
            return False
    return True


def _same_value(text: str, wanted) -> bool:
    try:
        return abs(float(text) - float(wanted)) < 1e-9
    except (TypeError, ValueError):
        return str(text) == str(wanted)


def _list_files(folder: str) -> List[str]:
    """Sorted file names of a folder, or [] if it does not exist."""
    if not osp.isdir(folder):
        return []
    return sorted(e.name for e in os.scandir(folder) if e.is_file())


# ----------------------------------------------------------------------------------------------
# Cityscapes family: RainCityscapes, Foggy Cityscapes, synthetic snow/raindrop trees
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CityscapesWeather:
    """Where one weather lives in a Cityscapes-style tree and how its file names parse.

    Attributes:
        tag: Weather tag of the records.
        folder: Folder next to ``leftImg8bit`` (``{folder}/{split}/{city}/...``).
        pattern: Regex over the file name with a ``frame`` group and one group per parameter.
        template: ``str.format`` template writing such a name (used by the synthetic generator).
    """

    tag: str
    folder: str
    pattern: str
    template: str

    def file_name(self, frame: str, **params) -> str:
        """File name of this weather for ``frame`` (e.g. ``aachen_000000_000019``)."""
        return self.template.format(frame=frame, **params)


_NUM = r'[0-9.]+'
CITYSCAPES_WEATHERS: Dict[str, CityscapesWeather] = {
    'rain': CityscapesWeather(
        'rain', 'leftImg8bit_rain',
        rf'(?P<frame>.+)_leftImg8bit_rain_alpha_(?P<alpha>{_NUM})_beta_(?P<beta>{_NUM})'
        rf'_dropsize_(?P<dropsize>{_NUM})_pattern_(?P<pattern>\w+)\.png',
        '{frame}_leftImg8bit_rain_alpha_{alpha}_beta_{beta}_dropsize_{dropsize}_pattern_{pattern}.png'),
    'fog': CityscapesWeather('fog', 'leftImg8bit_foggy',
                             rf'(?P<frame>.+)_leftImg8bit_foggy_beta_(?P<beta>{_NUM})\.png',
                             '{frame}_leftImg8bit_foggy_beta_{beta}.png'),
    'snow': CityscapesWeather('snow', 'leftImg8bit_snow',
                              r'(?P<frame>.+)_leftImg8bit_snow_(?P<level>\w+)\.png',
                              '{frame}_leftImg8bit_snow_{level}.png'),
    'raindrop': CityscapesWeather('raindrop', 'leftImg8bit_raindrop',
                                  r'(?P<frame>.+)_leftImg8bit_raindrop_(?P<level>\w+)\.png',
                                  '{frame}_leftImg8bit_raindrop_{level}.png'),
}
CLEAN_FOLDER = 'leftImg8bit'
CLEAN_SUFFIX = '_leftImg8bit.png'
#: Tags a tree may add without a spec of their own (``leftImg8bit_{tag}``, see the module docstring)
GENERIC_TAG = re.compile(r'[a-z0-9]+(?:-[a-z0-9]+)*')


def generic_cityscapes_weather(tag: str) -> CityscapesWeather:
    """The spec of a tag without parameters in its file names (e.g. the transfer kinds ``fog-dense``)."""
    if not GENERIC_TAG.fullmatch(tag):
        raise DatasetLayoutError(f'weather tag {tag!r} is not a generic tag (lower-case words joined by "-")')
    pattern = rf'(?P<frame>.+)_leftImg8bit_{re.escape(tag)}\.png'
    return CityscapesWeather(tag, f'{CLEAN_FOLDER}_{tag}', pattern, f'{{frame}}_leftImg8bit_{tag}.png')


def cityscapes_weather(data_root: str, tag: str) -> CityscapesWeather:
    """The spec of ``tag``: a known weather, or a generic tag whose ``leftImg8bit_{tag}`` folder exists."""
    if tag in CITYSCAPES_WEATHERS:
        return CITYSCAPES_WEATHERS[tag]
    if GENERIC_TAG.fullmatch(tag) and osp.isdir(osp.join(data_root, f'{CLEAN_FOLDER}_{tag}')):
        return generic_cityscapes_weather(tag)
    raise DatasetLayoutError(f'unknown Cityscapes weather {tag!r}; known: '
                             f'{sorted(CITYSCAPES_WEATHERS) + [CLEAN_TAG]}, or any tag with a folder '
                             f'{osp.join(data_root, CLEAN_FOLDER + "_<tag>")}')


def cityscapes_clean_path(data_root: str, split: str, frame_key: str) -> str:
    """``leftImg8bit/{split}/{city}/{frame}_leftImg8bit.png`` for a ``'{city}/{frame}'`` key."""
    return osp.join(data_root, CLEAN_FOLDER, split, frame_key + CLEAN_SUFFIX)


def cityscapes_gt_path(data_root: str, split: str, frame_key: str, kind: str = 'labelTrainIds') -> str:
    """``gtFine/{split}/{city}/{frame}_gtFine_{kind}.png`` (``kind='polygons'`` gives the ``.json``)."""
    ext = '.json' if kind == 'polygons' else '.png'
    return osp.join(data_root, 'gtFine', split, f'{frame_key}_gtFine_{kind}{ext}')


def _scan_cityscapes_folder(root: str, pattern: 're.Pattern') -> Tuple[List[Tuple[str, str, dict]], int]:
    """(city, frame, params) for every matching file under ``root/{city}/``; also the count of misfits."""
    found, misfits = [], 0
    cities = sorted(e.name for e in os.scandir(root) if e.is_dir()) if osp.isdir(root) else []
    for city in cities:
        for name in _list_files(osp.join(root, city)):
            m = pattern.fullmatch(name)
            if m is None:
                misfits += name.lower().endswith('.png')
                continue
            params = m.groupdict()
            frame = params.pop('frame')
            found.append((city, name, dict(frame=frame, params=params)))
    return found, misfits


ParamFilter = Mapping[str, Mapping[str, Sequence]]


def list_cityscapes_pairs(data_root: str, split: str, weathers: Sequence[str],
                          params: Optional[ParamFilter] = None) -> List[PairRecord]:
    """Pairs of a Cityscapes-style weather tree (RainCityscapes, Foggy Cityscapes, synthetic).

    Args:
        data_root: Folder holding ``leftImg8bit`` and the weather folders.
        split: ``'train'``, ``'val'`` or ``'test'``.
        weathers: Tags out of :data:`CITYSCAPES_WEATHERS` plus ``'clean'`` (identity pairs of the clean
            frames, for clean baselines), or generic tags with a ``leftImg8bit_{tag}`` folder
            (:func:`generic_cityscapes_weather`).
        params: Optional per-weather filter on file-name parameters, e.g.
            ``{'fog': {'beta': [0.02]}}`` keeps the densest fog, ``{'rain': {'pattern': [1, 2]}}``.

    Returns:
        Records sorted by weather (in the given order), city and file name.

    Raises:
        DatasetLayoutError: Unknown weather, a weather without any file for the split, or a weathered
            file without its clean frame.
    """
    params = dict(params or {})
    unknown = sorted(set(params) - set(weathers))
    if unknown:
        raise DatasetLayoutError(f'parameter filter for weather(s) {unknown} that are not listed in '
                                 f'{list(weathers)}')
    records: List[PairRecord] = []
    for tag in weathers:
        if tag == CLEAN_TAG:
            root = osp.join(data_root, CLEAN_FOLDER, split)
            found, _ = _scan_cityscapes_folder(root, re.compile(r'(?P<frame>.+)_leftImg8bit\.png'))
            recs = [PairRecord(osp.join(root, city, name), osp.join(root, city, name), CLEAN_TAG, split,
                               f'{city}/{info["frame"]}') for city, name, info in found]
            require_nonempty(recs, f'Cityscapes split {split!r} (clean)', f'{root}/*/*{CLEAN_SUFFIX}')
            records += recs
            continue
        spec = cityscapes_weather(data_root, tag)
        pattern = re.compile(spec.pattern)
        wanted = params.get(tag, {})
        bad_keys = sorted(set(wanted) - set(pattern.groupindex) - {'frame'})
        if bad_keys:
            raise DatasetLayoutError(f'{tag!r} file names carry no parameter {bad_keys}; they have '
                                     f'{sorted(set(pattern.groupindex) - {"frame"})}')
        root = osp.join(data_root, spec.folder, split)
        found, misfits = _scan_cityscapes_folder(root, pattern)
        kept = [(c, n, i) for c, n, i in found if _match_params(i['params'], wanted)]
        context = f'Cityscapes {tag!r} split {split!r}'
        if not kept:
            detail = (f'{len(found)} file(s) named like {spec.template!r}, 0 left after filter '
                      f'{dict(wanted)}, {misfits} other .png') if found or misfits else spec.template
            raise DatasetLayoutError(f'{context}: 0 pairs found under {root}/*/ ({detail})')
        recs = []
        for city, name, info in kept:
            key = f'{city}/{info["frame"]}'
            clean = cityscapes_clean_path(data_root, split, key)
            recs.append(PairRecord(osp.join(root, city, name), clean, tag, split, key, info['params']))
        require_partners(((r.img_path, r.gt_path) for r in recs), 'clean partner', context)
        records += recs
    return records


# ----------------------------------------------------------------------------------------------
# All-Weather (TransWeather / released MoFME code)
# ----------------------------------------------------------------------------------------------
ALLWEATHER_TEST_SPLITS: Dict[str, str] = {'test_rain': 'rain+fog', 'test_snow': 'snow',
                                          'test_raindrop': 'raindrop'}
# Training names mix three sources; their tag comes from the name (first matching rule). The released
# code gives every training image the same task id, so these tags only matter for per-weather logs
# and task-conditioned gates (MMoE). Outdoor-Rain names ``im_XXXX_sYY_aZZ``, RainDrop ``N_rain``,
# the rest is Snow100K.
ALLWEATHER_TRAIN_RULES: Tuple[Tuple[str, str], ...] = (
    (r'_s\d+_a\d+', 'rain+fog'), (r'_rain\.\w+$', 'raindrop'), (r'.*', 'snow'))


def allweather_gt_name(name: str, split: str) -> str:
    """GT file name of a degraded All-Weather file (RainDrop test: ``_rain`` -> ``_clean``)."""
    if split == 'test_raindrop':
        return re.sub(r'_rain(\.\w+)$', r'_clean\1', name)
    return name


def _input_to_gt(rel_path: str) -> str:
    """List-file entry ``input/a/b.png`` -> ``gt/a/b.png`` (the first ``input`` folder becomes ``gt``)."""
    parts = rel_path.split('/')
    if 'input' not in parts[:-1]:
        raise DatasetLayoutError(f'list entry {rel_path!r} has no "input/" folder to map to "gt/"')
    parts[parts.index('input')] = 'gt'
    return '/'.join(parts)


def list_allweather_pairs(data_root: str, split: str, list_file: Optional[str] = None,
                          weather_rules: Sequence[Tuple[str, str]] = ALLWEATHER_TRAIN_RULES,
                          weathers: Optional[Sequence[str]] = None) -> List[PairRecord]:
    """Pairs of the All-Weather tree.

    Args:
        data_root: Folder holding ``train/``, ``test_rain/``, ``test_snow/``, ``test_raindrop/``.
        split: One of those folder names, or ``'test'`` for the three test sets together (one
            evaluator reporting per weather, as in Table 6).
        list_file: Optional TransWeather list file (absolute, or relative to the split folder); lines
            are degraded paths relative to the split folder (``input/xxx.png``; a leading ``/`` or
            ``./`` is ignored). Without it, every file of ``{split}/input`` is used.
        weather_rules: ``(regex, tag)`` rules tagging training names (first ``re.search`` hit wins).
        weathers: Optional tag filter (e.g. ``['snow']``).

    Raises:
        DatasetLayoutError: Empty split, a name no rule tags, or missing GT files.
    """
    if split == 'test':
        records: List[PairRecord] = []
        for sub in ALLWEATHER_TEST_SPLITS:
            if weathers is None or ALLWEATHER_TEST_SPLITS[sub] in weathers:
                records += list_allweather_pairs(data_root, sub, list_file, weather_rules, weathers)
        return records
    split_dir = osp.join(data_root, split)
    if list_file is not None:
        list_path = list_file if osp.isabs(list_file) else osp.join(split_dir, list_file)
        if not osp.isfile(list_path):
            raise DatasetLayoutError(f'All-Weather split {split!r}: list file {list_path} does not exist')
        with open(list_path) as f:
            rels = [line.strip().lstrip('/') for line in f if line.strip()]
        rels = [r[2:] if r.startswith('./') else r for r in rels]
        entries = [(osp.join(split_dir, r), osp.join(split_dir, osp.dirname(_input_to_gt(r)),
                                                     allweather_gt_name(osp.basename(r), split)))
                   for r in rels]
        where = list_path
    else:
        input_dir = osp.join(split_dir, 'input')
        entries = [(osp.join(input_dir, n), osp.join(split_dir, 'gt', allweather_gt_name(n, split)))
                   for n in _list_files(input_dir)]
        where = f'{input_dir}/'
    context = f'All-Weather split {split!r}'
    require_nonempty(entries, context, where)
    missing_inputs = [src for src, _ in entries if not osp.isfile(src)]
    if missing_inputs:
        raise DatasetLayoutError(f'{context}: {len(missing_inputs)} of {len(entries)} listed degraded files '
                                 f'do not exist: {_shown(missing_inputs)}')
    require_partners(entries, 'GT partner', context)
    records = []
    for src, gt in entries:
        tag = ALLWEATHER_TEST_SPLITS.get(split) or _tag_by_rules(osp.basename(src), weather_rules, context)
        if weathers is None or tag in weathers:
            records.append(PairRecord(src, gt, tag, split, osp.basename(gt)))
    require_nonempty(records, f'{context} with weathers={list(weathers or [])}', where)
    return records


def _tag_by_rules(name: str, rules: Sequence[Tuple[str, str]], context: str) -> str:
    for regex, tag in rules:
        if re.search(regex, name):
            return tag
    raise DatasetLayoutError(f'{context}: no weather rule matches file name {name!r} (rules: {list(rules)})')


# ----------------------------------------------------------------------------------------------
# Layout names used by the dataset classes and configs
# ----------------------------------------------------------------------------------------------
LAYOUT_WEATHERS: Dict[str, Optional[Tuple[str, ...]]] = {
    'raincityscapes': ('rain',),
    'foggycityscapes': ('fog',),
    'rainhazecityscapes': ('rain', 'fog'),  # Table 3 mixture: both trees extracted in one Cityscapes root
    'synthetic': ('rain', 'fog', 'snow', 'raindrop'),
    'cityscapes': None,  # generic: pass ``weathers``
    'allweather': ('rain+fog', 'snow', 'raindrop'),
}


def default_weathers(layout: str) -> Tuple[str, ...]:
    """Weather list a layout uses when none is given (also the order of ``task_id``)."""
    if layout not in LAYOUT_WEATHERS:
        raise DatasetLayoutError(f'unknown layout {layout!r}; known: {sorted(LAYOUT_WEATHERS)}')
    weathers = LAYOUT_WEATHERS[layout]
    if weathers is None:
        raise DatasetLayoutError(f'layout {layout!r} needs an explicit `weathers` list')
    return weathers


def task_weather_order(layout: str, weathers: Optional[Union[str, Sequence[str]]] = None,
                       task_weathers: Optional[Sequence[str]] = None) -> Tuple[str, ...]:
    """The weather of each ``task_id``, in id order: ``task_weathers`` if given, else the (non-empty)
    ``weathers`` selection, else the layout's default list (:func:`default_weathers`)."""
    if task_weathers is not None:
        return normalize_weathers(task_weathers)
    return (normalize_weathers(weathers) if weathers else ()) or default_weathers(layout)


def list_pairs(layout: str, data_root: str, split: str, weathers: Optional[Sequence[str]] = None,
               params: Optional[ParamFilter] = None, list_file: Optional[str] = None,
               weather_rules: Sequence[Tuple[str, str]] = ALLWEATHER_TRAIN_RULES) -> List[PairRecord]:
    """List the pairs of any known layout (see :data:`LAYOUT_WEATHERS`).

    Args:
        layout: ``'raincityscapes'``, ``'foggycityscapes'``, ``'rainhazecityscapes'``, ``'synthetic'``,
            ``'cityscapes'`` or ``'allweather'``.
        data_root: Dataset root.
        split: Split folder name (``'train'``/``'val'``/``'test'`` or All-Weather's ``'test_rain'``...).
        weathers: Weather tags to keep (default: the layout's list).
        params: Cityscapes-family per-weather name-parameter filter, e.g. ``{'fog': {'beta': [0.02]}}``.
        list_file: All-Weather list file (TransWeather format).
        weather_rules: All-Weather training-name tagging rules.
    """
    if layout not in LAYOUT_WEATHERS:
        raise DatasetLayoutError(f'unknown layout {layout!r}; known: {sorted(LAYOUT_WEATHERS)}')
    weathers = normalize_weathers(weathers) if weathers is not None else default_weathers(layout)
    if layout == 'allweather':
        if params:
            raise DatasetLayoutError('All-Weather file names carry no parameters; `params` must be empty')
        return list_allweather_pairs(data_root, split, list_file, weather_rules, weathers)
    if list_file is not None:
        raise DatasetLayoutError(f'layout {layout!r} takes no list file (only All-Weather does)')
    return list_cityscapes_pairs(data_root, split, weathers, params)


def normalize_weathers(weathers: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """Accept a single tag or a sequence of tags."""
    return (weathers,) if isinstance(weathers, str) else tuple(weathers)


def param_filter(params: Optional[ParamFilter] = None, betas: Optional[Sequence[float]] = None) -> dict:
    """Per-weather name filter; Foggy Cityscapes' ``betas`` shortcut becomes ``{'fog': {'beta': betas}}``."""
    out = {tag: dict(f) for tag, f in (params or {}).items()}
    if betas is not None:
        out.setdefault('fog', {})['beta'] = list(betas) if isinstance(betas, (list, tuple)) else [betas]
    return out


def weather_selection(weathers: Optional[Union[str, Sequence[str]]] = None,
                      params: Optional[ParamFilter] = None, betas: Optional[Sequence[float]] = None,
                      clean: bool = False) -> Tuple[Optional[Tuple[str, ...]], dict]:
    """``(weathers, per-weather filter)`` of a dataset view; ``clean=True`` selects the clean frames only.

    ``weathers=None`` keeps the layout's default list.
    """
    if clean:
        return (CLEAN_TAG,), {}
    return (normalize_weathers(weathers) if weathers is not None else None), param_filter(params, betas)



__all__ = ['WEATHER_TAGS', 'CLEAN_TAG', 'DatasetLayoutError', 'PairRecord', 'CityscapesWeather',
           'CITYSCAPES_WEATHERS', 'GENERIC_TAG', 'generic_cityscapes_weather', 'cityscapes_weather',
           'ALLWEATHER_TEST_SPLITS', 'ALLWEATHER_TRAIN_RULES', 'LAYOUT_WEATHERS',
           'require_partners', 'require_nonempty', 'cityscapes_clean_path', 'cityscapes_gt_path',
           'list_cityscapes_pairs', 'list_allweather_pairs', 'allweather_gt_name', 'list_pairs',
           'default_weathers', 'normalize_weathers', 'param_filter', 'weather_selection', 'ParamFilter',
           'task_weather_order']
