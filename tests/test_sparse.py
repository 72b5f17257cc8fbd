"""Sparse X (issue 20, section 3): a SciPy sparse X feeds the first layer without being densified.

Every result on sparse X is checked against an independent reference: the same call on
``X.toarray()`` (same seed, same shuffles, so the same batches), finite differences for the
first layer's gradient, and the estimators on dense input. Cases are all-pairs over kernel
path, loss, optimizer, dtype, layer options, weights and batch size, not their full product
(each case compiles nothing new beyond the first: a few seconds of the suite).
"""
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import helpers
from fastnn import SGD, Adam, Network


def sparse_x(rng, N, n0, density=0.15, dtype=np.float64):
    """A random CSR matrix with an empty row, a full row and unsorted column indices."""
    X = sp.random(N, n0, density=density, format="lil", random_state=rng, dtype=np.float64)
    X[0, :] = 0  # an empty row
    X[1, :] = rng.normal(size=n0)  # a full one
    X = X.tocsr().astype(dtype)
    for r in range(X.shape[0]):  # reverse each row's entries: CSR need not be sorted
        a, b = X.indptr[r], X.indptr[r + 1]
        X.indices[a:b], X.data[a:b] = X.indices[a:b][::-1].copy(), X.data[a:b][::-1].copy()
    X.has_sorted_indices = False
    return X


# (kernel path, loss, optimizer, dtype, layer options, sample weights, batch): all pairs of
# path × loss × optimizer covered, with the other columns spread over the cases
CASES = [
    ("generic", "mse", "sgd", "float64", {}, False, 7),
    ("loops", "cross_entropy", "adam", "float64", {"dropout": 0.2}, True, 5),
    ("blas", "binary_cross_entropy", "sgd_momentum", "float64", {"norm": "batch"}, False, 16),
    ("generic", "cross_entropy", "sgd_momentum", "float64", {"norm": "layer"}, False, 8),
    ("loops", "mse", "sgd_momentum", "float64", {"activations": "gelu"}, False, 1),
    ("blas", "mse", "adam", "float64", {"residual": [False, True]}, True, 9),
    ("generic", "cross_entropy", "adam", "float32", {}, False, 10),
    ("generic", "binary_cross_entropy", "adam", "float64", {}, True, 60),
    ("loops", "binary_cross_entropy", "sgd", "float64", {"norm": "layer", "dropout": 0.1}, True, 4),
    ("blas", "cross_entropy", "sgd", "float64", {"activations": "tanh"}, False, 6),
    # the losses with a parameter or a link of their own, and clipped steps (issue 20)
    ("loops", "huber", "adam_clip", "float64", {}, True, 8),
    ("blas", "poisson", "sgd_clip", "float64", {"norm": "layer"}, False, 5),
]
OPTIMIZERS = {"sgd": ("sgd", 0.05), "adam": ("adam", 0.01), "sgd_momentum": (None, 0.05)}


def pair(case, seed=3):
    """Two equal networks for one case."""
    path, loss, _, dtype, options, _, _ = case
    options = dict(options)
    acts = options.pop("activations", None)
    sizes = [30, 10, 10, 3] if "residual" in options else [30, 12, 6, 3]
    nets = [Network(sizes, acts, loss=loss, dtype=dtype, seed=seed, kernel_path=path, **options) for _ in "ab"]
    return nets


def targets(rng, net, N):
    if net.loss_name == "cross_entropy":
        return rng.integers(0, net.sizes[-1], N)
    if net.loss_name == "binary_cross_entropy":
        return (rng.random((N, net.sizes[-1])) < 0.5).astype(float)
    if net.loss_name == "poisson":
        return rng.poisson(1.0, size=(N, net.sizes[-1])).astype(float)
    return rng.normal(size=(N, net.sizes[-1]))


def optimizer(case):
    """(optimizer, lr) for fit: a name and its lr, or a new SGD object with momentum."""
    if case[2].endswith("_clip"):  # the global-norm clip needs every layer's gradient first
        return (Adam(lr=0.01, clip_norm=0.5) if case[2] == "adam_clip" else SGD(lr=0.05, clip_norm=0.5)), None
    name, lr = OPTIMIZERS[case[2]]
    if name is None:
        return SGD(lr=lr, momentum=0.9, nesterov=True, weight_decay=1e-3), None
    return name, lr


def tol(net):
    return 2e-4 if net.dtype == np.float32 else 1e-9


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[3]}" for c in CASES])
def test_sparse_equals_dense(case):
    rng = np.random.default_rng(7)
    a, b = pair(case)
    N = 40
    X = sparse_x(rng, N, 30, dtype=a.dtype)
    D = X.toarray()
    Y = targets(rng, a, N)
    w = rng.random(N) + 0.2 if case[5] else None
    t = tol(a)
    np.testing.assert_allclose(a.predict(X), b.predict(D), rtol=t, atol=t)
    assert a.loss(X, Y, w) == pytest.approx(b.loss(D, Y, w), rel=t, abs=t)
    la, ga = a.loss_and_gradient(X, Y, w, training=True)
    lb, gb = b.loss_and_gradient(D, Y, w, training=True)
    assert la == pytest.approx(lb, rel=t, abs=t)
    np.testing.assert_allclose(ga, gb, rtol=10 * t, atol=10 * t)
    for got, want in zip(a.gradients(X, Y)[0], b.gradients(D, Y)[0]):
        np.testing.assert_allclose(got, want, rtol=10 * t, atol=10 * t)
    batch = case[6]
    for shuffle in (True, False):
        opt_a, lr = optimizer(case)
        opt_b, _ = optimizer(case)
        ha = a.fit(X, Y, epochs=2, batch_size=batch, optimizer=opt_a, lr=lr, sample_weight=w, shuffle=shuffle,
                   threads=1)
        hb = b.fit(D, Y, epochs=2, batch_size=batch, optimizer=opt_b, lr=lr, sample_weight=w, shuffle=shuffle,
                   threads=1)
        np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=10 * t, atol=10 * t)
        np.testing.assert_allclose(a.parameters, b.parameters, rtol=10 * t, atol=10 * t)
    np.testing.assert_allclose(a.predict(X), b.predict(D), rtol=10 * t, atol=10 * t)


def test_predictor_takes_sparse_x():
    rng = np.random.default_rng(6)
    net = Network([30, 8, 2], dtype="float64", seed=0)
    X = sparse_x(rng, 9, 30)
    np.testing.assert_allclose(net.predictor()(X.tocsc()), net.predict(X.toarray()), rtol=1e-12)


def test_first_layer_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    net = Network([25, 6, 2], "tanh", dtype="float64", seed=2)
    helpers.randomize_biases(net, rng)
    X = sparse_x(rng, 12, 25)
    Y = rng.normal(size=(12, 2))
    grad = net.unpack(net.loss_and_gradient(X, Y)[1])[0][0]  # ∂L/∂W^[1]
    W = net.weights[0]
    cols = np.unique(X.indices)
    for j, m in [(0, cols[0]), (3, cols[-1]), (5, cols[len(cols) // 2]), (2, 24 if 24 not in cols else 0)]:
        old = W[j, m]
        W[j, m] = old + 1e-6
        up = net.loss(X, Y)
        W[j, m] = old - 1e-6
        down = net.loss(X, Y)
        W[j, m] = old
        assert grad[j, m] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("fmt", ["csc", "coo", "csr_array", "lil", "dok"])
def test_any_sparse_format_and_integer_values(fmt):
    rng = np.random.default_rng(2)
    X = sparse_x(rng, 15, 30)
    X.data = np.round(X.data * 3)
    net = Network([30, 4, 1], seed=0)
    want = net.predict(X.toarray())
    Z = sp.csr_array(X) if fmt == "csr_array" else X.asformat(fmt)
    np.testing.assert_allclose(net.predict(Z), want, rtol=1e-6)
    np.testing.assert_allclose(net.predict(X.astype(np.int64)), want, rtol=1e-6)


def test_duplicate_entries_add_up_as_toarray_does():
    X = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), np.array([4, 4, 1]), np.array([0, 3])), shape=(1, 6))
    net = Network([6, 3, 2], dtype="float64", seed=0)
    np.testing.assert_allclose(net.predict(X), net.predict(X.toarray()), rtol=1e-12)


def test_bad_sparse_input_is_refused():
    net = Network([30, 4, 1], seed=0)
    X = sparse_x(np.random.default_rng(3), 5, 30)
    bad = X.copy()
    bad.data[2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN or Inf.*X\.data"):
        net.predict(bad)
    with pytest.raises(ValueError, match=r"X contains NaN or Inf"):
        net.fit(bad, np.zeros(5))
    with pytest.raises(ValueError, match=r"shape \(5, 29\).*n_0 = 30"):
        net.predict(X[:, :29])
    with pytest.raises(ValueError, match="empty"):
        net.predict(X[:0])
    with pytest.raises(ValueError, match=r"complex.*astype\('float32'\)"):
        net.predict(X.astype(np.complex128))
    with pytest.raises(ValueError, match=r"backprop: X is sparse.*toarray"):
        net.backprop(X, np.zeros(5))
    skip = Network([30, 30, 1], residual=True, seed=0)
    with pytest.raises(ValueError, match=r"layer 1 has a skip.*residual=False"):
        skip.predict(X)
    with pytest.raises(ValueError, match=r"layer 1 has a skip"):
        skip.predictor()(X)
    with pytest.raises(ValueError, match=r"validation_data's X contains NaN"):
        net.fit(X, np.zeros(5), validation_data=(bad, np.zeros(5)))


def test_validation_rows_may_be_sparse():
    rng = np.random.default_rng(4)
    X = sparse_x(rng, 30, 30)
    Y = rng.normal(size=30)
    a, b = (Network([30, 5, 1], dtype="float64", seed=1) for _ in "ab")
    ha = a.fit(X, Y, epochs=2, validation_split=0.3, metrics="mae", threads=1)
    hb = b.fit(X.toarray(), Y, epochs=2, validation_split=0.3, metrics="mae", threads=1)
    for key in ("loss", "val_loss", "val_mae"):
        np.testing.assert_allclose(ha[key], hb[key], rtol=1e-9)
    ha = a.fit(X[:20], Y[:20], epochs=1, validation_data=(X[20:], Y[20:]))
    hb = b.fit(X[:20].toarray(), Y[:20], epochs=1, validation_data=(X[20:].toarray(), Y[20:]))
    np.testing.assert_allclose(ha["val_loss"], hb["val_loss"], rtol=1e-9)


def test_a_wide_sparse_fit_never_makes_x_dense():
    """n_0 = 200,000 columns, 400 rows: X dense would be 320 MB in float32; the fit (θ itself
    is 3.2 MB, Adam's state twice that) and predict stay far below."""
    N, n0 = 400, 200_000
    rng = np.random.default_rng(5)
    X = sp.random(N, n0, density=2e-4, format="csr", random_state=rng, dtype=np.float32)
    Y = rng.integers(0, 2, N)
    net = Network([n0, 4, 2], loss="cross_entropy", seed=0)
    net.fit(X[:8], Y[:8], epochs=1, optimizer="adam")  # compiled before measuring
    tracemalloc.start()
    try:
        net.fit(X, Y, epochs=1, batch_size=50, optimizer="adam")
        net.predict(X)
        net.loss_and_gradient(X, Y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    dense = N * n0 * 4
    assert peak < dense / 10, f"peak {peak / 1e6:.1f} MB against {dense / 1e6:.0f} MB dense"


# ------------------------------------------------------------------ the estimators
ESTIMATOR_CASES = [  # (estimator, parameters, sample weights, partial_fit)
    ("classifier", {"solver": "adam"}, True, False),
    ("classifier", {"solver": "lbfgs", "max_iter": 30}, False, False),
    ("classifier", {"solver": "sgd", "early_stopping": True, "norm": "batch"}, False, False),
    ("regressor", {"solver": "sgd", "momentum": 0.8, "dropout": 0.1}, False, True),
    ("regressor", {"solver": "lbfgs", "max_iter": 30, "alpha": 0.01}, True, False),
    ("regressor", {"solver": "adam", "batch_size": 16}, False, True),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind, params, weighted, partial", ESTIMATOR_CASES)
def test_estimators_on_sparse_input_agree_with_dense(kind, params, weighted, partial):
    pytest.importorskip("sklearn")
    from fastnn import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(8)
    N = 60
    X = sparse_x(rng, N, 30)
    y = rng.integers(0, 3, N) if kind == "classifier" else X @ rng.normal(size=30) + rng.normal(size=N)
    w = rng.random(N) + 0.5 if weighted else None
    make = MLPClassifier if kind == "classifier" else MLPRegressor
    params = {"max_iter": 5, **params}
    a, b = (make(hidden_layer_sizes=(8,), random_state=0, **params) for _ in "ab")
    a.fit(X, y, sample_weight=w)
    b.fit(X.toarray(), y, sample_weight=w)
    if partial:
        a.partial_fit(X.tocsc(), y)
        b.partial_fit(X.toarray(), y)
    np.testing.assert_allclose(a.network_.parameters, b.network_.parameters, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.predict(X), b.predict(X.toarray()), rtol=1e-7, atol=1e-9)
    assert a.score(X, y) == pytest.approx(b.score(X.toarray(), y), rel=1e-9)
    if kind == "classifier":
        np.testing.assert_allclose(a.predict_proba(X.tocoo()), b.predict_proba(X.toarray()), rtol=1e-7, atol=1e-9)


def test_predict_splits_sparse_rows_over_threads():
    rng = np.random.default_rng(9)
    net = Network([30, 8, 3], loss="cross_entropy", dtype="float64", seed=0)
    X = sparse_x(rng, 257, 30)
    alone = net.predict(X)
    with helpers.predict_blocks(3):
        shared = net.predict(X)
    np.testing.assert_allclose(shared, alone, rtol=1e-12)
    np.testing.assert_allclose(shared, net.predict(X.toarray()), rtol=1e-12)
