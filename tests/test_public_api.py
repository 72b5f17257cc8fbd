"""The public parameter API (parameters, set_parameters, loss_and_gradient, unpack, kernel_path,
Network(parameters=...)), the read guard around it, and input checks a new user trips on."""
import threading
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import Callback, DivergedError, EarlyStopping, Network
from helpers import central_difference, random_xy


def _net(**kw):
    return Network([3, 5, 2], activations=["tanh", "identity"], dtype="float64", seed=0, **kw)


# ------------------------------------------------------------------ parameters
def test_parameters_is_a_read_only_copy_laid_out_as_unpack_says(rng):
    net = _net()
    theta = net.parameters
    assert theta.shape == (net.n_params,) and not theta.flags.writeable
    Ws, bs = net.unpack(theta)
    for k in range(net.n_layers):  # weights[k-1] is W^[k]: the same numbers, not the same memory
        np.testing.assert_array_equal(Ws[k], net.weights[k])
        np.testing.assert_array_equal(bs[k], net.biases[k])
    net.weights[0][0, 0] += 1.0
    assert net.parameters[0] == theta[0] + 1.0  # W^[1] comes first, row-major
    # the naive layout: W^[1] row-major, b̄^[1], W^[2], b̄^[2]
    flat = np.concatenate([a.ravel() for W, b in zip(net.weights, net.biases) for a in (W, b)])
    np.testing.assert_array_equal(net.parameters, flat)


def test_set_parameters_writes_theta_and_refuses_bad_values_leaving_it_unchanged(rng):
    net = _net()
    new = rng.normal(size=net.n_params)
    net.set_parameters(new)
    np.testing.assert_array_equal(net.parameters, new)
    X, _ = random_xy(rng, 7, 3, 2)
    twin = _net(parameters=new)
    np.testing.assert_array_equal(twin.predict(X), net.predict(X))
    before = net.parameters
    for bad, what in [(new[:-1], "shape"), (np.full(net.n_params, np.nan), "NaN"),
                      (np.zeros((2, net.n_params)), "shape"), ("abc", "numeric"),
                      (new.astype(complex), "complex")]:
        with pytest.raises(ValueError, match=what):
            net.set_parameters(bad)
        np.testing.assert_array_equal(net.parameters, before)


def test_constructor_parameters_are_used_in_place_only_when_the_array_fits():
    theta = np.arange(32, dtype=np.float64) / 10
    net = Network([3, 5, 2], dtype="float64", parameters=theta)
    assert np.shares_memory(net.weights[0], theta)  # writable C-contiguous float64: in place
    net32 = Network([3, 5, 2], dtype="float32", parameters=theta)  # cast: a copy
    assert not np.shares_memory(net32.weights[0], theta)
    np.testing.assert_array_equal(net32.parameters, theta.astype(np.float32))
    with pytest.raises(ValueError, match="n_params = 32"):
        Network([3, 5, 2], parameters=np.zeros(31))


def test_loss_and_gradient_matches_central_differences_and_gradients(rng):
    net = _net()
    X, Y = random_xy(rng, 11, 3, 2)
    w = rng.uniform(0.5, 2.0, 11)
    loss, g = net.loss_and_gradient(X, Y)
    assert g.dtype == np.float64 and g.shape == (net.n_params,)
    assert loss == pytest.approx(net.loss(X, Y), rel=1e-12)
    dW, db = net.gradients(X, Y)
    np.testing.assert_allclose(g, np.concatenate([a.ravel() for W, b in zip(dW, db) for a in (W, b)]),
                               rtol=1e-12, atol=1e-14)
    lw, gw = net.loss_and_gradient(X, Y, sample_weight=w)
    assert lw == pytest.approx(net.loss(X, Y, sample_weight=w), rel=1e-12)
    # each entry of θ against central differences of the weighted mean loss
    theta = net.parameters.copy()
    for i in range(0, net.n_params, 3):
        step = np.zeros(net.n_params)
        step[i] = 1e-6
        net.set_parameters(theta + step)
        up = net.loss(X, Y, sample_weight=w)
        net.set_parameters(theta - step)
        down = net.loss(X, Y, sample_weight=w)
        assert gw[i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-8)
    net.set_parameters(theta)
    assert central_difference(net, net.weights[1].reshape(-1), 0, X, Y) == pytest.approx(
        net.unpack(g)[0][1][0, 0], rel=1e-5)  # W^[2] read through unpack


@pytest.mark.parametrize("path", ["auto", "loops", "blas", "unrolled", "generic"])
def test_kernel_path_is_a_constructor_argument(path, rng):
    X, Y = random_xy(rng, 20, 2, 1)
    ref = Network([2, 2, 1], dtype="float64", seed=1)
    net = Network([2, 2, 1], dtype="float64", seed=1, kernel_path=path)
    assert net.kernel_path == path
    np.testing.assert_allclose(net.gradients(X, Y)[0][0], ref.gradients(X, Y)[0][0], rtol=1e-10)


def test_unknown_kernel_path_is_refused():
    with pytest.raises(ValueError, match="kernel_path must be one of"):
        Network([2, 2, 1], kernel_path="fast")


def test_unpack_refuses_a_vector_of_another_size():
    with pytest.raises(ValueError, match="n_params"):
        _net().unpack(np.zeros(3))


# ------------------------------------------------------------------ the guard
class _Pause(Callback):
    """Blocks the fit after its first epoch until released."""

    def __init__(self):
        self.reached, self.go = threading.Event(), threading.Event()

    def on_epoch_end(self, net, epoch, logs):
        if epoch == 1:
            self.reached.set()
            assert self.go.wait(30)


def test_readers_during_another_threads_fit_see_a_consistent_snapshot(rng):
    net = Network([4, 16, 2], seed=0)
    X, Y = random_xy(rng, 256, 4, 2, np.float32)
    start = net.parameters
    pause = _Pause()
    t = threading.Thread(target=net.fit, args=(X, Y), kwargs=dict(epochs=3, callbacks=[pause]))
    t.start()
    try:
        assert pause.reached.wait(30)
        seen = net.parameters  # θ at the start of the fit: the snapshot, not a half-updated θ
        np.testing.assert_array_equal(seen, start)
        f = net.predictor()  # copies θ under the read guard too
        np.testing.assert_array_equal(f(X), net.predict(X))
        with pytest.raises(RuntimeError, match="training in another thread"):
            net.set_parameters(start)
    finally:
        pause.go.set()
        t.join()
    assert not np.array_equal(net.parameters, start)
    net.set_parameters(start)  # after the fit: allowed
    np.testing.assert_array_equal(net.parameters, start)


# ------------------------------------------------------------------ on_train_end, however fit ends
class _Ends(Callback):
    def __init__(self):
        self.ends = 0

    def on_train_end(self, net, history):
        self.ends += 1


def test_on_train_end_runs_when_divergence_ends_the_fit_and_early_stopping_restores_its_best(rng):
    X, Y = random_xy(rng, 64, 3, 2)
    net = _net()
    ends, stop = _Ends(), EarlyStopping(patience=50, restore_best_weights=True)
    seen = []

    class Blow(Callback):  # records each epoch's θ, then from epoch 2 on makes the next loss overflow
        def on_epoch_end(self, net, epoch, logs):
            seen.append(net.parameters)
            if epoch >= 2:
                net.set_parameters(net.parameters * 1e200)

    with pytest.raises(DivergedError) as info:
        net.fit(X, Y, epochs=5, lr=1e-3, callbacks=[stop, Blow(), ends])
    assert info.value.epoch == 3 and ends.ends == 1
    # the rollback went to the end of epoch 2 (blown up); on_train_end then restored the best epoch
    assert stop.best_epoch in (1, 2)
    np.testing.assert_array_equal(net.parameters, seen[stop.best_epoch - 1])


def test_on_train_end_runs_when_ctrl_c_ends_the_fit(rng):
    X, Y = random_xy(rng, 64, 3, 2)
    ends = _Ends()

    def press(net, epoch, logs):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _net().fit(X, Y, epochs=5, callbacks=[press, ends])
    assert ends.ends == 1


# ------------------------------------------------------------------ input a new user passes
pd = pytest.importorskip("pandas")


def test_pandas_series_are_accepted_as_targets_and_one_column_inputs(rng):
    X, Y = random_xy(rng, 30, 1, 1)
    net = Network([1, 4, 1], dtype="float64", seed=0)
    ref = Network([1, 4, 1], dtype="float64", seed=0)
    net.fit(pd.Series(X[:, 0]), pd.Series(Y[:, 0]), epochs=2, shuffle=False)
    ref.fit(X, Y, epochs=2, shuffle=False)
    np.testing.assert_array_equal(net.parameters, ref.parameters)
    np.testing.assert_array_equal(net.predict(pd.Series(X[:, 0])), ref.predict(X))
    clf = Network([1, 4, 3], loss="cross_entropy", seed=0)
    clf.fit(X, pd.Series(rng.integers(0, 3, 30)), epochs=1)  # integer labels in a Series
    clf.fit(X, pd.Series(rng.integers(0, 3, 30), dtype="Int64"), epochs=1)  # pandas' own dtype


def test_string_labels_point_to_integer_labels_or_the_classifier(rng):
    X, _ = random_xy(rng, 6, 2, 1)
    net = Network([2, 4, 3], loss="cross_entropy")
    for labels in (np.array(["a", "b", "c"] * 2), pd.Series(["a", "b", "c"] * 2, dtype="category")):
        with pytest.raises(ValueError, match="MLPClassifier"):
            net.fit(X, labels)


@pytest.mark.parametrize("make", [
    lambda X: X.astype("datetime64[s]"), lambda X: X.astype("timedelta64[s]"),
    lambda X: X.astype(bytes), lambda X: np.asmatrix(X), lambda X: np.ma.masked_greater(X, 0.5),
    lambda X: pd.DataFrame(X.astype("datetime64[s]")),
], ids=["datetime", "timedelta", "bytes", "matrix", "masked", "datetime-frame"])
def test_input_numpy_would_cast_silently_is_refused(make):
    X = np.arange(12).reshape(6, 2)
    net = Network([2, 3, 1], seed=0)
    before = net.parameters
    with pytest.raises(ValueError, match=r"datetime|bytes|matrix|masked"):
        net.fit(make(X), np.zeros(6), epochs=1)
    with pytest.raises(ValueError, match=r"datetime|bytes|matrix|masked"):
        net.predict(make(X))
    np.testing.assert_array_equal(net.parameters, before)


def test_predict_without_names_after_a_fit_with_names_warns(rng):
    X, Y = random_xy(rng, 10, 2, 1)
    frame = pd.DataFrame(X, columns=["a", "b"])
    net = Network([2, 3, 1], seed=0)
    net.fit(frame, Y, epochs=1)
    with pytest.warns(UserWarning, match="no feature names"):
        net.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.predict(frame)


def test_an_overflowing_loss_names_its_cause():
    X = np.full((8, 2), 1e30, np.float32)
    Y = np.zeros((8, 1), np.float32)
    net = Network([2, 3, 1], activations=["identity", "identity"], seed=0)
    with pytest.raises(ValueError, match="overflow float32"):
        net.loss(X, Y)
    before = net.parameters
    with pytest.raises(DivergedError, match="overflow float32"):
        net.fit(X, Y, epochs=1)
    np.testing.assert_array_equal(net.parameters, before)
    assert np.isfinite(Network([2, 3, 1], dtype="float64", activations=["identity", "identity"],
                               seed=0).loss(X.astype(np.float64), Y))


def test_public_modules_expose_what_the_docs_name():
    from fastnn import persist, training

    assert training.DivergedError is fastnn.DivergedError
    assert callable(persist.save) and callable(persist.load)
