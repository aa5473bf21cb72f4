"""Core modules live in mmengine's root registry and resolve under every task library's scope."""
import pytest
from mmengine.registry import DefaultScope

import mmmofme  # noqa: F401  (registers the core)


@pytest.mark.parametrize('scope,registry_module', [('mmagic', 'mmagic.registry'), ('mmseg', 'mmseg.registry'),
                                                   ('mmdet', 'mmdet.registry')])
def test_core_resolves_under_each_default_scope(scope, registry_module):
    import importlib

    from mmengine.registry import MODELS as ROOT

    from mmmofme.models.archs.mofme_vit import MoFMEViT
    task_models = importlib.import_module(registry_module).MODELS
    assert 'MoFMEViT' in ROOT.module_dict and 'MoFMEViT' not in task_models.module_dict
    with DefaultScope.overwrite_default_scope(scope):
        assert task_models.get('MoFMEViT') is MoFMEViT
        model = task_models.build(dict(type='MoFMEViT', experts=None, embed_dim=32, depth=1,
                                       img_size=32))
    assert isinstance(model, MoFMEViT)


def test_task_wrappers_register_in_their_library():
    from mmagic.registry import MODELS as AGIC
    from mmdet.registry import MODELS as DET
    from mmseg.registry import MODELS as SEG

    import mmmofme.mmagic  # noqa: F401
    import mmmofme.mmdet  # noqa: F401
    import mmmofme.mmseg  # noqa: F401
    assert 'MoFMERestorer' in AGIC.module_dict
    assert 'DeweatherSegmentor' in SEG.module_dict
    assert 'DeweatherDetector' in DET.module_dict


def test_library_code_never_forces_a_default_scope():
    """``register_all_modules`` would override the user's default scope: the package must not call it."""
    import pathlib
    root = pathlib.Path(mmmofme.__file__).parent
    offenders = [str(p) for p in root.rglob('*.py') if 'register_all_modules(' in p.read_text()]
    assert offenders == []


def test_classifier_parts_register_in_mmpretrain():
    from mmpretrain.registry import DATASETS, MODELS

    import mmmofme.mmpretrain  # noqa: F401
    assert {'MoEImageClassifier', 'MoEVisionTransformer'} <= set(MODELS.module_dict)
    assert 'CIFAR10Folder' in DATASETS.module_dict
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # the shared routers resolve from the root
        assert MODELS.get('UncertaintyAwareRouter') is not None
