"""Shared by the deploy tests: a config's restorer exported by ``tools/deployment/pytorch2onnx.py``."""
from pathlib import Path
from typing import Callable, Tuple

import pytest
import torch
from torch import nn

ToolExport = Callable[..., Tuple[nn.Module, str, str]]


@pytest.fixture(scope='session')
def tool_export(load_tool) -> ToolExport:
    """``tool_export(folder, config, *flags, name='model')`` → ``(model, checkpoint, onnx path)``: the
    config's restorer with seed-0 initial weights, saved as a checkpoint in ``folder`` and exported from
    it by the tool (with ``flags``) to ``folder/NAME.onnx``."""

    def export(folder: Path, config: str, *flags: str, name: str = 'model') -> Tuple[nn.Module, str, str]:
        from mmmofme.apis import init_restorer
        torch.manual_seed(0)
        model = init_restorer(config)
        checkpoint = folder / f'{name}.pth'
        torch.save({'state_dict': {f'generator.{k}': v for k, v in model.state_dict().items()}}, checkpoint)
        path = folder / f'{name}.onnx'
        argv = [config, str(checkpoint), '--out', str(path), *flags]
        assert load_tool('deployment/pytorch2onnx').main(argv) == 0
        return model, str(checkpoint), str(path)

    return export
