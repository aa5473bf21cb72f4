"""A process-pool map with mmengine's progress bar, safe to call from a process that imported torch.

``mmengine.utils.track_parallel_progress`` forks its workers; forking a process whose other threads
hold locks (torch / OpenMP pools, the update check some libraries start at import) can deadlock the
children. The workers here are *spawned* instead: they start clean and import only what the task
function needs.
"""
import multiprocessing
from typing import Callable, List, Optional, Sequence

from mmengine.utils import ProgressBar, track_progress

__all__ = ['track_spawn_parallel']


def track_spawn_parallel(func: Callable, tasks: Sequence, nproc: int, initializer: Optional[Callable] = None,
                         chunksize: Optional[int] = None) -> List:
    """``[func(t) for t in tasks]`` over ``nproc`` spawned processes (in order), with a progress bar.

    Args:
        func: A module-level (picklable) function.
        tasks: Its arguments, one per call.
        nproc: Worker processes; 1 runs in this process.
        initializer: Optional module-level function run once in each worker.
        chunksize: Tasks handed to a worker at a time (default: about 8 chunks per worker).
    """
    if nproc <= 1 or len(tasks) <= 1:
        return track_progress(func, tasks)
    chunksize = chunksize or max(1, len(tasks) // (nproc * 8))
    bar = ProgressBar(len(tasks))
    results = []
    with multiprocessing.get_context('spawn').Pool(nproc, initializer=initializer) as pool:
        for result in pool.imap(func, tasks, chunksize):
            results.append(result)
            bar.update()
    bar.file.write('\n')
    return results
