"""Restore weathered images, folders of images, or videos with a trained MoFME restorer.

    python tools/deweather.py INPUT --config CONFIG --checkpoint CKPT --out DIR \
        [--side-by-side] [--crop-size H [W]] [--stride H [W]] [--device cuda] [--task NAME_OR_INDEX] \
        [--precision bf16]
    python tools/deweather.py INPUT --config CONFIG --backend onnxruntime --model model.onnx --out DIR

INPUT is an image, a video (.mp4 .avi .mov .mkv) or a folder (searched recursively for both). CONFIG is
a restorer config (mmagic ``MoFMERestorer``: ``model.generator``) or a chain config
(``model.restorer``); CKPT a matching checkpoint (``generator.*``, ``restorer.*`` or a bare state dict).
Frames are restored tile by tile (``--crop-size`` / ``--stride``; defaults: the config's test tiling,
else the restorer's ``img_size``), so memory stays bounded on full-size frames. Outputs keep the input's
relative path under DIR (images as PNG, videos as MP4); ``--side-by-side`` also writes
``DIR/side_by_side/`` (input | restored). Grayscale, RGBA and 16-bit images come back in their own
channels and bit depth (``mmmofme.utils.image_io``). Inputs that cannot be read are reported by name and
skipped, listed at the end, and make the exit status 1. Every output is written under a temporary name
and renamed when complete, so an interrupted or failed input leaves no partial file.
``--backend onnxruntime --model model.onnx`` restores with a graph from
``tools/deployment/pytorch2onnx.py`` instead (same inputs, same tiling from CONFIG, no checkpoint).
``--task`` gives a task-gated restorer (MMoE, M³ViT) the weather of every input: a task id, or a weather
name of CONFIG's training dataset (its ``task_weathers`` / ``weathers``, in task-id order). Without it
the PyTorch restorer routes as it does untagged (MMoE: the mean of its gates); a graph exported with
task ids needs ``--task``, one exported with ``--no-task-ids`` takes none.
``--precision bf16`` runs the PyTorch restorer's convolutions and matrix products under bf16 autocast
(:class:`mmmofme.deploy.AutocastRestorer`): about half the fp32 time of a full frame on this project's
CPUs, about 60 dB PSNR from the fp32 output.
"""
import argparse
import contextlib
import functools
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config

from mmmofme.apis import init_restorer, restore, task_weathers
from mmmofme.deploy.autocast import PRECISIONS
from mmmofme.models.moe import task_gate_count
from mmmofme.utils.checkpoint import CheckpointError
from mmmofme.utils.image_io import ImageReadError, RestoreFn, read_image, restore_any, write_image
from mmmofme.utils.io import atomic_path
from mmmofme.utils.tool_errors import user_error_message

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv')


class InputError(Exception):
    """An input that cannot be read; the message names it."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Restore weathered images / folders / videos with MoFME')
    parser.add_argument('input', help='image, video, or folder of them')
    parser.add_argument('--config', required=True, help='restorer (mmagic) or chain config')
    parser.add_argument('--checkpoint', help='restorer or chain checkpoint (--backend pytorch)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--side-by-side', action='store_true', help='also write input | restored')
    parser.add_argument('--crop-size', type=int, nargs='+', help='tile size H [W]')
    parser.add_argument('--stride', type=int, nargs='+', help='tile step H [W] (default: crop size)')
    parser.add_argument('--max-batch', type=int, help='tiles per restorer call (bounds memory; default 8)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--backend', choices=['pytorch', 'onnxruntime'], default='pytorch')
    parser.add_argument('--model', help='ONNX restorer graph (--backend onnxruntime)')
    parser.add_argument('--task', help='weather task of a task-gated restorer: its id or weather name')
    parser.add_argument('--precision', choices=sorted(PRECISIONS), default='fp32',
                        help='--backend pytorch: bf16 runs convolutions and matrix products under bf16 '
                             'autocast (about half the CPU time; ~60 dB PSNR from fp32, docs/benchmarks.md)')
    return parser.parse_args(argv)


def load_restorer(args: argparse.Namespace):
    """The restore callable of ``--backend``: the PyTorch restorer (CKPT) or the onnxruntime graph."""
    if args.backend == 'onnxruntime':
        if args.precision != 'fp32':
            raise ValueError('--precision applies to --backend pytorch; an ONNX graph runs as exported')
        if not args.model:
            raise ValueError('--backend onnxruntime needs --model model.onnx')
        from mmmofme.deploy import init_onnx_restorer
        return init_onnx_restorer(args.config, args.model, restore_cfg=tiling_overrides(args))
    if not args.checkpoint:
        raise ValueError('--backend pytorch needs --checkpoint')
    return init_restorer(args.config, args.checkpoint, args.device, restore_cfg=tiling_overrides(args),
                         precision=args.precision)


def resolve_task(args: argparse.Namespace, model) -> Optional[int]:
    """``--task`` as a task id of ``model`` (None without ``--task``); a ValueError names what is wrong."""
    # an onnxruntime graph says how many ids it takes; a PyTorch restorer's routers say it
    num_tasks = task_gate_count(model) if isinstance(model, torch.nn.Module) else model.num_tasks
    if args.task is None:
        if num_tasks > 1 and not isinstance(model, torch.nn.Module):  # PyTorch routes untagged images
            raise ValueError(f'{args.model}: the graph takes task ids ({num_tasks} tasks): give --task '
                             f'(or export it with --no-task-ids)')
        return None
    if num_tasks == 1:
        raise ValueError(f'--task {args.task}: the restorer has no task gates (it takes no task id)')
    names = task_weathers(Config.fromfile(args.config))
    index = int(args.task) if args.task.isdigit() else names.index(args.task) if args.task in names else None
    if index is None or index >= num_tasks:
        known = f'the config\'s task weathers {list(names)} or ' if names else ''
        raise ValueError(f'--task {args.task}: give {known}a task id in [0, {num_tasks})')
    return index


def tiling_overrides(args: argparse.Namespace) -> dict:
    """The tiling flags, None where unset (``resolve_tiling`` then falls back to the config's tiling, then
    ``img_size``)."""
    return dict(crop_size=args.crop_size, stride=args.stride, max_batch=args.max_batch)


def collect_inputs(path: str) -> List[Tuple[str, str]]:
    """``(file, path relative to the input root)`` for an image / video file or a folder of them."""
    if osp.isfile(path):
        return [(path, osp.basename(path))]
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path}: no such file or folder')
    found = []
    for root, _, names in os.walk(path):
        for name in names:
            if name.lower().endswith(IMAGE_EXTS + VIDEO_EXTS):
                full = osp.join(root, name)
                found.append((full, osp.relpath(full, path)))
    return sorted(found, key=lambda item: item[1])


def restore_image(restore_fn: RestoreFn, src: str, rel: str, out: str, side_by_side: bool) -> None:
    image = read_image(src)
    restored = restore_any(image, restore_fn)
    name = osp.splitext(rel)[0] + '.png'
    write_image(osp.join(out, name), restored)
    if side_by_side:
        write_image(osp.join(out, 'side_by_side', name), np.concatenate([image, restored], axis=1))


def restore_video(restore_fn: RestoreFn, src: str, rel: str, out: str, side_by_side: bool) -> None:
    capture = cv2.VideoCapture(src)
    if not capture.isOpened():
        raise InputError(f'{src}: not a readable video')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    name = osp.splitext(rel)[0] + '.mp4'
    writers: List[cv2.VideoWriter] = []
    frames = 0
    with contextlib.ExitStack() as temporaries:  # renamed into place only when every frame is written
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                restored = restore_fn(frame)
                outputs = [restored] + ([np.concatenate([frame, restored], axis=1)] if side_by_side else [])
                if not writers:
                    for folder, image in zip([out, osp.join(out, 'side_by_side')], outputs):
                        tmp = temporaries.enter_context(atomic_path(osp.join(folder, name)))
                        writers.append(cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                                       (image.shape[1], image.shape[0])))
                for writer, image in zip(writers, outputs):
                    writer.write(image)
                frames += 1
        finally:
            capture.release()
            for writer in writers:
                writer.release()
        if frames == 0:
            raise InputError(f'{src}: video has no readable frames')


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        inputs = collect_inputs(args.input)
        model = load_restorer(args)
        task = resolve_task(args, model)
    except (FileNotFoundError, ValueError, CheckpointError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    except (KeyError, TypeError) as err:  # unknown model type / argument in the config
        message = user_error_message(err, args.config, building=True)
        if message is None:
            raise
        print(f'error: {message}', file=sys.stderr)
        return 2
    if not inputs:
        print(f'error: {args.input}: no images or videos found', file=sys.stderr)
        return 2
    restore_fn = functools.partial(restore, model, task_id=task)  # the one restorer call: (H, W, 3) uint8 BGR
    failed = []
    for i, (src, rel) in enumerate(inputs, 1):
        restore_one = restore_video if src.lower().endswith(VIDEO_EXTS) else restore_image
        try:
            restore_one(restore_fn, src, rel, args.out, args.side_by_side)
            print(f'[{i}/{len(inputs)}] {src} -> {args.out}', flush=True)
        except (InputError, ImageReadError, OSError) as err:
            failed.append(src)
            print(f'[{i}/{len(inputs)}] skipped: {err}', file=sys.stderr, flush=True)
    if failed:
        print(f'error: {len(failed)} of {len(inputs)} inputs could not be restored (skipped): '
              f'{", ".join(failed)}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
