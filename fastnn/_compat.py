"""Every use of another library's private internals, each behind a version check with a fallback.

No other fastnn module touches a private name of another library. Each use below names the
versions it was checked on; on any other version the fallback runs, which gives the same
results (tests/test_compat.py and, for Numba, tests/test_startup.py force each fallback and
compare):

- Numba 0.60-0.68, its cache loader (``load_lightly``): a cached kernel loads without Numba's
  whole-registry set-up. Fallback: plain ``njit`` dispatchers (the same machine code, loaded
  after the usual set-up).
- CPython 3.10-3.14, ``_signal`` (``signals``): signal's C module without the enum wrappers.
  Fallback: ``signal``.
- scikit-learn 1.6-1.9, ``sklearn.utils._param_validation`` (``sklearn_param_validation``): the
  estimators' declarative parameter checks, which scikit-learn's own estimator checks expect.
  Fallback: copies of the parts the estimators use, with the same checks and messages.

- SciPy 1.x, ``scipy.linalg.cython_blas.__pyx_capi__`` (``cython_blas_function``): the address
  of its BLAS ``sgemm``/``dgemm`` (what Numba's own GEMM helper reads), for the kernels' GEMM
  cell (``_blas``). No fallback: SciPy's BLAS is what the kernels call.

Two neighbours use public API only and live here because they stand in for private code:
``import_cython_blas`` (scipy.linalg loaded lazily, the start-up half of the light load) and
``check_sample_weight`` (scikit-learn's private ``_check_sample_weight``, rewritten on
``check_array``). threadpoolctl's private affix lookup is gone: ``_blas`` finds OpenBLAS's
thread-count calls itself, through the controller's public ``dynlib``.
"""
from __future__ import annotations

import ctypes
import functools
import importlib.machinery
import importlib.util
import math
import numbers
import os
import re
import signal
import sys
import threading
import types

import numba
import numpy as np


def release(version: str) -> tuple[int, int]:
    """(major, minor) of a version string: (0, 68) from '0.68.1', '0.68.0rc1' or '0.69.0.dev0+3';
    (0, 0) when it starts otherwise."""
    m = re.match(r"(\d+)\.(\d+)", version)
    return (int(m[1]), int(m[2])) if m else (0, 0)


# ------------------------------------------------------------------------------ Numba
# Start-up (issue 13). The first call of any Numba function, even one found in the on-disk
# cache, makes Numba import and register every implementation it has (target_context.refresh:
# ~100 modules, and numba.np.arraymath's BLAS check imports all of scipy.linalg) and scan the
# installed packages' entry points for extensions. A cached kernel needs none of it: its machine
# code is loaded and linked against symbols Numba installs when its CPU target starts (C math,
# helpers) plus the NRT's C entry points, which _load_cached installs. So fastnn's dispatchers
# load a cached overload without that set-up (the first fit of `small` in a new process: 0.33 ->
# 0.04-0.07 s, scripts/peers/startup.py). On a cache miss they do the full set-up and compile as
# usual (Numba's compiler refreshes the context itself).
# Private names used: Dispatcher._cache, ._compilation_chain_init_hook; Cache._load_overload,
# ._guard_against_spurious_io_errors (Cache.load_overload is refresh + these two);
# numba.core.runtime._nrt_python.c_helpers (what NRT.initialize registers); entrypoints.init_all
# (what the hook does). Read unchanged in Numba's sources from 0.60.0 to 0.67.0 and on its main
# branch after 0.68; the tests run on 0.68.
NUMBA_LIGHT_LOAD = (0, 60) <= tuple(numba.version_info.short) <= (0, 68)


def load_lightly(dispatcher):
    """``dispatcher`` (a ``numba.njit`` result), set to load cached overloads without Numba's
    whole-registry set-up (compiling still gets it); unchanged on Numba versions not checked,
    and under NUMBA_DISABLE_JIT (where it is a plain function)."""
    if NUMBA_LIGHT_LOAD and hasattr(dispatcher, "_cache"):
        dispatcher._cache.load_overload = functools.partial(_load_cached, dispatcher._cache)
        dispatcher._compilation_chain_init_hook = _no_set_up
    return dispatcher


def _no_set_up():
    """The entry-point scan is deferred to a cache miss (``_load_cached``)."""


def _load_cached(cache, sig, target_context):
    """``Cache.load_overload`` without ``target_context.refresh()``: the compiled overload for
    ``sig`` from disk, or None (then Numba compiles it, after the set-up done here)."""
    from numba.core import entrypoints

    _nrt_symbols()
    import_cython_blas()
    cres = None
    with cache._guard_against_spurious_io_errors():
        cres = cache._load_overload(sig, target_context)
    if cres is None:
        entrypoints.init_all()  # what the skipped _compilation_chain_init_hook does
    return cres


@functools.cache
def _nrt_symbols():
    """The NRT's C entry points, as ``rtsys.initialize`` installs them. A cached kernel needs
    only these: the NRT's own LLVM functions (NRT_incref, ...) are linked into every compiled
    library, so the NRT module ``rtsys.initialize`` compiles (~40 ms) is left to a compile."""
    import llvmlite.binding as ll
    from numba.core.runtime import _nrt_python as _nrt

    for name, address in _nrt.c_helpers.items():
        ll.add_symbol(name if name.startswith("_") else "NRT_" + name, address)


# ------------------------------------------------------------------------------ SciPy
class _LazyPackage(types.ModuleType):
    """A package whose ``__init__`` runs on the first read of any attribute, by one thread while
    the others wait for it. (``importlib.util.LazyLoader`` does the same without the wait on the
    Pythons before the fix of CPython gh-114763: a second thread could find the package half
    run and miss a name.) State: ``__spec__.loader_state``, a lock and a running flag."""

    def __getattribute__(self, name):
        get = types.ModuleType.__getattribute__
        spec = get(self, "__spec__")
        state = spec.loader_state
        with state["lock"]:
            # The running thread's own reads while __init__ runs see the package as it is so
            # far, like any package being imported.
            if type(self) is _LazyPackage and not state["running"]:
                state["running"] = True
                try:
                    spec.loader.exec_module(self)
                finally:
                    state["running"] = False
                self.__class__ = types.ModuleType
        return get(self, name)


@functools.cache
def import_cython_blas():
    """Import ``scipy.linalg.cython_blas`` (where Numba's GEMM helper finds BLAS, and fastnn's GEMM
    cell OpenBLAS's sgemm/dgemm: ``cython_blas_function``, at fastnn's import) with its package
    ``scipy.linalg`` loaded lazily: running ``scipy/linalg/__init__.py`` takes 0.2-0.3 s (SciPy's
    array-API set-up imports numpy.f2py and charset_normalizer, among others) for nothing a
    kernel uses.

    Numba's C helper imports the module by name on the first GEMM and, finding it in
    sys.modules, touches no parent. The package runs in full on first use of any of its
    attributes (``import scipy.linalg`` does), keeping ``cython_blas`` bound. Skipped when
    scipy.linalg is already imported; any failure leaves it to the usual import.
    Public API only (importlib); called under Numba's compiler lock.
    """
    if "scipy.linalg" in sys.modules:
        return
    try:
        import scipy

        spec = importlib.util.find_spec("scipy.linalg")
        spec.loader_state = {"lock": threading.RLock(), "running": False}
        linalg = importlib.util.module_from_spec(spec)
        linalg.__class__ = _LazyPackage
        sys.modules[spec.name] = linalg
        scipy.linalg = linalg
        name = spec.name + ".cython_blas"
        path = next(p for p in (os.path.join(spec.submodule_search_locations[0], "cython_blas" + s)
                                for s in importlib.machinery.EXTENSION_SUFFIXES)
                    if os.path.exists(p))
        spec = importlib.util.spec_from_file_location(name, path)
        blas = importlib.util.module_from_spec(spec)
        sys.modules[name] = blas
        spec.loader.exec_module(blas)
        linalg.cython_blas = blas
    except Exception:
        for name in ("scipy.linalg.cython_blas", "scipy.linalg"):
            sys.modules.pop(name, None)
        if "scipy" in sys.modules:
            sys.modules["scipy"].__dict__.pop("linalg", None)


def cython_blas_function(name: str) -> int:
    """The address of SciPy's BLAS function ``name`` (``"sgemm"``, ``"dgemm"``): the one
    Numba's GEMM helper (numba_xxgemm) calls, read the way that helper reads it, from the
    Cython C-API table ``scipy.linalg.cython_blas.__pyx_capi__`` (a capsule per function;
    the table is Cython's, stable across SciPy 1.x, and the capsule calls are CPython's)."""
    if NUMBA_LIGHT_LOAD:  # (else Numba's own set-up imports scipy.linalg in full anyway)
        import_cython_blas()
    if "scipy.linalg.cython_blas" not in sys.modules:
        importlib.import_module("scipy.linalg.cython_blas")
    capsule = sys.modules["scipy.linalg.cython_blas"].__pyx_capi__[name]
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    address = get(capsule, get_name(capsule))
    if not address:
        raise OSError(f"SciPy's BLAS has no {name}")
    return int(address)


# ------------------------------------------------------------------------------ CPython
# signal's own functions without its enum wrappers: 0.6 µs a fit instead of 7.8 µs. signal.py
# is `from _signal import *` plus wrappers that turn ints into enums (CPython 3.5 on; checked
# on 3.10-3.14); fastnn uses getsignal, signal, SIGINT and default_int_handler.
signals = signal
if sys.implementation.name == "cpython" and (3, 10) <= sys.version_info[:2] <= (3, 14):
    import _signal  # type: ignore[import-not-found]  # (CPython's C module: no stub)

    signals = _signal


# ------------------------------------------------------------------------------ scikit-learn
def sklearn_param_validation(version: str | None = None):
    """``(Interval, StrOptions, Options, validate_params)`` for the estimators'
    ``_parameter_constraints`` (``Options(numbers.Real, {np.inf})``: exactly those values);
    ``validate_params(estimator)`` raises ``InvalidParameterError`` (a ValueError and a
    TypeError) for the first parameter that meets none of its constraints.

    scikit-learn's own (``sklearn.utils._param_validation``, private; unchanged from 1.6 to 1.9,
    and the form its estimator checks expect) on those versions (``version``: scikit-learn's,
    by default the installed one), else copies of the constraints the estimators use: intervals,
    string options, None, "array-like", "boolean", "random_state" and "verbose", with the same
    checks and the same messages.
    """
    import sklearn

    if (1, 6) <= release(version or sklearn.__version__) <= (1, 9):
        try:
            from sklearn.utils._param_validation import (
                Interval,
                Options,
                StrOptions,
                validate_parameter_constraints,
            )
        except ImportError:
            pass
        else:
            def validate_params(estimator):
                validate_parameter_constraints(estimator._parameter_constraints,
                                               estimator.get_params(deep=False),
                                               caller_name=type(estimator).__name__)

            return Interval, StrOptions, Options, validate_params
    return _Interval, _StrOptions, _Options, _validate_params


class InvalidParameterError(ValueError, TypeError):
    """A parameter of an estimator has a type or value none of its constraints allows."""


def _type_name(t):
    if t.__module__ == "builtins":
        return t.__qualname__
    return {numbers.Real: "float", numbers.Integral: "int"}.get(t, f"{t.__module__}.{t.__qualname__}")


class _Interval:
    """Numbers of ``type`` (numbers.Integral or numbers.Real) between ``left`` and ``right``
    (None: unbounded), ends included as ``closed`` says ("left", "right", "both", "neither")."""

    def __init__(self, type, left, right, *, closed):
        self.type, self.left, self.right, self.closed = type, left, right, closed

    def is_satisfied_by(self, val):
        if not isinstance(val, self.type) or (not isinstance(val, numbers.Integral) and math.isnan(val)):
            return False
        left = -math.inf if self.left is None else self.left
        right = math.inf if self.right is None else self.right
        if val < left or (val == left and self.closed not in ("left", "both")):
            return False
        return not (val > right or (val == right and self.closed not in ("right", "both")))

    def __str__(self):
        integral = self.type is numbers.Integral
        left = "-inf" if self.left is None else self.left if integral else float(self.left)
        right = "inf" if self.right is None else self.right if integral else float(self.right)
        return (f"{'an int' if integral else 'a float'} in the range "
                f"{'[' if self.closed in ('left', 'both') else '('}{left}, "
                f"{right}{']' if self.closed in ('right', 'both') else ')'}")


class _StrOptions:
    """One of the strings in ``options`` (a set)."""

    def __init__(self, options):
        self.options = options

    def is_satisfied_by(self, val):
        return isinstance(val, str) and val in self.options

    def __str__(self):
        return f"a str among {{{', '.join(repr(o) for o in self.options)}}}"


class _Options:
    """One of the values in ``options`` (a set), of ``type``."""

    def __init__(self, type, options):
        self.type, self.options = type, options

    def is_satisfied_by(self, val):
        return isinstance(val, self.type) and val in self.options

    def __str__(self):
        return f"a {_type_name(self.type)} among {{{', '.join(repr(o) for o in self.options)}}}"


class _InstancesOf:
    def __init__(self, type):
        self.type = type

    def is_satisfied_by(self, val):
        return isinstance(val, self.type)

    def __str__(self):
        return f"an instance of {_type_name(self.type)!r}"


class _Constraint:
    """A named constraint: satisfied by ``test``, described by ``text``."""

    def __init__(self, test, text):
        self.is_satisfied_by, self.text = test, text

    def __str__(self):
        return self.text


class _AnyOf:
    def __init__(self, *parts):
        self.parts = parts

    def is_satisfied_by(self, val):
        return any(p.is_satisfied_by(val) for p in self.parts)

    def __str__(self):
        return f"{', '.join(str(p) for p in self.parts[:-1])} or {self.parts[-1]}"


def _array_like(val):
    return (hasattr(val, "__len__") or hasattr(val, "shape") or hasattr(val, "__array__")) \
        and not np.isscalar(val)


_NONE = _Constraint(lambda val: val is None, "None")
_BOOLEANS = _AnyOf(_InstancesOf(bool), _InstancesOf(np.bool_))
_NAMED = {
    "array-like": _Constraint(_array_like, "an array-like"),
    "boolean": _BOOLEANS,
    "random_state": _AnyOf(_Interval(numbers.Integral, 0, 2**32 - 1, closed="both"),
                           _InstancesOf(np.random.RandomState), _NONE),
    "verbose": _AnyOf(_Interval(numbers.Integral, 0, None, closed="left"), *_BOOLEANS.parts),
}


def _validate_params(estimator):
    name = type(estimator).__name__
    for param, val in estimator.get_params(deep=False).items():
        constraints = estimator._parameter_constraints.get(param, "no_validation")
        if constraints == "no_validation":
            continue
        constraints = [_NONE if c is None else _NAMED[c] if isinstance(c, str) else
                       _InstancesOf(c) if isinstance(c, type) else c for c in constraints]
        if not any(c.is_satisfied_by(val) for c in constraints):
            text = str(constraints[0]) if len(constraints) == 1 else \
                f"{', '.join(str(c) for c in constraints[:-1])} or {constraints[-1]}"
            raise InvalidParameterError(
                f"The {param!r} parameter of {name} must be {text}. Got {val!r} instead.")


def check_sample_weight(sample_weight, X):
    """``sample_weight`` for the rows of ``X`` (an ndarray) as a C-contiguous float64 array of
    shape (N,): a number is repeated N times; arrays are checked by ``check_array`` (no NaN or
    Inf, numeric). Raises ValueError for other shapes and for weights that are all zero.

    What scikit-learn 1.9's private ``_check_sample_weight(sample_weight, X, dtype=np.float64)``
    does for NumPy input, on public API only: that function's checks changed in 1.8 and 1.9,
    these stay as they are on every version.
    """
    from sklearn.utils.validation import check_array

    n = X.shape[0]
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n, sample_weight, dtype=np.float64)
    else:
        sample_weight = check_array(sample_weight, accept_sparse=False, ensure_2d=False,
                                    dtype=np.float64, order="C", input_name="sample_weight")
        if sample_weight.ndim != 1:
            raise ValueError(f"Sample weights must be 1D array or scalar, got {sample_weight.ndim}D "
                             f"array. Expected either a scalar value or a 1D array of length {n}.")
        if sample_weight.shape != (n,):
            raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected {(n,)}!")
    if np.all(sample_weight == 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight
