"""Rows of the reproduction tables: families read from configs, ladder rungs, and the --cfg-options that
turn the base config into each row (checked by building the network they describe)."""
import textwrap

import pytest
from mmengine.config import Config, DictAction
from mmengine.registry import MODELS

import mmmofme.models  # noqa: F401  (registers MoFMEViT and its parts)
from mmmofme.evaluation import reproduction_plan as plan
from mmmofme.models.moe import FeatureModulationExperts, FFNExperts, TopKRouter, UncertaintyAwareRouter


class ReproTestTaskRouter(TopKRouter):
    """A router that routes as the UaR when given ``uncertainty`` (as the M³ViT / MoWE routers do);
    registered only while this module's tests run (other tests list the registered routers)."""

    def __init__(self, dim, num_experts, top_k, renormalize=True, num_tasks=1, uncertainty=None):
        super().__init__(dim, num_experts, top_k, renormalize, num_tasks)
        self.uncertainty = uncertainty


def write_configs(root, **generators):
    """One restorer config per ``name -> generator dict source`` (``name`` with '-' carries rung words),
    and one non-restorer model."""
    (root / 'cfgs').mkdir()
    for name, generator in generators.items():
        (root / 'cfgs' / f'{name.replace("__", "-")}-e16_data.py').write_text(textwrap.dedent(f"""
            model = dict(type='MoFMERestorer', generator=dict(type='MoFMEViT', embed_dim=384, num_experts=16,
                         top_k=4, img_size=240, {generator}))
            """))
    (root / 'cfgs' / 'restormer_data.py').write_text(
        "model = dict(type='MoFMERestorer', generator=dict(type='X'))\n")
    return ['cfgs/*.py']


@pytest.fixture(scope='module')
def families(tmp_path_factory):
    root = tmp_path_factory.mktemp('plan')
    patterns = write_configs(
        root, dense="experts=None, router=None",
        moe="experts=dict(type='FFNExperts'), router=dict(type='TopKRouter')",
        mmoe="experts=dict(type='FFNExperts'), router=dict(type='TopKRouter'), num_tasks=3",
        mofme="router=dict(type='UncertaintyAwareRouter', mc_samples=5, mc_dropout=0.1)",
        # a family this issue does not know: picked up, its unknown router gets no UaR rung
        newbase="experts=dict(type='FFNExperts'), router=dict(type='SomeWeatherRouter')",
        # a task-gated family whose router takes `uncertainty`, and its +FME+UaR rung spelled out by a config
        tasked="experts=dict(type='FFNExperts'), router=dict(type='ReproTestTaskRouter'), num_tasks=3",
        tasked__fme__uar="experts=dict(type='FeatureModulationExperts'), num_tasks=3, router=dict("
                         "type='ReproTestTaskRouter', uncertainty=dict(mc_samples=3, mc_dropout=0.2))")
    found, skipped = plan.discover_families(patterns, str(root))
    assert list(skipped) == [str(root / 'cfgs' / 'restormer_data.py')]
    MODELS.register_module(module=ReproTestTaskRouter)
    yield found
    MODELS.module_dict.pop('ReproTestTaskRouter')


def test_families_keep_their_variant_keys_and_drop_the_size(families):
    assert set(families) == {'dense', 'moe', 'mmoe', 'mofme', 'newbase', 'tasked'}
    assert list(families['tasked'].rungs) == ['+FME+UaR'] and len(families['tasked'].configs) == 2
    assert families['mmoe'].variant == dict(experts=dict(type='FFNExperts'), router=dict(type='TopKRouter'),
                                            num_tasks=3)
    # MoFMEViT's default expert set, spelled out
    assert families['mofme'].variant['experts'] == dict(type='FeatureModulationExperts')


def test_ladder_scaling_and_downstream_rows(families):
    rows, notes = plan.plan_rows(families, num_experts=16, top_k=2, num_tasks=5, scaling_experts=(16, 64))
    names = [r.name for r in rows]
    assert names == ['dense', 'moe', 'moe+uar', 'moe+fme', 'moe+fme+uar', 'mmoe', 'mmoe+fme+uar', 'newbase',
                     'newbase+fme', 'tasked', 'tasked+fme+uar', 'moe-e64', 'moe+fme+uar-e64']
    by = {r.name: r for r in rows}
    assert by['moe+fme+uar'].aliases == ['mofme', 'mofme+fme+uar']  # the MoFME family is the top rung
    assert by['moe+uar'].generator['router'] == dict(type='UncertaintyAwareRouter', mc_samples=5,
                                                     mc_dropout=0.1)
    assert by['mmoe'].generator['num_tasks'] == 5 and by['mmoe'].generator['top_k'] == 2
    assert by['moe+fme+uar-e64'].generator['num_experts'] == 64
    assert by['moe'].tables == ['ladder', 'scaling', 'downstream'] and by['dense'].tables == ['ladder']
    assert [r.name for r in plan.rows_in(rows, 'downstream')] == ['moe', 'moe+fme+uar', 'mmoe', 'newbase',
                                                                  'tasked']
    # the config's own rung wins over the derived one (its mc_samples=3, not the default 5)
    assert by['tasked+fme+uar'].generator['router']['uncertainty'] == dict(mc_samples=3, mc_dropout=0.2)
    assert by['tasked+fme+uar'].generator['num_tasks'] == 5 and by['tasked+fme+uar'].to_dict()['uar']
    assert any('SomeWeatherRouter' in n for n in notes)  # its UaR rung is reported, not invented
    assert [r.name for r in plan.select_rows(rows, ['mofme', 'dense'])] == ['dense', 'moe+fme+uar']
    # the paper's Table 1: +FME+UaR only on the named bases, the other families keep their base row
    paper, _ = plan.plan_rows(families, num_tasks=5, scaling_experts=(), fme_uar=('tasked', ))
    assert [r.name for r in paper] == ['dense', 'moe', 'moe+uar', 'moe+fme', 'moe+fme+uar', 'mmoe', 'newbase',
                                       'tasked', 'tasked+fme+uar']
    with pytest.raises(ValueError, match='unknown row'):
        plan.select_rows(rows, ['nope'])


def apply(options, base):
    cfg = Config(dict(model=dict(generator=base)))
    cfg.merge_from_dict({k: DictAction._parse_iterable(v) for k, v in (o.split('=', 1) for o in options)})
    return cfg.model.generator


BASE = dict(type='MoFMEViT', experts=dict(type='FeatureModulationExperts'),
            router=dict(type='UncertaintyAwareRouter', mc_samples=5, mc_dropout=0.1), num_experts=16, top_k=4,
            embed_dim=32, depth=1, img_size=32, num_heads=2, head_dim=16, stem_channels=8, head_channels=16)


def test_options_replace_router_and_experts_whole_and_build_the_row(families):
    rows, _ = plan.plan_rows(families, num_experts=4, top_k=2, num_tasks=3, scaling_experts=())
    by = {r.name: r for r in rows}
    moe = apply(plan.generator_options(by['moe'].generator), BASE)
    assert moe.router == dict(type='TopKRouter')  # no mc_samples left over from the base's UaR
    net = MODELS.build(moe)
    layer = net.moe_layers()[0]
    assert type(layer.router) is TopKRouter and isinstance(layer.experts, FFNExperts)
    assert layer.router.top_k == 2 and layer.experts.num_experts == 4
    mofme = MODELS.build(apply(plan.generator_options(by['moe+fme+uar'].generator), BASE)).moe_layers()[0]
    assert isinstance(mofme.router, UncertaintyAwareRouter)
    assert isinstance(mofme.experts, FeatureModulationExperts)
    assert MODELS.build(apply(plan.generator_options(by['mmoe'].generator), BASE)).num_tasks == 3
    dense = MODELS.build(apply(plan.generator_options(by['dense'].generator), BASE))
    assert dense.moe_layers() == []
    sized = apply(plan.generator_options(dict(img_size=64, confidence_range=(0.7, 0.95))), BASE)
    assert sized.img_size == 64 and tuple(sized.confidence_range) == (0.7, 0.95)


def test_rungs_derived_for_routers_with_an_uncertainty_argument_and_wrapped_experts(families):
    derived = plan.with_uar(families['tasked'].variant)
    assert derived['router'] == dict(type='ReproTestTaskRouter',
                                     uncertainty=dict(mc_samples=5, mc_dropout=0.1))
    assert plan.has_uar(derived) and not plan.has_uar(families['tasked'].variant)
    assert plan.with_uar(families['newbase'].variant) is None
    experts = dict(type='MultiScaleExperts', experts=dict(type='FFNExperts'), kernel_sizes=[1, 3])
    wrapped = dict(router=dict(type='TopKRouter'), experts=experts)
    fme = plan.with_fme(wrapped)
    assert fme['experts'] == dict(type='MultiScaleExperts', experts=dict(type='FeatureModulationExperts'),
                                  kernel_sizes=[1, 3])
    assert plan.has_fme(fme) and not plan.has_fme(wrapped)
    # a nested dict is replaced with its parent: one _delete_, on the outer key only
    assert plan.generator_options(dict(experts=fme['experts'])) == [
        'model.generator.experts._delete_=True', 'model.generator.experts.type=MultiScaleExperts',
        'model.generator.experts.experts.type=FeatureModulationExperts',
        'model.generator.experts.kernel_sizes=[1,3]']
    cfg = apply(plan.generator_options(dict(experts=fme['experts'])), BASE)
    assert cfg.experts.to_dict() == fme['experts'] | dict(kernel_sizes=[1, 3])


def test_rows_file_adds_hand_written_rows(tmp_path):
    path = tmp_path / 'rows.py'
    path.write_text("rows = [dict(name='moe-top1', generator=dict(experts=dict(type='FFNExperts'), "
                    "top_k=1))]\n")
    (row,) = plan.load_rows_file(str(path), num_experts=16, top_k=2)
    assert row.generator == dict(experts=dict(type='FFNExperts'), top_k=1, num_experts=16)
    bad = tmp_path / 'bad.py'
    bad.write_text('rows = [dict(generator=dict())]\n')
    with pytest.raises(ValueError, match='bad.py'):
        plan.load_rows_file(str(bad), 16, 2)
    with pytest.raises(ValueError, match='not found'):
        plan.load_rows_file(str(tmp_path / 'missing.py'), 16, 2)


def test_reproduce_names_an_unknown_row_in_one_line(load_tool, tmp_path):
    reproduce = load_tool('analysis_tools/reproduce')
    with pytest.raises(SystemExit, match=r"error: unknown row\(s\) \['nope'\]; known: dense, moe"):
        reproduce.main(['--profile', 'tiny', '--variants', 'nope', '--work-dir', str(tmp_path),
                        '--configs', 'configs/baselines/moe-e16-top2_allweather-240.py'])
    with pytest.raises(SystemExit, match='nope.py: config file not found'):
        reproduce.main(['--profile', 'tiny', '--config', 'nope.py', '--work-dir', str(tmp_path)])
