"""The one place that holds every Numba option fastnn compiles with."""
from numba import njit

# LLVM fast-math without "nnan"/"ninf": reassociation and contraction make the loops vectorise,
# while isnan/isfinite checks stay intact (a blanket fastmath=True may delete them).
FASTMATH = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})


def jit(fn=None, *, fastmath=True):
    """``@jit`` compiles ``fn`` in nopython mode with the on-disk cache.

    ``fastmath=False`` is for code that must see NaN/Inf exactly (finiteness checks).
    """
    opts = dict(cache=True, nogil=True, fastmath=set(FASTMATH) if fastmath else False)
    if fn is None:
        return lambda f: njit(**opts)(f)
    return njit(**opts)(fn)
