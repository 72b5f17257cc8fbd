"""Fully unrolled kernels for tiny networks, generated for one exact architecture.

A [2, 2, 1] net does a few dozen flops per sample, so any loop or call overhead costs more
than the math. For nets up to ``MAX_PARAMS`` parameters fastnn writes the whole epoch out as
straight-line code: every w^[k]_{jm}, b^[k]_j, z, x and φ is a named local that lives in a
register for the whole epoch, and θ is read once and written back once.

The source is written to a cache folder as an ordinary module and compiled by Numba with
``cache=True``, so each architecture compiles once per machine, not once per process.
Every other net uses the generic kernels in ``_kernels``, which never recompile.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile

from . import activations as A
from ._jit import FASTMATH

MAX_PARAMS = 32  # unrolled wins far beyond this, but compile time grows fast (scripts/crossover.py)
_GENERATOR_VERSION = 1
_loaded = {}


def _source(sizes, codes, direct):
    """Python source of ``epoch(theta, grad, X, Y, perm, shuffle, batch, lr, train)``.

    ``direct`` writes the batch-1 training variant, which applies each sample's step at once;
    otherwise gradients are summed per batch (``train``) or over all rows into grad.
    Names follow the seed, 1-based: w2_1_3 is w^[2]_{13}, x1_2 is x^[1]_2, p2_1 is φ^[2]_1.
    """
    K = len(sizes) - 1
    psi = [A.BY_CODE[c].psi.__name__ for c in codes]
    dpsi = [A.BY_CODE[c].dpsi.__name__ for c in codes]
    # theta offsets of w^[k]_{jm} and b^[k]_j, matching Network's flat layout
    woff, boff, off = {}, {}, 0
    for k in range(1, K + 1):
        for j in range(1, sizes[k] + 1):
            for m in range(1, sizes[k - 1] + 1):
                woff[k, j, m] = off
                off += 1
        for j in range(1, sizes[k] + 1):
            boff[k, j] = off
            off += 1
    params = [(f"w{k}_{j}_{m}", o) for (k, j, m), o in woff.items()]
    params += [(f"b{k}_{j}", o) for (k, j), o in boff.items()]

    L = []
    emit = lambda depth, s: L.append("    " * depth + s)
    emit(0, f"from fastnn.activations import {', '.join(sorted(set(psi + dpsi)))}")
    emit(0, "from numba import njit")
    emit(0, "")
    emit(0, f"@njit(cache=True, nogil=True, fastmath=set({sorted(FASTMATH)!r}))")  # fixed order: stable hash
    emit(0, "def epoch(theta, grad, X, Y, perm, shuffle, batch, lr, train):")
    variant = " (batch 1)" if direct else ""
    emit(1, f'"""Unrolled SGD epoch for sizes {sizes}{variant}; returns the summed loss."""')
    emit(1, "T = theta.dtype.type")
    emit(1, "zero = T(0)")
    for name, o in params:
        emit(1, f"{name} = theta[{o}]")
    def sample(depth, direct):
        """One sample's forward pass and φ recurrence; gradients accumulate into g…, or with
        ``direct`` (batch 1) the SGD step is applied at once, after φ^[k-1] used the old W^[k]."""
        emit(depth, "r = perm[i] if shuffle else i")
        for m in range(1, sizes[0] + 1):
            emit(depth, f"x0_{m} = X[r, {m - 1}]")
        for k in range(1, K + 1):  # x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k])
            for j in range(1, sizes[k] + 1):
                terms = " + ".join(f"w{k}_{j}_{m} * x{k - 1}_{m}" for m in range(1, sizes[k - 1] + 1))
                emit(depth, f"x{k}_{j} = {psi[k - 1]}(b{k}_{j} + {terms})")
        for j in range(1, sizes[K] + 1):  # φ^[K] = −(y − x̄^[K]) ⊙ ψ^[K]'
            emit(depth, f"d{j} = x{K}_{j} - Y[r, {j - 1}]")
            emit(depth, f"total += d{j} * d{j}")
            emit(depth, f"p{K}_{j} = d{j} * {dpsi[K - 1]}(x{K}_{j})")
        for k in range(K, 0, -1):
            if k > 1:  # φ^[k-1] = (W^[k])ᵀ φ^[k] ⊙ ψ^[k-1]'
                for m in range(1, sizes[k - 1] + 1):
                    terms = " + ".join(f"w{k}_{j}_{m} * p{k}_{j}" for j in range(1, sizes[k] + 1))
                    emit(depth, f"p{k - 1}_{m} = ({terms}) * {dpsi[k - 2]}(x{k - 1}_{m})")
            for j in range(1, sizes[k] + 1):  # ∂L/∂W^[k] = φ^[k] (x̄^[k-1])ᵀ, ∂L/∂b̄^[k] = φ^[k]
                for m in range(1, sizes[k - 1] + 1):
                    if direct:
                        emit(depth, f"w{k}_{j}_{m} -= step * (p{k}_{j} * x{k - 1}_{m})")
                    else:
                        emit(depth, f"gw{k}_{j}_{m} += p{k}_{j} * x{k - 1}_{m}")
                emit(depth, f"b{k}_{j} -= step * p{k}_{j}" if direct else f"gb{k}_{j} += p{k}_{j}")

    emit(1, "N = X.shape[0]")
    emit(1, "total = 0.0")
    if direct:
        emit(1, "step = T(lr)")
        emit(1, "for i in range(N):")
        sample(2, True)
    else:
        emit(1, "for start in range(0, N, batch):")
        emit(2, "B = min(batch, N - start)")
        for name, _ in params:
            emit(2, f"g{name} = zero")
        emit(2, "for i in range(start, start + B):")
        sample(3, False)
        emit(2, "if train:")
        emit(3, "step = T(lr / B)")
        for name, _ in params:
            emit(3, f"{name} -= step * g{name}")
        emit(2, "else:")
        for name, o in params:
            emit(3, f"grad[{o}] = g{name}")
    emit(1, "if train:")
    for name, o in params:
        emit(2, f"theta[{o}] = {name}")
    emit(1, "return total * 0.5")
    return "\n".join(L) + "\n"


def _folder():
    base = os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") \
        or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fastnn_unrolled")


def epoch_for(sizes, codes, direct):
    """The compiled unrolled epoch for this architecture (generated and cached on first use);
    ``direct`` selects the batch-1 training variant."""
    key = (tuple(sizes), tuple(codes), bool(direct))
    if key in _loaded:
        return _loaded[key]
    src = _source(list(sizes), list(codes), bool(direct))
    digest = hashlib.sha1(f"{_GENERATOR_VERSION}\n{src}".encode()).hexdigest()[:16]
    name = f"fastnn_unrolled_{digest}"
    folder = _folder()
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        folder = os.path.join(tempfile.gettempdir(), "fastnn_unrolled")
        os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name + ".py")
    if not os.path.exists(path):  # written atomically: concurrent processes may race here
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(src)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _loaded[key] = module.epoch
    return module.epoch
