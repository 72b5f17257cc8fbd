"""Atomics and work claiming for kernels that several threads run side by side (``_kernels._epoch_share``).

Numba has no atomics on the CPU, so these are intrinsics that emit LLVM's ``atomicrmw``,
``cmpxchg`` and atomic loads directly; they hold no Python object, so kernels using them still
go to Numba's on-disk cache. ``sync`` is a small int64 array the threads share (zeroed per run).
"""
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._jit import jit

# Spins before a waiting thread starts yielding its core: a wait normally ends within
# microseconds, but on a busy machine the thread it waits for may need that core.
SPIN_LIMIT = 2000


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
# latest call, and how many helpers are polling for it
GEN, SERVING = 16, 24
SYNC_SIZE = 32
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
