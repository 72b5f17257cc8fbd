"""One epoch on several cores: T Python threads, all running one ``_kernels`` epoch kernel.

The kernels release the GIL, so the threads run truly in parallel; inside the kernel they
claim items of work from shared counters (``_sync``). While they run, BLAS is held to one
thread (threadpoolctl), so each thread's GEMMs stay on its own core instead of waking BLAS's
pool. Unlike BLAS's own threading, nothing waits for a thread that lost its core except the
one item it holds: on a machine where another process keeps a core busy, medium and mnist
train 1.7-2.2x faster this way than with two-threaded BLAS (README, Performance).
"""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _kernels as _k
from . import _sync
from ._blas import ONE_BLAS_THREAD, blas_hold

# fit(threads=None) decides by the work of one batch, B · n_{k-1} n_k multiply-adds per layer
# (`python scripts/crossover.py --part threads`, [n]*5 nets, speed relative to the serial
# kernel with BLAS's own threads on a quiet machine):
# * below THREADED_MIN_WORK in all, one thread: the split costs more than a second core
#   brings (n = 16, 32 at B <= 32: rows 0.5-1.0x, columns 0.2-0.7x);
# * a layer at COLUMNS_MIN_LAYER_WORK or more, and a layer wider than the batch: every
#   product is split by columns of W^[k] (``_epoch_share_cols``), at any batch size. A row
#   part makes each thread pack all of W^[k] into BLAS's buffers, a column part only its own
#   columns plus all of x̄^[k-1], so columns win when n_k > B (n = 256 at B = 8: 1.90x,
#   512 at B = 8: 1.14x; at B = 128, where BLAS threads its own GEMMs well: 0.93-1.00x, the
#   price of not stalling when another process holds a core, see ``--part splits --busy``);
# * otherwise the batch is split by rows (``_epoch_share``), THREADED_MIN_ROWS rows per thread
#   at least (B = 8: 0.7-0.95x); n = 64 at B = 32: 1.50x, n = 32 at B = 128: 1.23x, where BLAS
#   keeps GEMMs this small on one core.
# Against two-threaded BLAS on the wide grid points (`--part splits [--busy]`): medium 1.09x,
# mnist 0.97x, large 1.02x on a quiet machine, 2.22x, 1.67x, 1.27x with a core kept busy.
THREADED_MIN_WORK = 1 << 18
COLUMNS_MIN_LAYER_WORK = 1 << 19
THREADED_MIN_ROWS = 16


def usable_cores():
    """Cores fit may use by default: this process's affinity mask (not the machine's total),
    capped by the environment variable FASTNN_NUM_THREADS when it is set."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    cap = os.environ.get("FASTNN_NUM_THREADS", "").strip()
    if cap:
        if not cap.isdigit() or int(cap) < 1:
            raise ValueError(f"FASTNN_NUM_THREADS must be a positive integer, got {cap!r}; "
                             "unset it to use every core")
        n = min(n, int(cap))
    return n


def plan(threads, sizes, batch, path):
    """(threads, split by columns?) for fit; ``threads`` is the user's count or None (auto)."""
    layers = [batch * a * b for a, b in zip(sizes[:-1], sizes[1:])]
    columns = max(layers) >= COLUMNS_MIN_LAYER_WORK and max(sizes[1:]) > batch
    if threads is not None:
        return (threads if columns else max(1, min(threads, batch))), columns
    cores = usable_cores()
    if path == _k.UNROLLED or cores < 2 or sum(layers) < THREADED_MIN_WORK:
        return 1, False
    if columns:
        return cores, True
    return max(1, min(cores, batch // THREADED_MIN_ROWS)), False


# predict: rows are independent, so N rows split into blocks that the threads claim one at a
# time (``_kernels._predict_share``), each thread with its own buffers and BLAS at one thread.
# A block has at least PREDICT_MIN_ROWS rows, where one thread's forward pass runs at ~95% of
# its speed at 1024 rows (``_kernels._predict`` on 8192 rows, BLAS at one thread, by block size:
# mnist 256 rows 133k rows/s, 1024 140k, 64 99k; deep 1.69M, 1.75M, 1.44M), unless that would
# leave a thread idle, and at most 1024; a call splits into about 4 blocks per thread, so a
# thread that loses its core holds the call up by one block of that size at most. A call of
# less than PREDICT_THREADED_MIN_WORK multiply-adds runs in the caller alone. Back-to-back
# calls, one thread / two (median of 31): deep 256 rows (7M) 0.17 / 0.19 ms, medium 256 rows
# (21M) 0.40 / 0.37-0.45 ms, 1024 rows 1.52 / 0.94-0.97 ms, mnist 256 rows (131M) 2.31 / 1.5 ms.
# (Workers kept polling between calls gained ~5% more: they need the GIL after every call, and
# the caller holds it until its next kernel.)
PREDICT_MIN_ROWS = 256
PREDICT_THREADED_MIN_WORK = 1 << 23
PREDICT_MAX_ROWS = 1024

_predict_pool = None
_predict_pool_workers = 0
_predict_pool_lock = threading.Lock()


def _pool(workers):
    """The worker threads predict hands blocks to (made on first use; grown, never shrunk)."""
    global _predict_pool, _predict_pool_workers
    with _predict_pool_lock:
        if _predict_pool_workers < workers:
            _predict_pool = ThreadPoolExecutor(workers, thread_name_prefix="fastnn-predict")
            _predict_pool_workers = workers
        return _predict_pool


def predict(theta, lay, loss, X, out, mode, buffer, row_work, layer_work):
    """x̄^[K] of every row of X into out; ``buffer(rows)`` gives the calling thread's activation
    buffer for that many rows; row_work/layer_work: multiply-adds of one row, in all layers and
    in the largest one.

    The row blocks depend only on N, the net and the cores this process may use, never on load
    or on which thread runs them, so neither does any result (with BLAS, a row's rounding may
    depend on the block it falls in)."""
    N = X.shape[0]
    if N * row_work < PREDICT_THREADED_MIN_WORK or N < 2 or (cores := usable_cores()) < 2:
        rows = min(N, PREDICT_MAX_ROWS)
        with blas_hold(rows * layer_work if rows > 1 else 0):  # one row runs loops, no BLAS
            _k._predict(theta, lay, loss, X, buffer(rows), out, mode, rows)
        return
    chunk = min(PREDICT_MAX_ROWS, max(PREDICT_MIN_ROWS, N // (4 * cores)), -(-N // cores))
    sync = np.zeros(_sync.SYNC_SIZE, np.int64)
    args = (theta, lay, loss, X)

    def part():  # a worker's share: blocks until none is left
        try:
            _k._predict_share(*args, buffer(chunk), out, mode, chunk, sync, False)
        except BaseException:
            _sync._give_up(sync)  # the caller's wait must end; f.result() raises it
            raise

    with ONE_BLAS_THREAD:
        futures = [_pool(cores - 1).submit(part) for _ in range(min(cores, -(-N // chunk)) - 1)]
        _k._predict_share(*args, buffer(chunk), out, mode, chunk, sync, True)
        for f in futures:  # a worker still busy with another call need not start: no block is left
            if not f.cancel():
                f.result()


class ThreadChoice:
    """How many threads run a threaded fit's next run of batches: on a machine where another
    process holds a core, a team waits at every phase for the thread that lost its core, and
    fewer threads go faster (deep at B = 32: 2 threads 0.5x of 1). The count in use is the
    one with the best measured speed (rows/s); every ``gap`` runs a neighbouring count is tried
    for one run, and taken if it is faster by 5%; ``gap`` doubles (up to PROBE_MAX) while the
    tries lose. Only runs of at least half the longest run so far count: an epoch's last run
    may be a few batches, whose fixed costs (waking the workers) would make any count look slow. The threads share ``parts`` fixed items per phase whatever their number, so the
    count never changes a result, only the time."""

    PROBE_FIRST, PROBE_MAX = 8, 64

    def __init__(self, parts):
        self.parts = parts
        self.threads = parts
        self.rate = {}  # threads → rows/s of the last full run with that many
        self.longest = 0  # rows of the longest run reported
        self.runs = 0
        self.gap = self.PROBE_FIRST
        self.next = 2  # the first try comes early, after one timed run
        self.trying = None

    def pick(self):
        self.runs += 1
        if self.parts > 1 and self.runs >= self.next and self.threads in self.rate:
            up, down = self.threads + 1, self.threads - 1
            self.trying = down if down >= 1 and (up > self.parts or self.runs // self.gap % 2) else up
            return self.trying
        return self.threads

    def report(self, threads, rows, seconds):
        if rows > 2 * self.longest:  # the rates so far came from much shorter runs
            self.rate.clear()
        self.longest = max(self.longest, rows)
        trying = threads == self.trying
        if trying:
            self.trying = None
        if 2 * rows < self.longest or (trying and self.threads not in self.rate):
            if trying:  # no verdict: try again once the count in use has a comparable timing
                self.next = self.runs + 1
            if 2 * rows >= self.longest:
                self.rate[threads] = rows / max(seconds, 1e-9)
            return
        rate = rows / max(seconds, 1e-9)
        if trying:
            if rate > 1.05 * self.rate.get(self.threads, 0.0):
                self.threads, self.gap = threads, self.PROBE_FIRST
            else:
                self.gap = min(2 * self.gap, self.PROBE_MAX)
            self.next = self.runs + self.gap
        self.rate[threads] = rate


class EpochPool:
    """Up to ``parts`` − 1 worker threads plus the caller; use as a context manager around the
    epoch loop. Each run's thread count comes from ``choice`` (a ``ThreadChoice``)."""

    def __init__(self, parts, by_columns, choice=None):
        self.n = parts
        self.by_columns = by_columns
        self.choice = choice if choice is not None else ThreadChoice(parts)
        self._sync = np.zeros(_sync.SYNC_SIZE, np.int64)
        self._losses = np.zeros(parts, np.float64)  # one per part: summed in a fixed order
        self._pool = None
        self._started = False

    def __enter__(self):
        self._pool = ThreadPoolExecutor(self.n - 1, thread_name_prefix="fastnn")
        return self

    def __exit__(self, *exc):
        self._pool.shutdown(wait=True)
        return False

    def epoch(self, *args, rows, fresh=True):
        """Run one epoch, or a run of ``rows`` rows of its batches (``_epoch_share``'s leading
        arguments); returns Σ_samples L since the last ``fresh`` call (each part keeps its sum
        across runs, so runs add up exactly as one call would)."""
        self._sync[:] = 0
        if fresh:
            self._losses[:] = 0
        extra = (self.n, self._sync, self._losses)
        kernel = _k._epoch_share_cols if self.by_columns else _k._epoch_share
        # A fit's first run is not timed: it starts the worker threads and warms the caches.
        timed, self._started = self._started, True
        threads = self.choice.pick() if timed else self.choice.threads
        t0 = time.perf_counter()
        futures = [self._pool.submit(kernel, *args, *extra) for _ in range(1, threads)]
        kernel(*args, *extra)
        for f in futures:
            f.result()
        if timed:
            self.choice.report(threads, rows, time.perf_counter() - t0)
        return float(self._losses.sum())
