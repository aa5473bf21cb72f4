"""Reading any image a camera or disk holds, and restoring it at its own size, channels and bit depth.

OpenCV decodes a JPEG cut short without complaint (the missing rows come back grey) and reports other
broken files only as ``None``; :func:`read_image` turns each case into an :class:`ImageReadError` that
names the file. :func:`restore_any` adapts an image to the restorer's 8-bit BGR input and back:

==============================  ==============================================================
input                           output
==============================  ==============================================================
8-bit BGR (incl. palette PNG)   restored 8-bit BGR
grayscale (H, W) / (H, W, 1)    grayscale: the restorer sees it replicated to 3 channels; the
                                output is the luma (``cv2.COLOR_BGR2GRAY``) of the restored image
BGRA / gray + alpha             restored colour, the alpha channel passed through unchanged
16-bit                          16-bit: restored at 8-bit precision (the restorer's input
                                format), scaled back by 257 (8-bit ``v`` → 16-bit ``257 v``)
anything else (float, int32)    ImageReadError naming the file and the sample type
==============================  ==============================================================
"""
import io
import os.path as osp
from typing import Callable

import cv2
import numpy as np

from .io import atomic_path

__all__ = ['ImageReadError', 'read_image', 'restore_any', 'write_image']

#: Restores an (H, W, 3) uint8 BGR image to the same shape, e.g. ``functools.partial(restore, model)``.
RestoreFn = Callable[[np.ndarray], np.ndarray]


class ImageReadError(ValueError):
    """An input image that cannot be used; the message names the file and what to do."""


def _jpeg_is_complete(data: bytes) -> bool:
    """Whether the whole JPEG stream decodes (PIL raises on a truncated one; OpenCV pads it with grey).

    Decoded in draft mode (DCT scaled 1/8), which still reads every byte of the stream, so the check
    costs a fraction of a full decode.
    """
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.draft('RGB', (max(1, im.width // 8), max(1, im.height // 8)))
            im.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def read_image(path: str) -> np.ndarray:
    """Decode an image file as stored: (H, W) gray or (H, W, 3|4) BGR[A], uint8 or uint16.

    Raises:
        ImageReadError: one line naming ``path``: missing, empty, truncated, not an image, or a sample
            type other than 8 / 16 bits.
    """
    if not osp.isfile(path):
        raise ImageReadError(f'{path}: no such image file')
    with open(path, 'rb') as f:
        data = f.read()
    if not data:
        raise ImageReadError(f'{path}: empty file')
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageReadError(f'{path}: not a readable image (truncated, or not an image despite its name)')
    if data[:2] == b'\xff\xd8' and not _jpeg_is_complete(data):
        raise ImageReadError(f'{path}: truncated JPEG (the file ends before the image data does)')
    if image.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(f'{path}: {image.dtype} samples are not supported; convert it to an 8- or '
                             f'16-bit image')
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise ImageReadError(f'{path}: {image.shape[2]} channels are not supported (1, 3 or 4 are)')
    return image


def restore_any(image: np.ndarray, restore_fn: RestoreFn) -> np.ndarray:
    """Restore a gray / BGR / BGRA, 8- or 16-bit image with an 8-bit BGR ``restore_fn``.

    Returns:
        The restored image with ``image``'s shape and dtype (see the module table).
    """
    if image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f'expected uint8 or uint16 samples, got {image.dtype}')
    sixteen = image.dtype == np.uint16
    pixels = (image.astype(np.float32) / 257).round().astype(np.uint8) if sixteen else image
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        gray = pixels.reshape(pixels.shape[:2])
        out = cv2.cvtColor(restore_fn(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)), cv2.COLOR_BGR2GRAY)
        out = out.reshape(image.shape)
    elif pixels.shape[2] == 4:
        out = np.concatenate([restore_fn(np.ascontiguousarray(pixels[..., :3])), pixels[..., 3:]], axis=2)
    else:
        out = restore_fn(pixels)
    if sixteen:
        out = out.astype(np.uint16) * 257
        if image.ndim == 3 and image.shape[2] == 4:
            out[..., 3] = image[..., 3]  # the alpha passes through at full 16-bit precision
    return out


def write_image(path: str, image: np.ndarray) -> None:
    """Write ``image`` (format from the extension) atomically: a temporary file renamed over ``path``."""
    with atomic_path(path) as tmp:
        if not cv2.imwrite(tmp, image):
            raise OSError(f'{path}: could not write the image')
