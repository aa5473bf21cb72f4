"""Shared checks of the baseline restorers' tests."""
import torch
from mmengine.analysis import FlopAnalyzer
from torch import nn


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def conv_gmac_at_256(model: nn.Module, size: int = 32) -> float:
    """GMAC of a fully convolutional ``model`` on a 256x256 image, traced at ``size``² and scaled.

    With 'same' padding every conv costs MACs per output pixel, so the count is exactly proportional to
    H·W; tracing a small image keeps the test fast.
    """
    analyzer = FlopAnalyzer(model.eval(), (torch.rand(1, 3, size, size), ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total() / 1e9 * (256 / size)**2


def assert_every_parameter_gets_a_gradient(model: nn.Module, shape=(2, 3, 19, 27)) -> None:
    """One backward of a pixel loss reaches every parameter with a finite, non-zero gradient."""
    torch.manual_seed(0)
    x = torch.rand(*shape)
    out = model.train()(x)
    assert out.shape == x.shape
    (out - torch.rand_like(out)).square().mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name
