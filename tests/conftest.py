"""Shared by all tests: quiet imports, the tool loader and the subprocess runner (as fixtures)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict, Optional, Sequence

# albumentations (imported by mmagic) checks PyPI for updates at import; there is no network here.
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _load_tool(name: str) -> ModuleType:
    """``tools/<name>.py`` imported as a module (the tools are scripts, not a package)."""
    module_name = 'tool_' + name.replace('/', '_')
    spec = importlib.util.spec_from_file_location(module_name, ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_python(*args: str, cwd: Path = ROOT, clean_env: bool = False, pythonpath: Sequence[Path] = (),
                env: Optional[Dict[str, str]] = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python *args`` in a subprocess, output captured.

    Args:
        clean_env: start from a minimal environment (PATH only) instead of this one, as a user's shell
            would be; otherwise warnings are silenced (``PYTHONWARNINGS=ignore``) to keep logs readable.
        pythonpath: folders put first on the child's ``PYTHONPATH`` (the repository root always is).
        env: extra variables.
    """
    base = {'PATH': os.environ.get('PATH', '/usr/bin:/bin')} if clean_env else dict(os.environ,
                                                                                     PYTHONWARNINGS='ignore')
    if clean_env:
        base.pop('NO_ALBUMENTATIONS_UPDATE', None)
    paths = [str(p) for p in (*pythonpath, ROOT)] + ([base['PYTHONPATH']] if base.get('PYTHONPATH') else [])
    base['PYTHONPATH'] = os.pathsep.join(paths)
    base.update(env or {})
    return subprocess.run([sys.executable, *args], cwd=cwd, env=base, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope='session')
def load_tool():
    """``load_tool(name)``: ``tools/<name>.py`` as a module."""
    return _load_tool


@pytest.fixture(scope='session')
def run_python():
    """``run_python(*args, cwd=..., clean_env=False, pythonpath=(), env=None)``: a Python subprocess."""
    return _run_python
