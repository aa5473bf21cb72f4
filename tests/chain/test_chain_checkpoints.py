"""Loading both parts of a chain in the constructor, and tools/merge_checkpoints.py round trips."""
import pytest
import torch
from chain_stand_ins import tiny_segmentor
from mmengine.logging import HistoryBuffer

from mmmofme.mmseg import DeweatherSegmentor
from mmmofme.utils.checkpoint import CheckpointError


def new_chain(seed: int, **kwargs) -> DeweatherSegmentor:
    torch.manual_seed(seed)
    return DeweatherSegmentor(restorer=dict(type='ChainTestPixelRestorer', seed=seed),
                              segmentor=tiny_segmentor(), **kwargs)


def runner_style(state_dict: dict) -> dict:
    """A checkpoint as mmengine's Runner writes it: extras torch's weights-only loader refuses."""
    return dict(meta=dict(epoch=1, iter=10), state_dict=state_dict,
                message_hub=dict(log_scalars=dict(loss=HistoryBuffer([1.0, 0.5], [1, 1]))),
                optimizer=dict(state={}, param_groups=[]))


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


@pytest.fixture
def part_checkpoints(tmp_path):
    """An mmagic-style restorer checkpoint, a bare one, and a Runner-style segmentor checkpoint."""
    source = new_chain(seed=1)
    restorer = source.restorer.state_dict()
    mmagic = dict(state_dict={**{f'generator.{k}': v for k, v in restorer.items()},
                              'pixel_loss.dummy': torch.zeros(1)}, meta=dict(mmagic_version='1.2.0'))
    paths = dict(mmagic=tmp_path / 'restorer_mmagic.pth', bare=tmp_path / 'restorer_bare.pth',
                 segmentor=tmp_path / 'segmentor.pth')
    torch.save(mmagic, paths['mmagic'])
    torch.save(restorer, paths['bare'])
    torch.save(runner_style(source.segmentor.state_dict()), paths['segmentor'])
    return source, {k: str(v) for k, v in paths.items()}


@pytest.mark.parametrize('restorer_kind', ['mmagic', 'bare'])
def test_constructor_loads_both_parts(part_checkpoints, restorer_kind):
    source, paths = part_checkpoints
    chain = new_chain(seed=2, restorer_checkpoint=paths[restorer_kind],
                      perception_checkpoint=paths['segmentor'])
    assert_same_weights(chain, source)
    # Runner.train() calls init_weights(): it must not undo the loaded weights
    chain.init_weights()
    assert_same_weights(chain, source)


def test_a_restorer_checkpoint_that_does_not_fit_names_the_file(tmp_path):
    path = tmp_path / 'wrong_arch.pth'
    torch.save(dict(state_dict={'generator.gain': torch.ones(1)}), path)
    with pytest.raises(CheckpointError, match=f'{path}.*does not fit the restorer.*missing keys'):
        new_chain(seed=0, restorer_checkpoint=str(path))


def test_an_unreadable_checkpoint_names_the_file(tmp_path):
    path = tmp_path / 'truncated.pth'
    path.write_bytes(b'PK\x03\x04 not really a checkpoint')
    with pytest.raises(CheckpointError, match=str(path)):
        new_chain(seed=0, perception_checkpoint=str(path))
    with pytest.raises(CheckpointError, match='not_there.pth'):
        new_chain(seed=0, restorer_checkpoint=str(tmp_path / 'not_there.pth'))


def test_merge_tool_round_trip(part_checkpoints, tmp_path, capsys, load_tool):
    source, paths = part_checkpoints
    merge_tool = load_tool('merge_checkpoints')
    out = tmp_path / 'chain.pth'
    assert merge_tool.main(['--restorer', paths['mmagic'], '--segmentor', paths['segmentor'],
                            '--out', str(out)]) == 0
    assert 'restorer.*' in capsys.readouterr().out
    merged = torch.load(out, weights_only=True)  # plain file: loads with torch's own weights-only reader
    assert set(merged) == {'meta', 'state_dict'}
    assert {k.split('.')[0] for k in merged['state_dict']} == {'restorer', 'segmentor'}
    # what tools/test.py does with it: load_state_dict into the chain model
    chain = new_chain(seed=3)
    chain.load_state_dict(merged['state_dict'], strict=True)
    assert_same_weights(chain, source)
    # and a chain checkpoint is accepted by both constructor arguments
    from_chain_file = new_chain(seed=4, restorer_checkpoint=str(out), perception_checkpoint=str(out))
    assert_same_weights(from_chain_file, source)


@pytest.mark.parametrize('config_restorer, fits', [('ChainTestPixelRestorer', True),
                                                    ('ChainTestIdentity', False)])
def test_merge_tool_checks_the_result_fits_a_config(part_checkpoints, tmp_path, capsys, config_restorer,
                                                    fits, load_tool):
    _, paths = part_checkpoints
    config = tmp_path / 'chain_cfg.py'
    config.write_text(f'default_scope = "mmseg"\ncustom_imports = dict(imports=["mmmofme.mmseg"])\n'
                      f'model = dict(type="DeweatherSegmentor", restorer=dict(type="{config_restorer}"), '
                      f'segmentor={tiny_segmentor().to_dict()!r})\n')
    merge_tool = load_tool('merge_checkpoints')
    out = tmp_path / 'chain.pth'
    code = merge_tool.main(['--restorer', paths['bare'], '--segmentor', paths['segmentor'], '--out', str(out),
                            '--config', str(config)])
    assert (code == 0) == fits and out.exists() == fits
    if not fits:
        assert 'does not fit the model of' in capsys.readouterr().err
