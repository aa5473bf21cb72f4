import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def add_mim_extension() -> None:
    """Ship ``configs/`` and ``tools/`` inside the package as ``mmmofme/.mim/`` (the OpenMMLab layout):
    linked for editable installs, copied for wheels and sdists."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif any(cmd in sys.argv for cmd in ('sdist', 'bdist_wheel', 'build', 'install')):
        mode = 'copy'
    else:
        return
    mim = osp.join(HERE, 'mmmofme', '.mim')
    os.makedirs(mim, exist_ok=True)
    for name in ('configs', 'tools'):
        src, dst = osp.join(HERE, name), osp.join(mim, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim), dst)
        else:
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__'))


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmmofme', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


add_mim_extension()
setup(
    name='mmmofme',
    version=read_version(),
    description='MoFME deweathering mixture-of-experts as an OpenMMLab plugin '
    '(mmagic restorer, mmseg / mmdet preprocessing stage)',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.11,<3.12',
    packages=find_packages(include=['mmmofme', 'mmmofme.*']),
    include_package_data=True,
    package_data={'mmmofme': ['.mim/configs/**/*.py', '.mim/tools/**/*.py', '.mim/tools/*.sh']},
    # Compatible ranges; the exact working set CI installs is requirements/constraints.txt.
    install_requires=[
        'torch>=2.1,<3',
        'torchvision>=0.16',
        'mmengine>=0.10,<1.0',
        'mmcv>=2.0,<2.2',
        'numpy<2',  # mmagic uses np.bool8
    ],
    extras_require={
        'mmagic': ['mmagic>=1.2,<2.0', 'diffusers>=0.23,<0.25', 'transformers>=4.30,<4.37'],
        'mmseg': ['mmsegmentation>=1.2,<2.0'],
        'mmdet': ['mmdet>=3.2,<4.0'],
        'mmpretrain': ['mmpretrain>=1.2,<2.0'],
        'deploy': ['onnx>=1.16', 'onnxscript>=0.5', 'onnxruntime>=1.18'],
        'tests': ['pytest', 'hypothesis', 'ruff'],
    },
    zip_safe=False,
)
