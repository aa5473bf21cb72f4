"""A numpy generator per dataloader worker, for transforms that draw their own randomness."""
from typing import Optional

import numpy as np

__all__ = ['worker_rng']


def worker_rng(seed: Optional[int]) -> np.random.Generator:
    """A generator seeded by ``(seed, worker id)``, so forked dataloader workers draw different streams.

    ``seed=None`` takes a seed from numpy's global generator, which mmengine seeds per worker from the
    run's ``randomness.seed``: the draws then follow the run's seed.
    """
    import torch.utils.data
    worker = torch.utils.data.get_worker_info()
    seed = int(np.random.randint(1 << 31)) if seed is None else seed
    return np.random.default_rng([seed, worker.id if worker is not None else 0])
