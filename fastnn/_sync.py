"""Atomics and a spin barrier for kernels that T threads run side by side (``_kernels._epoch_share``).

Numba has no atomics on the CPU, so these are intrinsics that emit LLVM's ``atomicrmw`` and
atomic loads directly; they hold no Python object, so kernels using them still go to Numba's
on-disk cache. ``sync`` is a small int64 array shared by the threads: entry 0 counts arrivals.
"""
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._jit import jit

# Spins before a waiting thread starts yielding its core: a barrier normally completes in well
# under a microsecond, but on a busy machine the thread it waits for may need that core.
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


@jit(inline=True)
def _barrier(sync, n_threads, g):
    """The g-th barrier (g = 1, 2, ...) of a run: return once all n_threads have reached it.

    The arrival counter only grows, so barrier g is passed when it reads n_threads · g; no reset
    and no sense flag are needed. The caller zeroes sync[0] before the threads start.
    """
    _atomic_add(sync, 0, 1)
    spins = 0
    while _atomic_load(sync, 0) < n_threads * g:
        spins += 1
        if spins >= SPIN_LIMIT:
            _sched_yield()
