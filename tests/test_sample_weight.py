"""fit(sample_weight=...): each batch's step follows Σ w ∂L/∂θ / Σ w, on every kernel path."""
import contextlib

import numpy as np
import pytest

import naive
from fastnn import LOSSES, Network
from helpers import PATHS, forced_split, params

SIZES = [3, 5, 4, 2]


def targets(rng, loss, N, n_out):
    if loss == "cross_entropy":
        return np.eye(n_out)[rng.integers(0, n_out, N)]
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, (N, n_out)).astype(float)
    if loss == "poisson":
        return rng.poisson(1.5, (N, n_out)).astype(float)
    return rng.normal(size=(N, n_out))


def naive_weighted_epoch(Ws, bs, acts, X, Y, w, batch, lr, loss):
    """Plain SGD over batches in order: θ ← θ − lr · Σ_batch w_i ∂L_i/∂θ / Σ_batch w_i."""
    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]
    for start in range(0, len(X), batch):
        sl = slice(start, start + batch)
        per = [naive.backprop_sample(Ws, bs, acts, x, y, loss) for x, y in zip(X[sl], Y[sl])]
        ws = w[sl]
        for k in range(len(Ws)):
            Ws[k] -= lr * sum(wi * p[4][k + 1] for wi, p in zip(ws, per)) / ws.sum()
            bs[k] -= lr * (sum(wi * p[5][k + 1] for wi, p in zip(ws, per)) / ws.sum()).ravel()
    return Ws, bs


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("path", ["generic", "loops", "blas", "rows", "columns"])
def test_weighted_epoch_matches_naive_reference(loss, path, rng):
    N, batch, lr = 11, 4, 0.1
    net = Network(SIZES, "tanh", loss=loss, dtype="float64", seed=1, kernel_path=path if path in PATHS else "auto")
    threads = None if path in PATHS else 2  # a team of 2 threads, split by rows or by columns of W^[k]
    X = rng.uniform(-1, 1, (N, SIZES[0]))
    Y = targets(rng, loss, N, SIZES[-1])
    w = rng.uniform(0, 3, N)
    w[2] = 0.0  # a zero weight takes no part
    Ws, bs = params(net)
    want_W, want_b = naive_weighted_epoch(Ws, bs, net.activations, X, Y, w, batch, lr, loss)
    with forced_split(path) if threads else contextlib.nullcontext():
        hist = net.fit(X, Y, epochs=1, batch_size=batch, lr=lr, shuffle=False, sample_weight=w, threads=threads)
    for k in range(len(Ws)):
        np.testing.assert_allclose(net.weights[k], want_W[k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(net.biases[k], want_b[k], rtol=1e-10, atol=1e-12)
    # the epoch's loss: Σ_batches B · Σ w L / Σ w, over N (scikit-learn's weighted loss_)
    per_batch = []
    for start in range(0, N, batch):
        sl = slice(start, start + batch)
        Li = [naive.backprop_sample(Ws, bs, net.activations, x, y, loss)[0] for x, y in zip(X[sl], Y[sl])]
        per_batch.append(len(Li) * np.average(Li, weights=w[sl]))
        Ws, bs = naive_weighted_epoch(Ws, bs, net.activations, X[sl], Y[sl], w[sl], batch, lr, loss)
    assert hist["loss"][0] == pytest.approx(sum(per_batch) / N, rel=1e-10)


def test_integer_weights_equal_repeated_rows_in_full_batch_adam(rng):
    X, Y = rng.uniform(-1, 1, (9, 3)), rng.normal(size=(9, 2))
    w = rng.integers(0, 4, 9)
    w[0] = 2
    weighted = Network([3, 6, 2], dtype="float64", seed=3)
    repeated = Network([3, 6, 2], dtype="float64", seed=3)
    weighted.fit(X, Y, epochs=20, batch_size=100, optimizer="adam", sample_weight=w)
    repeated.fit(X.repeat(w, 0), Y.repeat(w, 0), epochs=20, batch_size=100, optimizer="adam")
    np.testing.assert_allclose(weighted.parameters, repeated.parameters, rtol=1e-9, atol=1e-12)


def test_weighted_loss_and_shuffled_fit(rng):
    net = Network([3, 4, 1], dtype="float64", seed=0)
    X, Y = rng.uniform(-1, 1, (20, 3)), rng.normal(size=20)
    w = rng.uniform(0.5, 2, 20)
    per_row = [net.loss(X[i:i + 1], Y[i:i + 1]) for i in range(20)]
    assert net.loss(X, Y, sample_weight=w) == pytest.approx(np.average(per_row, weights=w), rel=1e-12)
    assert net.loss(X, Y, sample_weight=np.ones(20)) == pytest.approx(net.loss(X, Y), rel=1e-12)
    # shuffled: the weights follow their rows, so weights 1 equal no weights
    a, b = Network([3, 4, 1], seed=0), Network([3, 4, 1], seed=0)
    a.fit(X, Y, epochs=3, batch_size=4, seed=5, sample_weight=np.ones(20))
    b.fit(X, Y, epochs=3, batch_size=4, seed=5)
    np.testing.assert_allclose(a.parameters, b.parameters, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("bad, match", [
    (np.ones(5), r"shape \(5,\)"),
    (-np.ones(20), ">= 0"),
    (np.full(20, np.nan), "finite"),
    (np.zeros(20), "sums to 0"),
    ([["a"]] * 20, "numeric"),
])
def test_bad_sample_weight_is_refused_before_any_change(bad, match, rng):
    net = Network([3, 4, 1], seed=0)
    before = net.parameters
    X, Y = rng.uniform(-1, 1, (20, 3)), rng.normal(size=20)
    with pytest.raises(ValueError, match=f"sample_weight.*{match}"):
        net.fit(X, Y, sample_weight=bad)
    np.testing.assert_array_equal(net.parameters, before)
    assert net.optimizer is None
