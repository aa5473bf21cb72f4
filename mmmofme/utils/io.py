"""Writes that never leave a partial file: write under a temporary name in the target's folder, then
``os.replace`` it over the target (atomic on POSIX and Windows within one file system)."""
import contextlib
import os
import os.path as osp
import tempfile
from typing import Iterator

__all__ = ['atomic_path']


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary file name next to ``path``; on success it replaces ``path``, on error it is
    removed. The temporary name keeps ``path``'s extension, since writers such as ``cv2.imwrite`` and
    ``cv2.VideoWriter`` pick the format from it.

    Example:
        >>> with atomic_path('out/a.png') as tmp:
        ...     cv2.imwrite(tmp, image)
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, ext = osp.splitext(osp.basename(path))
    fd, tmp = tempfile.mkstemp(prefix=f'.{stem}.', suffix=f'.partial{ext}', dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
