"""The loss table: every L fastnn trains, and where it enters backprop.

A loss enters in exactly one place, the output delta φ^[K] = ∂L/∂z̄^[K]. Each entry has a
jitted row-block function

    delta(abuf, pbuf, o, y, yo, rows, n, lp) -> Σ_rows L

that reads ``rows`` rows of n_K entries of the output layer from abuf[o:], the targets from
y[yo:], writes φ^[K] to pbuf[o:] and returns the summed loss (float64). ``lp`` is the loss's one
parameter, where it has one (Huber's ε, the quantile q; ``Loss.param``).

* A loss with no ``link`` (``mse``, ``absolute_error``, ``huber``, ``quantile``) works on
  x̄^[K] = ψ^[K](z̄^[K]) for any output ψ^[K]: its delta writes ∂L/∂x̄^[K] and the kernel
  multiplies by ψ^[K]'(z̄^[K]) itself.
* A loss with a ``link`` fixes the output activation to its canonical link, for which ψ' cancels:
  φ^[K] = x̄^[K] − y (softmax, sigmoid, and exp for Poisson). The output layer then stores
  z̄^[K], and the delta turns it into x̄^[K] in place (``link_rows`` does the same for
  predict). Softmax needs whole rows, so these functions always receive whole output rows.

The functions here work on flat row-major buffers: row r of a block of ``rows`` rows starting
at offset ``o`` holds its n_K entries at ``buf[o + r*n : o + (r+1)*n]``.

Examples
--------
>>> import numpy as np
>>> from fastnn import losses
>>> sorted(losses.LOSSES)
['absolute_error', 'binary_cross_entropy', 'cross_entropy', 'huber', 'mse', 'poisson', 'quantile']
>>> x = np.array([0.5, 2.0])  # x̄^[K] of one sample, n_K = 2
>>> y = np.array([1.0, 1.0])
>>> phi = np.empty(2)
>>> float(losses.get("mse").delta(x, phi, 0, y, 0, 1, 2, 0.0))  # ½((0.5 − 1)² + (2 − 1)²)
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


# The row-block functions' shared docstring sections (numpydoc), filled in per function.
_BLOCK_DOC = """

    Parameters
    ----------
    abuf : ndarray
        Flat buffer holding the output layer's row block from ``o`` on: {what}.
    pbuf : ndarray
        Flat buffer of ``abuf``'s dtype, receiving {phi} at the same offsets.
    o : int
        Offset of the block's first entry in ``abuf`` and ``pbuf``.
    y : ndarray
        Flat targets, {targets}, from offset ``yo`` on.
    yo : int
        Offset of the block's first target in ``y``.
    rows : int
        Rows (samples) in the block.
    n : int
        Entries per row, n_K.
    lp : float
        {lp}

    Returns
    -------
    float
        The loss summed over the block's rows (float64).
    """


def _doc(what: str, phi: str, targets: str, lp: str) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Append the shared Parameters/Returns section to a delta's docstring."""
    def wrap(f: Callable[..., float]) -> Callable[..., float]:
        f.__doc__ = (f.__doc__ or "") + _BLOCK_DOC.format(what=what, phi=phi, targets=targets, lp=lp)
        return f
    return wrap


_UNUSED = "The loss's parameter; unused by this loss."
_BEFORE = "∂L/∂x̄^[K] (the kernel multiplies by ψ^[K]'(z̄^[K]) itself)"


_ROWS_DOC = """

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


def _rows_doc(f: Callable[..., None]) -> Callable[..., None]:
    """Append the link functions' shared Parameters section to a docstring."""
    f.__doc__ = (f.__doc__ or "") + _ROWS_DOC
    return f


# ½‖y − x̄^[K]‖², the seed's loss: writes x̄ − y, the kernel applies ψ^[K]'.
@jit(inline=True)
@_doc("x̄^[K]. Read only", _BEFORE, "real numbers", _UNUSED)
def mse_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int, rows: int,
              n: int, lp: float) -> float:
    """The seed's loss L = ½‖y − x̄^[K]‖² of a row block, and ∂L/∂x̄^[K] = x̄^[K] − y."""
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
@_rows_doc
def softmax_rows(abuf: FloatArray, o: int, rows: int, n: int) -> None:
    """Softmax of each row in place, z̄^[K] → x̄^[K] = softmax(z̄^[K]), by log-sum-exp."""
    for r in range(rows):
        a = o + r * n
        lse = _log_sum_exp(abuf, a, n)
        for j in range(n):
            abuf[a + j] = math.exp(abuf[a + j] - lse)


@jit(inline=True)
@_doc("z̄^[K]. Overwritten with x̄^[K] = softmax(z̄^[K])", "φ^[K] = softmax(z̄^[K]) − y",
      "rows of class probabilities (one-hot for labels)", _UNUSED)
def cross_entropy_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int,
                        rows: int, n: int, lp: float) -> float:
    """Softmax cross-entropy L = −Σ_j y_j log softmax(z̄^[K])_j of a row block, and
    φ^[K] = softmax(z̄^[K]) − y."""
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
@_rows_doc
def sigmoid_rows(abuf: FloatArray, o: int, rows: int, n: int) -> None:
    """The logistic sigmoid of each entry in place, z̄^[K] → x̄^[K] = σ(z̄^[K])."""
    for i in range(rows * n):
        abuf[o + i] = _sigmoid(abuf[o + i], math.exp(-abs(abuf[o + i])))


@jit(inline=True)
@_doc("z̄^[K]. Overwritten with x̄^[K] = σ(z̄^[K])", "φ^[K] = σ(z̄^[K]) − y", "in [0, 1]", _UNUSED)
def binary_cross_entropy_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int,
                               rows: int, n: int, lp: float) -> float:
    """Sigmoid log-loss per output, L = Σ_j softplus(z_j) − y_j z_j with z = z̄^[K], of a row
    block, and φ^[K] = σ(z̄^[K]) − y."""
    total = 0.0
    for i in range(rows * n):
        z, t = abuf[o + i], y[yo + i]
        e = math.exp(-abs(z))
        total += max(z, z * 0) - t * z + math.log1p(e)
        x = _sigmoid(z, e)
        abuf[o + i] = x
        pbuf[o + i] = x - t
    return total


# Σ |y − x̄^[K]|: the median's loss; ∂L/∂x̄^[K] = sign(x̄^[K] − y) (0 at a tie).
@jit(inline=True)
@_doc("x̄^[K]. Read only", _BEFORE, "real numbers", _UNUSED)
def absolute_error_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int, rows: int,
                         n: int, lp: float) -> float:
    """The absolute error L = Σ_j |y_j − x̄^[K]_j| of a row block, and ∂L/∂x̄^[K] = sign(x̄^[K] − y)."""
    total = 0.0
    for i in range(rows * n):
        d = abuf[o + i] - y[yo + i]
        total += abs(d)
        pbuf[o + i] = 1.0 if d > 0 else (-1.0 if d < 0 else 0.0)
    return total


# Huber with an absolute threshold ε on the residual r = x̄ − y, as scikit-learn's SGDRegressor:
# ½ r² for |r| ≤ ε, ε |r| − ½ ε² beyond; ∂L/∂x̄ = r clipped to [−ε, ε].
@jit(inline=True)
@_doc("x̄^[K]. Read only", _BEFORE, "real numbers", "ε, the residual beyond which L grows linearly (> 0).")
def huber_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int, rows: int,
                n: int, lp: float) -> float:
    """The Huber loss of a row block, L = Σ_j h(x̄^[K]_j − y_j) with h(r) = ½ r² for |r| ≤ ε and
    ε |r| − ½ ε² beyond (ε = ``lp``), and ∂L/∂x̄^[K] = r clipped to [−ε, ε]."""
    total = 0.0
    for i in range(rows * n):
        d = abuf[o + i] - y[yo + i]
        a = abs(d)
        if a <= lp:
            total += 0.5 * d * d
            pbuf[o + i] = d
        else:
            total += lp * (a - 0.5 * lp)
            pbuf[o + i] = lp if d > 0 else -lp
    return total


# The pinball loss of quantile q, as HistGradientBoostingRegressor(loss="quantile"): with
# r = y − x̄, q r for r ≥ 0 and (q − 1) r below; ∂L/∂x̄ = −q (under) or 1 − q (over).
@jit(inline=True)
@_doc("x̄^[K]. Read only", _BEFORE, "real numbers", "q, the quantile the output estimates, in (0, 1).")
def quantile_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int, rows: int,
                   n: int, lp: float) -> float:
    """The pinball loss of a row block, L = Σ_j max(q r_j, (q − 1) r_j) with r = y − x̄^[K] and
    q = ``lp``, and ∂L/∂x̄^[K] = −q where x̄^[K] < y, 1 − q where x̄^[K] > y, 0 at a tie."""
    total = 0.0
    for i in range(rows * n):
        r = y[yo + i] - abuf[o + i]
        if r > 0:
            total += lp * r
            pbuf[o + i] = -lp
        elif r < 0:
            total += (lp - 1.0) * r
            pbuf[o + i] = 1.0 - lp
        else:
            pbuf[o + i] = 0.0
    return total


# Poisson with its canonical log link: μ = x̄^[K] = exp(z̄^[K]); L is half the Poisson deviance,
# y log(y/μ) − y + μ (scikit-learn's MLPRegressor(loss="poisson") reports the same), and φ = μ − y.
@jit(inline=True)
@_rows_doc
def exp_rows(abuf: FloatArray, o: int, rows: int, n: int) -> None:
    """exp of each entry in place, z̄^[K] → x̄^[K] = μ = exp(z̄^[K]) (the Poisson loss's link)."""
    for i in range(rows * n):
        abuf[o + i] = math.exp(abuf[o + i])


@jit(inline=True)
@_doc("z̄^[K]. Overwritten with x̄^[K] = exp(z̄^[K])", "φ^[K] = exp(z̄^[K]) − y",
      "counts or rates, y ≥ 0", _UNUSED)
def poisson_delta(abuf: FloatArray, pbuf: FloatArray, o: int, y: FloatArray, yo: int, rows: int,
                  n: int, lp: float) -> float:
    """Half the Poisson deviance of a row block with the log link, L = Σ_j y_j log(y_j / μ_j) −
    y_j + μ_j with μ = exp(z̄^[K]) (y log y = 0 at y = 0), and φ^[K] = μ − y."""
    total = 0.0
    for i in range(rows * n):
        z, t = abuf[o + i], y[yo + i]
        mu = math.exp(z)
        total += mu - t - t * z
        if t > 0:
            total += t * math.log(t)
        abuf[o + i] = mu
        pbuf[o + i] = mu - t
    return total


# The same, as straight-line source for ``_unrolled``: lines that read x{K}_j (x̄^[K], or
# z̄^[K] for a linked loss) and Y[r, j − 1], add the sample's L to ``total``, and set φ^[K]_j as
# p{K}_j (before ψ' when there is no link: the generator multiplies it in).
def mse_source(K: int, n: int, lp: float) -> list[str]:
    """``mse_delta`` as straight-line source for ``_unrolled``.

    Parameters
    ----------
    K : int
        The output layer's index (its variables are named ``x{K}_j`` and ``p{K}_j``).
    n : int
        Its width, n_K.
    lp : float
        The loss's parameter (unused by this loss).

    Returns
    -------
    list of str
        Source lines, without indentation, for one sample ``r``.
    """
    out = []
    for j in range(1, n + 1):
        out += [f"d{j} = x{K}_{j} - Y[r, {j - 1}]", f"total += 0.5 * (d{j} * d{j})", f"p{K}_{j} = d{j}"]
    return out


def cross_entropy_source(K: int, n: int, lp: float) -> list[str]:
    """``cross_entropy_delta`` as straight-line source for ``_unrolled``.

    Parameters
    ----------
    K : int
        The output layer's index (its variables are named ``x{K}_j`` and ``p{K}_j``).
    n : int
        Its width, n_K.
    lp : float
        The loss's parameter (unused by this loss).

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


def binary_cross_entropy_source(K: int, n: int, lp: float) -> list[str]:
    """``binary_cross_entropy_delta`` as straight-line source for ``_unrolled``.

    Parameters
    ----------
    K : int
        The output layer's index (its variables are named ``x{K}_j`` and ``p{K}_j``).
    n : int
        Its width, n_K.
    lp : float
        The loss's parameter (unused by this loss).

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


def absolute_error_source(K: int, n: int, lp: float) -> list[str]:
    """``absolute_error_delta`` as straight-line source for ``_unrolled`` (as ``mse_source``)."""
    out = []
    for j in range(1, n + 1):
        out += [f"d{j} = x{K}_{j} - Y[r, {j - 1}]", f"total += abs(d{j})",
                f"p{K}_{j} = one if d{j} > zero else (-one if d{j} < zero else zero)"]
    return out


def huber_source(K: int, n: int, lp: float) -> list[str]:
    """``huber_delta`` as straight-line source for ``_unrolled``, ε = ``lp`` written in."""
    out = [f"eps = T({lp!r})"]
    for j in range(1, n + 1):
        d, p = f"d{j}", f"p{K}_{j}"
        out += [f"{d} = x{K}_{j} - Y[r, {j - 1}]",
                f"total += 0.5 * ({d} * {d}) if abs({d}) <= eps else {lp!r} * (abs({d}) - {0.5 * lp!r})",
                f"{p} = {d} if abs({d}) <= eps else (eps if {d} > zero else -eps)"]
    return out


def quantile_source(K: int, n: int, lp: float) -> list[str]:
    """``quantile_delta`` as straight-line source for ``_unrolled``, q = ``lp`` written in."""
    out = [f"q = T({lp!r})"]
    for j in range(1, n + 1):
        r, p = f"r{j}", f"p{K}_{j}"
        out += [f"{r} = Y[r, {j - 1}] - x{K}_{j}",
                f"total += {lp!r} * {r} if {r} >= zero else {lp - 1.0!r} * {r}",
                f"{p} = -q if {r} > zero else (one - q if {r} < zero else zero)"]
    return out


def poisson_source(K: int, n: int, lp: float) -> list[str]:
    """``poisson_delta`` as straight-line source for ``_unrolled``."""
    out = []
    for j in range(1, n + 1):
        z, t = f"x{K}_{j}", f"Y[r, {j - 1}]"
        out += [f"mu = math.exp({z})", f"total += mu - {t} - {t} * {z}",
                f"total += {t} * math.log({t}) if {t} > zero else 0.0", f"{z} = mu", f"p{K}_{j} = mu - {t}"]
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
        ``source(K, n, lp) -> list[str]``: the delta as straight-line source, for ``_unrolled``.
    param_name : str or None
        The name of the loss's one parameter (``"epsilon"`` for Huber, ``"quantile"``), or None.
    param : float
        Its value (0.0 for a loss without one): the ``lp`` every delta receives. ``huber(epsilon)``
        and ``quantile(q)``, or ``with_param``, give an entry with another value.

    Examples
    --------
    >>> from fastnn import losses
    >>> losses.get("huber").param                 # scikit-learn's SGDRegressor default ε
    0.1
    >>> losses.quantile(0.9)                      # an entry that Network takes as loss=
    Loss('quantile', quantile=0.9)
    """

    name: str
    code: int
    delta: Callable[..., float]  # jitted: φ^[K] (before ψ' when link is None) and Σ L over a row block
    link: str | None  # output activation fixed by the loss; None: any ψ^[K]
    link_rows: Callable[..., None]  # jitted: z̄^[K] → x̄^[K] in place on whole rows (predict)
    targets: str  # "real", "probabilities" (rows sum to 1, or integer labels), "binary" in [0, 1]
    source: Callable[[int, int, float], list[str]]  # the delta as straight-line source, for ``_unrolled``
    param_name: str | None = None  # "epsilon" (Huber), "quantile"; None: no parameter
    param: float = 0.0  # its value, passed to delta as lp

    def __repr__(self) -> str:
        extra = f", {self.param_name}={self.param!r}" if self.param_name else ""
        return f"Loss({self.name!r}{extra})"

    def with_param(self, value: float) -> Loss:
        """This entry with its parameter set to ``value``, checked.

        Parameters
        ----------
        value : float
            Huber's ε (> 0) or the quantile q (in (0, 1)).

        Returns
        -------
        Loss
            The entry with ``param = float(value)``.

        Raises
        ------
        ValueError
            If the loss has no parameter, or ``value`` is out of its range.
        """
        if self.param_name is None:
            raise ValueError(f"loss: {self.name!r} takes no parameter; got {self.param_name}={value!r}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = math.nan
        if self.param_name == "quantile":
            if not 0.0 < v < 1.0:
                raise ValueError(f"quantile: the quantile q must be in (0, 1), got {value!r}; "
                                 "e.g. 0.5 for the median, 0.9 for the 90th percentile")
        elif not (math.isfinite(v) and v > 0.0):
            raise ValueError(f"{self.param_name}: Huber's threshold on the residual must be a finite "
                             f"number > 0, got {value!r}; e.g. 0.1 (scikit-learn's SGDRegressor) or 1.0")
        return self._replace(param=v)


_TABLE = [
    Loss("mse", 0, mse_delta, None, no_link, "real", mse_source),
    Loss("cross_entropy", 1, cross_entropy_delta, "softmax", softmax_rows, "probabilities",
         cross_entropy_source),
    Loss("binary_cross_entropy", 2, binary_cross_entropy_delta, "sigmoid", sigmoid_rows, "binary",
         binary_cross_entropy_source),
    Loss("poisson", 3, poisson_delta, "exp", exp_rows, "nonnegative", poisson_source),
    Loss("absolute_error", 4, absolute_error_delta, None, no_link, "real", absolute_error_source),
    Loss("huber", 5, huber_delta, None, no_link, "real", huber_source, "epsilon", 0.1),
    Loss("quantile", 6, quantile_delta, None, no_link, "real", quantile_source, "quantile", 0.5),
]
LOSSES = {entry.name: entry for entry in _TABLE}
"""The table by name: ``LOSSES["mse"]`` is the seed's loss."""
BY_CODE = tuple(_TABLE)
"""The table by code: ``BY_CODE[code]`` is the entry with that code."""
assert all(entry.code == i for i, entry in enumerate(BY_CODE))


def get(name: str | Loss) -> Loss:
    """The table entry for a loss's name (or a ``Loss``, e.g. from ``huber``, as it is).

    Parameters
    ----------
    name : str or Loss
        A key of ``LOSSES`` ("mse", "cross_entropy", "binary_cross_entropy", "poisson",
        "absolute_error", "huber", "quantile"; the last two with their default parameter), or
        an entry with its parameter set (``huber(epsilon)``, ``quantile(q)``, ``with_param``).

    Returns
    -------
    Loss
        The entry.

    Raises
    ------
    ValueError
        If ``name`` is not in the table; the message lists the valid names.
    """
    if isinstance(name, Loss):
        if LOSSES.get(name.name, None) is None or LOSSES[name.name]._replace(param=name.param) != name:
            raise ValueError(f"loss: {name!r} is not an entry of fastnn's loss table; pass a name "
                             f"({sorted(LOSSES)}), fastnn.losses.huber(epsilon) or fastnn.losses.quantile(q)")
        return name if name.param_name is None else LOSSES[name.name].with_param(name.param)
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"loss: unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None


def huber(epsilon: float = 0.1) -> Loss:
    """The Huber loss with threshold ε on the residual, as scikit-learn's ``SGDRegressor``.

    Parameters
    ----------
    epsilon : float
        ε > 0: L = ½ r² for |r| ≤ ε, ε |r| − ½ ε² beyond, r = x̄^[K] − y.

    Returns
    -------
    Loss
        The table's "huber" entry with ``param = epsilon``, for ``Network(loss=...)``.

    Examples
    --------
    >>> from fastnn import Network, losses
    >>> Network([3, 8, 1], loss=losses.huber(1.0), seed=0).loss_param
    1.0
    """
    return LOSSES["huber"].with_param(epsilon)


def quantile(q: float = 0.5) -> Loss:
    """The pinball loss of quantile q, as ``HistGradientBoostingRegressor(loss="quantile")``.

    Parameters
    ----------
    q : float
        In (0, 1): the output estimates the q-quantile of y given x̄^[0] (0.5: the median).

    Returns
    -------
    Loss
        The table's "quantile" entry with ``param = q``, for ``Network(loss=...)``.

    Examples
    --------
    >>> from fastnn import Network, losses
    >>> Network([3, 8, 1], loss=losses.quantile(0.9), seed=0).loss_param
    0.9
    """
    return LOSSES["quantile"].with_param(q)
