"""``_gemm``: a BLAS GEMM call with α, β and element offsets, usable inside ``@njit`` kernels.

``np.dot(a, b, out)`` in Numba always computes out = a·b (α = 1, β = 0) on array views. The
kernels need more: the SGD step W^[k] ← W^[k] − (lr/B)·Σ φ x̄ᵀ is one GEMM with α = −lr/B and
β = 1 straight into θ (no gradient buffer, no extra pass), and operands addressed as flat
buffers plus an offset (no views, whose reference counting costs tens of ns each).

This calls the same ``numba_xxgemm`` helper that Numba's own ``np.dot`` uses (SciPy's BLAS),
by symbol name, so kernels that use it still go to Numba's on-disk cache.
"""
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
