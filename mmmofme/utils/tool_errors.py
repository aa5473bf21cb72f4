"""The tools' answer to a user's mistake: one line naming the file and the problem, exit status 2.

Errors that come from what the user passed (a config naming an unknown type or argument, a dataset with
a missing partner or a broken image, a checkpoint that does not fit or is refused) surface deep inside
mmengine's Runner with a long traceback. :func:`one_line_errors` turns exactly those into one line; any
other exception (a genuine bug) keeps its traceback.
"""
import contextlib
import sys
from typing import Iterator, Optional

from mmengine.config import DictAction

from ..datasets.layouts import DatasetLayoutError
from ..datasets.load_checks import ImageLoadError, MixedSamplesError, broken_sample_message
from .checkpoint import CheckpointError
from .image_io import ImageReadError

__all__ = ['user_error_message', 'one_line_errors', 'CfgOptionsAction']

_NAMED_ERRORS = (CheckpointError, DatasetLayoutError, ImageLoadError, ImageReadError, MixedSamplesError)


def _first_line(err: BaseException) -> str:
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(err).__name__


def user_error_message(err: BaseException, config: str, building: bool = False) -> Optional[str]:
    """One line for an error caused by the user's input, or None for anything else.

    Args:
        building: the error came from building the model from ``config`` (mmengine 0.10.7 passes a
            constructor's ``ValueError`` / ``TypeError`` through unchanged): those are config values.
    """
    if isinstance(err, _NAMED_ERRORS):  # their messages name the file already
        return _first_line(err)
    broken = broken_sample_message(err.__traceback__)  # a library dataset choking on a broken file
    if broken is not None:
        return broken
    message = _first_line(err)
    if isinstance(err, KeyError) and 'is not in the' in message and 'registry' in message:
        return f'{config}: unknown type: {message.split(". Please check")[0]}'
    if isinstance(err, TypeError) and 'unexpected keyword argument' in message:
        return f'{config}: unknown argument: {message}'
    if building and isinstance(err, (TypeError, ValueError, KeyError)):
        return f'{config}: cannot build the model: {message}'
    return None


@contextlib.contextmanager
def one_line_errors(config: str, building: bool = False) -> Iterator[None]:
    """Inside it, a user error prints ``error: <one line>`` to stderr and exits with status 2
    (``building``: see :func:`user_error_message`)."""
    try:
        yield
    except Exception as err:  # noqa: BLE001 - filtered by user_error_message, else re-raised
        message = user_error_message(err, config, building)
        if message is None:
            raise
        print(f'error: {message}', file=sys.stderr)
        sys.exit(2)


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` (``--cfg-options a.b=1 c=[1,2]``) whose malformed entries (no ``=``) end in
    argparse's usage line and one error line, not a traceback from inside the action."""

    def __call__(self, parser, namespace, values, option_string=None):
        for value in values:
            if '=' not in value:
                parser.error(f'{option_string}: expected KEY=VALUE, got {value!r}')
        try:
            super().__call__(parser, namespace, values, option_string)
        except (ValueError, AssertionError) as err:  # mmengine asserts on unbalanced brackets
            parser.error(f'{option_string}: {err}: {" ".join(values)}')
