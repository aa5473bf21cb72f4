"""Shared by the reliability tests: the chain tests' stand-in models, crafted checkpoints."""
import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests' / 'chain'))
import chain_stand_ins  # noqa: E402,F401  (registers ChainTestPixelRestorer in the root MODELS)


class RunsCommand:
    """Pickles to a call of ``os.system(command)``: what a malicious checkpoint carries."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


class EvalsCode:
    """Pickles to ``builtins.eval(code)``."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self):
        return eval, (self.code, )


@pytest.fixture
def crafted_checkpoint(tmp_path):
    """``make(state_dict, payload='system'|'eval', runner_layout=False)`` → (path, marker): a checkpoint
    whose ``meta`` would create ``marker`` when unpickled in full."""
    def make(state_dict, payload: str = 'system', runner_layout: bool = False):
        marker = tmp_path / f'ran_{payload}'
        evil = (RunsCommand(f'touch {marker}') if payload == 'system' else
                EvalsCode(f"open({str(marker)!r}, 'w').close()"))
        ckpt = dict(state_dict=state_dict, meta=dict(note=evil))
        if runner_layout:  # hidden among a Runner's usual extras
            from mmengine.logging import MessageHub
            hub = MessageHub(f'crafted_{payload}')
            hub.update_scalar('train/loss', 0.5)
            ckpt.update(message_hub=hub.state_dict(), optimizer=dict(state={}, param_groups=[]))
        path = tmp_path / f'crafted_{payload}.pth'
        torch.save(ckpt, path)
        return path, marker
    return make
