"""Peak resident memory of ``tools/deweather.py`` on one large frame (slide mode), for docs/reliability.md.

    python tools/analysis_tools/benchmark_large_frame.py --size 6000 8000 [--config CONFIG]
        [--crop-size 32] [--max-batch 256]

Writes a smooth synthetic frame and a checkpoint of the config's restorer at its initial weights into a
temporary folder, runs ``tools/deweather.py`` on it in a child process (one thread) and prints the
child's peak RSS (``getrusage(RUSAGE_CHILDREN).ru_maxrss``) and wall time: the whole tool (decode,
tiling, stitching, encoding), where ``deweather_memory.py`` measures ``tiled_restore`` alone with the
paper-size restorer.
"""
import argparse
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, nargs=2, default=[6000, 8000], metavar=('H', 'W'))
    parser.add_argument('--config', default=osp.join(ROOT, 'tests', 'configs', 'tiny_restorer.py'))
    parser.add_argument('--crop-size', type=int, default=32)
    parser.add_argument('--max-batch', type=int, default=256)
    args = parser.parse_args()

    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope

    from mmmofme.apis.restorer import restorer_and_tiling
    cfg = Config.fromfile(args.config)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        restorer = MODELS.build(restorer_and_tiling(cfg)[0])
    h, w = args.size
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint, frame = osp.join(tmp, 'restorer.pth'), osp.join(tmp, f'frame_{w}x{h}.png')
        torch.save(dict(state_dict=restorer.state_dict()), checkpoint)
        coarse = np.random.default_rng(0).integers(0, 256, (h // 100 + 2, w // 100 + 2, 3)).astype(np.float32)
        cv2.imwrite(frame, cv2.resize(coarse, (w, h)).clip(0, 255).astype(np.uint8))
        command = [sys.executable, osp.join(ROOT, 'tools', 'deweather.py'), frame, '--config', args.config,
                   '--checkpoint', checkpoint, '--out', osp.join(tmp, 'out'), '--device', 'cpu',
                   '--crop-size', str(args.crop_size), '--stride', str(args.crop_size),
                   '--max-batch', str(args.max_batch)]
        env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True)
        wall = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9  # Linux: KiB
    print(f'{w}x{h}: peak RSS {peak_gb:.2f} GB, wall {wall:.0f} s')


if __name__ == '__main__':
    main()
