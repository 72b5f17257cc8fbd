"""Atomics and work claiming for kernels that several threads run side by side (``_kernels._epoch_share``).

Numba has no atomics on the CPU, so these are intrinsics that emit LLVM's ``atomicrmw``,
``cmpxchg`` and atomic loads directly; they hold no Python object, so kernels using them still
go to Numba's on-disk cache. ``sync`` is a small int64 array the threads share (zeroed per run).
"""
import sys

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._jit import jit

# Spins before a waiting thread starts yielding its core: a wait normally ends within
# microseconds, but on a busy machine the thread it waits for may need that core.
SPIN_LIMIT = 2000
_LINUX = sys.platform.startswith("linux")


def _slot(context, builder, aryty, ary, idx, idxty):
    data = context.make_array(aryty)(context, builder, ary).data
    return builder.gep(data, [context.cast(builder, idx, idxty, types.intp)])


@intrinsic
def _atomic_add(typingctx, arr, idx, val):
    """arr[idx] += val as one atomic step (sequentially consistent); returns the old value."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        p = _slot(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        v = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", p, v, "seq_cst")

    return types.int64(arr, idx, val), codegen


@intrinsic
def _atomic_load(typingctx, arr, idx):
    """arr[idx] read with acquire ordering: writes made before the matching add are visible."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        p = _slot(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        return builder.load_atomic(p, "acquire", 8)

    return types.int64(arr, idx), codegen


@intrinsic
def _sched_yield(typingctx):
    """POSIX sched_yield(): give the core to another runnable thread."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        return builder.call(fn, [])

    return types.int32(), codegen


@intrinsic
def _sched_getcpu(typingctx):
    """The CPU the calling thread runs on (glibc's sched_getcpu, through the vDSO: tens of ns);
    −1 where there is none (not Linux)."""
    def codegen(context, builder, sig, args):
        if not _LINUX:
            return ir.Constant(ir.IntType(64), -1)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(32), []), "sched_getcpu")
        return builder.sext(builder.call(fn, []), ir.IntType(64))

    return types.int64(), codegen


def _affinity_call(name):
    """An intrinsic f(tid, words) calling Linux's ``name`` (sched_getaffinity or
    sched_setaffinity) on thread tid with ``words`` (int64s) as its cpu_set_t of 64 · len(words)
    bits; returns 0, or −1 (failed; also where there is no such call)."""
    def call(typingctx, tid, words):
        if not (isinstance(words, types.Array) and words.dtype == types.int64 and isinstance(tid, types.Integer)):
            return None

        def codegen(context, builder, sig, args):
            i32, i64, p8 = ir.IntType(32), ir.IntType(64), ir.IntType(8).as_pointer()
            if not _LINUX:
                return ir.Constant(i32, -1)
            ary = context.make_array(sig.args[1])(context, builder, args[1])
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i32, [i32, i64, p8]), name)
            pid = context.cast(builder, args[0], sig.args[0], types.int32)
            size = builder.mul(ary.nitems, ir.Constant(i64, 8))
            return builder.call(fn, [pid, size, builder.bitcast(ary.data, p8)])

        return types.int32(tid, words), codegen

    call.__name__ = f"_{name}"
    return intrinsic(call)


_sched_getaffinity = _affinity_call("sched_getaffinity")
_sched_setaffinity = _affinity_call("sched_setaffinity")


@intrinsic
def _atomic_cas(typingctx, arr, idx, expected, new):
    """If arr[idx] == expected, set it to new, atomically; returns the value arr[idx] had."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        p = _slot(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        e = context.cast(builder, args[2], sig.args[2], types.int64)
        n = context.cast(builder, args[3], sig.args[3], types.int64)
        return builder.extract_value(builder.cmpxchg(p, e, n, "seq_cst", "seq_cst"), 0)

    return types.int64(arr, idx, expected, new), codegen


# The work of a run is a sequence of numbered items, grouped in phases; items of one phase are
# independent. Threads claim items from one counter and count them done on another; a thread
# waits only for the items of the phase to be done, never for the other threads to arrive, so
# a thread that starts late or loses its core delays the rest by at most the item it holds.
CLAIMED, DONE = 0, 8  # indices into sync, on separate 64-byte cache lines
# A predictor's helper team (``_kernels._predict_row_serve``): the number of the caller's
# latest call, the CPU the caller ran on when it made it, the CPU a helper last polled on and
# its thread id, how many times a caller may still move it (``_announce``), and how many
# helpers are polling
GEN, CALLER_CPU, HELPER_CPU, HELPER_TID, MOVES, SERVING = 16, 17, 18, 19, 20, 24
SYNC_SIZE = 32


@jit(inline=True)
def _announce(sync):
    """A team caller's call: publish the caller's CPU and the call (sync[GEN] + 1, returned);
    then, if the helper last polled on the caller's CPU, move the helper off that CPU
    (``_move_off``; MOVES times at most). A polling helper runs all the time, so the scheduler
    counts it cache-hot and never moves it: put on the caller's CPU (its wake-up can put it
    there), it would only take turns with the caller, call after call."""
    cpu = _sched_getcpu()
    sync[CALLER_CPU] = cpu
    g = _atomic_add(sync, GEN, 1) + 1  # (sequentially consistent: what was written before is seen)
    if cpu >= 0 and _atomic_load(sync, HELPER_CPU) == cpu and sync[MOVES] > 0 and sync[HELPER_TID] > 0:
        sync[MOVES] -= 1
        _move_off(sync[HELPER_TID], cpu)
    return g


@jit
def _move_off(tid, cpu):
    """Move thread tid off CPU ``cpu``: leave ``cpu`` out of the CPUs it may run on (Linux moves
    it at once), then put it back (which does not move it back). No move if ``cpu`` is its only
    CPU or beyond 1,024."""
    words = np.zeros(16, np.int64)  # (a cpu_set_t)
    w = cpu // 64
    bit = np.int64(1) << np.int64(cpu % 64)
    if w >= 16 or _sched_getaffinity(tid, words) != 0 or not words[w] & bit:
        return
    words[w] &= ~bit
    if _sched_setaffinity(tid, words) == 0:  # (refused when no CPU is left)
        words[w] |= bit
        _sched_setaffinity(tid, words)


# A team call of several rows (``_kernels._predict_rows_call``) describes itself in slot g % 2
# of a ``call`` array: its rows, X's and out's addresses, its first item, its items, its chunk
# (rows per block) and whether it shares each layer's columns (1) or whole blocks of rows (0)
CALL_N, CALL_X, CALL_OUT, CALL_BASE, CALL_ITEMS, CALL_CHUNK, CALL_COLS = range(7)
CALL_SLOT = 8  # int64s per slot
CALL_SIZE = 2 * CALL_SLOT


@jit(inline=True)
def _claim(sync, end):
    """The next unclaimed item number below ``end``, now owned by the caller; −1 if none is left."""
    while True:
        i = _atomic_load(sync, CLAIMED)
        if i >= end:
            return -1
        if _atomic_cas(sync, CLAIMED, i, i + 1) == i:
            return i


@jit(inline=True)
def _done(sync):
    """Count one claimed item as finished (its writes become visible to ``_wait``ers)."""
    _atomic_add(sync, DONE, 1)


@jit(inline=True)
def _wait(sync, end):
    """Return once every item numbered below ``end`` is done."""
    spins = 0
    while _atomic_load(sync, DONE) < end:
        spins += 1
        if spins >= SPIN_LIMIT:
            _sched_yield()


@jit
def _give_up(sync):
    """Count every item done, so a thread in ``_wait`` returns (a worker's job raised)."""
    _atomic_add(sync, DONE, 1 << 40)


@intrinsic
def _address(typingctx, arr):
    """The address of an array's first element, as an int64 (for a team call's slot)."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        return builder.ptrtoint(data, ir.IntType(64))

    return types.int64(arr), codegen


@intrinsic
def _pointer(typingctx, address, like):
    """An int64 address as a pointer to ``like``'s dtype (``numba.carray`` makes the array)."""
    if not (isinstance(address, types.Integer) and isinstance(like, types.Array)):
        return None
    ptr = types.CPointer(like.dtype)

    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(ptr))

    return ptr(address, like), codegen
