"""Every bad input listed in API.md raises ValueError naming the argument; the net is unchanged."""
import numpy as np
import pytest

from fastnn import Network
from helpers import assert_params_equal, params, random_xy

N_IN, N_OUT, N = 3, 2, 8


@pytest.fixture
def net():
    return Network([N_IN, 4, N_OUT], activations=["tanh", "identity"], dtype="float64", seed=0)


@pytest.fixture
def xy():
    return random_xy(np.random.default_rng(0), N, N_IN, N_OUT)


def _with(arr, value):
    out = arr.copy()
    out[-1, -1] = value  # last row, so a lazy check after some training would be caught
    return out


def _bad_data(X, Y):
    """(label, X, Y, argument-name regex)."""
    return [
        ("nan-X", _with(X, np.nan), Y, r"\bX\b"),
        ("inf-X", _with(X, np.inf), Y, r"\bX\b"),
        ("neg-inf-X", _with(X, -np.inf), Y, r"\bX\b"),
        ("nan-Y", X, _with(Y, np.nan), r"\bY\b"),
        ("inf-Y", X, _with(Y, np.inf), r"\bY\b"),
        ("neg-inf-Y", X, _with(Y, -np.inf), r"\bY\b"),
        ("X-too-few-columns", X[:, :-1], Y, r"\bX\b"),
        ("X-too-many-columns", np.hstack([X, X[:, :1]]), Y, r"\bX\b"),
        ("Y-too-few-columns", X, Y[:, :1], r"\bY\b"),
        ("Y-1d-with-two-outputs", X, Y[:, 0], r"\bY\b"),
        ("Y-too-many-columns", X, np.hstack([Y, Y[:, :1]]), r"\bY\b"),
        ("row-mismatch-Y-short", X, Y[:-1], r"\b[XY]\b"),
        ("row-mismatch-X-short", X[:-1], Y, r"\b[XY]\b"),
        ("empty", X[:0], Y[:0], r"\bX\b"),
    ]


CASES = _bad_data(*random_xy(np.random.default_rng(0), N, N_IN, N_OUT))
IDS = [c[0] for c in CASES]
DATA_METHODS = {
    "loss": lambda net, X, Y: net.loss(X, Y),
    "gradients": lambda net, X, Y: net.gradients(X, Y),
    "backprop": lambda net, X, Y: net.backprop(X, Y),
    "fit": lambda net, X, Y: net.fit(X, Y, epochs=2, batch_size=3, lr=0.1),
}


@pytest.mark.parametrize("method", list(DATA_METHODS))
@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_bad_data(net, method, case):
    _, X, Y, name = CASES[case]
    before = params(net)
    with pytest.raises(ValueError, match=name):
        DATA_METHODS[method](net, X, Y)
    assert_params_equal(net, before)


@pytest.mark.parametrize("label,X", [
    ("nan", lambda X: _with(X, np.nan)),
    ("inf", lambda X: _with(X, np.inf)),
    ("too-few-columns", lambda X: X[:, :-1]),
    ("too-many-columns", lambda X: np.hstack([X, X])),
    ("empty", lambda X: X[:0]),
])
def test_bad_predict_input(net, xy, label, X):
    before = params(net)
    with pytest.raises(ValueError, match=r"\bX\b"):
        net.predict(X(xy[0]))
    assert_params_equal(net, before)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_values_that_overflow_float32_are_rejected(xy):
    net = Network([N_IN, 4, N_OUT], seed=0)  # float32: 1e300 becomes inf on conversion
    before = params(net)
    for X, Y, name in ((_with(xy[0], 1e300), xy[1], r"\bX\b"), (xy[0], _with(xy[1], -1e300), r"\bY\b")):
        with pytest.raises(ValueError, match=name):
            net.fit(X, Y, epochs=1)
    with pytest.raises(ValueError, match=r"\bX\b"):
        net.predict(_with(xy[0], 1e300))
    assert_params_equal(net, before)


@pytest.mark.parametrize("arg,value", [
    ("lr", 0), ("lr", -1.0), ("batch_size", 0), ("batch_size", -4), ("epochs", 0), ("epochs", -1),
    ("threads", 0), ("threads", -2), ("threads", 1.5), ("threads", True),
])
def test_bad_fit_hyperparameters(net, xy, arg, value):
    before = params(net)
    kw = dict(epochs=2, batch_size=3, lr=0.1)
    kw[arg] = value
    with pytest.raises(ValueError, match=rf"\b{arg}\b"):
        net.fit(*xy, **kw)
    assert_params_equal(net, before)


def test_bad_fit_lr_message_quotes_value(net, xy):
    with pytest.raises(ValueError, match=r"lr.*-1"):
        net.fit(*xy, lr=-1)


@pytest.mark.parametrize("activations", [
    "nope", ["tanh", "nope"], ["Relu", "identity"], ["relu"], ["relu", "relu", "identity"],
], ids=["str", "list", "wrong-case", "too-few", "too-many"])
def test_bad_activation(activations):
    with pytest.raises(ValueError, match="activation"):
        Network([3, 4, 2], activations=activations)


@pytest.mark.parametrize("sizes", [[], [3], [3, 0, 2], [3, -1, 2], [0, 2], [3, 4, 0]])
def test_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes"):
        Network(sizes)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 8, 9, 1377, 4097, 20_000, 70_000])
def test_all_finite_agrees_with_numpy_and_warns_nothing(dtype, n):
    """fit's finiteness check (Python for tiny arrays, counted or reduced np.isfinite flags, min/max beyond)
    against np.isfinite: NaN and ±Inf anywhere, huge finite entries, 2-D, strided and
    Fortran-ordered arrays; never a NumPy warning."""
    import warnings

    from fastnn._engine import all_finite

    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(dtype)
    huge = np.full(n, np.finfo(dtype).max / 4, dtype)  # finite; the sum of squares overflows
    cases = [a, huge, a.reshape(1, n), np.asfortranarray(np.tile(a, (3, 1)).T), a[::2], np.arange(n)]
    for bad in (np.nan, np.inf, -np.inf):
        for base in (a, huge):
            b = base.copy()
            b[rng.integers(n)] = bad
            cases += [b, b[::-1].reshape(1, n)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for c in cases:
            assert all_finite(c) == bool(np.isfinite(c).all())
