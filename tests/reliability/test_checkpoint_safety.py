"""Checkpoints are data, not code: a crafted pickle is refused by every entry point, nothing runs."""
from pathlib import Path

import numpy as np
import pytest
import torch
from chain_stand_ins import ChainTestPixelRestorer, tiny_segmentor
from mmengine.logging import MessageHub

from mmmofme.utils.checkpoint import (
    CheckpointError,
    SkippedObject,
    install_checkpoint_loader,
    load_weights_only,
)
from mmmofme.utils.checkpoint_ledger import LEDGER_NAME, file_digest, record_checkpoint, written_by_run

ROOT = Path(__file__).resolve().parents[2]
TINY_CONFIG = ROOT / 'tests' / 'configs' / 'tiny_restorer.py'


def restorer_state(prefix: str = 'generator.') -> dict:
    return {prefix + k: v for k, v in ChainTestPixelRestorer(seed=1).state_dict().items()}


def single_error_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert lines, 'no error output'
    return lines[-1]


@pytest.mark.parametrize('payload', ['system', 'eval'])
@pytest.mark.parametrize('runner_layout', [False, True])
def test_crafted_pickle_is_refused_and_nothing_runs(crafted_checkpoint, payload, runner_layout):
    path, marker = crafted_checkpoint(restorer_state(), payload, runner_layout)
    with pytest.raises(CheckpointError) as info:
        load_weights_only(str(path))
    message = str(info.value)
    assert '\n' not in message
    assert message.startswith(f'{path}: refused: the file would call ')
    assert ('posix.system' if payload == 'system' else 'builtins.eval') in message
    assert not marker.exists()


def test_a_runner_checkpoint_gives_its_weights_and_skips_the_run_state(tmp_path):
    hub = MessageHub('runner_like')
    hub.update_scalar('train/loss', np.float64(0.25))
    hub.update_info('iter', 7)
    state = restorer_state()
    path = tmp_path / 'iter_7.pth'
    torch.save(dict(meta=dict(iter=7, seed=3), state_dict=state, message_hub=hub.state_dict(),
                    optimizer=dict(state={}, param_groups=[dict(lr=0.1)])), path)
    ckpt = load_weights_only(str(path))
    assert ckpt['meta'] == dict(iter=7, seed=3)
    assert all(torch.equal(ckpt['state_dict'][k], v) for k, v in state.items())
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'], SkippedObject)
    assert ckpt['message_hub']['runtime_info']['iter'] == 7


def test_test_tool_refuses(crafted_checkpoint, load_tool, monkeypatch, capsys):
    path, marker = crafted_checkpoint(restorer_state())
    monkeypatch.setattr('sys.argv', ['test.py', str(TINY_CONFIG), str(path)])
    with pytest.raises(SystemExit) as info:
        load_tool('test').main()
    assert info.value.code == 2
    assert single_error_line(capsys.readouterr().err).startswith(f'error: {path}: refused')
    assert not marker.exists()


def test_load_from_is_refused_by_train_tool_and_runner_loader(crafted_checkpoint, load_tool, monkeypatch,
                                                              capsys, tmp_path):
    path, marker = crafted_checkpoint(restorer_state(), runner_layout=True)
    monkeypatch.setattr('sys.argv', ['train.py', str(TINY_CONFIG), '--work-dir', str(tmp_path / 'w'),
                                     '--cfg-options', f'load_from={path}'])
    with pytest.raises(SystemExit) as info:
        load_tool('train').main()
    assert info.value.code == 2
    assert single_error_line(capsys.readouterr().err).startswith(f'error: {path}: refused')
    # the Runner's own load_from path (CheckpointLoader) reads through the same weights-only reader
    from mmengine.runner import load_checkpoint
    install_checkpoint_loader()
    with pytest.raises(CheckpointError, match='refused'):
        load_checkpoint(ChainTestPixelRestorer(), str(path))
    assert not marker.exists()


@pytest.mark.parametrize('which', ['restorer_checkpoint', 'perception_checkpoint'])
def test_chain_wrappers_refuse(crafted_checkpoint, which):
    from mmmofme.mmseg import DeweatherSegmentor
    path, marker = crafted_checkpoint(restorer_state('restorer.'))
    with pytest.raises(CheckpointError, match=f'{path}: refused'):
        DeweatherSegmentor(restorer=dict(type='ChainTestPixelRestorer'), segmentor=tiny_segmentor(),
                           **{which: str(path)})
    assert not marker.exists()


def test_deweather_and_merge_tools_refuse(crafted_checkpoint, load_tool, tmp_path, capsys):
    path, marker = crafted_checkpoint(restorer_state())
    config = tmp_path / 'restorer_cfg.py'
    config.write_text("model = dict(type='MoFMERestorer', generator=dict(type='ChainTestPixelRestorer'))\n")
    image = tmp_path / 'in.png'
    image.write_bytes(b'')  # never read: the checkpoint is refused first
    code = load_tool('deweather').main([str(image), '--config', str(config), '--checkpoint', str(path),
                                        '--out', str(tmp_path / 'out'), '--device', 'cpu'])
    assert code == 2
    assert single_error_line(capsys.readouterr().err).startswith(f'error: {path}: refused')
    plain = tmp_path / 'seg.pth'
    torch.save(dict(state_dict={'segmentor.w': torch.ones(1)}), plain)
    out = tmp_path / 'chain.pth'
    assert load_tool('merge_checkpoints').main(['--restorer', str(path), '--segmentor', str(plain),
                                                '--out', str(out)]) == 1
    assert single_error_line(capsys.readouterr().err).startswith(f'error: {path}: refused')
    assert not out.exists() and not marker.exists()


def test_ledger_knows_the_exact_bytes_a_run_wrote(tmp_path):
    ckpt = tmp_path / 'iter_1.pth'
    torch.save(dict(state_dict=restorer_state()), ckpt)
    assert not written_by_run(str(ckpt), str(tmp_path))
    record_checkpoint(str(tmp_path), str(ckpt))
    assert written_by_run(str(ckpt), str(tmp_path))
    assert (tmp_path / LEDGER_NAME).read_text().count(file_digest(str(ckpt))) == 1
    with open(ckpt, 'ab') as f:  # the same name with other bytes is another file
        f.write(b'\0')
    assert not written_by_run(str(ckpt), str(tmp_path))


def _train_tool_exit(load_tool, monkeypatch, *argv) -> int:
    monkeypatch.setattr('sys.argv', ['train.py', str(TINY_CONFIG), *argv])
    with pytest.raises(SystemExit) as info:
        load_tool('train').main()
    return info.value.code


def test_resume_of_a_file_the_run_did_not_write_is_refused(crafted_checkpoint, load_tool, monkeypatch,
                                                           capsys, tmp_path):
    path, marker = crafted_checkpoint(restorer_state(), runner_layout=True)
    work = tmp_path / 'work'
    assert _train_tool_exit(load_tool, monkeypatch, '--work-dir', str(work), '--resume', str(path)) == 2
    line = single_error_line(capsys.readouterr().err)
    assert line.startswith(f'error: {path}: refused: not a checkpoint this run wrote')
    assert line.endswith('Add --trust-checkpoint if you trust it')
    # auto-resume: the work dir's last_checkpoint names a file its ledger does not list
    work.mkdir()
    (work / 'last_checkpoint').write_text(str(path))
    assert _train_tool_exit(load_tool, monkeypatch, '--work-dir', str(work), '--resume') == 2
    assert 'refused: not a checkpoint this run wrote' in capsys.readouterr().err
    assert not marker.exists()


def test_resume_accepts_the_runs_own_file_or_a_trusted_one(load_tool, tmp_path):
    import argparse

    from mmengine.config import Config
    train = load_tool('train')
    work = tmp_path / 'work'
    work.mkdir()
    ckpt = work / 'iter_4.pth'
    torch.save(dict(state_dict=restorer_state()), ckpt)
    cfg = Config(dict(work_dir=str(work)))

    def args(resume, trust=False):
        return argparse.Namespace(resume=resume, trust_checkpoint=trust)

    assert train.resume_checkpoint(args(None), cfg) is None
    assert train.resume_checkpoint(args('auto'), cfg) == ''  # nothing saved yet: a fresh start
    assert train.resume_checkpoint(args(str(ckpt), trust=True), cfg) == str(ckpt)
    record_checkpoint(str(work), str(ckpt))
    (work / 'last_checkpoint').write_text(str(ckpt))
    assert train.resume_checkpoint(args('auto'), cfg) == str(ckpt)
    assert train.resume_checkpoint(args(str(ckpt)), cfg) == str(ckpt)


def test_torch_without_the_globals_inspector_refuses_more_than_weights(tmp_path, monkeypatch):
    path = tmp_path / 'runner.pth'
    hub = MessageHub('old_torch')
    hub.update_scalar('train/loss', 0.5)
    torch.save(dict(state_dict=restorer_state(), message_hub=hub.state_dict()), path)
    monkeypatch.delattr(torch.serialization, 'get_unsafe_globals_in_checkpoint')
    with pytest.raises(CheckpointError, match=f'{path}: holds more than weights, and this torch'):
        load_weights_only(str(path))
