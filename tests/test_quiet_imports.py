"""Tools run directly (not through make or pytest) print no third-party update checks or deprecation
noise: ``mmmofme`` silences them before mmagic / albumentations are imported."""
import re

import pytest

NOISE = re.compile(r'FutureWarning|DeprecationWarning|UserWarning|albumentations.*(update|version)|'
                   r'new version', re.IGNORECASE)
pytestmark = pytest.mark.slow


@pytest.mark.parametrize('tool', ['train', 'test', 'deweather', 'merge_checkpoints', 'demo'])
def test_tool_help_in_a_clean_environment_is_quiet(run_python, tool):
    result = run_python(f'tools/{tool}.py', '--help', clean_env=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f'usage: {tool}.py' in result.stdout
    assert not NOISE.search(result.stderr), result.stderr[-2000:]


def test_importing_every_integration_in_a_clean_environment_is_quiet(run_python):
    code = 'import mmmofme.mmagic, mmmofme.mmseg, mmmofme.mmdet, mmmofme.mmpretrain; import mmmofme.apis'
    result = run_python('-c', code, clean_env=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not NOISE.search(result.stderr), result.stderr[-2000:]
