"""Constants shared by the transfer-protocol tests (imported by conftest and the tests)."""
SIZE = dict(width=128, height=64)
VAL_FRAMES = 2
