"""One epoch on several cores: T Python threads, all running ``_kernels._epoch_share``.

The kernels release the GIL, so the threads run truly in parallel; inside the kernel they
claim items of work from shared counters (``_sync``), two phases per batch. While they run,
BLAS is held to one thread (threadpoolctl), so each thread's GEMMs stay on its own core
instead of waking BLAS's pool.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from . import _kernels as _k
from . import _sync

# When the batch is split across threads (``fit(threads=None)``), measured with
# `python scripts/crossover.py --part threads` ([n]*5 nets; README, Performance):
# * the batch's work B · Σ_k n_{k-1} n_k must reach THREADED_MIN_WORK multiply-adds, or the
#   barriers cost more than the second core brings (small nets: 0.5-0.9x);
# * no layer's GEMM may reach THREADED_MAX_LAYER_WORK: from there on BLAS threads its own
#   GEMMs about as well (n = 128..512 at B = 128: 0.8-1.0x), so the serial kernel keeps them;
# * each thread needs THREADED_MIN_ROWS rows of the batch (B = 8: 0.5-0.9x).
# In between (e.g. [64]*5 at B = 32: 1.39x) BLAS would run single-threaded on these GEMMs.
THREADED_MIN_WORK = 1 << 18
THREADED_MAX_LAYER_WORK = 1 << 20
THREADED_MIN_ROWS = 16


def usable_cores():
    """Cores this process may run on (its affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def n_threads(threads, sizes, batch, path):
    """How many threads fit should use: ``threads`` if given, else by the rules above."""
    if threads is not None:
        return max(1, min(threads, batch))
    if path == _k.UNROLLED:
        return 1
    layers = [batch * a * b for a, b in zip(sizes[:-1], sizes[1:])]
    cores = min(usable_cores(), batch // THREADED_MIN_ROWS)
    if cores < 2 or sum(layers) < THREADED_MIN_WORK or max(layers) >= THREADED_MAX_LAYER_WORK:
        return 1
    return cores


class EpochPool:
    """T − 1 worker threads plus the caller; use as a context manager around the epoch loop."""

    def __init__(self, n):
        self.n = n
        self._sync = np.zeros(_sync.SYNC_SIZE, np.int64)
        self._losses = np.zeros(n, np.float64)  # one per row part: summed in a fixed order
        self._pool = None
        self._limits = None

    def __enter__(self):
        self._limits = threadpool_limits(limits=1, user_api="blas")
        self._pool = ThreadPoolExecutor(self.n - 1, thread_name_prefix="fastnn")
        return self

    def __exit__(self, *exc):
        self._pool.shutdown(wait=True)
        self._limits.restore_original_limits()
        return False

    def epoch(self, *args):
        """Run one epoch (``_epoch_share``'s leading arguments); returns Σ_samples ½‖y − x̄^[K]‖²."""
        self._sync[:] = 0
        self._losses[:] = 0
        extra = (self.n, self._sync, self._losses)
        futures = [self._pool.submit(_k._epoch_share, *args, *extra) for _ in range(1, self.n)]
        _k._epoch_share(*args, *extra)
        for f in futures:
            f.result()
        return float(self._losses.sum())
