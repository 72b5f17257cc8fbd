"""BLAS for the kernels: ``_gemm``, a GEMM call with α, β and element offsets usable inside
``@njit`` kernels, and ``ONE_BLAS_THREAD``, the counted hold that keeps that BLAS at one thread.

``np.dot(a, b, out)`` in Numba always computes out = a·b (α = 1, β = 0) on array views. The
kernels need more: the SGD step W^[k] ← W^[k] − (lr/B)·Σ φ x̄ᵀ is one GEMM with α = −lr/B and
β = 1 straight into θ (no gradient buffer, no extra pass), and operands addressed as flat
buffers plus an offset (no views, whose reference counting costs tens of ns each).

It calls the Fortran ``sgemm``/``dgemm`` of the library chosen for this CPU (section "the GEMM
library" below: SciPy's OpenBLAS, the one Numba's own ``np.dot`` uses, or Intel MKL) through a
cell of function pointers named by symbol, so kernels that use it still go to Numba's on-disk
cache and one compiled kernel serves either library.

Mixed precision (``precision="bf16"``, section "bf16" below): ``_gemm_bf16`` calls oneDNN's
``dnnl_gemm_bf16bf16f32`` or Intel MKL's ``cblas_gemm_bf16bf16f32`` (bf16 operands, float32
accumulation and C, chosen per CPU), also by symbol name.
A kernel learns the precision from its ``kernel_path`` argument: an integer for float32, or
the bundle ``(path, θ in bf16, cast buffer A, cast buffer B, library code)``. ``_mm`` is the kernels' one
GEMM call: by that argument's type Numba compiles either the float32 call or the casts plus
the bf16 call, so a float32 kernel contains no bf16 code (and needs no MKL) at all.
"""
import contextlib
import ctypes
import ctypes.util
import functools
import glob
import os
import sys
import threading
from typing import Any

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, overload
from numba.np.linalg import ensure_blas

from ._jit import jit


@intrinsic
def _gemm(typingctx, transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc):
    """Column-major C = α·op(A)·op(B) + β·C, Fortran BLAS semantics.

    transa/transb are ord('n') or ord('t'); a, b, c are 1-D arrays of one float dtype with
    element offsets ao, bo, co; alpha and beta have that dtype. A row-major (r, c) block is the
    column-major (c, r) matrix with leading dimension c. Returns BLAS's status (0 = success).
    """
    if not (isinstance(a, types.Array) and a.dtype in _CELL_SLOT and a.dtype == b.dtype == c.dtype):
        return None
    ensure_blas()
    sig = types.int32(transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc)

    def codegen(context, builder, sig, args):
        ta, tb, m_, n_, k_, al, a_, ao_, lda_, b_, bo_, ldb_, be, c_, co_, ldc_ = args
        char, voidp = ir.IntType(8), cgutils.voidptr_t
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

        # sgemm or dgemm of the library in use: a pointer read from fastnn's cell at each call
        # (Fortran ABI: every argument by address, 32-bit integers); a forward product, ("t",
        # "n") with m and n ≥ TN_MIN, reads the cell's second pair (constant transposes fold
        # the test down to the sizes' at every call site)
        i32 = ir.IntType(32)
        cell = module_cell(builder.module)
        i64 = ir.IntType(64)

        def equals(val, ty, code):
            return builder.icmp_signed("==", context.cast(builder, val, ty, types.int64), ir.Constant(i64, code))

        tn = builder.and_(equals(ta, sig.args[0], ord("t")), equals(tb, sig.args[1], ord("n")))
        for dim, ty in ((m_, sig.args[2]), (n_, sig.args[3])):
            tn = builder.and_(tn, builder.icmp_signed(">=", context.cast(builder, dim, ty, types.int64),
                                                      ir.Constant(i64, TN_MIN)))
        index = builder.select(tn, ir.Constant(i32, _CELL_SLOT[dtype] + 2), ir.Constant(i32, _CELL_SLOT[dtype]))
        slot = builder.gep(cell, [ir.Constant(i32, 0), index])
        fnty = ir.FunctionType(ir.VoidType(), [voidp] * 13)
        fn = builder.bitcast(builder.load(slot), fnty.as_pointer())

        def by_ref(val, llty):
            ref = cgutils.alloca_once(builder, llty)
            builder.store(val, ref)
            return builder.bitcast(ref, voidp)

        def int_ref(val, ty):
            return by_ref(context.cast(builder, val, ty, types.int32), i32)

        def trans_ref(val, ty):
            return by_ref(builder.trunc(context.cast(builder, val, ty, types.intp), char), char)

        s = sig.args
        builder.call(fn, [
            trans_ref(ta, s[0]), trans_ref(tb, s[1]), int_ref(m_, s[2]), int_ref(n_, s[3]), int_ref(k_, s[4]),
            scalar(al, s[5]), ptr(s[6], a_, as_intp(ao_, s[7])), int_ref(lda_, s[8]),
            ptr(s[9], b_, as_intp(bo_, s[10])), int_ref(ldb_, s[11]),
            scalar(be, s[12]), ptr(s[13], c_, as_intp(co_, s[14])), int_ref(ldc_, s[15]),
        ])
        return ir.Constant(i32, 0)

    return sig, codegen


# ------------------------------------------------------------------------------ the GEMM library
# Every float32 and float64 product of fit and predict goes to a library's Fortran sgemm or
# dgemm, through a cell of function pointers (symbol ``fastnn_gemm``) that ``_gemm`` reads at
# each call: (sgemm, dgemm) for every product, then (sgemm, dgemm) for the forward products
# z̄ᵀ = op(W)·x̄ᵀ, ("t", "n"), of m ≥ TN_MIN output units and n ≥ TN_MIN rows. One compiled
# kernel serves every choice, from Numba's on-disk cache too, and the choice can change without
# a recompile (``use_gemm``):
#   "openblas"      SciPy's OpenBLAS: the sgemm Numba's own np.dot reaches (numba_xxgemm)
#   "mkl"           Intel MKL (PyPI's mkl: ``pip install "fastnn[mkl]"``) at its sequential
#                   layer, with conditional numerical reproducibility on (MKL_CBWR AUTO,STRICT)
#   "openblas+mkl"  OpenBLAS, and MKL for the forward products of 32 units and 32 rows or more
# Which one runs is chosen per CPU from what was measured on one thread (fastnn's threads each
# run their own GEMMs), never by timing at run time, so a seeded fit never depends on it.
# float32, GFLOP/s MKL / OpenBLAS's (`python scripts/gemm_libs.py --threads 1`):
#   Intel Xeon with AVX-512 (and AMX; issue 22's machine, MKL 2026.2): 4096³ 1.11×,
#     128×784×512 (an mnist layer) 1.23×, 256×2048×2048 (a large layer) 1.15×: "mkl"
#   AMD EPYC Zen 4 (AVX-512): 2048³ 0.91×, 128×784×512 1.02×, 256×2048×2048 0.94×,
#     64×256×256 1.14×, 32×64×64 0.59×, 32³ 0.75× (MKL's small-product path is slow there).
#     But OpenBLAS runs the forward's ("t", "n") form of a small product at about 60% of its
#     other forms (its small-matrix kernel for it is slower, and from 64 units it packs W
#     each call), where MKL runs every form alike. One thread, GFLOP/s, m × n × k ("t", "n"):
#     OpenBLAS / MKL 64×32×64 67 / 86, 64×32×16 58 / 82, 32×32×32 55 / 79, 32×32×8 43 / 55,
#     256×64×256 86 / 98, 512×128×784 95 / 98, 2048×256×2048 92 / 94, but 10×128×256 46 / 21
#     and 1×32×64 45 / 27 (MKL is slow below 32 units), 64×16×64 73 / 76 and 64×8×64 72 / 63
#     (and below 32 rows, a two-thread split's half batch). Epochs, one process, the two
#     interleaved over 15 rounds (median): small 0.92×, deep on one thread 0.90×, medium
#     0.95×, mnist 0.99× the time: "openblas+mkl"
#   any other CPU (not measured): "openblas"
# FASTNN_GEMM=openblas|mkl|openblas+mkl overrides. Where MKL is not installed, OpenBLAS runs
# (``gemm_library()`` tells which one runs). They give the same products to float32 rounding,
# not bit for bit: they block and sum the k terms in other orders.
GEMM_LIBRARIES = ("openblas", "mkl", "openblas+mkl")
TN_MIN = 32  # a ("t", "n") product with m and n at least this goes to the cell's second pair
MKL_EXTRA = 'pip install "fastnn[mkl]"'
_CELL_SYMBOL = "fastnn_gemm"
_CELL_SLOT = {types.float32: 0, types.float64: 1}
_CELL = (ctypes.c_void_p * 4)()  # (sgemm, dgemm) for every product, then for the forward ones
_IN_USE = ["openblas"]


def module_cell(module: ir.Module) -> ir.GlobalVariable:
    """The cell, declared in an LLVM module (resolved when the kernel is linked or loaded)."""
    gv = module.globals.get(_CELL_SYMBOL)
    if gv is None:
        gv = ir.GlobalVariable(module, ir.ArrayType(cgutils.voidptr_t, 4), _CELL_SYMBOL)
        gv.linkage = "external"
    return gv


def _cpu_vendor() -> str:
    """The CPU's vendor string ("GenuineIntel", "AuthenticAMD", ...), or "" where unknown."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _forced(variable: str, choices: tuple[str, ...], unset: str = "choose by CPU") -> str:
    """The choice the environment variable names ("" when unset); ValueError for another value,
    whose fix says what unsetting it does (``unset``)."""
    forced = os.environ.get(variable, "").strip().lower()
    if forced and forced not in choices:
        raise ValueError(f"{variable} must be one of {list(choices)}, got {forced!r}; unset it to {unset}")
    return forced


def gemm_order() -> tuple[str, ...]:
    """The GEMM libraries to try on this CPU, best first (the table above), or the one
    FASTNN_GEMM names; ValueError for another value of it."""
    forced = _forced("FASTNN_GEMM", GEMM_LIBRARIES)
    if forced:
        return (forced, "openblas") if "mkl" in forced else (forced,)
    avx512 = _cpu_features().get("avx512f", False)
    if _cpu_vendor() == "GenuineIntel" and avx512:
        return ("mkl", "openblas")
    if _cpu_vendor() == "AuthenticAMD" and avx512:
        return ("openblas+mkl", "openblas")
    return ("openblas",)


def gemm_library() -> str:
    """The library fastnn's float32 and float64 products run on here: "openblas" (SciPy's),
    "mkl" (Intel MKL), or "openblas+mkl" (OpenBLAS, and MKL for the forward products
    W^[k] x̄^[k−1] of layers of 32 units or more), chosen per CPU from measurements;
    ``FASTNN_GEMM=openblas|mkl|openblas+mkl``, set before fastnn is imported, overrides (MKL
    needs ``pip install "fastnn[mkl]"``).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.gemm_library() in ("openblas", "mkl", "openblas+mkl")
    True
    """
    return _IN_USE[0]


def use_gemm(name: str) -> str:
    """Point the kernels' products at ``name`` (one of GEMM_LIBRARIES); returns the choice
    used before. OSError when MKL is missing. Not for use while another thread runs a kernel."""
    if name not in GEMM_LIBRARIES:
        raise ValueError(f"GEMM library must be one of {list(GEMM_LIBRARIES)}, got {name!r}")
    every, _, forward = name.partition("+")  # ("openblas+mkl": the forward products' library last)
    _CELL[:] = [*_gemm_functions(every), *_gemm_functions(forward or every)]
    before, _IN_USE[0] = _IN_USE[0], name
    return before


@functools.cache
def _gemm_functions(name: str) -> tuple[int, int]:
    """(sgemm, dgemm) addresses of a library, loaded and set up; OSError if missing."""
    if name == "openblas":
        from ._compat import cython_blas_function

        return cython_blas_function("sgemm"), cython_blas_function("dgemm")
    lib = _mkl()
    return _address(lib.sgemm_), _address(lib.dgemm_)


def _init_gemm() -> None:
    """At import: the cell known to Numba's linker, pointing at this CPU's library."""
    import llvmlite.binding as ll

    ll.add_symbol(_CELL_SYMBOL, ctypes.addressof(_CELL))
    for name in gemm_order():
        try:
            use_gemm(name)
            return
        except OSError:
            continue


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


# ------------------------------------------------------------------------------ bf16
# bf16 is float32's upper 16 bits: its sign, 8-bit exponent and 7 of 23 mantissa bits (a
# relative rounding error of at most 2^-9). Kept as uint16 (MKL's MKL_BF16, oneDNN's uint16_t).
#
# Two libraries run bf16 GEMMs with float32 accumulation, each called by symbol name:
#   "onednn"  oneDNN's dnnl_gemm_bf16bf16f32 (PyPI's onednn-cpu-gomp: GNU OpenMP, which the
#             call keeps at one thread); row-major
#   "mkl"     Intel MKL's cblas_gemm_bf16bf16f32 (PyPI's mkl), set to its sequential layer
# Which one runs is chosen per CPU from what was measured (one thread, GFLOP/s; fastnn's threads
# each run their own GEMMs), never by timing at run time, so a seeded fit never depends on it:
#   AMX-BF16 (Intel Xeon, Sapphire Rapids on; issue 23's machine): MKL 630-878 against
#     float32 sgemm's 165-183 (MKL uses AMX's tiles): "mkl" first
#   AVX512_BF16 without AMX (AMD EPYC Zen 4, `python scripts/gemm_libs.py --bf16`): oneDNN
#     191-211 against MKL's 78-89 (MKL's bf16 path makes no use of Zen 4's dot products) and
#     OpenBLAS sgemm's 96-107: "onednn" first
# The first of the CPU's order that is installed runs; FASTNN_BF16_GEMM=mkl|onednn overrides.
BF16_CPU_FEATURES = ("avx512bf16", "amx-bf16")  # LLVM's names for AVX512_BF16 and AMX-BF16
BF16_LIBRARIES = ("onednn", "mkl")  # the bundle's library code is the index
BF16_EXTRA = 'pip install "fastnn[bf16]"'
_CBLAS_COL_MAJOR, _CBLAS_NO_TRANS, _CBLAS_TRANS = 102, 111, 112
_MKL_THREADING_SEQUENTIAL = 1
_MKL_INTERFACE_LP64 = 0
_MKL_CBWR_AUTO, _MKL_CBWR_STRICT = 2, 0x10000  # conditional numerical reproducibility
_MISSING = -1  # a library's status code from a stand-in (``_stand_ins``)


def _lib_paths(pattern: str, name: str) -> list[str]:
    """Where a library may be: this environment's lib folder (a PyPI wheel's data files), then
    the system's search path."""
    paths = sorted(glob.glob(os.path.join(sys.prefix, "lib", pattern)))
    found = ctypes.util.find_library(name)
    return paths + ([found] if found else [])


def _mkl_paths() -> list[str]:
    return _lib_paths("libmkl_rt.so*", "mkl_rt")


def _onednn_paths() -> list[str]:
    return _lib_paths("libdnnl.so*", "dnnl")


def _cpu_features() -> dict[str, bool]:
    import llvmlite.binding as ll

    return dict(ll.get_host_cpu_features())


def bf16_order() -> tuple[str, ...]:
    """The bf16 GEMM libraries to try on this CPU, best first (the table above), or the one
    FASTNN_BF16_GEMM names; ValueError for another value of it."""
    forced = _forced("FASTNN_BF16_GEMM", BF16_LIBRARIES)
    if forced:
        return (forced,)
    return ("mkl", "onednn") if _cpu_features().get("amx-bf16", False) else ("onednn", "mkl")


def bf16_missing() -> str | None:
    """Why ``precision="bf16"`` cannot run on this machine (what is missing and how to get it),
    or None when it can: the CPU needs AVX512_BF16 or AMX-BF16, and a bf16 GEMM library, oneDNN
    or Intel MKL (``pip install "fastnn[bf16]"`` brings both).

    Examples
    --------
    >>> import fastnn
    >>> why = fastnn.bf16_missing()
    >>> why is None or isinstance(why, str)
    True
    """
    import llvmlite.binding as ll

    features = _cpu_features()
    if not any(features.get(f, False) for f in BF16_CPU_FEATURES):
        return (f"this CPU ({ll.get_host_cpu_name()}) has neither AVX512_BF16 nor AMX-BF16, the bf16 "
                "instructions; use precision='float32' here")
    try:
        bf16_library()
    except OSError as e:
        return f"{e}"
    return None


def bf16_library() -> str:
    """The bf16 GEMM library fit uses here ("onednn" or "mkl"), loaded; OSError naming what
    to install when none of this CPU's order is."""
    order = bf16_order()
    for name in order:
        try:
            _load(name)
            return name
        except OSError:
            continue
    names = " or ".join({"onednn": "oneDNN (onednn-cpu-gomp)", "mkl": "Intel MKL (mkl)"}[n] for n in order)
    raise OSError(f"no bf16 GEMM library was found: {names} is needed; {BF16_EXTRA}")


def require_bf16(what: str = "precision") -> None:
    """ValueError naming ``what`` and what is missing, unless bf16 GEMMs can run here."""
    missing = bf16_missing()
    if missing is not None:
        raise ValueError(f"{what}='bf16' cannot run here: {missing}")


@functools.cache
def _load(name: str) -> int:
    """Load one bf16 GEMM library (OSError if missing) and set it up for the kernels (``_symbols``).
    Every symbol the kernels' bf16 call names is then known to Numba's linker: both libraries'
    where both are installed (a kernel links them once, so a later switch of library, e.g. by
    FASTNN_BF16_GEMM, must find the real ones already there), else a stand-in for the missing
    one's (which that call never reaches). Returns the library's code (its index in
    BF16_LIBRARIES)."""
    import llvmlite.binding as ll

    symbols = dict(_symbols(name))
    for other in BF16_LIBRARIES:
        if other != name:
            try:
                symbols.update(_symbols(other))
            except OSError:
                pass
    for symbol, address in {**_stand_ins(), **symbols}.items():
        if symbol in symbols or ll.address_of_symbol(symbol) is None:
            ll.add_symbol(symbol, address)
    return BF16_LIBRARIES.index(name)


@functools.cache
def _symbols(name: str) -> dict[str, int]:
    """One library loaded and set up, its kernel symbols' addresses; OSError if missing. MKL as
    ``_mkl`` sets it up; oneDNN's OpenMP is held at one thread by each call (the kernels call
    omp_set_num_threads around it)."""
    if name == "mkl":
        try:
            fn = _address(_mkl().cblas_gemm_bf16bf16f32)
        except (OSError, AttributeError):
            raise OSError(f"Intel MKL with cblas_gemm_bf16bf16f32 was not found: {BF16_EXTRA}") from None
        return {"cblas_gemm_bf16bf16f32": fn}
    _, fn = _open(_onednn_paths(), "dnnl_gemm_bf16bf16f32", "oneDNN with dnnl_gemm_bf16bf16f32", BF16_EXTRA)
    omp = ctypes.CDLL("libgomp.so.1")  # (the OpenMP the wheel's libdnnl is linked to)
    return {"dnnl_gemm_bf16bf16f32": fn,
            **{f: _address(getattr(omp, f)) for f in ("omp_get_max_threads", "omp_set_num_threads")}}


def _open(paths: list[str], symbol: str, what: str, extra: str) -> tuple[ctypes.CDLL, int]:
    """The first of ``paths`` that loads and has ``symbol``, and that symbol's address; OSError
    naming ``what`` and the install command ``extra`` when none does."""
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            return lib, _address(getattr(lib, symbol))
        except (OSError, AttributeError):
            continue
    raise OSError(f"{what} was not found: {extra}")


@functools.cache
def _mkl() -> ctypes.CDLL:
    """Intel MKL, loaded and set up once for both of fastnn's uses (float32/float64 GEMMs and
    bf16's); OSError if missing. 32-bit integers (its LP64 interface, whatever
    MKL_INTERFACE_LAYER says), its sequential layer (fastnn's threads each run their own
    GEMMs), conditional numerical reproducibility on: the same bits on every run on one CPU,
    whatever the buffers' alignment."""
    lib, _ = _open(_mkl_paths(), "MKL_CBWR_Set", "Intel MKL", MKL_EXTRA)
    for fn in (lib.MKL_Set_Interface_Layer, lib.MKL_Set_Threading_Layer, lib.MKL_CBWR_Set):
        fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_int]
    lib.MKL_Set_Interface_Layer(_MKL_INTERFACE_LP64)  # (before any other MKL call)
    if lib.MKL_Set_Threading_Layer(_MKL_THREADING_SEQUENTIAL) != _MKL_THREADING_SEQUENTIAL:
        lib.MKL_Set_Num_Threads.argtypes = [ctypes.c_int]  # (MKL already in use with threads)
        lib.MKL_Set_Num_Threads(1)
    lib.MKL_CBWR_Set(_MKL_CBWR_AUTO | _MKL_CBWR_STRICT)
    return lib


_STAND_INS: list[Any] = []  # the ctypes callbacks, kept alive


def _stand_ins() -> dict[str, int]:
    """Addresses for the symbols of the library not loaded: its GEMM reports failure (the
    kernels raise), the OpenMP calls do nothing."""
    if not _STAND_INS:
        i64, f32, vp, c = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p, ctypes.c_char
        _STAND_INS.extend([
            ("dnnl_gemm_bf16bf16f32", ctypes.CFUNCTYPE(ctypes.c_int, c, c, i64, i64, i64, f32, vp, i64, vp, i64,
                                                       f32, vp, i64)(lambda *a: _MISSING)),
            ("cblas_gemm_bf16bf16f32", ctypes.CFUNCTYPE(None, *[ctypes.c_int] * 6, f32, vp, ctypes.c_int, vp,
                                                        ctypes.c_int, f32, vp, ctypes.c_int)(lambda *a: None)),
            ("omp_get_max_threads", ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 1)),
            ("omp_set_num_threads", ctypes.CFUNCTYPE(None, ctypes.c_int)(lambda n: None)),
        ])
    return {name: _address(fn) for name, fn in _STAND_INS}


def _address(fn: Any) -> int:
    """A ctypes function's address (never NULL: ctypes raises for a missing symbol first)."""
    address = ctypes.cast(fn, ctypes.c_void_p).value
    assert address is not None
    return address


@intrinsic
def _gemm_bf16(typingctx, lib, transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc):
    """``_gemm`` with bf16 operands (uint16 arrays a, b) and float32 α, β, C, products summed in
    float32, by the library whose code is ``lib`` (BF16_LIBRARIES): oneDNN's
    dnnl_gemm_bf16bf16f32 (row-major: the column-major C = op(A)·op(B) is the row-major
    Cᵀ = op(B)ᵀ·op(A)ᵀ; OpenMP held at one thread for the call) or MKL's
    cblas_gemm_bf16bf16f32 (column-major). Returns the library's status (0 = success)."""
    u16 = types.uint16
    if not (isinstance(a, types.Array) and a.dtype == u16 == b.dtype and c.dtype == types.float32):
        return None
    sig = types.int32(lib, transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc)

    def codegen(context, builder, sig, args):
        lb, ta, tb, m_, n_, k_, al, a_, ao_, lda_, b_, bo_, ldb_, be, c_, co_, ldc_ = args
        i8, i32, i64, f32, voidp = ir.IntType(8), ir.IntType(32), ir.IntType(64), ir.FloatType(), cgutils.voidptr_t
        s = sig.args[1:]

        def ptr(aryty, ary, off, ty):
            data = context.make_array(aryty)(context, builder, ary).data
            return builder.bitcast(builder.gep(data, [context.cast(builder, off, ty, types.intp)]), voidp)

        def num(val, ty, to):
            return context.cast(builder, val, ty, to)

        A, B, C = ptr(s[6], a_, ao_, s[7]), ptr(s[9], b_, bo_, s[10]), ptr(s[13], c_, co_, s[14])
        alpha_, beta_ = num(al, s[5], types.float32), num(be, s[12], types.float32)
        status = cgutils.alloca_once_value(builder, ir.Constant(i32, 0))
        is_onednn = builder.icmp_signed("==", num(lb, sig.args[0], types.int64),
                                        ir.Constant(i64, BF16_LIBRARIES.index("onednn")))
        with builder.if_else(is_onednn) as (onednn, mkl):
            with onednn:
                get = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i32, []), "omp_get_max_threads")
                put = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i32]),
                                                     "omp_set_num_threads")
                fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
                    i32, [i8, i8, i64, i64, i64, f32, voidp, i64, voidp, i64, f32, voidp, i64]),
                    "dnnl_gemm_bf16bf16f32")
                threads = builder.call(get, [])
                builder.call(put, [ir.Constant(i32, 1)])
                builder.store(builder.call(fn, [
                    builder.trunc(num(tb, s[1], types.int64), i8), builder.trunc(num(ta, s[0], types.int64), i8),
                    num(n_, s[3], types.int64), num(m_, s[2], types.int64), num(k_, s[4], types.int64), alpha_,
                    B, num(ldb_, s[11], types.int64), A, num(lda_, s[8], types.int64), beta_,
                    C, num(ldc_, s[15], types.int64)]), status)
                builder.call(put, [threads])
            with mkl:
                def trans(val, ty):  # ord('n') / ord('t') → CblasNoTrans / CblasTrans
                    t = num(val, ty, types.int32)
                    return builder.select(builder.icmp_signed("==", t, ir.Constant(i32, ord("t"))),
                                          ir.Constant(i32, _CBLAS_TRANS), ir.Constant(i32, _CBLAS_NO_TRANS))

                fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [
                    i32, i32, i32, i32, i32, i32, f32, voidp, i32, voidp, i32, f32, voidp, i32]),
                    "cblas_gemm_bf16bf16f32")
                builder.call(fn, [
                    ir.Constant(i32, _CBLAS_COL_MAJOR), trans(ta, s[0]), trans(tb, s[1]),
                    num(m_, s[2], types.int32), num(n_, s[3], types.int32), num(k_, s[4], types.int32),
                    alpha_, A, num(lda_, s[8], types.int32), B, num(ldb_, s[11], types.int32),
                    beta_, C, num(ldc_, s[15], types.int32)])
        return builder.load(status)

    return sig, codegen


@jit
def to_bf16(src, so, ld, rows, cols, dst, do):
    """Pack the column-major (rows × cols) block of float32 ``src`` at offset so, leading
    dimension ld, into bf16 ``dst`` at offset do (leading dimension rows), rounding to nearest
    even; NaN stays NaN, and values beyond bf16's range round to ±Inf (as PyTorch's cast)."""
    bits = src.view(np.uint32)
    u32 = np.uint32  # every step kept in 32 bits (Numba would widen to 64: 10x slower, measured)
    # (uint64 indices: a signed one adds a negative-index select per access, no vector loads)
    so, ld, rows, cols, do = np.uint64(so), np.uint64(ld), np.uint64(rows), np.uint64(cols), np.uint64(do)
    for j in range(cols):
        s, d = so + j * ld, do + j * rows
        for i in range(rows):
            u = u32(bits[s + i])
            r = u32(u + u32(0x7FFF) + ((u >> u32(16)) & u32(1))) >> u32(16)
            nan = u32(u & u32(0x7FFFFFFF)) > u32(0x7F800000)
            dst[d + i] = np.uint16(u32(u >> u32(16)) | u32(0x40)) if nan else np.uint16(r)


def _path(kernel_path):
    """The kernel path code of a kernels' ``kernel_path`` argument (an integer, or bf16's bundle)."""


def _kp(kernel_path):
    """``kernel_path`` as the kernels pass it on: an int64 (not a literal: see ``_kernels._i``),
    or bf16's bundle as it is."""


def _mm(kernel_path, transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc, a_is_w, b_is_w):
    """The kernels' GEMM: ``_gemm`` in float32; with bf16's bundle, the operands that are not W
    (``a_is_w``/``b_is_w``: read from the bundle's bf16 θ at the same offset) are cast into the
    bundle's buffers, then ``_gemm_bf16``. Returns BLAS's status."""


def _fresh_w(kernel_path, theta, wo, n):
    """With bf16's bundle: θ[wo : wo + n] (rows of a W just stepped) cast into the bf16 θ."""


@overload(_path, inline="always")
def _path_impl(kernel_path):
    if isinstance(kernel_path, types.Integer):
        return lambda kernel_path: kernel_path
    return lambda kernel_path: kernel_path[0]


@overload(_kp, inline="always")
def _kp_impl(kernel_path):
    if isinstance(kernel_path, types.Integer):
        return lambda kernel_path: np.int64(kernel_path)
    return lambda kernel_path: kernel_path


@overload(_mm)
def _mm_impl(kernel_path, transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc, a_is_w,
             b_is_w):
    if isinstance(kernel_path, types.Integer):
        def f32(kernel_path, transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc, a_is_w,
                b_is_w):
            return _gemm(transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc)
        return f32

    def bf16(kernel_path, transa, transb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc, a_is_w,
             b_is_w):
        hw, ua, ub, lib = kernel_path[1], kernel_path[2], kernel_path[3], kernel_path[4]
        # op(A) is m × k, op(B) k × n
        A, a0, la = _operand(a, ao, lda, transa, m, k, a_is_w, hw, ua)
        B, b0, lb = _operand(b, bo, ldb, transb, k, n, b_is_w, hw, ub)
        return _gemm_bf16(lib, transa, transb, m, n, k, alpha, A, a0, la, B, b0, lb, beta, c, co, ldc)
    return bf16


@jit(inline=True)
def _operand(x, xo, ld, trans, r, c, is_w, hw, buf):
    """(bf16 array, offset, leading dimension) of a GEMM operand op(X) of r × c: a W read from the
    bf16 θ ``hw`` at its own offset, or X's block (stored r × c, or c × r when transposed,
    column-major) cast into ``buf``."""
    if is_w:
        return hw, np.int64(xo), np.int64(ld)
    rows, cols = (np.int64(r), np.int64(c)) if trans == ord("n") else (np.int64(c), np.int64(r))
    to_bf16(x, np.int64(xo), np.int64(ld), rows, cols, buf, 0)
    return buf, np.int64(0), rows


@overload(_fresh_w)
def _fresh_w_impl(kernel_path, theta, wo, n):
    if isinstance(kernel_path, types.Integer):
        return lambda kernel_path, theta, wo, n: None

    def cast(kernel_path, theta, wo, n):
        to_bf16(theta, np.int64(wo), np.int64(n), np.int64(n), np.int64(1), kernel_path[1], np.int64(wo))
    return cast


_init_gemm()
