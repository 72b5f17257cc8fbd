"""Every loss in fastnn.LOSSES, on every kernel path, against finite differences and the naive
NumPy reference (tests/naive.py); a loss added to the table is picked up here."""
import numpy as np
import pytest

import fastnn
import naive
from fastnn import LOSSES, Network
from helpers import PATHS, all_pairs, assert_params_equal, central_difference, params

HIDDEN = [["tanh", "sigmoid"], ["leaky_relu", "softplus"], ["relu", "identity"]]
# every pair of (loss, kernel path, hidden ψ, batch rows), not the full product: each loss's
# unrolled epoch is compiled per architecture, so a loss costs compile time on every row
CASES = [tuple(c.values()) for c in all_pairs({"loss": list(LOSSES), "path": PATHS, "hidden": HIDDEN,
                                                "N": [1, 4]})]


def _acts(loss, hidden, out="sigmoid"):
    return [*hidden, LOSSES[loss].link or out]


def _targets(loss, rng, N, n):
    """Targets the loss accepts: real rows, probability rows, [0, 1] entries or counts."""
    if loss == "cross_entropy":
        P = rng.uniform(0.1, 1, size=(N, n))
        return P / P.sum(axis=1, keepdims=True)
    if loss == "binary_cross_entropy":
        return rng.uniform(0, 1, size=(N, n))
    if loss == "poisson":
        return rng.poisson(1.5, size=(N, n)).astype(float)
    return rng.normal(size=(N, n))


@pytest.mark.parametrize("loss,path,hidden,N", CASES)
def test_gradients_match_finite_differences(loss, path, hidden, N, rng, make_net):
    sizes = [2, 3, 3, 3]
    net = make_net(sizes, _acts(loss, hidden), loss=loss, path=path)
    X = rng.uniform(-1, 1, size=(N, 2))
    Y = _targets(loss, rng, N, 3)
    dW, db = net.gradients(X, Y)
    for got, arrs in ((dW, net.weights), (db, net.biases)):
        for g, a in zip(got, arrs):
            fd = np.array([central_difference(net, a, i, X, Y) for i in np.ndindex(a.shape)]).reshape(a.shape)
            np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("path", ["loops", "blas", "unrolled"])
def test_loss_predict_and_backprop_match_naive(loss, path, rng, make_net):
    sizes, acts = [2, 3, 3, 3], _acts(loss, HIDDEN[0])
    net = make_net(sizes, acts, loss=loss, path=path)
    X, Y = rng.uniform(-2, 2, size=(7, 2)), _targets(loss, rng, 7, 3)
    ref = naive.backprop(net.weights, net.biases, acts, X, Y, loss)
    assert net.loss(X, Y) == pytest.approx(ref["loss"], rel=1e-12)
    np.testing.assert_allclose(net.predict(X), ref["x"][3], rtol=1e-12, atol=1e-14)
    if path != "unrolled":
        bp = net.backprop(X, Y)
        np.testing.assert_allclose(bp.phi[3], ref["phi"][3], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(bp.phi[1], ref["phi"][1], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(bp.z[3], ref["z"][3], rtol=1e-12, atol=1e-14)
        assert bp.loss == pytest.approx(ref["loss"], rel=1e-12)


@pytest.mark.parametrize("loss,path,batch", [tuple(c.values()) for c in all_pairs(
    {"loss": list(LOSSES), "path": PATHS, "batch": [1, 3]})])
def test_fit_is_sequential_sgd_on_the_naive_gradient(loss, path, batch, rng, make_net):
    sizes, acts = [2, 3, 3, 3], _acts(loss, HIDDEN[1])
    net = make_net(sizes, acts, loss=loss, path=path)
    X, Y = rng.uniform(-1, 1, size=(5, 2)), _targets(loss, rng, 5, 3)
    Ws, bs = params(net)
    lr, seen = 0.2, 0.0
    for s in range(0, 5, batch):
        seen += naive.loss(Ws, bs, acts, X[s:s + batch], Y[s:s + batch], loss) * len(X[s:s + batch])
        dW, db = naive.gradients(Ws, bs, acts, X[s:s + batch], Y[s:s + batch], loss)
        Ws = [W - lr * g for W, g in zip(Ws, dW)]
        bs = [b - lr * g for b, g in zip(bs, db)]
    hist = net.fit(X, Y, epochs=1, batch_size=batch, lr=lr, shuffle=False)
    for got, want in zip(net.weights + net.biases, Ws + bs):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert hist["loss"][0] == pytest.approx(seen / 5, rel=1e-10)



@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("path", ["loops", "blas"])
def test_threaded_fit_matches_naive_for_every_loss(loss, path, split, rng, make_net):
    """The column split computes φ^[K] by whole rows (softmax needs them): same steps as naive."""
    sizes, acts = [4, 9, 7, 5], _acts(loss, ["relu", "tanh"])
    net = make_net(sizes, acts, loss=loss, path=path)
    X, Y = rng.uniform(-1, 1, size=(11, 4)), _targets(loss, rng, 11, 5)
    Ws, bs = params(net)
    for s in range(0, 11, 4):
        dW, db = naive.gradients(Ws, bs, acts, X[s:s + 4], Y[s:s + 4], loss)
        Ws = [W - 0.1 * g for W, g in zip(Ws, dW)]
        bs = [b - 0.1 * g for b, g in zip(bs, db)]
    net.fit(X, Y, epochs=1, batch_size=4, lr=0.1, shuffle=False, threads=3)
    for got, want in zip(net.weights + net.biases, Ws + bs):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_integer_labels_equal_one_hot_rows(rng):
    X, labels = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
    a = Network([4, 5, 3], loss="cross_entropy", dtype="float64", seed=0)
    b = Network([4, 5, 3], loss="cross_entropy", dtype="float64", seed=0)
    assert a.loss(X, labels) == b.loss(X, np.eye(3)[labels])
    a.fit(X, labels, epochs=2, seed=1)
    b.fit(X, np.eye(3)[labels], epochs=2, seed=1)
    np.testing.assert_array_equal(a.parameters, b.parameters)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("path", PATHS)
def test_cross_entropy_stays_finite_at_extreme_logits(dtype, path, rng):
    """Logits of ±1e4: log-sum-exp keeps L, φ^[K] and the step finite; softmax rows sum to 1."""
    net = Network([2, 3], loss="cross_entropy", dtype=dtype, seed=0, kernel_path=path)
    net.weights[0][...] = [[1e4, 0], [-1e4, 0], [0, 1e4]]
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    labels = np.array([1, 0, 2, 2])  # mostly the wrong class: L ≈ 1e4 or 2e4
    L = net.loss(X, labels)
    assert np.isfinite(L) and L == pytest.approx((2e4 + 2e4 + 0 + 1e4) / 4, rel=1e-3)
    P = net.predict(X)
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-6)
    dW, db = net.gradients(X, labels)
    assert all(np.isfinite(g).all() for g in dW + db)
    net.fit(X, labels, epochs=1, batch_size=2, lr=1e-3, shuffle=False)
    assert np.isfinite(net.parameters).all()


def test_binary_cross_entropy_is_log_loss_of_sklearn(rng):
    from sklearn.metrics import log_loss

    net = Network([3, 4, 1], loss="binary_cross_entropy", dtype="float64", seed=0)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 2, size=50)
    p = net.predict(X)[:, 0]
    assert net.loss(X, y) == pytest.approx(log_loss(y, p), rel=1e-9)


def test_cross_entropy_is_log_loss_of_sklearn(rng):
    from sklearn.metrics import log_loss

    net = Network([3, 4, 4], loss="cross_entropy", dtype="float64", seed=0)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 4, size=50)
    assert net.loss(X, y) == pytest.approx(log_loss(y, net.predict(X), labels=range(4)), rel=1e-9)


@pytest.mark.parametrize("loss,Y,match", [
    ("cross_entropy", np.array([0, 1, 3]), r"labels must be integers in \[0, 3\)"),
    ("cross_entropy", np.array([0, 1, -1]), r"labels must be integers"),
    ("cross_entropy", np.array([0, 1.5, 2]), r"labels must be integers"),
    ("cross_entropy", np.full((3, 3), 0.5), r"probability rows .* row 0"),
    ("cross_entropy", np.array([[1, 0, 0], [0, 1, 0], [1.2, -0.2, 0]]), r"probability rows .* row 2"),
    ("binary_cross_entropy", np.array([[0, 1, 2]] * 3), r"targets in \[0, 1\]"),
    ("cross_entropy", np.eye(3)[:, :2], r"shape \(3, 2\)"),
])
def test_bad_targets_raise_and_leave_the_network_unchanged(loss, Y, match, rng):
    net = Network([2, 4, 3], loss=loss, seed=0)
    before = params(net)
    X = rng.normal(size=(3, 2))
    for call in (lambda: net.fit(X, Y, optimizer="adam"), lambda: net.loss(X, Y), lambda: net.gradients(X, Y)):
        with pytest.raises(ValueError, match=match):
            call()
    assert_params_equal(net, before)
    assert net.optimizer is None


@pytest.mark.parametrize("loss", [name for name, entry in LOSSES.items() if entry.link])
def test_a_linked_loss_fixes_the_output_activation(loss):
    link = LOSSES[loss].link
    assert Network([2, 3, 2], loss=loss).activations == ["relu", link]
    assert Network([2, 3, 2], "tanh", loss=loss).activations == ["tanh", link]
    assert Network([2, 3, 2], ["tanh", link], loss=loss).activations == ["tanh", link]
    with pytest.raises(ValueError, match=f"fixes the output activation to '{link}'"):
        Network([2, 3, 2], ["relu", "identity"], loss=loss)


def test_unknown_names_and_codes_are_errors():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        Network([2, 1], loss="hinge")
    from fastnn import _dispatch

    buf = np.zeros(4)
    for call in (lambda: _dispatch.act(buf, 0, 4, len(fastnn.ACTIVATIONS)),
                 lambda: _dispatch.mul_dpsi(buf, buf, 0, 4, 99),
                 lambda: _dispatch.output_delta(len(LOSSES), 0.0, 0, buf, buf, 0, buf, 0, 1, 4),
                 lambda: _dispatch.opt_prepare(len(fastnn.OPTIMIZERS), fastnn.optimizers.Hyper(0.1, 0.0), 1)):
        with pytest.raises(ValueError, match=r"unknown .* code"):
            call()


def test_digits_raw_pixels_train_to_high_accuracy():
    """The issue's case: raw digits (0-16), softmax cross-entropy + Adam reach sklearn's level."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    net = Network([64, 100, 10], loss="cross_entropy", seed=0)
    net.fit(Xtr, ytr, epochs=30, batch_size=64, optimizer="adam", lr=1e-3, seed=0)
    accuracy = (net.predict(Xte).argmax(axis=1) == yte).mean()
    assert accuracy >= 0.95


@pytest.mark.parametrize("path", ["loops", "blas", "unrolled"])
@pytest.mark.parametrize("loss,param", [("huber", 2.0), ("quantile", 0.8)])
def test_a_loss_parameter_reaches_every_kernel(loss, param, path, rng, make_net):
    """huber(ε) and quantile(q) away from their defaults: L, φ^[K] and one SGD step as naive's."""
    entry = LOSSES[loss].with_param(param)
    sizes, acts = [2, 3, 3, 2], _acts(loss, HIDDEN[2], "identity")
    net = make_net(sizes, acts, loss=entry, path=path)
    assert net.loss_param == param
    X, Y = rng.uniform(-1, 1, size=(6, 2)), rng.normal(scale=2.0, size=(6, 2))
    Ws, bs = params(net)
    assert net.loss(X, Y) == pytest.approx(naive.loss(Ws, bs, acts, X, Y, (loss, param)), rel=1e-12)
    assert net.loss(X, Y) != pytest.approx(naive.loss(Ws, bs, acts, X, Y, loss), rel=1e-3)  # default differs
    dW, db = naive.gradients(Ws, bs, acts, X, Y, (loss, param))
    net.fit(X, Y, epochs=1, batch_size=6, lr=0.1, shuffle=False)
    for got, want in zip(net.weights + net.biases, [W - 0.1 * g for W, g in zip(Ws, dW)]
                         + [b - 0.1 * g for b, g in zip(bs, db)]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bad,match", [
    (lambda: fastnn.losses.huber(0.0), "epsilon: Huber's threshold .* > 0, got 0.0"),
    (lambda: fastnn.losses.huber(float("nan")), "epsilon: .* got nan"),
    (lambda: fastnn.losses.quantile(1.0), r"quantile: the quantile q must be in \(0, 1\), got 1.0"),
    (lambda: fastnn.losses.quantile("x"), r"quantile: .* got 'x'"),
    (lambda: LOSSES["mse"].with_param(1.0), "'mse' takes no parameter"),
    (lambda: Network([2, 1], loss=LOSSES["huber"]._replace(param=-1.0)), "epsilon: .* got -1.0"),
    (lambda: Network([2, 1], loss=LOSSES["mse"]._replace(link="softmax")), "not an entry of fastnn's loss table"),
])
def test_bad_loss_parameters_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()


def test_poisson_is_half_the_poisson_deviance_of_sklearn(rng):
    """L = ½ D(y, μ) with μ = exp(z̄^[K]) = predict: scikit-learn's mean_poisson_deviance / 2."""
    from sklearn.metrics import mean_poisson_deviance

    net = Network([3, 5, 1], loss="poisson", dtype="float64", seed=0)
    X = rng.normal(size=(40, 3))
    y = rng.poisson(2.0, size=40).astype(float)
    mu = net.predict(X)[:, 0]
    assert (mu > 0).all() and net.activations[-1] == "exp"
    assert net.loss(X, y) == pytest.approx(mean_poisson_deviance(y, mu) / 2, rel=1e-9)
    with pytest.raises(ValueError, match=r"loss='poisson' needs counts or rates y >= 0 .* row 3"):
        net.fit(X, np.where(np.arange(40) == 3, -1.0, y))


def test_quantile_and_absolute_error_match_sklearn_metrics(rng):
    from sklearn.metrics import mean_absolute_error, mean_pinball_loss

    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    for loss, q in (("absolute_error", 0.5), ("quantile", 0.5), ("quantile", 0.2)):
        entry = LOSSES[loss] if loss == "absolute_error" else fastnn.losses.quantile(q)
        net = Network([3, 4, 1], loss=entry, dtype="float64", seed=0)
        pred = net.predict(X)[:, 0]
        want = mean_absolute_error(y, pred) if loss == "absolute_error" else mean_pinball_loss(y, pred, alpha=q)
        assert net.loss(X, y) == pytest.approx(want, rel=1e-9)
