"""The one place that holds every Numba option fastnn compiles with, and how its kernels load
(``_compat.load_lightly``: a cached kernel loads without Numba's whole-registry set-up)."""
from collections.abc import Callable
from typing import Any, TypeVar, overload

from numba import njit, types
from numba.extending import intrinsic

from ._compat import load_lightly

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


@intrinsic
def readonly(typingctx: Any, a: Any) -> Any:
    """Inside a kernel: the array ``a`` itself, typed read-only. Numba types a read-only array
    apart from a writable one, and each type compiles every callee anew: fit hands its kernels
    X read-only (``_engine.readonly``), and inference, which takes the caller's X as it comes
    (a view would cost a one-row call), marks it here so both reach the same compiled layer
    blocks (a cold start's first predict after fit: 1.7 → 0.9 s on an AMD EPYC)."""
    if not isinstance(a, types.Array):
        return None
    ro = a.copy(readonly=True)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        context.nrt.incref(builder, sig.args[0], args[0])  # a new reference to the same array
        return args[0]

    return ro(a), codegen
