import chain_stand_ins  # noqa: F401  (registers the stand-in restorers before any test builds one)
import pytest
import torch


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
