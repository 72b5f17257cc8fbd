"""fastnn's gradients against central finite differences and against tests/naive.py."""
import numpy as np
import pytest

import fastnn
import naive
from fastnn import Network
from helpers import (
    ACTIVATION_NAMES,
    central_difference,
    random_xy,
    randomize_biases,
)

EPS = 1e-6
RTOL = 1e-5
ATOL = 1e-8
# Small, all-different widths; sizes[:K+1] is a depth-K network.
WIDTHS = [3, 4, 5, 3, 4, 2]


def fd_check(net, X, Y, rng, max_entries=None):
    """Compare net.gradients to central differences of net.loss, perturbing the views in place.

    With max_entries, each layer checks a random subset of that many weight entries (plus all
    biases up to the same count); otherwise every entry.
    """
    dW, db = net.gradients(X, Y)
    assert len(dW) == len(db) == net.n_layers
    for k in range(net.n_layers):
        for arr, grad in ((net.weights[k], dW[k]), (net.biases[k], db[k])):
            assert grad.shape == arr.shape
            idx = list(np.ndindex(arr.shape))
            if max_entries is not None and len(idx) > max_entries:
                idx = [idx[i] for i in rng.choice(len(idx), size=max_entries, replace=False)]
            for i in idx:
                fd = central_difference(net, arr, i, X, Y, EPS)
                assert abs(grad[i] - fd) <= ATOL + RTOL * abs(fd), (
                    f"layer k={k + 1} {'W' if arr.ndim == 2 else 'b'}{i}: "
                    f"analytic {grad[i]!r} vs finite difference {fd!r}"
                )


def _cases():
    from fastnn import ACTIVATIONS

    for act in ACTIVATION_NAMES:
        for K in range(1, 6):
            for N in (1, 7):
                # psi^[k] = act in every hidden layer, identity output
                if K > 1:
                    yield pytest.param(act, "hidden", K, N, id=f"{act}-hidden-K{K}-N{N}")
                # psi^[K] = act at the output, smooth tanh hidden layers (not gelu/silu: their
                # ψ' needs z̄, which only hidden layers keep)
                if ACTIVATIONS[act].from_output:
                    yield pytest.param(act, "output", K, N, id=f"{act}-output-K{K}-N{N}")


def _activations(act, where, K):
    if where == "hidden":
        return [act] * (K - 1) + ["identity"]
    return ["tanh"] * (K - 1) + [act]


@pytest.mark.parametrize("act,where,K,N", list(_cases()))
def test_gradients_match_finite_differences(act, where, K, N, rng):
    sizes = WIDTHS[: K + 1]
    net = Network(sizes, activations=_activations(act, where, K), dtype="float64", seed=K * 10 + N)
    randomize_biases(net, rng)
    X, Y = random_xy(rng, N, sizes[0], sizes[-1])
    fd_check(net, X, Y, rng)


def test_gradients_mixed_activations_deep():
    rng = np.random.default_rng(7)
    acts = ["softplus", "sigmoid", "leaky_relu", "tanh", "relu", "identity"]
    sizes = [3, 5, 4, 6, 3, 4, 2]
    net = Network(sizes, activations=acts, dtype="float64", seed=3)
    randomize_biases(net, rng)
    X, Y = random_xy(rng, 9, 3, 2)
    fd_check(net, X, Y, rng)


def test_gradients_wide_layers_subset():
    # Wide enough that a kernel may switch from hand loops to BLAS; check a random subset.
    rng = np.random.default_rng(8)
    sizes = [20, 96, 80, 3]
    net = Network(sizes, activations=["tanh", "softplus", "identity"], dtype="float64", seed=4)
    randomize_biases(net, rng)
    X, Y = random_xy(rng, 33, 20, 3)
    fd_check(net, X, Y, rng, max_entries=25)


def test_gradient_of_one_dimensional_targets():
    rng = np.random.default_rng(9)
    net = Network([2, 4, 1], activations="sigmoid", dtype="float64", seed=5)
    randomize_biases(net, rng)
    X, Y = random_xy(rng, 6, 2, 1)
    fd_check(net, X, Y[:, 0], rng)


# --- fastnn vs the naive NumPy reference ----------------------------------------------------

NAIVE_CASES = [
    ([2, 1], ["identity"]),
    ([3, 4, 2], ["relu", "identity"]),
    ([3, 5, 4, 2], ["sigmoid", "tanh", "sigmoid"]),
    ([2, 6, 6, 6, 3], ["leaky_relu", "softplus", "relu", "tanh"]),
    ([4, 3, 5, 2, 3, 1], ["softplus", "leaky_relu", "sigmoid", "tanh", "relu"]),
]


def _net_and_data(sizes, acts, dtype, N, seed):
    rng = np.random.default_rng(seed)
    net = Network(sizes, activations=acts, dtype=dtype, seed=seed)
    randomize_biases(net, rng)
    X, Y = random_xy(rng, N, sizes[0], sizes[-1], dtype=dtype)
    return net, X, Y


@pytest.mark.parametrize("N", [1, 7])
@pytest.mark.parametrize("sizes,acts", NAIVE_CASES, ids=[str(s) for s, _ in NAIVE_CASES])
def test_matches_naive_float64(sizes, acts, N):
    net, X, Y = _net_and_data(sizes, acts, "float64", N, seed=len(sizes) + N)
    ref = naive.backprop(net.weights, net.biases, acts, X, Y)
    K = len(sizes) - 1

    np.testing.assert_allclose(net.predict(X), ref["x"][K], rtol=1e-10, atol=1e-12)
    assert net.loss(X, Y) == pytest.approx(ref["loss"], rel=1e-10, abs=1e-14)
    dW, db = net.gradients(X, Y)
    for k in range(1, K + 1):
        np.testing.assert_allclose(dW[k - 1], ref["dW"][k], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(db[k - 1], ref["db"][k], rtol=1e-9, atol=1e-12)

    bp = net.backprop(X, Y)
    assert bp.loss == pytest.approx(ref["loss"], rel=1e-10, abs=1e-14)
    for k in range(0, K + 1):
        np.testing.assert_allclose(bp.x[k], ref["x"][k], rtol=1e-10, atol=1e-12)
    for k in range(1, K + 1):
        np.testing.assert_allclose(bp.z[k], ref["z"][k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bp.phi[k], ref["phi"][k], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(bp.dW[k], ref["dW"][k], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(bp.db[k], ref["db"][k], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sizes,acts", NAIVE_CASES[1:], ids=[str(s) for s, _ in NAIVE_CASES[1:]])
def test_matches_naive_float32(sizes, acts):
    # float32 net vs the float64 reference evaluated at the same (float32) parameters.
    net, X, Y = _net_and_data(sizes, acts, "float32", 11, seed=len(sizes))
    ref = naive.backprop(net.weights, net.biases, acts, X, Y)
    K = len(sizes) - 1
    np.testing.assert_allclose(net.predict(X), ref["x"][K], rtol=1e-4, atol=1e-5)
    assert net.loss(X, Y) == pytest.approx(ref["loss"], rel=1e-4)
    dW, db = net.gradients(X, Y)
    for k in range(1, K + 1):
        np.testing.assert_allclose(dW[k - 1], ref["dW"][k], rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(db[k - 1], ref["db"][k], rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_table_matches_naive(name):
    # Each psi through a one-neuron identity-weight net: x^[1] = psi(z) with z = x0 (the output
    # layer's psi), or for the hidden-only gelu/silu x^[2] = x^[1] = psi(z) through W^[2] = 1.
    assert name in fastnn.ACTIVATIONS
    z = np.concatenate([np.linspace(-6, 6, 41) + 0.013, [-30.0, 30.0]])
    if fastnn.ACTIVATIONS[name].from_output:
        net = Network([1, 1], activations=[name], dtype="float64", seed=0)
    else:
        net = Network([1, 1, 1], activations=[name, "identity"], dtype="float64", seed=0)
    for W, b in zip(net.weights, net.biases):
        W[...], b[...] = 1.0, 0.0
    np.testing.assert_allclose(net.predict(z[:, None])[:, 0], naive.psi(name, z), rtol=1e-12, atol=1e-14)
    # phi^[1] = -(y - psi(z)) psi'(z); with y = psi(z) + 1 this is -psi'(z).
    y = naive.psi(name, z) + 1.0
    bp = net.backprop(z[:, None], y)
    np.testing.assert_allclose(-bp.phi[1][:, 0], naive.dpsi(name, z), rtol=1e-7, atol=1e-12)


# --- backprop() bookkeeping -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("N", [1, 7])
def test_backprop_structure(dtype, N):
    sizes = [3, 5, 4, 2]
    acts = ["tanh", "leaky_relu", "sigmoid"]
    net, X, Y = _net_and_data(sizes, acts, dtype, N, seed=N)
    K = len(sizes) - 1
    bp = net.backprop(X, Y)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)

    np.testing.assert_array_equal(bp.x[0], X)
    for k in range(1, K + 1):
        n_k = sizes[k]
        for arr in (bp.z[k], bp.x[k], bp.phi[k]):
            assert arr.shape == (N, n_k)  # phi^[k] has n_k entries per sample
            assert arr.dtype == np.dtype(dtype)
        # z^[k] = W^[k] x^[k-1] + b^[k], x^[k] = psi^[k](z^[k]), row by row
        W, b = net.weights[k - 1], net.biases[k - 1]
        np.testing.assert_allclose(bp.z[k], bp.x[k - 1] @ W.T + b, **tol)
        np.testing.assert_allclose(bp.x[k], naive.psi(acts[k - 1], bp.z[k]), **tol)
        # dW^[k] = mean over samples of phi^[k] (x^[k-1])^T, db^[k] = mean of phi^[k]
        assert bp.dW[k].shape == W.shape and bp.db[k].shape == b.shape
        np.testing.assert_allclose(bp.dW[k], bp.phi[k].T @ bp.x[k - 1] / N, **tol)
        np.testing.assert_allclose(bp.db[k], bp.phi[k].mean(axis=0), **tol)
    # the recurrence itself
    np.testing.assert_allclose(
        bp.phi[K], -(Y - bp.x[K]) * naive.dpsi(acts[K - 1], bp.z[K]), **tol
    )
    for k in range(K - 1, 0, -1):
        np.testing.assert_allclose(
            bp.phi[k], (bp.phi[k + 1] @ net.weights[k]) * naive.dpsi(acts[k - 1], bp.z[k]), **tol
        )
    # same numbers as gradients() / loss()
    dW, db = net.gradients(X, Y)
    for k in range(1, K + 1):
        np.testing.assert_allclose(bp.dW[k], dW[k - 1], **tol)
        np.testing.assert_allclose(bp.db[k], db[k - 1], **tol)
    assert bp.loss == pytest.approx(net.loss(X, Y), rel=1e-6 if dtype == "float32" else 1e-12)
