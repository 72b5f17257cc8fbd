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

The functions here work on flat row-major buffers: row r of a block of ``rows`` rows starting
at offset ``o`` holds its n_K entries at ``buf[o + r*n : o + (r+1)*n]``.

Examples
--------
>>> import numpy as np
>>> from fastnn import losses
>>> sorted(losses.LOSSES)
['binary_cross_entropy', 'cross_entropy', 'mse']
>>> x = np.array([0.5, 2.0])  # x̄^[K] of one sample, n_K = 2
>>> y = np.array([1.0, 1.0])
>>> phi = np.empty(2)
>>> float(losses.get("mse").delta(x, phi, 0, y, 0, 1, 2))  # ½((0.5 − 1)² + (2 − 1)²)
0.625
>>> phi  # ∂L/∂x̄^[K] = x̄^[K] − y
array([-0.5,  1. ])
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from ._jit import jit

if TYPE_CHECKING:
    from ._typing import FloatArray


# ½‖y − x̄^[K]‖², the seed's loss: writes x̄ − y, the kernel applies ψ^[K]'.
@jit(inline=True)
def mse_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int, rows: int,
              n: int) -> float:
    """The seed's loss L = ½‖y − x̄^[K]‖² of a row block, and ∂L/∂x̄^[K] = x̄^[K] − y.

    Parameters
    ----------
    abuf : ndarray
        Flat buffer holding the output layer's row block from ``o`` on: x̄^[K]. Read only.
    pbuf : ndarray
        Flat buffer of ``abuf``'s dtype, receiving ∂L/∂x̄^[K] at the same offsets: φ^[K]
        before ψ^[K]' (the kernel multiplies by ψ^[K]'(z̄^[K]) itself).
    o : int
        Offset of the block's first entry in ``abuf`` and ``pbuf``.
    y : ndarray
        Flat targets, real numbers, from offset ``yo`` on.
    yo : int
        Offset of the block's first target in ``y``.
    rows : int
        Rows (samples) in the block.
    n : int
        Entries per row, n_K.

    Returns
    -------
    float
        The loss summed over the block's rows (float64).
    """
    total = 0.0
    for i in range(rows * n):
        d = abuf[o + i] - y[yo + i]
        total += d * d
        pbuf[o + i] = d
    return 0.5 * total


@jit(inline=True)
def no_link(abuf: FloatArray, o: int, rows: int, n: int) -> None:
    """The ``link_rows`` of a loss without a link: x̄^[K] is already in place; does nothing.

    Parameters
    ----------
    abuf : ndarray
        Flat buffer holding the output rows from ``o`` on.
    o : int
        Offset of the first row's first entry.
    rows : int
        Rows in the block.
    n : int
        Entries per row, n_K.
    """


# Softmax + categorical cross-entropy, −Σ_j y_j log softmax(z̄)_j, by log-sum-exp.
@jit(inline=True)
def _log_sum_exp(abuf: FloatArray, a: int, n: int) -> Any:
    """log Σ_j exp(z_j) of the row z = abuf[a:a+n], without overflow (a scalar of abuf's dtype)."""
    top = abuf[a]
    for j in range(1, n):
        top = max(top, abuf[a + j])
    s = abuf.dtype.type(0)
    for j in range(n):
        s += math.exp(abuf[a + j] - top)
    return top + math.log(s)


@jit(inline=True)
def softmax_rows(abuf: FloatArray, o: int, rows: int, n: int) -> None:
    """Softmax of each row in place, z̄^[K] → x̄^[K] = softmax(z̄^[K]), by log-sum-exp.

    Parameters
    ----------
    abuf : ndarray
        Flat buffer holding the rows' z̄^[K] from ``o`` on; overwritten with x̄^[K].
    o : int
        Offset of the first row's first entry.
    rows : int
        Rows in the block.
    n : int
        Entries per row, n_K.
    """
    for r in range(rows):
        a = o + r * n
        lse = _log_sum_exp(abuf, a, n)
        for j in range(n):
            abuf[a + j] = math.exp(abuf[a + j] - lse)


@jit(inline=True)
def cross_entropy_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int,
                        rows: int, n: int) -> float:
    """Softmax cross-entropy L = −Σ_j y_j log softmax(z̄^[K])_j of a row block, and
    φ^[K] = softmax(z̄^[K]) − y.

    Parameters
    ----------
    abuf : ndarray
        Flat buffer holding the output layer's row block from ``o`` on: z̄^[K].
        Overwritten with x̄^[K] = softmax(z̄^[K]).
    pbuf : ndarray
        Flat buffer of ``abuf``'s dtype, receiving φ^[K] at the same offsets.
    o : int
        Offset of the block's first entry in ``abuf`` and ``pbuf``.
    y : ndarray
        Flat targets, rows of class probabilities (one-hot for labels), from offset ``yo`` on.
    yo : int
        Offset of the block's first target in ``y``.
    rows : int
        Rows (samples) in the block.
    n : int
        Entries per row, n_K.

    Returns
    -------
    float
        The loss summed over the block's rows (float64).
    """
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
def _sigmoid(z: float, e: float) -> float:
    """σ(z) from e = exp(−|z|), without overflow."""
    one = z * 0 + 1
    return one / (one + e) if z >= 0 else e / (one + e)


@jit(inline=True)
def sigmoid_rows(abuf: FloatArray, o: int, rows: int, n: int) -> None:
    """The logistic sigmoid of each entry in place, z̄^[K] → x̄^[K] = σ(z̄^[K]).

    Parameters
    ----------
    abuf : ndarray
        Flat buffer holding the rows' z̄^[K] from ``o`` on; overwritten with x̄^[K].
    o : int
        Offset of the first row's first entry.
    rows : int
        Rows in the block.
    n : int
        Entries per row, n_K.
    """
    for i in range(rows * n):
        abuf[o + i] = _sigmoid(abuf[o + i], math.exp(-abs(abuf[o + i])))


@jit(inline=True)
def binary_cross_entropy_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int,
                               rows: int, n: int) -> float:
    """Sigmoid log-loss per output, L = Σ_j softplus(z_j) − y_j z_j with z = z̄^[K], of a row
    block, and φ^[K] = σ(z̄^[K]) − y.

    Parameters
    ----------
    abuf : ndarray
        Flat buffer holding the output layer's row block from ``o`` on: z̄^[K].
        Overwritten with x̄^[K] = σ(z̄^[K]).
    pbuf : ndarray
        Flat buffer of ``abuf``'s dtype, receiving φ^[K] at the same offsets.
    o : int
        Offset of the block's first entry in ``abuf`` and ``pbuf``.
    y : ndarray
        Flat targets, in [0, 1], from offset ``yo`` on.
    yo : int
        Offset of the block's first target in ``y``.
    rows : int
        Rows (samples) in the block.
    n : int
        Entries per row, n_K.

    Returns
    -------
    float
        The loss summed over the block's rows (float64).
    """
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
def mse_source(K: int, n: int) -> list[str]:
    """``mse_delta`` as straight-line source for ``_unrolled``.

    Parameters
    ----------
    K : int
        The output layer's index (its variables are named ``x{K}_j`` and ``p{K}_j``).
    n : int
        Its width, n_K.

    Returns
    -------
    list of str
        Source lines, without indentation, for one sample ``r``.
    """
    out = []
    for j in range(1, n + 1):
        out += [f"d{j} = x{K}_{j} - Y[r, {j - 1}]", f"total += 0.5 * (d{j} * d{j})", f"p{K}_{j} = d{j}"]
    return out


def cross_entropy_source(K: int, n: int) -> list[str]:
    """``cross_entropy_delta`` as straight-line source for ``_unrolled``.

    Parameters
    ----------
    K : int
        The output layer's index (its variables are named ``x{K}_j`` and ``p{K}_j``).
    n : int
        Its width, n_K.

    Returns
    -------
    list of str
        Source lines, without indentation, for one sample ``r``.
    """
    out = [f"top = x{K}_1"] + [f"top = max(top, x{K}_{j})" for j in range(2, n + 1)]
    out.append("lse = top + math.log("
               + " + ".join(f"math.exp(x{K}_{j} - top)" for j in range(1, n + 1)) + ")")
    for j in range(1, n + 1):
        out += [f"total += Y[r, {j - 1}] * (lse - x{K}_{j})", f"x{K}_{j} = math.exp(x{K}_{j} - lse)",
                f"p{K}_{j} = x{K}_{j} - Y[r, {j - 1}]"]
    return out


def binary_cross_entropy_source(K: int, n: int) -> list[str]:
    """``binary_cross_entropy_delta`` as straight-line source for ``_unrolled``.

    Parameters
    ----------
    K : int
        The output layer's index (its variables are named ``x{K}_j`` and ``p{K}_j``).
    n : int
        Its width, n_K.

    Returns
    -------
    list of str
        Source lines, without indentation, for one sample ``r``.
    """
    out = []
    for j in range(1, n + 1):
        z, t = f"x{K}_{j}", f"Y[r, {j - 1}]"
        out += [f"e = math.exp(-abs({z}))", f"total += max({z}, zero) - {t} * {z} + math.log1p(e)",
                f"{z} = one / (one + e) if {z} >= zero else e / (one + e)", f"p{K}_{j} = {z} - {t}"]
    return out


class Loss(NamedTuple):
    """One row of the loss table.

    Attributes
    ----------
    name : str
        The name ``Network`` takes as ``loss``, e.g. ``"cross_entropy"``.
    code : int
        The integer the kernels branch on; ``BY_CODE[code]`` is this entry.
    delta : callable
        Jitted ``delta(abuf, pbuf, o, y, yo, rows, n) -> float``: φ^[K] (before ψ^[K]' when
        ``link`` is None) and the loss summed over a row block.
    link : str or None
        The output activation the loss fixes (``"softmax"``, ``"sigmoid"``); None: any ψ^[K].
    link_rows : callable
        Jitted ``link_rows(abuf, o, rows, n)``: z̄^[K] → x̄^[K] in place on whole rows (predict).
    targets : str
        What Y holds: ``"real"``; ``"probabilities"`` (rows that sum to 1, or integer labels);
        ``"binary"`` (entries in [0, 1]).
    source : callable
        ``source(K, n) -> list[str]``: the delta as straight-line source, for ``_unrolled``.
    """

    name: str
    code: int
    delta: Callable[..., float]  # jitted: φ^[K] (before ψ' when link is None) and Σ L over a row block
    link: str | None  # output activation fixed by the loss; None: any ψ^[K]
    link_rows: Callable[..., None]  # jitted: z̄^[K] → x̄^[K] in place on whole rows (predict)
    targets: str  # "real", "probabilities" (rows sum to 1, or integer labels), "binary" in [0, 1]
    source: Callable[[int, int], list[str]]  # the delta as straight-line source, for ``_unrolled``


_TABLE = [
    Loss("mse", 0, mse_delta, None, no_link, "real", mse_source),
    Loss("cross_entropy", 1, cross_entropy_delta, "softmax", softmax_rows, "probabilities",
         cross_entropy_source),
    Loss("binary_cross_entropy", 2, binary_cross_entropy_delta, "sigmoid", sigmoid_rows, "binary",
         binary_cross_entropy_source),
]
LOSSES = {entry.name: entry for entry in _TABLE}
"""The table by name: ``LOSSES["mse"]`` is the seed's loss."""
BY_CODE = tuple(_TABLE)
"""The table by code: ``BY_CODE[code]`` is the entry with that code."""
assert all(entry.code == i for i, entry in enumerate(BY_CODE))


def get(name: str) -> Loss:
    """The table entry for a loss's name.

    Parameters
    ----------
    name : str
        A key of ``LOSSES``: ``"mse"``, ``"cross_entropy"`` or ``"binary_cross_entropy"``.

    Returns
    -------
    Loss
        The entry.

    Raises
    ------
    ValueError
        If ``name`` is not in the table; the message lists the valid names.
    """
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"loss: unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
