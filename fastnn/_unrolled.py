"""Fully unrolled kernels for tiny networks, generated for one exact architecture and loss.

A [2, 2, 1] net does a few dozen flops per sample, so any loop or call overhead costs more
than the math. For nets up to ``MAX_PARAMS`` parameters fastnn writes the whole epoch out as
straight-line code: every w^[k]_{jm}, b^[k]_j, z, x and φ is a named local that lives in a
register for the whole epoch, and θ is read once and written back once. Optimizers other than
plain SGD write θ and the batch's mean gradient back at the end of each batch, take the same
flat step as the other kernels (``_dispatch.opt_step``), and read θ again.

The source goes through ``_codegen.load`` (an ordinary module in a cache folder, named after
the architecture and the fastnn checkout it serves, compiled by Numba with ``cache=True``), so
each architecture compiles once per machine, not once per process. Every other net uses the
generic kernels in ``_kernels``, which never recompile.
"""
from __future__ import annotations

from . import _codegen
from . import activations as A
from . import losses as L
from .optimizers import FUSED

MAX_PARAMS = 32  # unrolled wins far beyond this, but compile time grows fast (scripts/crossover.py)
_loaded: dict[tuple[object, ...], object] = {}


def _source(sizes, codes, loss, direct, lp=0.0, opts=None):
    """Python source of ``epoch(theta, grad, state, X, Y, perm, shuffle, batch, opt, h, t0, train)``.

    ``direct`` writes the batch-1 plain-SGD variant, which applies each sample's step at once;
    otherwise gradients are summed per batch (``train``) or over all rows into grad.
    ``opts``: the optimizer codes (a set) the epoch's own ``opt_step`` and ``opt_prepare`` take,
    none for plain SGD (written into the loop, ``FUSED``); None imports ``_dispatch``'s, which
    hold every optimizer (``FASTNN_KERNELS=generic``).
    Names follow the seed, 1-based: w2_1_3 is w^[2]_{13}, x1_2 is x^[1]_2, p2_1 is φ^[2]_1.
    """
    K = len(sizes) - 1
    psi = [A.BY_CODE[c].psi.__name__ for c in codes]
    dpsi = [A.BY_CODE[c].dpsi.__name__ for c in codes]
    link = L.BY_CODE[loss].link is not None
    # theta offsets of w^[k]_{jm} and b^[k]_j, matching Network's flat layout
    woff, boff, off, ranges = {}, {}, 0, []
    for k in range(1, K + 1):
        for j in range(1, sizes[k] + 1):
            for m in range(1, sizes[k - 1] + 1):
                woff[k, j, m] = off
                off += 1
        ranges.append((off - sizes[k] * sizes[k - 1], off, "wd"))  # W^[k]: weight decay
        for j in range(1, sizes[k] + 1):
            boff[k, j] = off
            off += 1
        ranges.append((off - sizes[k], off, "T(0)"))  # b̄^[k]: none
    params = [(f"w{k}_{j}_{m}", o) for (k, j, m), o in woff.items()]
    params += [(f"b{k}_{j}", o) for (k, j), o in boff.items()]

    out = []
    def emit(depth, s):
        out.append("    " * depth + s)
    emit(0, "import math")
    emit(0, "import numpy as np")
    emit(0, f"from fastnn.activations import {', '.join(sorted(set(psi + dpsi)))}")
    if opts is None:
        emit(0, "from fastnn._dispatch import opt_prepare, opt_step")
        defs = []
    else:  # only this fit's optimizer is compiled (cold start, issue 22)
        imports, defs = _codegen.optimizer_dispatch(opts)
        out.extend(imports)
    emit(0, "from fastnn._jit import jit")
    emit(0, "from fastnn.optimizers import CLIP_NORM, LR, WEIGHT_DECAY")
    out.extend(defs)
    emit(0, "")
    emit(0, "@jit")  # fastnn's options, and a cached epoch loads without Numba's full set-up
    emit(0, "def epoch(theta, grad, state, X, Y, perm, shuffle, batch, opt, h, t0, train):")
    variant = " (batch 1, plain SGD)" if direct else ""
    emit(1, f'"""Unrolled epoch for sizes {sizes}, loss {L.BY_CODE[loss].name}{variant}; returns Σ L."""')
    emit(1, "T = theta.dtype.type")
    emit(1, "zero, one = T(0), T(1)")

    def load(depth):
        for name, o in params:
            emit(depth, f"{name} = theta[{o}]")

    def store(depth, prefix=""):
        for name, o in params:
            emit(depth, f"{'grad' if prefix else 'theta'}[{o}] = {prefix}{name}")

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
        for line in L.BY_CODE[loss].source(K, sizes[K], lp):  # φ^[K] and the sample's L
            emit(depth, line)
        if not link:  # φ^[K] = ∂L/∂x̄^[K] ⊙ ψ^[K]'
            for j in range(1, sizes[K] + 1):
                emit(depth, f"p{K}_{j} = p{K}_{j} * {dpsi[K - 1]}(x{K}_{j})")
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

    load(1)
    emit(1, "N = X.shape[0]")
    emit(1, "total = 0.0")
    if direct:
        emit(1, "step = T(h[LR])")
        emit(1, "for i in range(N):")
        sample(2, True)
    else:
        emit(1, "for start in range(0, N, batch):")
        emit(2, "B = min(batch, N - start)")
        for name, _ in params:
            emit(2, f"g{name} = zero")
        emit(2, "for i in range(start, start + B):")
        sample(3, False)
        emit(2, "if not train:")
        store(3, "g")
        emit(2, "elif opt == FUSED:")
        emit(3, "step = T(h[LR] / B)")
        for name, _ in params:
            emit(3, f"{name} -= step * g{name}")
        emit(2, "else:  # θ and the mean gradient to memory, the optimizer's flat step, θ back")
        if opts is not None and not opts:  # plain SGD's epoch: no optimizer step to compile
            emit(3, "raise ValueError('unknown optimizer code')")
        else:
            emit(3, "scale = T(1.0 / B)")
            store(3)
            store(3, "scale * g")
            emit(3, "if h[CLIP_NORM] > 0.0:  # clip_norm: g ← g · min(1, clip / (‖g‖₂ + 1e-6))")
            emit(4, "ss = 0.0")
            emit(4, f"for j in range({off}):")
            emit(5, "ss += float(grad[j]) * float(grad[j])")
            emit(4, "coef = T(min(1.0, h[CLIP_NORM] / (math.sqrt(ss) + 1e-6)))")
            emit(4, f"for j in range({off}):")
            emit(5, "grad[j] *= coef")
            emit(3, "c = opt_prepare(opt, h, t0 + start // batch + 1)")
            emit(3, "wd = T(h[WEIGHT_DECAY])")
            for lo, hi, decay in ranges:
                # uint64 offsets, as the other kernels pass: a constant would compile opt_step anew
                # for each (lo, hi) of each net (a Literal type per value)
                emit(3, f"opt_step(opt, theta, grad, state, np.uint64({lo}), np.uint64({hi}), {decay}, c)")
            load(3)
    emit(1, "if train:")
    store(2)
    emit(1, "return total")
    src = "\n".join(out) + "\n"
    return src.replace("elif opt == FUSED:", f"elif opt == {FUSED}:")


def epoch_for(sizes, codes, loss, direct, lp=0.0, opts=None):
    """The compiled unrolled epoch for this architecture, loss code and loss parameter ``lp``
    (written into the source; generated and cached on first use); ``direct`` selects the
    batch-1 plain-SGD variant; ``opts``: the optimizer codes it steps with (``_source``)."""
    opts = None if opts is None or direct else frozenset(opts)  # (the direct epoch steps alone)
    key = (tuple(sizes), tuple(codes), int(loss), bool(direct), float(lp), opts)
    if key not in _loaded:
        # (the module's name ends in a hash of the source, which holds lp)
        name = f"unrolled_{'x'.join(map(str, sizes))}_{L.BY_CODE[loss].name}{'_direct' if direct else ''}"
        if opts is not None:
            name += "_o" + "-".join(map(str, sorted(opts)))
        src = _source(list(sizes), list(codes), loss, bool(direct), float(lp), opts)
        _loaded[key] = _codegen.load(name, "_unrolled", src).epoch
    return _loaded[key]
