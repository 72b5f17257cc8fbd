"""The one road to the kernels: every call into ``_kernels`` and ``_unrolled`` goes through here.

An ``Engine`` serves one network's shape (its layout table, loss and kernel path, chosen once
when the network is made). It owns the per-thread batch buffers, runs inference (predict, the
loss, the gradient sums) and, through a ``Trainer``, one fit's runs of batches on the kernel that
fits: the generated straight-line epoch for tiny nets, the serial epoch, or a team of threads
(``EpochPool``) that split each batch. Every kernel call holds the kernels' BLAS to one thread
(``ONE_BLAS_THREAD``): fastnn splits the work itself, and no result depends on BLAS's threads.

Threads. The kernels release the GIL, so the threads run truly in parallel; inside the kernel
they claim items of work from shared counters (``_sync``). Unlike BLAS's own threading, nothing
waits for a thread that lost its core except the one item it holds: on a machine where another
process keeps a core busy, medium and mnist train 1.7-2.2x faster this way than with
two-threaded BLAS (docs, Performance).
"""
from __future__ import annotations

import math
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import _codegen, _layout, _sync, _unrolled
from . import _kernels as _k
from ._blas import BF16_LIBRARIES, ONE_BLAS_THREAD, _forced, bf16_library, blas_hold, to_bf16
from ._sparse import SparseRows
from .optimizers import NO_STEP, Hyper

# Kernel paths, by the name ``Network(kernel_path=...)`` takes. "auto": nets of at most
# ``_unrolled.MAX_PARAMS`` parameters run the generated straight-line epoch, and every other
# layer picks BLAS or loops by its work size (``_kernels.BLAS_MIN_WORK``); the others force one
# path (the tests check each against finite differences); "generic" is "auto" without the
# unrolled epoch.
KERNEL_PATHS = {"auto": _k.AUTO, "loops": _k.LOOPS, "blas": _k.BLAS, "unrolled": _k.UNROLLED,
                "generic": _k.GENERIC}
FUSED = _k.FUSED
KEEP, MOVE, SET = _k.KEEP, _k.MOVE, _k.SET  # what training mode does to batch norm's running statistics
MAX_UNROLLED_PARAMS = _unrolled.MAX_PARAMS  # "auto" runs nets up to this many parameters unrolled


def kernel_path_code(name: str) -> int:
    """The kernels' code for a kernel path name; ValueError naming the choices."""
    if name not in KERNEL_PATHS:
        raise ValueError(f"kernel_path must be one of {sorted(KERNEL_PATHS)}, got {name!r}")
    return KERNEL_PATHS[name]


def readonly(a: np.ndarray) -> np.ndarray:
    """``a`` as the kernels take what they only read (X, Y, sample weights, the layout): a
    read-only view. Numba types a read-only array apart from a writable one, so a memory-mapped
    or otherwise read-only input would compile every kernel a second time; the views make one
    compiled kernel serve both. (No copy: a view shares a's memory.)"""
    if a.flags.writeable:
        a = a.view()
        a.setflags(write=False)  # (a quarter cheaper than a.flags.writeable = False: one-row fits)
    return a


def all_finite(a: np.ndarray) -> bool:
    """True when no entry of ``a`` is NaN or ±Inf.

    A tiny array (a one-row fit's X) is checked in Python, below NumPy's per-call cost; up to
    4k entries by counting np.isfinite's flags (count_nonzero: half the cost of ``.all()``'s
    Python wrapper on calls of a few hundred rows), up to 64k np.isfinite(a).all() (one
    temporary of a's size in bools); beyond, NumPy's min and max, which propagate NaN and keep
    ±Inf: two vectorised passes and no temporary.
    (A Numba kernel did this before; it compiled for every dtype and layout of X it met, half a
    second each on a cold start.)
    """
    if a.size <= 32:
        return all(map(math.isfinite, a.ravel().tolist()))
    if a.size <= 1 << 12:
        return int(np.count_nonzero(np.isfinite(a))) == a.size
    if a.size <= 1 << 16:
        return bool(np.isfinite(a).all())
    return bool(np.isfinite(a.min()) and np.isfinite(a.max()))


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


def usable_cores() -> int:
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


KERNEL_MODES = ("specialized", "generic")


def kernel_mode() -> str:
    """How fastnn compiles its kernels, as the environment variable ``FASTNN_KERNELS`` sets it.

    "specialized" (the default): each net gets kernels compiled for its own activations, loss,
    optimizer and layer options only, which takes 0.4-0.75x the time of compiling every branch
    on a first run; each such set compiles once per machine (Numba's disk cache). "generic": one set of
    kernels with every activation, loss and optimizer, compiled once for every net: for a
    process that trains many kinds of net on a machine whose cache is empty (the test suite
    does). Both give the same bits.

    Returns
    -------
    str
        "specialized" or "generic". A net keeps the kernels of the mode it was made or last
        fitted in.

    Raises
    ------
    ValueError
        If ``FASTNN_KERNELS`` holds another value.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.kernel_mode() in ("specialized", "generic")
    True
    """
    return _forced("FASTNN_KERNELS", KERNEL_MODES, "use the default, specialized kernels") or "specialized"


def kernels_for(lay: np.ndarray, loss: int, opt: int) -> Any:
    """The kernel module for a net with this layout table and loss code, trained with the
    optimizer code ``opt`` (FUSED: plain SGD inside the gradient GEMM, which needs no optimizer
    step): a variant specialised to its activations, loss, optimizer and layer options, or
    ``_kernels`` itself in the generic mode (``kernel_mode``)."""
    if kernel_mode() == "generic":
        return _k
    acts = {int(c) for c in lay[:, _layout.ACT]}
    norms = set(lay[:, _layout.NORM].tolist())
    layers = {name for name, used in zip(_codegen.LAYER_OPTIONS, (
        _layout.LAYER_NORM in norms, _layout.BATCH_NORM in norms, lay[:, _layout.DROP].any(),
        lay[:, _layout.RES].any())) if used}
    return _codegen.kernels(acts, {loss}, _stepping(opt), layers)


def _stepping(opt: int) -> set[int]:
    """The optimizer codes whose step a variant compiles for the optimizer code ``opt``: none for
    plain SGD (FUSED), whose step is inside the gradient GEMM or the unrolled loop."""
    return set() if opt == FUSED else {opt}


def plan(threads: int | None, sizes: list[int], batch: int, kernel_path: int) -> tuple[int, bool]:
    """(threads, split by columns?) for fit; ``threads`` is the user's count or None (auto).
    Norm layers take either split: the parts' sums of batch norm's per-unit statistics (row
    split) or layer norm's per-row ones (column split) are combined once per layer."""
    layers = [batch * a * b for a, b in zip(sizes[:-1], sizes[1:])]
    columns = max(layers) >= COLUMNS_MIN_LAYER_WORK and max(sizes[1:]) > batch
    if threads is not None:
        return (threads if columns else max(1, min(threads, batch))), columns
    if kernel_path == _k.UNROLLED or sum(layers) < THREADED_MIN_WORK:
        return 1, False
    cores = usable_cores()  # (after the cheap test: a system call, for short fits)
    if cores < 2:
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
# One row of at least this many multiply-adds is split by columns over the cores (plain nets):
# its weights stream from memory once per call, and each core brings its own bandwidth. Waking
# the pool's thread costs about 50 µs (AMD EPYC): [784,2048,2048,10] (5.8M) gains 0.7-0.8×,
# [784,512,256,10] (0.5M) would lose 2×.
PREDICT_ROW_SPLIT_MIN_WORK = 1 << 21
PREDICT_MAX_ROWS = 1024
# A predictor team splits a call of several rows by each layer's columns (``RowTeam``) on nets
# whose largest W^[k] has at least this many entries (16 MB of float32, four times a core's L2
# cache): calls of 256 rows, against predict's blocks of rows, AMD EPYC Zen 4, 2 cores, samples/s
# new / old: [784,2048,2048,10] 13.1k / 10.7k and 12.3k / 10.6k; [784,512,256,10] 130k / 131k
# and 109k / 131k (a wait per layer costs what the smaller packing saves); [64,256,256,10]
# 653k / 788k and 345k / 712k (calls of ~0.3 ms: the waits dominate).
TEAM_COLUMNS_MIN_WEIGHTS = 1 << 22
# A predictor team's helpers poll between calls, so sharing a call costs no wake-up: a call of
# several rows goes to the team from TEAM_ROWS_MIN_WORK multiply-adds in all (predict's blocks
# for that work), and a one-row call from TEAM_ROW_MIN_WORK per row (below, one thread is
# faster: the layers' waits cost more than the columns save). Back-to-back calls, one thread /
# the team, AMD EPYC Zen 4, 2 cores, µs: [16, 64×8, 1] 256 rows 206 / 104, 64 rows 61 / 43,
# 16 rows 20 / 19, 8 rows 12 / 15; [8,32,32,1] 1024 rows 50-51 / 41-47, 128 rows 11 / 13-14;
# one row: [16, 64×8, 1] (30k) 6.8 / 11.9, [64,256,256,10] (84k) 9.6 / 9.5, [128,256,256,256,10]
# (166k) 15.0 / 13.6, [784,512,256,10] (535k) 35.5 / 23.2.
TEAM_ROWS_MIN_WORK = 1 << 19
TEAM_ROW_MIN_WORK = 1 << 17
# A team's caller moves a helper that polls on its CPU off it (``_sync._announce``): the
# scheduler leaves a polling thread where it is, and a helper woken onto the caller's CPU would
# take turns with the caller instead of sharing its calls (AMD EPYC Zen 4, 2 cores, Linux 6.18:
# in 5 of 8 runs of 39 calls of 256 rows on [16, 64×8, 1], every call took the one-thread time,
# 188 µs against 100). At most this many moves per team and kind of call, should the two keep
# meeting.
MAX_MOVES = 64

_predict_pool: ThreadPoolExecutor | None = None
_predict_pool_workers = 0
_predict_pool_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """The worker threads predict hands blocks to (made on first use; grown, never shrunk)."""
    global _predict_pool, _predict_pool_workers
    with _predict_pool_lock:
        if _predict_pool_workers < workers:
            _predict_pool = ThreadPoolExecutor(workers, thread_name_prefix="fastnn-predict")
            _predict_pool_workers = workers
        assert _predict_pool is not None
        return _predict_pool


def predict(k: Any, shape: tuple[Any, ...], theta: np.ndarray, run: np.ndarray | None, X: np.ndarray,
            out: np.ndarray, buffer: Callable[[int], tuple[Any, ...]], row_work: int, layer_work: int,
            ctl: np.ndarray | None) -> None:
    """x̄^[K] of every row of X into out; ``buffer(rows)`` gives the calling thread's scratch
    bundle for that many rows; row_work/layer_work: multiply-adds of one row, in all layers and
    in the largest one; run: batch norm's running statistics; ctl: the mode (evaluation).

    The row blocks depend only on N, the net and the cores this process may use, never on load
    or on which thread runs them, so neither does any result (with BLAS, a row's rounding may
    depend on the block it falls in)."""
    N = X.shape[0]
    if N == 1 and row_work >= PREDICT_ROW_SPLIT_MIN_WORK and not shape[0][:, _layout.EXT].any() \
            and (cores := usable_cores()) >= 2:
        _predict_row(k, shape, theta, run, X, out, buffer(1), cores, ctl)
        return
    split = predict_split(N, row_work)
    if split is None:
        rows = min(N, PREDICT_MAX_ROWS)
        with blas_hold(rows * layer_work if rows > 1 else 0):  # one row runs loops, no BLAS
            k._predict(shape, theta, run, X, buffer(rows), out, rows, ctl)
        return
    cores, chunk = split
    sync = np.zeros(_sync.SYNC_SIZE, np.int64)
    with ONE_BLAS_THREAD:  # (a worker's share: blocks until none is left)
        _with_helpers(lambda wait: k._predict_share(shape, theta, run, X, buffer(chunk), out, chunk, sync, wait,
                                                    ctl), sync, cores, min(cores, -(-N // chunk)) - 1)


def predict_split(N: int, row_work: int, min_work: int | None = None) -> tuple[int, int] | None:
    """(cores, rows per block) when predict splits N rows of ``row_work`` multiply-adds each
    into blocks over the cores (see above), else None (one thread); ``min_work``: the least
    work of a call that splits (PREDICT_THREADED_MIN_WORK unless given)."""
    if N * row_work < (PREDICT_THREADED_MIN_WORK if min_work is None else min_work) or N < 2 \
            or (cores := usable_cores()) < 2:
        return None
    return cores, min(PREDICT_MAX_ROWS, max(PREDICT_MIN_ROWS, N // (4 * cores)), -(-N // cores))


def _predict_row(k: Any, shape: tuple[Any, ...], theta: np.ndarray, run: np.ndarray | None, X: np.ndarray,
                 out: np.ndarray, scratch: tuple[Any, ...], cores: int, ctl: np.ndarray | None) -> None:
    """``predict`` of one row of a wide plain net: every layer's columns shared by ``cores``
    threads (``_predict_row_share``), the caller one of them."""
    sync = np.zeros(_sync.SYNC_SIZE, np.int64)
    _with_helpers(lambda wait: k._predict_row_share(shape, theta, run, X, scratch, out, cores, sync, wait, ctl),
                  sync, cores, cores - 1)


def _with_helpers(share: Callable[[bool], None], sync: np.ndarray, cores: int, helpers: int) -> None:
    """``share(False)`` on ``helpers`` of predict's pool threads and ``share(True)`` (which waits
    for every item) on the caller; the items are claimed through ``sync``, so a helper still
    busy with another call need not start: none is left for it."""
    def part() -> None:
        try:
            share(False)
        except BaseException:
            _sync._give_up(sync)  # the caller's wait must end; f.result() raises it
            raise

    futures = [_pool(cores - 1).submit(part) for _ in range(helpers)]
    share(True)
    for f in futures:
        if not f.cancel():
            f.result()


class RowTeam:
    """A ``Predictor``'s ``threads − 1`` helper threads that share its calls with the caller. A
    one-row call on a net of at least TEAM_ROW_MIN_WORK multiply-adds per row: the caller copies
    the row into the team's buffer and announces the call (``_kernels._predict_row_call``);
    each helper, polling in ``_kernels._predict_row_serve``, joins it, the layers' columns
    shared (predict's bits). A call of several rows of at least TEAM_ROWS_MIN_WORK
    multiply-adds (``_kernels._predict_rows_call``): on a net whose largest W^[k] has at least
    TEAM_COLUMNS_MIN_WEIGHTS entries, blocks of up to PREDICT_MAX_ROWS rows, each layer's
    columns shared in one item per thread (in the team's one scratch bundle), where predict's
    blocks of rows have every thread stream and pack all of W^[k] from memory; on other nets
    the blocks ``predict_split`` cuts for that work, each helper in a scratch bundle of its own,
    which wait for no one between layers (predict's bits where predict splits the call too; a
    smaller call, which predict runs in one block, may round differently in BLAS's smaller
    blocks). The blocks depend only on N and the net, so a call repeats its bits, and the awake
    team saves the pool's wake-up. A
    helper that has polled POLLS times without a call goes to sleep on ``wake``, which the next
    call sets. The team holds no reference to its predictor, so garbage collection stops it."""

    POLLS = 2000  # idle polls (each a sched_yield) before a helper sleeps: about 1 ms

    def __init__(self, owner: Any, threads: int) -> None:
        # (owner: the Predictor, with its engine and θ; the team keeps no reference to it)
        engine = owner._engine
        theta, run = engine.split(owner._theta)
        self.x = np.empty((1, engine.sizes[0]), engine.dtype)
        self.out = np.empty((1, engine.sizes[-1]), engine.dtype)
        self.sync = np.zeros(_sync.SYNC_SIZE, np.int64)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.helpers = threads - 1
        self.args = (engine.shape, theta, run, self.x, engine.eval_buffer(1), self.out, threads, self.sync,
                     engine.ctl())
        # calls of several rows: their own counters and call slots; each helper's own buffers
        self.bsync = np.zeros(_sync.SYNC_SIZE, np.int64)
        self.call = np.zeros(_sync.CALL_SIZE, np.int64)
        self.engine, self.theta, self.run_ = engine, theta, run
        self.threads = threads
        # By columns when a W^[k] outgrows the caches (TEAM_COLUMNS_MIN_WEIGHTS): one scratch
        # bundle the whole team shares; else by blocks of rows: one bundle per helper.
        self.by_columns = max(a * b for a, b in zip(engine.sizes, engine.sizes[1:])) >= TEAM_COLUMNS_MIN_WEIGHTS
        shared = engine.eval_buffer(PREDICT_MAX_ROWS) if self.by_columns else None
        owns = [shared or engine.eval_buffer(PREDICT_MAX_ROWS) for _ in range(self.helpers)]
        self.rows_buf = shared  # (the caller's bundle for a call by columns)
        # The helpers' kernel, loaded (or compiled) here, once, with no polls: a helper's first
        # call would otherwise load it while holding the GIL, stalling the caller's first calls
        # (asv timed that: PredictWideRow's "predictor-threads" at 1.1-6 ms against 0.25 ms).
        self.k = k = engine.k
        k._predict_row_serve(*self.args, 0, owns[0], self.bsync, self.call)
        self.sync[_sync.MOVES] = self.bsync[_sync.MOVES] = MAX_MOVES
        self.sync[_sync.HELPER_CPU] = self.bsync[_sync.HELPER_CPU] = -1  # (none has polled yet)
        for own in owns:
            threading.Thread(target=_serve, args=(k._predict_row_serve, (*self.args, self.POLLS, own, self.bsync,
                                                                         self.call), self.sync, self.bsync, self.wake),
                             daemon=True, name="fastnn-predictor-helper").start()
        self._finalizer = weakref.finalize(owner, _stop, self.sync, self.wake)

    def run(self, X: np.ndarray, out: np.ndarray) -> bool:
        """X's one row into out with the helpers; False (nothing done) on a net of less than
        TEAM_ROW_MIN_WORK multiply-adds per row or if another thread's call holds the team."""
        if self.engine.row_work < TEAM_ROW_MIN_WORK or not self.lock.acquire(blocking=False):
            return False
        try:
            self.x[...] = X
            if self.sync[_sync.SERVING] < self.helpers:  # one sleeps: wake it (the call won't wait)
                self.wake.set()
            self.k._predict_row_call(*self.args)
            out[...] = self.out
        finally:
            self.lock.release()
        return True

    def run_rows(self, X: np.ndarray, out: np.ndarray) -> bool:
        """X's rows into out with the helpers (see the class); False (nothing done) for a call
        of less than TEAM_ROWS_MIN_WORK multiply-adds (or less than predict splits, if that is
        lower) or when another thread's call holds the team."""
        e, N = self.engine, X.shape[0]
        split = predict_split(N, e.row_work, min(PREDICT_THREADED_MIN_WORK, TEAM_ROWS_MIN_WORK))
        if split is None or not self.lock.acquire(blocking=False):
            return False
        try:
            if self.by_columns:  # equal blocks of at most PREDICT_MAX_ROWS rows
                block, scratch = -(-N // -(-N // PREDICT_MAX_ROWS)), self.rows_buf
            else:  # predict's blocks
                block = split[1]
                scratch = e.activations_buffer(block)
            if self.sync[_sync.SERVING] < self.helpers:  # one sleeps: wake it (the call won't wait)
                self.wake.set()
            with ONE_BLAS_THREAD:
                self.k._predict_rows_call(e.shape, self.theta, self.run_, X, scratch, out, block, self.threads,
                                          self.by_columns, self.bsync, self.call, e.ctl())
        finally:
            self.lock.release()
        return True

    def stop(self) -> None:
        self._finalizer()


def _serve(serve: Any, args: tuple[Any, ...], sync: np.ndarray, bsync: np.ndarray,
           wake: threading.Event) -> None:
    """A helper thread: sleep until woken, then serve calls (``serve``: the team's kernel module's
    ``_predict_row_serve``; ``args``: the team's, and POLLS) until that many idle polls; until
    stopped."""
    sync[_sync.HELPER_TID] = bsync[_sync.HELPER_TID] = threading.get_native_id()  # (for _sync._announce)
    while sync[_sync.GEN] >= 0:
        wake.wait()
        wake.clear()
        if sync[_sync.GEN] < 0:
            break
        serve(*args)


def _stop(sync: np.ndarray, wake: threading.Event) -> None:
    sync[_sync.GEN] = -1 << 62  # (helpers polling see it at their next poll)
    wake.set()


class ThreadChoice:
    """How many threads run a threaded fit's next run of batches: on a machine where another
    process holds a core, a team waits at every phase for the thread that lost its core, and
    fewer threads go faster (deep at B = 32: 2 threads 0.5x of 1). The count in use is the
    one with the best measured speed (rows/s); every ``gap`` runs a neighbouring count is tried
    for one run, and taken if it is faster by 5%; ``gap`` doubles (up to PROBE_MAX) while the
    tries lose. Only runs of at least half the longest run so far count: an epoch's last run
    may be a few batches, whose fixed costs (waking the workers) would make any count look slow.
    When the count in use runs twice in a row more than ``SHIFT`` times faster or slower than its
    usual rate (a running mean: another process took a core, or let it go), the next run tries a
    neighbour, and ``gap`` starts over: the other counts' rates are from before the change.
    The threads share ``parts`` fixed items per phase whatever their number, so the count never
    changes a result, only the time."""

    PROBE_FIRST, PROBE_MAX = 8, 64
    SHIFT = 1.3  # twice this many times faster or slower than the usual rate: conditions changed

    def __init__(self, parts: int) -> None:
        self.parts = parts
        self.threads = parts
        self.rate: dict[int, float] = {}  # threads → rows/s of the last full run with that many
        self.longest = 0  # rows of the longest run reported
        self.runs = 0
        self.gap = self.PROBE_FIRST
        self.next = 2  # the first try comes early, after one timed run
        self.trying: int | None = None
        self.usual = 0.0  # the count in use's running mean rate (0: none yet)
        self.odd = 0  # its consecutive runs beyond SHIFT of that

    def pick(self) -> int:
        self.runs += 1
        if self.parts > 1 and self.runs >= self.next and self.threads in self.rate:
            up, down = self.threads + 1, self.threads - 1
            trying = down if down >= 1 and (up > self.parts or self.runs // self.gap % 2) else up
            self.trying = trying
            return trying
        return self.threads

    def report(self, threads: int, rows: int, seconds: float) -> None:
        if rows > 2 * self.longest:  # the rates so far came from much shorter runs
            self.rate.clear()
            self.usual, self.odd = 0.0, 0
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
                self.threads, self.gap, self.usual = threads, self.PROBE_FIRST, rate
            else:
                self.gap = min(2 * self.gap, self.PROBE_MAX)
            self.next = self.runs + self.gap
        elif threads == self.threads:
            self._follow(rate)
        self.rate[threads] = rate

    def _follow(self, rate: float) -> None:
        """The count in use's rate: the running mean, or (twice beyond SHIFT) a change of
        conditions, after which the next run tries a neighbour."""
        if self.usual and not self.usual / self.SHIFT <= rate <= self.usual * self.SHIFT:
            self.odd += 1
            if self.odd >= 2:
                self.gap, self.next, self.usual, self.odd = self.PROBE_FIRST, self.runs + 1, rate, 0
            return
        self.odd = 0
        self.usual = rate if not self.usual else 0.75 * self.usual + 0.25 * rate


class EpochPool:
    """Up to ``parts`` − 1 worker threads plus the caller; use as a context manager around the
    epoch loop. Each run's thread count comes from ``choice`` (a ``ThreadChoice``)."""

    def __init__(self, parts: int, by_columns: bool, choice: ThreadChoice | None = None) -> None:
        self.n = parts
        self.by_columns = by_columns
        self.choice = choice if choice is not None else ThreadChoice(parts)
        self._sync = np.zeros(_sync.SYNC_SIZE, np.int64)
        self._losses = np.zeros(parts, np.float64)  # one per part: summed in a fixed order
        self._pool: ThreadPoolExecutor | None = None
        self._started = False

    def __enter__(self) -> EpochPool:
        self._pool = ThreadPoolExecutor(self.n - 1, thread_name_prefix="fastnn")
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._pool is not None
        self._pool.shutdown(wait=True)

    def epoch(self, k: Any, shape: tuple[Any, ...], step: tuple[Any, ...], rows_: tuple[Any, ...],
              scratch: tuple[Any, ...], batch: int, *,
              rows: int, fresh: bool = True, shapes: list[tuple[Any, ...]] | None = None) -> float:
        """Run one epoch, or a run of ``rows`` rows of its batches (kernel module k's ``_epoch_share``'s arguments
        but the team); returns Σ_samples L since the last ``fresh`` call (each part keeps its sum
        across runs, so runs add up exactly as one call would). ``shapes``: one shape bundle per
        thread, the caller's first (bf16: each thread casts into buffers of its own)."""
        self._sync[:] = 0
        if fresh:
            self._losses[:] = 0
        team = (self.n, self._sync, self._losses)  # _kernels' team bundle
        kernel: Callable[..., None] = k._epoch_share_cols if self.by_columns else k._epoch_share
        # A fit's first run is not timed: it starts the worker threads and warms the caches.
        timed, self._started = self._started, True
        threads = self.choice.pick() if timed else self.choice.threads
        shapes = shapes or [shape] * threads
        pool = self._pool
        assert pool is not None
        t0 = time.perf_counter()
        futures = [pool.submit(kernel, shapes[t], step, rows_, scratch, batch, team) for t in range(1, threads)]
        kernel(shapes[0], step, rows_, scratch, batch, team)
        for f in futures:
            f.result()
        if timed:
            self.choice.report(threads, rows, time.perf_counter() - t0)
        return float(self._losses.sum())


# ------------------------------------------------------------------------------ one network
class Engine:
    """The kernels for one network shape: widths ``sizes``, activation codes ψ^[1..K] (the
    output layer's is identity under a linked loss), the loss code and the kernel path, and per
    layer its norm code (``_layout.NORM_CODES``), skip, dropout rate and whether ψ' needs z̄.

    Holds no parameters: every call takes the network's ``store``, θ followed by batch norm's
    running statistics (``split``). Each thread gets its own batch buffers, so inference may run
    in many threads at once. Pickles without its runtime state.
    """

    def __init__(self, sizes: list[int], codes: list[int], loss_code: int, dtype: np.dtype,
                 kernel_path: int = _k.AUTO, norms: list[int] | None = None, residual: list[bool] | None = None,
                 rates: list[float] | None = None, needs_z: list[bool] | None = None,
                 loss_param: float = 0.0) -> None:
        self.sizes, self.codes, self.loss_code, self.dtype = list(sizes), list(codes), loss_code, dtype
        self.loss_param = float(loss_param)  # Huber's ε, the quantile q (lp); 0.0 for the others
        self.kernel_path = kernel_path
        K = len(sizes) - 1
        self.norms, self.residual = list(norms or [0] * K), list(residual or [False] * K)
        self.rates, self.needs_z = list(rates or [0.0] * K), list(needs_z or [False] * K)
        self.lay, self.n_params, self.n_running = _layout.build(
            sizes, codes, self.norms, self.residual, [p > 0 for p in self.rates], self.needs_z)
        self.extended = bool(self.lay[:, _layout.EXT].any())
        self.dropout_seed = 0  # the network's, keying the dropout masks
        self.width = _layout.width(self.lay)
        work = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
        self.row_work, self.layer_work = sum(work), max(work)  # multiply-adds of one row
        self.row_seconds: float | None = None  # fit's estimate of one row's training time
        self.precision = "float32"  # or "bf16": fit's products in bf16 (``Trainer``)
        self._runtime()

    def _runtime(self) -> None:
        # _kernels' shape bundle, of read-only arrays (``readonly``; unpickled ones are writable).
        # A net without extended layers passes None for the dropout rates, as for its buffers
        # (``_extended_buffers``), its running statistics and its mode array: nothing to pass,
        # reference-count or compile for.
        self.lay = readonly(self.lay)
        rates = readonly(np.array(self.rates, np.float64)) if self.extended else None
        self.loss_param = float(getattr(self, "loss_param", 0.0))  # (an engine pickled before it)
        self.precision = getattr(self, "precision", "float32")
        self.shape = (self.lay, (int(self.loss_code), self.loss_param), self.kernel_path, rates)
        self.use_optimizer(FUSED)
        self._local = threading.local()
        self._no_run = np.empty(0, self.dtype) if self.extended else None
        self._no_sw = readonly(np.empty(0, self.dtype))
        self._unrolled: dict[tuple[bool, int], Any] = {}  # (direct, optimizer code) → the generated epoch or None
        # (parts, by columns, batch) → its ThreadChoice, kept across fits
        self.thread_choice: dict[tuple[int, bool, int], ThreadChoice] = {}
        self.short_roads: dict[int, Any] = {}  # row count → fit's kept set-up (``training._short_road``)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("shape", "_local", "_unrolled", "thread_choice", "_no_run", "_no_sw", "short_roads", "k",
                    "k_opt"):
            state.pop(key)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._runtime()

    def fresh(self) -> Engine:
        """An engine for the same shape with buffers of its own (for a ``Predictor``)."""
        e = Engine(self.sizes, self.codes, self.loss_code, self.dtype, self.kernel_path, self.norms,
                   self.residual, self.rates, self.needs_z, self.loss_param)
        e.dropout_seed = self.dropout_seed
        e.precision = self.precision
        e.k, e.k_opt = self.k, self.k_opt  # (the kernels this net compiled already)
        return e

    def use_optimizer(self, code: int) -> None:
        """Set ``k``, the kernel module every call runs (``kernels_for``), to the one for this
        net and the optimizer code ``code``: fit calls it with its optimizer's; inference and the
        other calls run the module of the last fit (plain SGD's before any)."""
        if getattr(self, "k_opt", None) != code:
            self.k, self.k_opt = kernels_for(self.lay, int(self.loss_code), code), code

    # ---------------------------------------------------------------- θ and the mode
    def split(self, store: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(θ, running statistics) as views of a network's store (θ first); a store without
        running statistics is θ itself (no view made: one-row calls count each)."""
        if not self.n_running:
            return store, self._no_run
        n = self.n_params
        run = store[n:]  # (a read-only store, e.g. memory-mapped: the kernels' code writes the
        # running statistics in training mode, so Numba wants them writable; evaluation never does)
        return store[:n], run if run.flags.writeable else run.copy()

    def ctl(self, training: bool = False, update: int = KEEP, epoch: int = 0, row0: int = 0,
            weight_exponent: int = 0) -> np.ndarray | None:
        """The kernels' mode array (``_kernels.SEED`` ...): evaluation by default. Nets without
        extended layers never read it: None (``_runtime``)."""
        if not self.extended:
            return None
        return np.array([self.dropout_seed, epoch, row0, int(training), update, weight_exponent], np.int64)

    def dropout_mask(self, k: int, N: int, epoch: int, row0: int = 0) -> np.ndarray:
        """Layer k's (1-based) dropout mask m^[k] (1 kept, 0 dropped) for the epoch positions
        row0..row0+N, as fit draws it in that epoch."""
        out = np.empty((N, self.sizes[k]), np.float64)
        self.k._dropout_mask(self.ctl(True, KEEP, epoch, row0), k - 1, self.rates[k - 1], out)
        return out

    # ---------------------------------------------------------------- buffers
    def _extended_buffers(self, rows: int, parts: int = 1) -> tuple[Any, Any, Any]:
        """x̂ (or z̄), ẑ/∂L/∂ẑ and the float64 statistics (``_kernels`` "stat") for ``rows``
        rows and a team of ``parts``; None for a net without extended layers (its kernels are
        then compiled without the extended steps: ``_kernels``, "scratch")."""
        if not self.extended:
            return None, None, None
        n = rows * self.width
        stat = np.empty(self.n_layers * rows + 3 * self.width + 8 * parts * (rows + self.width), np.float64)
        return np.empty(n, self.dtype), np.empty(n, self.dtype), stat

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def batch_buffers(self, rows: int, parts: int = 1, gather_x: bool = True) -> tuple[int, tuple[Any, ...]]:
        """(rows, the kernels' scratch bundle for up to ``rows`` samples: x̄, φ, gathered x̄^[0]
        and y rows, and the extended layers' buffers, for a team of ``parts``), this thread's
        own, kept and reused across its calls (grown when needed). Without ``gather_x`` (sparse
        X, which is never gathered densely) the x̄^[0] buffer may be empty."""
        mine = self._local.__dict__
        bufs = mine.get("bufs")
        if bufs is None or bufs[0] < rows or mine.get("parts", 1) < parts or (gather_x and not bufs[1][2].size):
            mine["parts"] = parts
            n = rows * self.width
            bufs = mine["bufs"] = (rows, (
                np.empty(n, self.dtype),  # x̄^[k], k = 1..K
                np.empty(n, self.dtype),  # φ^[k]
                np.empty(rows * self.sizes[0] if gather_x else 0, self.dtype),  # gathered x̄^[0] rows (shuffle)
                np.empty(rows * self.sizes[-1], self.dtype),  # gathered y rows
                *self._extended_buffers(rows, parts)))
        return bufs

    def sparse_buffers(self, X: SparseRows, rows: int) -> tuple[np.ndarray, ...]:
        """The kernels' ``sparse`` bundle (``_kernels``, "sparse input") for blocks of up to
        ``rows`` rows of X: X's rows in column order, O(n_0 + nonzeros of the fullest block)."""
        nnz = max(X.max_block_nnz(rows), 1)
        return (np.zeros(self.sizes[0] + 1, np.int64),  # per column of X: a counter, zero between batches
                np.empty(nnz, np.int64),  # the block's distinct columns, in increasing order
                np.empty(nnz + 1, np.int64),  # where each one's entries start
                np.empty(nnz, np.int64),  # the entries' rows in the block
                np.empty(nnz, self.dtype),  # their values
                np.empty(_k.SPARSE_UNITS, self.dtype))

    def eval_buffer(self, rows: int) -> tuple[Any, ...]:
        """A plain net's scratch bundle for a forward pass in evaluation mode of ``rows`` rows,
        owned by the caller (a predictor's helper team: its shared one-row bundle, and each
        helper's own for row blocks), not by this thread."""
        x = np.empty(rows * self.width, self.dtype)
        return (x, x, x[:0], x[:0], None, None, None)


    def activations_buffer(self, rows: int) -> tuple[Any, ...]:
        """This thread's scratch bundle for a forward pass in evaluation mode of ``rows`` rows:
        its own, or fit's if that one is big enough (predict's workers never allocate φ or
        gather buffers; x̂ and ẑ share x̄'s buffer, as nothing reads them back)."""
        mine = self._local.__dict__  # this thread's (a miss costs no AttributeError)
        a = mine.get("abuf")
        if a is not None and a[0].size >= rows * self.width:
            return a  # type: ignore[no-any-return]
        bufs = mine.get("bufs")
        if bufs is not None and bufs[0] >= rows:
            return bufs[1]  # type: ignore[no-any-return]
        if self.extended:
            x = np.empty(rows * self.width, self.dtype)
            a = (x, x, x[:0], x[:0], x, x, self._extended_buffers(rows)[2])
        else:
            a = self.eval_buffer(rows)
        mine["abuf"] = a
        return a

    def rows(self, buf: np.ndarray, k: int, N: int) -> np.ndarray:
        """Layer k's (N, n_k) block (1-based k) of a per-layer buffer."""
        return _layout.rows(buf, self.lay, k, N)

    # ---------------------------------------------------------------- inference
    def predict(self, store: np.ndarray, X: np.ndarray | SparseRows, out: np.ndarray) -> None:
        """x̄^[K] of every row of X (dense or sparse) into out (probabilities for a linked loss),
        in evaluation mode."""
        theta, run = self.split(store)
        if isinstance(X, SparseRows):
            self._predict_sparse(theta, run, X, out)
            return
        # (X as it comes: a read-only view would cost a one-row call 0.4 µs of its ~4; a
        # read-only X compiles the inference kernels once more instead)
        if X.shape[0] == 1 and self.row_work < PREDICT_ROW_SPLIT_MIN_WORK:  # predict's own choice for
            # one row of a net it does not split, without its µs of routing
            self.k._predict(self.shape, theta, run, X, self.activations_buffer(1), out, 1, self.ctl())
            return
        predict(self.k, self.shape, theta, run, X, out, self.activations_buffer, self.row_work, self.layer_work,
                self.ctl())

    def _predict_sparse(self, theta: np.ndarray, run: np.ndarray | None, X: SparseRows, out: np.ndarray) -> None:
        """``predict`` of sparse rows: one thread below PREDICT_THREADED_MIN_WORK multiply-adds
        (n_1 per nonzero in layer 1, as dense rows in the others), else one contiguous share of
        the rows per core, each thread with its own buffers (the shares depend only on N and
        the cores this process may use)."""
        N = len(X)
        work = X.nnz * self.sizes[1] + N * (self.row_work - self.sizes[0] * self.sizes[1])
        parts = 1 if work < PREDICT_THREADED_MIN_WORK or N < 2 else min(usable_cores(), N)
        ctl = self.ctl()

        def share(p: int) -> None:
            r0, r1 = N * p // parts, N * (p + 1) // parts
            rows = X[r0:r1]
            block = min(r1 - r0, PREDICT_MAX_ROWS)
            self.k._predict_sparse(self.shape, theta, run, rows.csr, self.activations_buffer(block),
                               self.sparse_buffers(rows, block), out[r0:r1], block, ctl, self._no_sw)

        if parts == 1:
            with blas_hold(min(N, PREDICT_MAX_ROWS) * self.layer_work):
                share(0)
            return
        with ONE_BLAS_THREAD:
            futures = [_pool(parts - 1).submit(share, p) for p in range(1, parts)]
            share(0)
            for f in futures:
                f.result()

    def mean_loss(self, store: np.ndarray, X: np.ndarray | SparseRows, Y: np.ndarray, sw: np.ndarray) -> float:
        """The mean of L over the rows (Σ w L / Σ w with sample weights sw, else sw empty), in
        evaluation mode, summed in fixed blocks of rows: the sum's order never depends on the
        buffers."""
        block = min(len(X), 1024)
        _, scratch = self.batch_buffers(block)
        theta, run = self.split(store)
        with ONE_BLAS_THREAD:
            if isinstance(X, SparseRows):
                total = self.k._evaluate_sparse(self.shape, theta, run, X.csr, readonly(Y), readonly(sw), scratch,
                                            self.sparse_buffers(X, block), block, self.ctl())
            else:
                total = self.k._evaluate(self.shape, theta, run, readonly(X), readonly(Y), readonly(sw), scratch,
                                         block, self.ctl())
        return float(total / (sw.sum(dtype=np.float64) if sw.size else len(X)))

    def backward_all(self, store: np.ndarray, X: np.ndarray | SparseRows, Y: np.ndarray,
                     sw: np.ndarray | None = None,
                     ctl: np.ndarray | None = None) -> tuple[tuple[np.ndarray, ...], np.ndarray, float]:
        """The seed's forward pass and φ^[k] recurrence on all of X at once, in the mode ``ctl``
        (evaluation by default): (the scratch bundle: x̄, φ, ..., x̂, ẑ/∂L/∂ẑ buffers;
        Σ_samples ∂L/∂θ; Σ_samples L); with weights sw, N · Σ w (·) / Σ w in place of both sums.
        The store must be writable (the kernel's training branch could step it)."""
        N = len(X)
        theta, run = self.split(store)
        n = N * self.width
        e = np.empty(0, self.dtype)
        scratch = (np.empty(n, self.dtype), np.empty(n, self.dtype), e, e, *self._extended_buffers(N))
        grad = np.empty_like(theta)
        sw = self._no_sw if sw is None else readonly(sw)
        ctl = self.ctl() if ctl is None else ctl
        step = (theta, grad, grad[:0], FUSED, tuple(NO_STEP), 0, run)  # train=False: no step taken
        if isinstance(X, SparseRows):
            with ONE_BLAS_THREAD:
                y = np.array(Y, copy=True).reshape(-1)  # (flat and writable, as a fit's gathered rows)
                total = self.k._gradient_sparse(self.shape, step, X.csr, y, sw, scratch, self.sparse_buffers(X, N), ctl)
            return scratch, grad, float(total)
        Xf, Yf = readonly(X).reshape(-1), readonly(Y).reshape(-1)
        with ONE_BLAS_THREAD:  # results never depend on BLAS's threads
            self.k._forward(self.shape, theta, run, Xf, 0, scratch, N, ctl, sw, 0, 0)
            total = self.k._backward(self.shape, step, Xf, 0, Yf, 0, sw, 0, scratch, N, False, (0.0,) * 6, ctl, 0)
        return scratch, grad, float(total)

    def gradient_sum(self, store: np.ndarray, X: np.ndarray | SparseRows, Y: np.ndarray) -> np.ndarray:
        """Σ_samples ∂L/∂θ by the kernels fit uses for this net (the unrolled epoch for tiny ones),
        in evaluation mode."""
        unrolled = self.unrolled_epoch(False, self.k_opt)  # (any epoch's: this one may be compiled)
        if unrolled is None or isinstance(X, SparseRows):
            return self.backward_all(store, X, Y)[1]
        theta = store
        grad = np.empty_like(theta)
        N = len(X)
        unrolled(theta, grad, grad[:0], readonly(X), readonly(Y), np.arange(N), False, N, FUSED, tuple(NO_STEP), 0,
                 False)
        return grad

    # ---------------------------------------------------------------- training
    def unrolled_epoch(self, direct: bool, opt: int) -> Any:
        """The generated straight-line epoch when this net is tiny enough, else None; ``opt``: the
        optimizer code it steps with (FUSED: plain SGD), which alone it compiles, except in the
        generic mode (``kernel_mode``)."""
        key = (direct, opt)
        if key not in self._unrolled:
            epoch = None
            tiny = self.n_params <= MAX_UNROLLED_PARAMS and not self.extended  # (it has no extended steps)
            if (self.kernel_path == _k.UNROLLED and not self.extended) or (self.kernel_path == _k.AUTO and tiny):
                opts = None if kernel_mode() == "generic" else _stepping(opt)
                epoch = _unrolled.epoch_for(self.sizes, self.codes, self.loss_code, direct, self.loss_param, opts)
            self._unrolled[key] = epoch
        return self._unrolled[key]

    def trainer(self, opt: Any, batch: int, threads: int | None, weighted: bool,
                sparse: SparseRows | None = None) -> Trainer:
        """The kernel one fit runs on (plan only: nothing is started or allocated); ``sparse``:
        the fit's X when it is sparse."""
        return Trainer(self, opt, batch, threads, weighted, sparse)


class Trainer:
    """One fit's road to the kernels: the unrolled epoch, the serial epoch or a thread team,
    chosen once. ``with trainer:`` holds BLAS at one thread and starts the team; ``run`` runs
    batches. ``whole_epochs``: the unrolled epoch keeps θ in registers for a whole epoch, whose
    precision a run boundary would change, so it always runs one epoch per call."""

    def __init__(self, engine: Engine, opt: Any, batch: int, threads: int | None, weighted: bool,
                 sparse: SparseRows | None = None) -> None:
        self.engine, self.opt, self.batch, self.sparse = engine, opt, batch, sparse
        engine.use_optimizer(FUSED if opt.fused else opt.code)
        self.k = engine.k  # (kept: a later fit with another optimizer changes the engine's)
        self.bf16 = engine.precision == "bf16"
        # (the unrolled epoch reads dense X, and keeps every product in float32 registers)
        tiny = not weighted and sparse is None and not self.bf16
        self.unrolled = engine.unrolled_epoch(batch == 1 and opt.fused, engine.k_opt) if tiny else None
        self.threads, self.by_columns = 1, False
        if self.unrolled is None and sparse is None and getattr(opt, "clip_norm", None) is None:
            # (a sparse or a clipped fit runs on one thread)
            self.threads, self.by_columns = plan(threads, engine.sizes, batch, engine.kernel_path)
        self.pool: EpochPool | None = None
        self._hold: Any = None

    @property
    def whole_epochs(self) -> bool:
        """True for the unrolled epoch, which always runs a whole epoch per call."""
        return self.unrolled is not None

    def __enter__(self) -> Trainer:
        e = self.engine
        # BLAS at one thread: fastnn splits the work itself, and results never depend on
        # whether BLAS threads a product (none does below the threshold).
        hold = 0 if self.unrolled is not None else float("inf") if self.threads > 1 else self.batch * e.layer_work
        self._hold = blas_hold(hold)
        self._hold.__enter__()
        if self.threads > 1:
            choice = e.thread_choice.setdefault((self.threads, self.by_columns, self.batch),
                                                ThreadChoice(self.threads))
            try:
                self.pool = EpochPool(self.threads, self.by_columns, choice).__enter__()
            except BaseException:
                self._hold.__exit__(None, None, None)
                raise
        self.bufs: tuple[int, tuple[np.ndarray, ...]] | None
        self.bufs = None if self.unrolled is not None else e.batch_buffers(self.batch, self.threads,
                                                                            gather_x=self.sparse is None)
        self.sparse_bufs = None if self.sparse is None else e.sparse_buffers(self.sparse, self.batch)
        self.shapes = [e.shape] * self.threads if not self.bf16 else self._bf16_shapes()
        return self

    def _bf16_shapes(self) -> list[tuple[Any, ...]]:
        """One shape bundle per thread whose kernel path is bf16's bundle (``_blas``, "bf16"):
        (the path, θ in bf16, shared and cast once per step; this thread's two cast buffers, for
        the batch's x̄^[k-1] and φ^[k] blocks; the bf16 GEMM library's code). "auto" becomes
        "generic": no unrolled epoch."""
        e = self.engine
        # (loaded in this process: a net unpickled on a Dask worker was never checked here)
        lib = np.int64(BF16_LIBRARIES.index(bf16_library()))
        path = np.int64(_k.GENERIC if e.kernel_path == _k.AUTO else e.kernel_path)
        self.theta_bf16 = np.empty(e.n_params, np.uint16)
        n = self.batch * max(e.sizes)
        return [(e.shape[0], e.shape[1], (path, self.theta_bf16, np.empty(n, np.uint16), np.empty(n, np.uint16), lib),
                 e.shape[3]) for _ in range(self.threads)]

    def __exit__(self, *exc: Any) -> None:
        try:
            if self.pool is not None:
                self.pool.__exit__(*exc)
        finally:
            self.pool = None
            self._hold.__exit__(*exc)

    def run(self, store: np.ndarray, grad: np.ndarray, state: np.ndarray, X: np.ndarray | SparseRows,
            Y: np.ndarray,
            perm: np.ndarray, shuffle: bool, swp: np.ndarray, r0: int, r1: int, code: int, h: Hyper,
            t0: int, total: float, fresh: bool, epoch: int = 0, weight_exponent: int = 0) -> float:
        """Batches r0/B .. r1/B of the epoch; returns ``total`` plus their Σ L. Rows come from
        perm[r0:r1] (shuffle), or are X[r0:r1] in place. Batch b (0-based) of the run is the
        optimizer's step t0 + b + 1; swp: the sample weights in the epoch's order, or empty;
        ``epoch``: the network's epoch count, which keys the dropout masks; ``weight_exponent``:
        the power of two the sample weights were scaled by (``_validate.weight_exponent``)."""
        e, batch = self.engine, self.batch
        theta, run = e.split(store)
        clip = True if h.clip_norm > 0.0 else None  # (None: the kernel compiles no clipping)
        if self.bf16:  # θ as it is now (Python may have changed it since the last run), in bf16
            to_bf16(theta, 0, theta.size, theta.size, 1, self.theta_bf16, 0)
        if self.unrolled is not None:  # always a whole epoch
            return total + float(self.unrolled(theta, grad, state, X, Y, perm, shuffle, batch, code, tuple(h), t0,
                                               True))
        sw = swp[r0:r1] if swp.size else swp
        assert self.bufs is not None
        if isinstance(X, SparseRows):  # the run's rows in the epoch's order, or in order
            assert self.sparse_bufs is not None
            order = readonly(perm[r0:r1] if shuffle else np.arange(r0, r1, dtype=np.int64))
            csr = (*X.csr, Y, sw, order, e.ctl(True, MOVE, epoch, r0, weight_exponent))
            return float(self.k._epoch_sparse(self.shapes[0], (theta, grad, state, code, tuple(h), t0, run), csr,
                                          self.bufs[1], self.sparse_bufs, batch, total, clip))
        if r0 or r1 < len(Y):  # (a whole epoch in one call, as a short fit's, needs no views)
            if shuffle:
                perm = perm[r0:r1]
            else:
                X, Y = X[r0:r1], Y[r0:r1]
        scratch = self.bufs[1]
        # _kernels' step and rows bundles
        step = (theta, grad, state, code, tuple(h), t0, run)
        rows = (X, Y, sw, perm, shuffle, e.ctl(True, MOVE, epoch, r0, weight_exponent))
        if self.pool is not None:
            return self.pool.epoch(self.k, e.shape, step, rows, scratch, batch, rows=r1 - r0, fresh=fresh,
                                   shapes=self.shapes)
        return float(self.k._epoch(self.shapes[0], step, rows, scratch, batch, total, clip))
