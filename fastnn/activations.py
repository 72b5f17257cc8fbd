"""The activation table: every ψ fastnn knows, with its derivative ψ'.

Each entry has a name, the integer code the kernels branch on (once per layer, in the branch
generated from this table into ``_dispatch``), the scalar ψ(z), the scalar ψ'(z) written in
terms of the output x = ψ(z) (so backprop needs only the stored activations x̄^[k], not z̄^[k]),
the scalar ψ'(z) written in terms of the input z, whether the first form exists
(``from_output``: not for gelu and silu, which are not invertible, so their backprop needs
z̄^[k]), and the weight initialisation that suits it.

The scalar functions are Numba-compiled; they also run from Python, on Python or NumPy floats.

Examples
--------
>>> from fastnn import activations
>>> sorted(activations.ACTIVATIONS)
['elu', 'gelu', 'identity', 'leaky_relu', 'relu', 'selu', 'sigmoid', 'silu', 'softplus', 'tanh']
>>> entry = activations.get("tanh")
>>> entry.code, entry.init, entry.from_output
(3, 'glorot', True)
>>> x = entry.psi(0.5)
>>> abs(entry.dpsi(x) - (1 - x * x)) < 1e-15
True
>>> abs(entry.dpsi_z(0.5) - entry.dpsi(x)) < 1e-15
True
>>> gelu = activations.get("gelu")
>>> gelu.from_output, round(gelu.psi(1.0), 6), round(gelu.dpsi_z(1.0), 6)
(False, 0.841345, 1.083315)
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from ._jit import jit

LEAKY_SLOPE = 0.01
"""The slope of ``leaky_relu`` for z ≤ 0 (PyTorch's and ONNX's default, 0.01)."""
SELU_LAMBDA = 1.0507009873554804934193349852946
"""selu's scale λ (PyTorch's ``nn.SELU`` constant, from Klambauer et al., 2017)."""
SELU_ALPHA = 1.6732632423543772848170429916717
"""selu's α (PyTorch's ``nn.SELU`` constant): selu(z) = λ α (e^z − 1) for z ≤ 0."""
_SELU_LA = SELU_LAMBDA * SELU_ALPHA  # λα, selu's limit −λα as z → −∞
_SQRT_HALF = 0.7071067811865476  # 1/√2
_INV_SQRT_2PI = 0.3989422804014327  # 1/√(2π)


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


@jit
def gelu(z: float) -> float:
    """ψ(z) = z Φ(z) = ½ z (1 + erf(z/√2)), the exact GELU (PyTorch's default ``nn.GELU()``).

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        ψ(z), of z's type. Φ(z) is computed as ½ erfc(−z/√2), the same function without the
        cancellation of 1 + erf(z/√2) for z ≪ 0.
    """
    T = type(z)
    return z * (T(0.5) * math.erfc(-z * T(_SQRT_HALF)))


@jit
def silu(z: float) -> float:
    """ψ(z) = z σ(z) (SiLU, also called swish), σ the logistic ``sigmoid``.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        ψ(z), of z's type, without overflow for large |z| (σ is computed as ``sigmoid`` is).
    """
    return z * sigmoid(z)


@jit
def elu(z: float) -> float:
    """ψ(z) = z for z > 0, else e^z − 1 (ELU with α = 1, PyTorch's default ``nn.ELU()``).

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        ψ(z) > −1, of z's type; e^z − 1 is computed as expm1(z).
    """
    return z if z > 0 else math.expm1(z)


@jit
def selu(z: float) -> float:
    """ψ(z) = λ z for z > 0, else λ α (e^z − 1), with PyTorch's ``SELU_LAMBDA`` and ``SELU_ALPHA``.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype (float32 or float64).

    Returns
    -------
    float
        ψ(z) > −λα, of z's type; e^z − 1 is computed as expm1(z).
    """
    T = type(z)
    return T(SELU_LAMBDA) * z if z > 0 else T(_SELU_LA) * math.expm1(z)


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


@jit
def d_elu(x: float) -> float:
    """ψ'(z) of elu from x = ψ(z): 1 where x > 0, else e^z = x + 1.

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]), a scalar of the network's dtype.

    Returns
    -------
    float
        1 or x + 1, of x's type.
    """
    return type(x)(1) if x > 0 else x + type(x)(1)


@jit
def d_selu(x: float) -> float:
    """ψ'(z) of selu from x = ψ(z): λ where x > 0, else λ α e^z = x + λ α.

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]), a scalar of the network's dtype.

    Returns
    -------
    float
        ``SELU_LAMBDA`` or x + ``SELU_LAMBDA`` · ``SELU_ALPHA``, of x's type.
    """
    T = type(x)
    return T(SELU_LAMBDA) if x > 0 else x + T(_SELU_LA)


@jit
def _needs_z(x: float) -> None:
    """Raise: ``dpsi`` of an entry whose ``from_output`` is False was called."""
    raise ValueError("activations: gelu and silu have no derivative in terms of their output "
                     "x = psi(z) (their entries' from_output is False): call the entry's dpsi_z "
                     "with z instead")


@jit
def d_gelu(x: float) -> float:
    """Not defined: gelu is not invertible, so ψ'(z) cannot be written from x = ψ(z).

    The table entry (``from_output`` False) still holds a jitted function here, so every
    ``dpsi`` compiles; it raises whenever it runs. The kernels never call it: a gelu layer's
    backprop uses ``d_gelu_z`` on the stored z̄^[k].

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]).

    Returns
    -------
    float
        Never returns.

    Raises
    ------
    ValueError
        Always, saying to call ``dpsi_z`` with z instead.
    """
    _needs_z(x)
    return x  # not reached; gives the function a float type, so jitted callers still compile


@jit
def d_silu(x: float) -> float:
    """Not defined: silu is not invertible, so ψ'(z) cannot be written from x = ψ(z).

    The table entry (``from_output`` False) still holds a jitted function here, so every
    ``dpsi`` compiles; it raises whenever it runs. The kernels never call it: a silu layer's
    backprop uses ``d_silu_z`` on the stored z̄^[k].

    Parameters
    ----------
    x : float
        One entry of x̄^[k] = ψ(z̄^[k]).

    Returns
    -------
    float
        Never returns.

    Raises
    ------
    ValueError
        Always, saying to call ``dpsi_z`` with z instead.
    """
    _needs_z(x)
    return x  # not reached; gives the function a float type, so jitted callers still compile


# ψ'(z) from z ---------------------------------------------------------------------------------
@jit
def d_identity_z(z: float) -> float:
    """ψ'(z) = 1 for the identity.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        1, of z's type.
    """
    return type(z)(1)


@jit
def d_relu_z(z: float) -> float:
    """ψ'(z) of relu: 1 where z > 0, else 0 (0 at z = 0, as ``d_relu`` gives from x = 0).

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        1 or 0, of z's type.
    """
    return type(z)(1) if z > 0 else type(z)(0)


@jit
def d_leaky_relu_z(z: float) -> float:
    """ψ'(z) of leaky_relu: 1 where z > 0, else ``LEAKY_SLOPE``.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        1 or ``LEAKY_SLOPE``, of z's type.
    """
    return type(z)(1) if z > 0 else type(z)(LEAKY_SLOPE)


@jit
def d_sigmoid_z(z: float) -> float:
    """ψ'(z) of sigmoid: σ(z) σ(−z), which is σ(z) (1 − σ(z)) without its cancellation for z ≫ 0.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        ψ'(z) in [0, ¼], of z's type.
    """
    return sigmoid(z) * sigmoid(-z)


@jit
def d_tanh_z(z: float) -> float:
    """ψ'(z) of tanh: 1 / cosh²(z), which is 1 − tanh²(z) without its cancellation for large |z|.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        ψ'(z) in [0, 1], of z's type (0 once cosh² overflows).
    """
    c = math.cosh(z)
    return type(z)(1) / (c * c)


@jit
def d_softplus_z(z: float) -> float:
    """ψ'(z) of softplus: σ(z), the logistic ``sigmoid``.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        σ(z) in [0, 1], of z's type.
    """
    return sigmoid(z)


@jit
def d_gelu_z(z: float) -> float:
    """ψ'(z) of gelu: Φ(z) + z φ(z), φ(z) = e^(−z²/2) / √(2π) the standard normal density.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        ψ'(z), of z's type (Φ(z) as in ``gelu``; the second term is 0 once z² overflows).
    """
    T = type(z)
    return T(0.5) * math.erfc(-z * T(_SQRT_HALF)) + z * T(_INV_SQRT_2PI) * math.exp(T(-0.5) * z * z)


@jit
def d_silu_z(z: float) -> float:
    """ψ'(z) of silu: σ(z) (1 + z (1 − σ(z))), with 1 − σ(z) computed as σ(−z).

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        ψ'(z), of z's type, without overflow for large |z|.
    """
    return sigmoid(z) * (type(z)(1) + z * sigmoid(-z))


@jit
def d_elu_z(z: float) -> float:
    """ψ'(z) of elu: 1 where z > 0, else e^z.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        1 or e^z, of z's type.
    """
    return type(z)(1) if z > 0 else math.exp(z)


@jit
def d_selu_z(z: float) -> float:
    """ψ'(z) of selu: λ where z > 0, else λ α e^z.

    Parameters
    ----------
    z : float
        One entry of z̄^[k], a scalar of the network's dtype.

    Returns
    -------
    float
        ``SELU_LAMBDA`` or ``SELU_LAMBDA`` · ``SELU_ALPHA`` · e^z, of z's type.
    """
    T = type(z)
    return T(SELU_LAMBDA) if z > 0 else T(_SELU_LA) * math.exp(z)


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
        The jitted scalar ψ'(z), given x = ψ(z) (not z). For an entry with ``from_output``
        False (gelu, silu) it is still a jitted function, but one that raises ``ValueError``
        whenever it runs: the kernels never call it for these.
    dpsi_z : callable
        The jitted scalar ψ'(z), given z. Every entry has one.
    from_output : bool
        True when ψ'(z) can be written from x = ψ(z) (``dpsi`` works, and backprop needs only
        x̄^[k]); False for gelu and silu, which are not invertible: their backprop needs z̄^[k].
    init : str
        The weight initialisation that suits ψ: ``"he"`` (He-normal, std √(2/n_in), for
        ReLU-like ψ), ``"glorot"`` (Glorot-uniform, limit √(6/(n_in + n_out))) or ``"lecun"``
        (LeCun-normal, std √(1/n_in), for selu), n_in and n_out the widths of W^[k].
    """

    name: str
    code: int
    psi: Callable[[float], float]  # scalar ψ(z), jitted
    dpsi: Callable[[float], float]  # scalar ψ'(z) given x = ψ(z), jitted (raises if not from_output)
    dpsi_z: Callable[[float], float]  # scalar ψ'(z) given z, jitted
    from_output: bool  # whether dpsi works: ψ' written from x = ψ(z)
    init: str  # "he", "glorot" or "lecun"


_TABLE = [
    Activation("identity", 0, identity, d_identity, d_identity_z, True, "glorot"),
    Activation("relu", 1, relu, d_relu, d_relu_z, True, "he"),
    Activation("sigmoid", 2, sigmoid, d_sigmoid, d_sigmoid_z, True, "glorot"),
    Activation("tanh", 3, tanh, d_tanh, d_tanh_z, True, "glorot"),
    Activation("leaky_relu", 4, leaky_relu, d_leaky_relu, d_leaky_relu_z, True, "he"),
    Activation("softplus", 5, softplus, d_softplus, d_softplus_z, True, "he"),
    Activation("gelu", 6, gelu, d_gelu, d_gelu_z, False, "he"),
    Activation("silu", 7, silu, d_silu, d_silu_z, False, "he"),
    Activation("elu", 8, elu, d_elu, d_elu_z, True, "he"),
    Activation("selu", 9, selu, d_selu, d_selu_z, True, "lecun"),
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
        The entry: name, code, ψ, ψ' (from x and from z) and initialisation.

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
