"""Training reaches good losses on known problems; divergence is reported and rolled back."""
import re

import numpy as np
import pytest

import fastnn
from fastnn import DivergedError, Network, datasets
from helpers import assert_params_equal, params


def _linear_baseline_loss(X, Y):
    """Mean 1/2 squared error of the least-squares line: what a net must beat by far."""
    A = np.hstack([X, np.ones_like(X)]).astype(np.float64)
    coef, *_ = np.linalg.lstsq(A, Y.astype(np.float64), rcond=None)
    return 0.5 * np.mean((A @ coef - Y) ** 2)


def test_kinked_dataset():
    X, Y = datasets.kinked()
    assert X.shape == (512, 1) and Y.shape == (512, 1)
    assert X.dtype == np.float32 and Y.dtype == np.float32
    assert X.min() >= -1 and X.max() <= 1
    X2, Y2 = datasets.kinked(n_samples=100, seed=3, dtype="float64")
    assert X2.shape == (100, 1) and X2.dtype == np.float64 and Y2.dtype == np.float64
    np.testing.assert_array_equal(datasets.kinked(n_samples=100, seed=3, dtype="float64")[1], Y2)
    assert not np.array_equal(datasets.kinked(n_samples=100, seed=4, dtype="float64")[1], Y2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_net_fits_kinked_function(dtype):
    # Measured (seed 0, 200 epochs): ~4e-4, against ~2.2e-2 for the best straight line and
    # 2e-4 for the noise floor (noise sd 0.02). Thresholds leave a margin of ~5x.
    X, Y = datasets.kinked(dtype=dtype)
    Xt, Yt = datasets.kinked(seed=1, dtype=dtype)
    baseline = _linear_baseline_loss(X, Y)
    assert baseline > 0.015  # the data really is kinked
    net = Network([1, 32, 32, 1], seed=0, dtype=dtype)
    hist = net.fit(X, Y, epochs=200, batch_size=32, lr=0.05, seed=0)
    assert net.loss(X, Y) < 2e-3 < 0.1 * baseline
    assert net.loss(Xt, Yt) < 2e-3  # held-out draw of the same function
    assert hist["loss"][-1] < hist["loss"][0] / 10


def test_digits_classification():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = d.data / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, d.target, test_size=0.25, random_state=0, stratify=d.target)
    net = Network([64, 64, 10], seed=0)
    net.fit(Xtr, np.eye(10)[ytr], epochs=60, batch_size=32, lr=0.1, seed=0)
    # Measured: ~0.97 (0.964-0.976 over seeds 0-5); chance is 0.1.
    acc = np.mean(net.predict(Xte).argmax(axis=1) == yte)
    assert acc > 0.93, acc


# --- divergence ---------------------------------------------------------------------------------

LINE_X = np.linspace(-0.6, 1, 64)[:, None]  # mean(x) != 0: w and b both grow
LINE_Y = 0.5 * LINE_X + 0.2


def _epoch_of(err):
    assert isinstance(err, FloatingPointError)
    msg = str(err)
    m = re.search(r"epoch\D{0,3}(\d+)", msg, re.IGNORECASE)
    assert m, msg
    assert "lr" in msg or "learning rate" in msg.lower(), msg  # suggests a smaller lr
    return int(m.group(1))


def test_diverged_error_is_exported():
    assert issubclass(fastnn.DivergedError, FloatingPointError)


def test_divergence_in_first_epoch_restores_initial_weights():
    X, Y = datasets.kinked()
    net = Network([1, 16, 1], seed=0)
    before = params(net)
    with pytest.raises(DivergedError) as info:
        net.fit(X, Y, epochs=5, lr=1e6)
    assert _epoch_of(info.value) == 1
    assert_params_equal(net, before)
    # the restored net is usable
    hist = net.fit(X, Y, epochs=2, lr=0.01)
    assert np.all(np.isfinite(hist["loss"]))


def _manual_line_gd(w, b, lr, epochs):
    """Full-batch gradient descent on 1/2 (y - w x - b)^2 in NumPy float64.

    Returns (w, b) after the last finite epoch and the 1-based epoch that first goes non-finite.
    """
    x, y = LINE_X[:, 0], LINE_Y[:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            r = w * x + b - y
            loss = 0.5 * np.mean(r * r)
            w_new, b_new = w - lr * np.mean(r * x), b - lr * np.mean(r)
            if not (np.isfinite(loss) and np.isfinite(w_new) and np.isfinite(b_new)):
                return w, b, epoch
            w, b = w_new, b_new
    return w, b, None


def test_divergence_restores_last_finite_epoch_full_batch():
    lr = 20.0  # |1 - lr * lambda_max| ~ 19: the error grows ~19x per epoch
    net = Network([1, 1], activations="identity", dtype="float64", seed=0)
    w0, b0 = float(net.weights[0][0, 0]), float(net.biases[0][0])
    with pytest.raises(DivergedError) as info:
        net.fit(LINE_X, LINE_Y, epochs=10_000, batch_size=64, lr=lr, shuffle=False)
    E = _epoch_of(info.value)
    w, b, E_ref = _manual_line_gd(w0, b0, lr, 10_000)
    assert E == E_ref and E > 2
    scale = np.hypot(w, b)
    assert net.weights[0][0, 0] == pytest.approx(w, abs=1e-9 * scale)
    assert net.biases[0][0] == pytest.approx(b, abs=1e-9 * scale)
    assert np.isfinite(net.weights[0]).all() and np.isfinite(net.biases[0]).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_size", [64, 16])  # 16: divergence in the middle of an epoch
def test_divergence_restores_last_finite_epoch(dtype, batch_size):
    lr = 5.0
    net = Network([1, 1], activations="identity", dtype=dtype, seed=0)
    initial = params(net)
    with pytest.raises(DivergedError) as info:
        net.fit(LINE_X, LINE_Y, epochs=10_000, batch_size=batch_size, lr=lr, shuffle=False)
    E = _epoch_of(info.value)
    assert E > 2

    # reference: an identical net trained for exactly E - 1 epochs, which must not diverge
    ref = Network([1, 1], activations="identity", dtype=dtype, seed=0)
    ref.fit(LINE_X, LINE_Y, epochs=E - 1, batch_size=batch_size, lr=lr, shuffle=False)
    for now, want, init in zip(net.weights + net.biases, ref.weights + ref.biases, initial[0] + initial[1]):
        assert np.isfinite(now).all()
        np.testing.assert_array_equal(now, want)
        assert not np.array_equal(now, init)
