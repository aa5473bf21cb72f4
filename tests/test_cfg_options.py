"""--cfg-options / --restorer-options: parsed as mmengine does; a malformed entry is one usage error."""
import argparse

import pytest

from mmmofme.utils.tool_errors import CfgOptionsAction


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='tool')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={})
    return p


def test_entries_are_parsed_as_mmengine_reads_them():
    args = parser().parse_args(['--cfg-options', 'randomness.seed=1', 'a.b=[1,2]', 'c=(0.5,2.0)', 'd=None'])
    assert args.cfg_options == {'randomness.seed': 1, 'a.b': [1, 2], 'c': (0.5, 2.0), 'd': None}


@pytest.mark.parametrize('entry, says', [('seed', "expected KEY=VALUE, got 'seed'"),
                                         ('a=[1,2', 'Imbalanced brackets')])
def test_a_malformed_entry_is_one_usage_error(capsys, entry, says):
    with pytest.raises(SystemExit) as exit_info:
        parser().parse_args(['--cfg-options', 'ok=1', entry])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith('usage: tool') and err[-1].startswith('tool: error: --cfg-options: ')
    assert says in err[-1] and 'Traceback' not in '\n'.join(err)
