"""tools/train.py and tools/test.py answer a user's mistake (config, data, checkpoint) in one line."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = ROOT / 'tests' / 'configs' / 'tiny_restorer.py'


def tool_error(load_tool, monkeypatch, capsys, tool: str, *argv) -> str:
    """Run ``tools/<tool>.py argv`` in-process; it must exit with status 2: its last stderr line."""
    monkeypatch.setattr('sys.argv', [f'{tool}.py', *map(str, argv)])
    with pytest.raises(SystemExit) as info:
        load_tool(tool).main()
    assert info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith('error: ')
    return lines[-1]


@pytest.fixture
def pairs(tmp_path):
    root = tmp_path / 'pairs'
    rng = np.random.default_rng(0)
    for sub in ('input', 'gt'):
        (root / sub).mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(root / sub / f'{i}.png'), rng.integers(0, 256, (40, 40, 3), dtype=np.uint8))
    return root


def data_options(root: Path) -> list:
    return [f'{loader}.dataset.data_root={root}' for loader in ('train_dataloader', 'val_dataloader',
                                                                 'test_dataloader')]


@pytest.mark.parametrize('override, expected', [
    ('model.generator.router.type=NoSuchRouter',
     "cannot build the model: router: unknown type 'NoSuchRouter'; known types: .*TopKRouter"),
    ('model.generator.type=NoSuchNet', 'unknown type: NoSuchNet is not in the'),
    ('model.generator.num_expert=3', "unknown argument: .*unexpected keyword argument 'num_expert'"),
])
def test_a_config_naming_an_unknown_type_or_key(load_tool, monkeypatch, capsys, tmp_path, pairs, override,
                                                expected):
    import re
    line = tool_error(load_tool, monkeypatch, capsys, 'train', TINY_CONFIG, '--work-dir', tmp_path / 'w',
                      '--cfg-options', override, *data_options(pairs))
    assert line.startswith(f'error: {TINY_CONFIG}: ') and re.search(expected, line), line


def test_a_truncated_training_image_is_named(load_tool, monkeypatch, capsys, tmp_path, pairs):
    (pairs / 'gt' / '1.png').write_bytes((pairs / 'gt' / '1.png').read_bytes()[:100])
    line = tool_error(load_tool, monkeypatch, capsys, 'test', TINY_CONFIG, _fitting_checkpoint(tmp_path),
                      '--work-dir', tmp_path / 'w', '--cfg-options', *data_options(pairs))
    assert str(pairs / 'gt' / '1.png') in line, line


def _fitting_checkpoint(tmp_path: Path) -> Path:
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope
    cfg = Config.fromfile(TINY_CONFIG)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    path = tmp_path / 'fits.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def test_a_checkpoint_that_does_not_fit_the_config(load_tool, monkeypatch, capsys, tmp_path, pairs):
    state = torch.load(_fitting_checkpoint(tmp_path), weights_only=True)['state_dict']
    state.pop(sorted(state)[0])
    state['generator.head.weight'] = torch.zeros(1)
    wrong = tmp_path / 'wrong.pth'
    torch.save(dict(state_dict=state), wrong)
    line = tool_error(load_tool, monkeypatch, capsys, 'test', TINY_CONFIG, wrong,
                      '--work-dir', tmp_path / 'w', '--cfg-options', *data_options(pairs))
    assert line.startswith(f'error: {wrong}: checkpoint does not fit the model of {TINY_CONFIG}'), line
    assert '1 missing keys' in line


def test_a_file_that_is_not_a_checkpoint(load_tool, monkeypatch, capsys, tmp_path):
    for content in (b'', b'\x89PNG\r\n\x1a\n not a checkpoint', b'PK\x03\x04 a broken zip'):
        bad = tmp_path / 'bad.pth'
        bad.write_bytes(content)
        line = tool_error(load_tool, monkeypatch, capsys, 'test', TINY_CONFIG, bad)
        assert line.startswith(f'error: {bad}: not a readable PyTorch checkpoint'), line


def test_a_missing_partner_is_named_and_an_extra_one_ignored(load_tool, monkeypatch, capsys, tmp_path, pairs):
    from mmagic.datasets import BasicImageDataset
    (pairs / 'gt' / '9.png').write_bytes((pairs / 'gt' / '0.png').read_bytes())  # extra: no input
    listed = BasicImageDataset(data_root=str(pairs), data_prefix=dict(img='input', gt='gt'),
                               serialize_data=False)
    assert len(listed) == 3  # the input folder drives the pairing; the extra partner is not a sample
    (pairs / 'gt' / '2.png').unlink()
    line = tool_error(load_tool, monkeypatch, capsys, 'test', TINY_CONFIG, _fitting_checkpoint(tmp_path),
                      '--work-dir', tmp_path / 'w', '--cfg-options', *data_options(pairs))
    assert f'{pairs / "gt" / "2.png"} (missing)' in line, line
