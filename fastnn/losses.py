"""The loss table: every L fastnn trains, and where it enters backprop.

A loss enters in exactly one place, the output delta φ^[K] = ∂L/∂z̄^[K]. Each entry has a
jitted row-block function

    delta(abuf, pbuf, o, y, yo, rows, n) -> Σ_rows L

that reads ``rows`` rows of n_K entries of the output layer from abuf[o:], the targets from
y[yo:], writes φ^[K] to pbuf[o:] and returns the summed loss (float64).

* A loss with no ``link`` (``mse``) works on x̄^[K] = ψ^[K](z̄^[K]) for any output ψ^[K]: its
  delta writes ∂L/∂x̄^[K] and the kernel multiplies by ψ^[K]'(z̄^[K]) itself.
* A loss with a ``link`` fixes the output activation to its canonical link, for which ψ' cancels:
  φ^[K] = x̄^[K] − y. The output layer then stores z̄^[K], and the delta turns it into x̄^[K]
  in place (``link_rows`` does the same for predict). Softmax needs whole rows, so these
  functions always receive whole output rows.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from ._jit import jit


# ½‖y − x̄^[K]‖², the seed's loss: writes x̄ − y, the kernel applies ψ^[K]'.
@jit(inline=True)
def mse_delta(abuf, pbuf, o, y, yo, rows, n):
    total = 0.0
    for i in range(rows * n):
        d = abuf[o + i] - y[yo + i]
        total += d * d
        pbuf[o + i] = d
    return 0.5 * total


@jit(inline=True)
def no_link(abuf, o, rows, n):
    pass


# Softmax + categorical cross-entropy, −Σ_j y_j log softmax(z̄)_j, by log-sum-exp.
@jit(inline=True)
def _log_sum_exp(abuf, a, n):
    """log Σ_j exp(z_j) of the row z = abuf[a:a+n], without overflow."""
    top = abuf[a]
    for j in range(1, n):
        top = max(top, abuf[a + j])
    s = abuf.dtype.type(0)
    for j in range(n):
        s += math.exp(abuf[a + j] - top)
    return top + math.log(s)


@jit(inline=True)
def softmax_rows(abuf, o, rows, n):
    for r in range(rows):
        a = o + r * n
        lse = _log_sum_exp(abuf, a, n)
        for j in range(n):
            abuf[a + j] = math.exp(abuf[a + j] - lse)


@jit(inline=True)
def cross_entropy_delta(abuf, pbuf, o, y, yo, rows, n):
    total = 0.0
    for r in range(rows):
        a, b = o + r * n, yo + r * n
        lse = _log_sum_exp(abuf, a, n)
        for j in range(n):
            total += y[b + j] * (lse - abuf[a + j])
            x = math.exp(abuf[a + j] - lse)
            abuf[a + j] = x
            pbuf[a + j] = x - y[b + j]
    return total


# Sigmoid + log-loss per output, softplus(z) − y z (binary and multi-label).
@jit(inline=True)
def _sigmoid(z, e):
    """σ(z) from e = exp(−|z|), without overflow."""
    one = z * 0 + 1
    return one / (one + e) if z >= 0 else e / (one + e)


@jit(inline=True)
def sigmoid_rows(abuf, o, rows, n):
    for i in range(rows * n):
        abuf[o + i] = _sigmoid(abuf[o + i], math.exp(-abs(abuf[o + i])))


@jit(inline=True)
def binary_cross_entropy_delta(abuf, pbuf, o, y, yo, rows, n):
    total = 0.0
    for i in range(rows * n):
        z, t = abuf[o + i], y[yo + i]
        e = math.exp(-abs(z))
        total += max(z, z * 0) - t * z + math.log1p(e)
        x = _sigmoid(z, e)
        abuf[o + i] = x
        pbuf[o + i] = x - t
    return total


# The same three, as straight-line source for ``_unrolled``: lines that read x{K}_j (x̄^[K], or
# z̄^[K] for a linked loss) and Y[r, j − 1], add the sample's L to ``total``, and set φ^[K]_j as
# p{K}_j (before ψ' when there is no link: the generator multiplies it in).
def mse_source(K, n):
    out = []
    for j in range(1, n + 1):
        out += [f"d{j} = x{K}_{j} - Y[r, {j - 1}]", f"total += 0.5 * (d{j} * d{j})", f"p{K}_{j} = d{j}"]
    return out


def cross_entropy_source(K, n):
    out = [f"top = x{K}_1"] + [f"top = max(top, x{K}_{j})" for j in range(2, n + 1)]
    out.append("lse = top + math.log(" + " + ".join(f"math.exp(x{K}_{j} - top)" for j in range(1, n + 1)) + ")")
    for j in range(1, n + 1):
        out += [f"total += Y[r, {j - 1}] * (lse - x{K}_{j})", f"x{K}_{j} = math.exp(x{K}_{j} - lse)",
                f"p{K}_{j} = x{K}_{j} - Y[r, {j - 1}]"]
    return out


def binary_cross_entropy_source(K, n):
    out = []
    for j in range(1, n + 1):
        z, t = f"x{K}_{j}", f"Y[r, {j - 1}]"
        out += [f"e = math.exp(-abs({z}))", f"total += max({z}, zero) - {t} * {z} + math.log1p(e)",
                f"{z} = one / (one + e) if {z} >= zero else e / (one + e)", f"p{K}_{j} = {z} - {t}"]
    return out


class Loss(NamedTuple):
    name: str
    code: int
    delta: object  # jitted: φ^[K] (before ψ' when link is None) and Σ L over a row block
    link: str | None  # output activation fixed by the loss; None: any ψ^[K]
    link_rows: object  # jitted: z̄^[K] → x̄^[K] in place on whole rows (predict)
    targets: str  # "real", "probabilities" (rows sum to 1, or integer labels), "binary" in [0, 1]
    source: object  # the delta as straight-line source, for ``_unrolled``


_TABLE = [
    Loss("mse", 0, mse_delta, None, no_link, "real", mse_source),
    Loss("cross_entropy", 1, cross_entropy_delta, "softmax", softmax_rows, "probabilities",
         cross_entropy_source),
    Loss("binary_cross_entropy", 2, binary_cross_entropy_delta, "sigmoid", sigmoid_rows, "binary",
         binary_cross_entropy_source),
]
LOSSES = {entry.name: entry for entry in _TABLE}
BY_CODE = tuple(_TABLE)
assert all(entry.code == i for i, entry in enumerate(BY_CODE))


def get(name) -> Loss:
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"loss: unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
