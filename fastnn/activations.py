"""The activation table: every ψ fastnn knows, with its derivative ψ'.

Each entry has a name, the integer code the kernels branch on (once per layer, in the branch
generated from this table into ``_dispatch``), the scalar
ψ(z), the scalar ψ'(z) written in terms of the output x = ψ(z) (so backprop needs only the
stored activations x̄^[k], not z̄^[k]), and the weight initialisation that suits it.

The scalar functions are Numba-compiled; they also run from Python, on Python or NumPy floats.

Examples
--------
>>> from fastnn import activations
>>> sorted(activations.ACTIVATIONS)
['identity', 'leaky_relu', 'relu', 'sigmoid', 'softplus', 'tanh']
>>> entry = activations.get("tanh")
>>> entry.code, entry.init
(3, 'glorot')
>>> x = entry.psi(0.5)
>>> abs(entry.dpsi(x) - (1 - x * x)) < 1e-15
True
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from ._jit import jit

LEAKY_SLOPE = 0.01
"""The slope of ``leaky_relu`` for z ≤ 0 (PyTorch's and ONNX's default, 0.01)."""


# ψ(z) ---------------------------------------------------------------------------------------
@jit
def identity(z: float) -> float:
    """ψ(z) = z.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        z itself.
    """
    return z


@jit
def relu(z: float) -> float:
    """ψ(z) = max(z, 0).

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        z if z > 0, else 0 of z's type.
    """
    return z if z > 0 else z * 0


@jit
def leaky_relu(z: float) -> float:
    """ψ(z) = z for z > 0, else ``LEAKY_SLOPE`` · z.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        ψ(z), of z's type.
    """
    return z if z > 0 else z * type(z)(LEAKY_SLOPE)


@jit
def sigmoid(z: float) -> float:
    """ψ(z) = 1 / (1 + e^−z), without overflow for large |z|.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        ψ(z) in [0, 1], of z's type.
    """
    one = type(z)(1)
    if z >= 0:
        return one / (one + math.exp(-z))
    e = math.exp(z)
    return e / (one + e)


@jit
def tanh(z: float) -> float:
    """ψ(z) = tanh(z).

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        ψ(z) in [−1, 1].
    """
    return math.tanh(z)


@jit
def softplus(z: float) -> float:
    """ψ(z) = log(1 + e^z), without overflow.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        ψ(z) ≥ 0, computed as max(z, 0) + log1p(e^−|z|).
    """
    return max(z, z * 0) + math.log1p(math.exp(-abs(z)))


# ψ'(z) from x = ψ(z) -------------------------------------------------------------------------
@jit
def d_identity(x: float) -> float:
    """ψ'(z) = 1 for the identity.

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]), a scalar of the network's dtype.

    Returns
    -------
    float
        1, of x's type.
    """
    return type(x)(1)


@jit
def d_relu(x: float) -> float:
    """ψ'(z) of relu from x = ψ(z): 1 where x > 0, else 0.

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]), a scalar of the network's dtype.

    Returns
    -------
    float
        1 or 0, of x's type.
    """
    return type(x)(1) if x > 0 else type(x)(0)


@jit
def d_leaky_relu(x: float) -> float:
    """ψ'(z) of leaky_relu from x = ψ(z): 1 where x > 0, else ``LEAKY_SLOPE``.

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]), a scalar of the network's dtype.

    Returns
    -------
    float
        1 or ``LEAKY_SLOPE``, of x's type.
    """
    return type(x)(1) if x > 0 else type(x)(LEAKY_SLOPE)


@jit
def d_sigmoid(x: float) -> float:
    """ψ'(z) of sigmoid from x = ψ(z): x (1 − x).

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]), a scalar of the network's dtype.

    Returns
    -------
    float
        x (1 − x).
    """
    return x * (type(x)(1) - x)


@jit
def d_tanh(x: float) -> float:
    """ψ'(z) of tanh from x = ψ(z): 1 − x².

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]), a scalar of the network's dtype.

    Returns
    -------
    float
        1 − x².
    """
    return type(x)(1) - x * x


@jit
def d_softplus(x: float) -> float:
    """ψ'(z) of softplus from x = ψ(z): σ(z) = 1 − e^−x.

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]), a scalar of the network's dtype.

    Returns
    -------
    float
        1 − e^−x, computed as −expm1(−x).
    """
    return -math.expm1(-x)


class Activation(NamedTuple):
    """One row of the activation table.

    Attributes
    ----------
    name : str
        The name ``Network`` takes in ``activations``, e.g. ``"relu"``.
    code : int
        The integer the kernels branch on; ``BY_CODE[code]`` is this entry.
    psi : callable
        The jitted scalar ψ(z).
    dpsi : callable
        The jitted scalar ψ'(z), given x = ψ(z) (not z).
    init : str
        The weight initialisation that suits ψ: ``"he"`` (He-normal, for ReLU-like ψ) or
        ``"glorot"`` (Glorot-uniform).
    """

    name: str
    code: int
    psi: Callable[[float], float]  # scalar ψ(z), jitted
    dpsi: Callable[[float], float]  # scalar ψ'(z) given x = ψ(z), jitted
    init: str  # "he" or "glorot"


_TABLE = [
    Activation("identity", 0, identity, d_identity, "glorot"),
    Activation("relu", 1, relu, d_relu, "he"),
    Activation("sigmoid", 2, sigmoid, d_sigmoid, "glorot"),
    Activation("tanh", 3, tanh, d_tanh, "glorot"),
    Activation("leaky_relu", 4, leaky_relu, d_leaky_relu, "he"),
    Activation("softplus", 5, softplus, d_softplus, "he"),
]
ACTIVATIONS = {a.name: a for a in _TABLE}
"""The table by name: ``ACTIVATIONS["relu"]`` is relu's ``Activation``."""
BY_CODE = tuple(_TABLE)
"""The table by code: ``BY_CODE[code]`` is the entry with that code."""
assert all(a.code == i for i, a in enumerate(BY_CODE))


def get(name: str) -> Activation:
    """The table entry for an activation's name.

    Parameters
    ----------
    name : str
        A key of ``ACTIVATIONS``, e.g. ``"relu"``.

    Returns
    -------
    Activation
        The entry: name, code, ψ, ψ' and initialisation.

    Raises
    ------
    ValueError
        If ``name`` is not in the table; the message lists the valid names.
    """
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"activations: unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}"
        ) from None
