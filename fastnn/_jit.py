"""The one place that holds every Numba option fastnn compiles with, and how its kernels load."""
import functools
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar, overload

from numba import njit

# LLVM fast-math without "nnan"/"ninf": reassociation and contraction make the loops vectorise,
# while isnan/isfinite checks stay intact (a blanket fastmath=True may delete them).
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

_F = TypeVar("_F", bound=Callable[..., Any])


# For type checkers, ``@jit`` keeps the decorated function's signature (a Numba dispatcher is
# called with the Python function's arguments).
@overload
def jit(fn: _F, *, fastmath: bool = ..., inline: bool = ...) -> _F: ...
@overload
def jit(fn: None = None, *, fastmath: bool = ..., inline: bool = ...) -> Callable[[_F], _F]: ...


def jit(fn=None, *, fastmath=True, inline=False):
    """``@jit`` compiles ``fn`` in nopython mode with the on-disk cache.

    ``fastmath=False`` is for code that must see NaN/Inf exactly (finiteness checks).
    ``inline=True`` is for small helpers: Numba inlines them into each caller at the IR level
    instead of compiling and caching them on their own, which cuts cold-start compile time.
    """
    # error_model="numpy": x / 0 gives ±Inf or NaN (which fit's finiteness check catches)
    # instead of a per-element ZeroDivisionError test, which kept every loop that divides
    # (Adam, RMSprop, sigmoid) from vectorising.
    opts = dict(cache=True, nogil=True, error_model="numpy",
                fastmath=set(FASTMATH) if fastmath else False)
    if inline:
        opts["inline"] = "always"
    if fn is None:
        return lambda f: load_lightly(njit(**opts)(f))
    return load_lightly(njit(**opts)(fn))


# Start-up (issue 13). The first call of any Numba function, even one found in the on-disk
# cache, makes Numba import and register every implementation it has (target_context.refresh:
# ~100 modules, and numba.np.arraymath's BLAS check imports all of scipy.linalg) and scan the
# installed packages' entry points for extensions. A cached kernel needs none of it: its machine
# code is loaded and linked against symbols Numba installs when its CPU target starts (C math,
# helpers) plus the NRT's C entry points, which _load_cached installs. So fastnn's dispatchers
# load a cached overload without that set-up (the first fit of `small` in a new process: 0.33 ->
# 0.04-0.07 s, scripts/peers/startup.py). On a cache miss they do the full set-up and compile as
# usual (Numba's compiler refreshes the context itself). With another Numba version lacking
# these private methods the dispatchers are left as they are.
def load_lightly(dispatcher):
    """``dispatcher`` (a ``numba.njit`` result), set to load cached overloads without Numba's
    whole-registry set-up; compiling still gets it."""
    cache = getattr(dispatcher, "_cache", None)  # NUMBA_DISABLE_JIT: a plain function
    if all(hasattr(cache, a) for a in ("_load_overload", "_guard_against_spurious_io_errors")) \
            and hasattr(dispatcher, "_compilation_chain_init_hook"):
        cache.load_overload = functools.partial(_load_cached, cache)
        dispatcher._compilation_chain_init_hook = _no_set_up
    return dispatcher


def _no_set_up():
    """The entry-point scan is deferred to a cache miss (``_load_cached``)."""


def _load_cached(cache, sig, target_context):
    """``Cache.load_overload`` without ``target_context.refresh()``: the compiled overload for
    ``sig`` from disk, or None (then Numba compiles it, after the set-up done here)."""
    from numba.core import entrypoints

    _nrt_symbols()
    _import_cython_blas()
    cres = None
    try:
        with cache._guard_against_spurious_io_errors():
            cres = cache._load_overload(sig, target_context)
    except ModuleNotFoundError as e:
        # An entry compiled against generated code (``_codegen``) of other sources, which
        # another process sharing this cache folder wrote: compile it anew (and overwrite it).
        if not (e.name or "").startswith("fastnn_"):
            raise
    if cres is None:
        entrypoints.init_all()  # what the skipped _compilation_chain_init_hook does
    return cres


@functools.lru_cache(maxsize=None)
def _nrt_symbols():
    """The NRT's C entry points, as ``rtsys.initialize`` installs them. A cached kernel needs
    only these: the NRT's own LLVM functions (NRT_incref, ...) are linked into every compiled
    library, so the NRT module ``rtsys.initialize`` compiles (~40 ms) is left to a compile."""
    import llvmlite.binding as ll
    from numba.core.runtime import _nrt_python as _nrt

    for name, address in _nrt.c_helpers.items():
        ll.add_symbol(name if name.startswith("_") else "NRT_" + name, address)


@functools.lru_cache(maxsize=None)
def _import_cython_blas():
    """Import ``scipy.linalg.cython_blas`` (where Numba's GEMM helper finds BLAS) with its package
    ``scipy.linalg`` loaded lazily (``importlib.util.LazyLoader``): running
    ``scipy/linalg/__init__.py`` takes 0.2-0.3 s (SciPy's array-API set-up imports numpy.f2py
    and charset_normalizer, among others) for nothing a kernel uses.

    Numba's C helper imports the module by name on the first GEMM and, finding it in
    sys.modules, touches no parent. The package runs in full on first use of any of its
    attributes (``import scipy.linalg`` does), keeping ``cython_blas`` bound. Skipped when
    scipy.linalg is already imported; any failure leaves it to the usual import.
    """
    if "scipy.linalg" in sys.modules:
        return
    try:
        import scipy

        spec = importlib.util.find_spec("scipy.linalg")
        spec.loader = importlib.util.LazyLoader(spec.loader)
        linalg = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = linalg
        spec.loader.exec_module(linalg)  # deferred to first attribute access
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
    except Exception:  # noqa: BLE001 (any failure: Numba imports scipy.linalg itself)
        for name in ("scipy.linalg.cython_blas", "scipy.linalg"):
            sys.modules.pop(name, None)
        if "scipy" in sys.modules:
            sys.modules["scipy"].__dict__.pop("linalg", None)
