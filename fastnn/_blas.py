"""BLAS for the kernels: ``_gemm``, a GEMM call with α, β and element offsets usable inside
``@njit`` kernels, and ``ONE_BLAS_THREAD``, the counted hold that keeps that BLAS at one thread.

``np.dot(a, b, out)`` in Numba always computes out = a·b (α = 1, β = 0) on array views. The
kernels need more: the SGD step W^[k] ← W^[k] − (lr/B)·Σ φ x̄ᵀ is one GEMM with α = −lr/B and
β = 1 straight into θ (no gradient buffer, no extra pass), and operands addressed as flat
buffers plus an offset (no views, whose reference counting costs tens of ns each).

This calls the same ``numba_xxgemm`` helper that Numba's own ``np.dot`` uses (SciPy's BLAS),
by symbol name, so kernels that use it still go to Numba's on-disk cache.
"""
import contextlib
import os
import threading

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.linalg import ensure_blas

_KIND = {types.float32: ord("s"), types.float64: ord("d")}


@intrinsic
def _gemm(typingctx, transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc):
    """Column-major C = α·op(A)·op(B) + β·C, Fortran BLAS semantics.

    transa/transb are ord('n') or ord('t'); a, b, c are 1-D arrays of one float dtype with
    element offsets ao, bo, co; alpha and beta have that dtype. A row-major (r, c) block is the
    column-major (c, r) matrix with leading dimension c. Returns BLAS's status (0 = success).
    """
    if not (isinstance(a, types.Array) and a.dtype in _KIND and a.dtype == b.dtype == c.dtype):
        return None
    ensure_blas()
    sig = types.int32(transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc)

    def codegen(context, builder, sig, args):
        ta, tb, m_, n_, k_, al, a_, ao_, lda_, b_, bo_, ldb_, be, c_, co_, ldc_ = args
        char, intp, voidp = ir.IntType(8), context.get_value_type(types.intp), cgutils.voidptr_t
        dtype = sig.args[6].dtype
        ll_dtype = context.get_value_type(dtype)

        def ptr(aryty, ary, off):
            data = context.make_array(aryty)(context, builder, ary).data
            return builder.bitcast(builder.gep(data, [off]), voidp)

        def scalar(val, ty):
            slot = cgutils.alloca_once(builder, ll_dtype)
            builder.store(context.cast(builder, val, ty, dtype), slot)
            return builder.bitcast(slot, voidp)

        def as_intp(val, ty):
            return context.cast(builder, val, ty, types.intp)

        fnty = ir.FunctionType(ir.IntType(32), [char, char, char, intp, intp, intp, voidp, voidp,
                                                intp, voidp, intp, voidp, voidp, intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        s = sig.args
        return builder.call(fn, [
            ir.Constant(char, _KIND[dtype]),
            builder.trunc(as_intp(ta, s[0]), char), builder.trunc(as_intp(tb, s[1]), char),
            as_intp(m_, s[2]), as_intp(n_, s[3]), as_intp(k_, s[4]),
            scalar(al, s[5]), ptr(s[6], a_, as_intp(ao_, s[7])), as_intp(lda_, s[8]),
            ptr(s[9], b_, as_intp(bo_, s[10])), as_intp(ldb_, s[11]),
            scalar(be, s[12]), ptr(s[13], c_, as_intp(co_, s[14])), as_intp(ldc_, s[15]),
        ])

    return sig, codegen


# ------------------------------------------------------------------------------ one BLAS thread
# OpenBLAS threads a GEMM of 2^18 multiply-adds or more (GEMM_MULTITHREAD_THRESHOLD); below
# 2^16 (a margin for other BLAS builds), predict skips the hold.
BLAS_THREADED_MIN_WORK = 1 << 16

# OpenBLAS's thread-count calls carry a symbol prefix and suffix in some builds: "scipy_" in
# SciPy's scipy-openblas wheels, "64_"/"_64" in ILP64 builds (the affixes threadpoolctl tries).
_OPENBLAS_AFFIXES = [(pre, suf) for pre in ("", "scipy_") for suf in ("", "64_", "_64")]


def openblas_thread_calls(controller):
    """(get_num_threads, set_num_threads) of the OpenBLAS a threadpoolctl controller found,
    looked up in its ``dynlib`` (public: threadpoolctl documents it as the library's ctypes
    handle), or None when neither affixed name is there."""
    for pre, suf in _OPENBLAS_AFFIXES:
        get = getattr(controller.dynlib, f"{pre}openblas_get_num_threads{suf}", None)
        put = getattr(controller.dynlib, f"{pre}openblas_set_num_threads{suf}", None)
        if get is not None and put is not None:
            return get, put
    return None


class OneBlasThread:
    """``with ONE_BLAS_THREAD:`` the BLAS the kernels call (SciPy's) runs single-threaded inside.

    Counted across threads: the first caller in sets one thread and the last one out restores
    the count it found, so fits and predicts in several threads at once never undo each other's
    hold. For OpenBLAS with its own thread pool (SciPy's wheels) the count is set by a direct
    call, about 1 µs in and out; any other BLAS goes through threadpoolctl (about 12 µs).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._inside = 0
        self._found = False
        self._libs = None  # [(get_num_threads, set_num_threads)], or None: threadpoolctl's
        self._controller = None
        self._restore = None

    def _find(self):
        import scipy.linalg.cython_blas  # noqa: F401  (load the BLAS the kernels call first)
        from threadpoolctl import ThreadpoolController

        blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        # NumPy brings its own OpenBLAS, which the kernels never call: prefer SciPy's.
        ours = [c for c in blas if "scipy" in os.path.basename(os.path.dirname(c.filepath))] or blas
        try:  # a controller's dynlib: threadpoolctl 3.2 on
            if ours and all(c.internal_api == "openblas" and c.threading_layer != "openmp" for c in ours):
                libs = [openblas_thread_calls(c) for c in ours]
                if all(libs):
                    self._libs = libs
        except AttributeError:
            pass
        if self._libs is None:
            self._controller = ThreadpoolController()
        self._found = True

    def __enter__(self):
        with self._lock:
            if not self._inside:
                if not self._found:
                    self._find()
                if self._libs is not None:
                    self._restore = [(put, get()) for get, put in self._libs]
                    for put, _ in self._restore:
                        put(1)
                else:
                    self._restore = self._controller.limit(limits=1, user_api="blas")
            self._inside += 1
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._inside -= 1
            if not self._inside:
                if self._libs is not None:
                    for put, n in self._restore:
                        put(n)
                else:
                    self._restore.restore_original_limits()
                self._restore = None
        return False


ONE_BLAS_THREAD = OneBlasThread()
_NO_HOLD = contextlib.nullcontext()


def blas_hold(product_work):
    """ONE_BLAS_THREAD for a call whose largest product has ``product_work`` multiply-adds, or a
    no-op (BLAS_THREADED_MIN_WORK: below, BLAS never threads a product, so no hold is needed)."""
    return ONE_BLAS_THREAD if product_work >= BLAS_THREADED_MIN_WORK else _NO_HOLD
