"""The activation table: every ψ fastnn knows, with its derivative ψ'.

Each entry has a name, the integer code the kernels branch on (once per layer, in the branch
generated from this table into ``_dispatch``), the scalar
ψ(z), the scalar ψ'(z) written in terms of the output x = ψ(z) (so backprop needs only the
stored activations x̄^[k], not z̄^[k]), and the weight initialisation that suits it.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from ._jit import jit

LEAKY_SLOPE = 0.01


# ψ(z) ---------------------------------------------------------------------------------------
@jit
def identity(z):
    return z


@jit
def relu(z):
    return z if z > 0 else z * 0


@jit
def leaky_relu(z):
    return z if z > 0 else z * type(z)(LEAKY_SLOPE)


@jit
def sigmoid(z):
    one = type(z)(1)
    if z >= 0:
        return one / (one + math.exp(-z))
    e = math.exp(z)
    return e / (one + e)


@jit
def tanh(z):
    return math.tanh(z)


@jit
def softplus(z):  # log(1 + e^z), without overflow
    return max(z, z * 0) + math.log1p(math.exp(-abs(z)))


# ψ'(z) from x = ψ(z) -------------------------------------------------------------------------
@jit
def d_identity(x):
    return type(x)(1)


@jit
def d_relu(x):
    return type(x)(1) if x > 0 else type(x)(0)


@jit
def d_leaky_relu(x):
    return type(x)(1) if x > 0 else type(x)(LEAKY_SLOPE)


@jit
def d_sigmoid(x):
    return x * (type(x)(1) - x)


@jit
def d_tanh(x):
    return type(x)(1) - x * x


@jit
def d_softplus(x):  # σ(z) = 1 − e^{−x} when x = log(1 + e^z)
    return -math.expm1(-x)


class Activation(NamedTuple):
    name: str
    code: int
    psi: object  # scalar ψ(z), jitted
    dpsi: object  # scalar ψ'(z) given x = ψ(z), jitted
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
BY_CODE = tuple(_TABLE)  # BY_CODE[code] is the entry with that code
assert all(a.code == i for i, a in enumerate(BY_CODE))


def get(name) -> Activation:
    """The table entry for ``name``; a ValueError lists the valid names otherwise."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"activations: unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}"
        ) from None
