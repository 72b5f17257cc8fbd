"""fit's loop around the kernels: History, validation and metrics, EarlyStopping, callbacks,
Ctrl-C, DataFrame feature names, pickling and read-only parameters, DivergedError."""
import copy
import pickle
import signal
import threading

import joblib
import numpy as np
import pytest

import naive
from fastnn import Callback, DivergedError, EarlyStopping, History, Network
from helpers import assert_views_of_theta

SIZES = [3, 5, 2]


@pytest.fixture
def data(rng):
    X = rng.uniform(-1, 1, (40, SIZES[0]))
    Y = rng.normal(size=(40, SIZES[-1]))
    return X, Y


@pytest.fixture
def default_sigint():
    """SIGINT as Python sets it up (KeyboardInterrupt), whatever the test runner installed."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def make_net():
    return Network(SIZES, "tanh", dtype="float64", seed=0)


def theta(net):
    return net.parameters


def naive_losses(net, X, Y):
    """Per-sample L from the naive NumPy reference at net's current weights."""
    Ws, bs = [np.array(W) for W in net.weights], [np.array(b) for b in net.biases]
    return np.array([naive.backprop_sample(Ws, bs, net.activations, x, y, net.loss_name)[0]
                     for x, y in zip(X, Y)])


class Recorder(Callback):
    """θ after every epoch, and whatever ``measure(net)`` returns then."""

    def __init__(self, measure=lambda net: None):
        self.measure, self.snaps, self.values, self.begun, self.ended = measure, {}, [], 0, 0

    def on_train_begin(self, net, history):
        self.begun += 1
        self.history = history

    def on_epoch_end(self, net, epoch, logs):
        self.snaps[epoch] = theta(net)
        self.values.append(self.measure(net))

    def on_train_end(self, net, history):
        self.ended += 1


def scripted(key, values):
    """A callback that writes values[epoch - 1] into logs[key], for EarlyStopping to read."""
    def script(net, epoch, logs):
        logs[key] = values[epoch - 1]
    return script


# ---------------------------------------------------------------------------- History
def test_history_lists_each_epoch(data):
    X, Y = data
    h = make_net().fit(X, Y, epochs=3, batch_size=8, lr=0.05)
    assert isinstance(h, History) and isinstance(h, dict)
    assert h["loss"] is h.loss and h["time"] is h.time and h["lr"] is h.lr
    assert h.epochs == 3 and [len(h[k]) for k in ("loss", "time", "lr")] == [3, 3, 3]
    assert all(t > 0 for t in h.time)
    assert h.lr == [0.05] * 3
    assert h.best_epoch is None and h.stopped_epoch is None and not h.interrupted
    with pytest.raises(AttributeError):
        _ = h.val_loss
    r = repr(h)
    assert r.startswith("History(epochs=3") and repr(h.loss[-1]) in r and "time" not in r


def test_history_plot_draws_one_line_per_loss(data):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, Y = data
    h = make_net().fit(X, Y, epochs=4, batch_size=8, validation_split=0.25, metrics="mae")
    ax = h.plot()
    try:
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == ["loss", "val_loss"]
        for ln in lines:
            np.testing.assert_array_equal(ln.get_xdata(), [1, 2, 3, 4])
            np.testing.assert_array_equal(ln.get_ydata(), h[ln.get_label()])
        assert len(h.plot(["val_mae"], ax=ax).get_lines()) == 3
    finally:
        plt.close(ax.figure)


def _lines(ax):
    return {ln.get_label(): ln for ln in ax.get_lines()}


def test_history_plot_draws_the_metrics_on_a_second_axis(rng):
    """Losses on the returned axes, the logged metrics on ax.right_ax; x = 1..epochs, y = the
    logged values; one legend lists all; no two lines share a color."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    net = Network([3, 6, 2], ["tanh", "softmax"], loss="cross_entropy", dtype="float64", seed=0)
    h = net.fit(X, y, epochs=4, batch_size=8, validation_split=0.25, metrics=["accuracy", "mae"])
    assert set(h) == {"loss", "val_loss", "val_accuracy", "val_mae", "time", "lr"}
    ax = h.plot()
    try:
        left, right = _lines(ax), _lines(ax.right_ax)
        assert list(left) == ["loss", "val_loss"]
        assert list(right) == ["val_accuracy", "val_mae"]
        for key, ln in {**left, **right}.items():
            np.testing.assert_array_equal(ln.get_xdata(), [1, 2, 3, 4])
            np.testing.assert_array_equal(ln.get_ydata(), h[key])
        colors = [matplotlib.colors.to_hex(ln.get_color()) for ln in [*left.values(), *right.values()]]
        assert len(set(colors)) == 4, colors
        legend = ax.right_ax.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == ["loss", "val_loss", "val_accuracy", "val_mae"]
        assert ax.get_legend() is None
        assert (ax.get_xlabel(), ax.get_ylabel(), ax.right_ax.get_ylabel()) == ("epoch", "loss", "metric")
        # more keys into the same axes: the twin is reused and the one legend lists every line
        h.plot(["loss", "lr"], ax=ax)
        assert len(ax.figure.axes) == 2
        assert [ln.get_label() for ln in ax.right_ax.get_lines()][-1] == "lr"
        assert len(ax.right_ax.get_legend().get_texts()) == 6
    finally:
        plt.close(ax.figure)

    # only metrics, or only losses: one axes, no twin
    ax = h.plot(["val_accuracy"])
    try:
        assert list(_lines(ax)) == ["val_accuracy"] and len(ax.figure.axes) == 1
        assert not hasattr(ax, "right_ax")
    finally:
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="val_r2"):
        h.plot(["loss", "val_r2"])
    plt.close("all")


def test_history_plot_of_a_regression_shows_r2(data):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, Y = data
    h = make_net().fit(X, Y, epochs=3, batch_size=8, validation_split=0.25, metrics="r2")
    ax = h.plot()
    try:
        assert list(_lines(ax)) == ["loss", "val_loss"] and list(_lines(ax.right_ax)) == ["val_r2"]
        np.testing.assert_array_equal(_lines(ax.right_ax)["val_r2"].get_ydata(), h.val_r2)
    finally:
        plt.close(ax.figure)


# ---------------------------------------------------------------------------- validation
def test_val_loss_is_the_loss_at_each_epoch_end(data, rng):
    X, Y = data
    Xv, Yv = rng.uniform(-1, 1, (9, 3)), rng.normal(size=(9, 2))
    rec = Recorder(lambda net: (net.loss(Xv, Yv), naive_losses(net, Xv, Yv).mean()))
    h = make_net().fit(X, Y, epochs=3, batch_size=8, validation_data=(Xv, Yv), callbacks=[rec])
    assert h.val_loss == [v[0] for v in rec.values]
    np.testing.assert_allclose(h.val_loss, [v[1] for v in rec.values], rtol=1e-12)
    assert len(set(h.val_loss)) == 3  # the weights did move


def test_weighted_val_loss_is_the_weighted_mean(data, rng):
    X, Y = data
    Xv, Yv = rng.uniform(-1, 1, (9, 3)), rng.normal(size=(9, 2))
    wv = rng.uniform(0, 3, 9)
    wv[0] = 0.0
    rec = Recorder(lambda net: naive_losses(net, Xv, Yv))
    h = make_net().fit(X, Y, epochs=2, batch_size=8, validation_data=(Xv, Yv, wv), callbacks=rec)
    want = [np.sum(wv * L) / wv.sum() for L in rec.values]
    np.testing.assert_allclose(h.val_loss, want, rtol=1e-12)
    assert not np.allclose(want, [L.mean() for L in rec.values])  # the weights matter


@pytest.mark.parametrize("weighted", [False, True])
def test_validation_split_holds_out_the_last_rows(data, rng, weighted):
    X, Y = data
    w = rng.uniform(0.5, 2, len(X)) if weighted else None
    cut = 30  # 25% of 40 rows
    Xv, Yv, wv = X[cut:], Y[cut:], None if w is None else w[cut:]
    rec = Recorder(lambda net: net.loss(Xv, Yv, wv))
    net = make_net()
    h = net.fit(X, Y, epochs=3, batch_size=8, seed=7, validation_split=0.25, sample_weight=w,
                callbacks=[rec])
    ref = make_net()
    h_ref = ref.fit(X[:cut], Y[:cut], epochs=3, batch_size=8, seed=7,
                    sample_weight=None if w is None else w[:cut])
    np.testing.assert_array_equal(net.parameters, ref.parameters)
    assert h.loss == h_ref.loss
    assert h.val_loss == rec.values


def test_metrics_match_scikit_learn(rng):
    from sklearn.metrics import accuracy_score, r2_score

    X = rng.uniform(-1, 1, (60, 3))
    labels = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    Xv, yv = X[45:], labels[45:]

    def max_error(Y, P):
        return float(np.max(np.abs(Y - P)))

    got = Recorder(lambda net: net.predict(Xv))
    clf = Network([3, 5, 3], "tanh", loss="cross_entropy", dtype="float64", seed=0)
    h = clf.fit(X[:45], labels[:45], epochs=3, batch_size=8, lr=0.3, validation_data=(Xv, yv),
                metrics=["accuracy", max_error], callbacks=got)
    assert h.val_accuracy == [accuracy_score(yv, P.argmax(1)) for P in got.values]
    onehot = np.eye(3)[yv]
    assert h.val_max_error == [np.max(np.abs(onehot - P)) for P in got.values]

    Y = np.column_stack([X.sum(1), X[:, 0] * X[:, 1]])
    got = Recorder(lambda net: net.predict(X[45:]))
    h = make_net().fit(X, Y, epochs=3, batch_size=8, lr=0.1, validation_split=0.25,
                       metrics=["r2", "mse"], callbacks=got)
    np.testing.assert_allclose(h.val_r2, [r2_score(Y[45:], P) for P in got.values], rtol=1e-12)
    np.testing.assert_allclose(h.val_mse, [np.mean((Y[45:] - P) ** 2) for P in got.values], rtol=1e-12)


def test_binary_accuracy_is_subset_accuracy(rng):
    # Independent 0/1 labels per output: a row counts when every label is right.
    from sklearn.metrics import accuracy_score

    n_out = 3
    X = rng.uniform(-1, 1, (60, 3))
    Y = (X[:, :n_out] + rng.normal(scale=0.5, size=(60, n_out)) > 0).astype(float)
    got = Recorder(lambda net: (net.predict(X[45:]) > 0.5).astype(float))
    net = Network([3, 5, n_out], "tanh", loss="binary_cross_entropy", dtype="float64", seed=0)
    h = net.fit(X, Y, epochs=3, batch_size=8, lr=0.5, validation_split=0.25, metrics="accuracy",
                callbacks=got)
    assert h.val_accuracy == [accuracy_score(Y[45:], P) for P in got.values]


@pytest.mark.parametrize("kwargs, match", [
    ({"validation_data": "VAL", "validation_split": 0.2}, "not both"),
    ({"validation_data": "X"}, "tuple"),
    ({"validation_data": "BADSHAPE"}, "validation_data's X"),
    ({"validation_data": "BADW"}, "validation_data's sample_weight"),
    ({"validation_split": 1.0}, "validation_split"),
    ({"validation_split": -0.1}, "validation_split"),
    ({"validation_split": True}, "validation_split"),
    ({"validation_split": "0.2"}, "validation_split"),
    ({"validation_split": 0.001}, "both need at least one row"),
    ({"validation_split": 0.99}, "both need at least one row"),
    ({"metrics": ["accuracy"]}, "validation rows"),
    ({"metrics": ["nope"], "validation_split": 0.25}, "unknown metric 'nope'"),
    ({"metrics": [3], "validation_split": 0.25}, "unknown metric 3"),
    ({"early_stopping": "yes"}, "early_stopping"),
    ({"early_stopping": 0}, "patience"),
    ({"callbacks": [5]}, "callbacks"),
    ({"callbacks": 5}, "callbacks"),
    ({"sample_weight": "NEG"}, "sample_weight"),
])
def test_rejected_arguments_change_nothing(data, kwargs, match):
    X, Y = data
    net = make_net()
    net.fit(X, Y, epochs=1, optimizer="adam", lr=0.01)
    before, opt = theta(net), net.optimizer
    state, t = opt.state.copy(), opt.t
    special = {"VAL": (X[:5], Y[:5]), "X": X[:5], "BADSHAPE": (X[:5, :2], Y[:5]),
               "BADW": (X[:5], Y[:5], -np.ones(5)), "NEG": -np.ones(len(X))}
    kwargs = {k: special.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=match):
        net.fit(X, Y, epochs=2, lr=0.5, **kwargs)
    np.testing.assert_array_equal(net.parameters, before)
    assert net.optimizer is opt and opt.lr == 0.01 and opt.t == t
    np.testing.assert_array_equal(opt.state, state)


def test_empty_metrics_need_no_validation(data):
    X, Y = data
    assert "val_loss" not in make_net().fit(X, Y, epochs=1, metrics=[])


# ---------------------------------------------------------------------------- EarlyStopping
@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_stops_after_patience_and_restores_the_best(data, restore):
    X, Y = data
    values = [5.0, 4.0, 3.0, 3.5, 3.2, 1.0, 0.5]
    rec = Recorder()
    es = EarlyStopping(monitor="custom", patience=2, restore_best_weights=restore)
    net = make_net()
    h = net.fit(X, Y, epochs=7, batch_size=8, callbacks=[scripted("custom", values), rec],
                early_stopping=es)
    assert h.epochs == 5 and sorted(rec.snaps) == [1, 2, 3, 4, 5]  # best 3.0 at 3, then 2 worse
    assert h.stopped_epoch == 5 and es.best_epoch == 3
    assert h.best_epoch == (3 if restore else None)
    np.testing.assert_array_equal(net.parameters, rec.snaps[3 if restore else 5])
    assert not np.array_equal(rec.snaps[3], rec.snaps[5])
    assert rec.ended == 1


def test_early_stopping_min_delta_keeps_counting_but_updates_the_best(data):
    # Each step improves by 0.05 < min_delta: patience runs out, yet the best moves on.
    X, Y = data
    rec = Recorder()
    es = EarlyStopping(monitor="custom", patience=3, min_delta=0.1)
    net = make_net()
    vals = [10, 9.95, 9.9, 9.85, 9.8]
    h = net.fit(X, Y, epochs=10, batch_size=8, callbacks=[scripted("custom", vals), rec], early_stopping=es)
    assert h.epochs == 4 and h.stopped_epoch == 4 and h.best_epoch == 4
    # A step larger than min_delta resets the count.
    es = EarlyStopping(monitor="custom", patience=3, min_delta=0.1)
    vals = [10, 9.95, 9.0, 9.5, 9.5, 9.5, 9.5]
    h = net.fit(X, Y, epochs=7, batch_size=8, callbacks=[scripted("custom", vals), rec], early_stopping=es)
    assert h.stopped_epoch == 6 and h.best_epoch == 3
    np.testing.assert_array_equal(net.parameters, rec.snaps[3])


@pytest.mark.parametrize("mode, key", [("max", "custom"), ("auto", "custom_acc")])
def test_early_stopping_maximizes(data, mode, key):
    X, Y = data
    h = make_net().fit(X, Y, epochs=8, batch_size=8, callbacks=scripted(key, [1, 2, 3, 2.5, 2.9, 4, 5, 6]),
                       early_stopping=EarlyStopping(monitor=key, patience=2, mode=mode))
    assert h.stopped_epoch == 5 and h.best_epoch == 3


@pytest.mark.parametrize("early_stopping, stops_after", [(3, 4), (True, 11), (EarlyStopping(patience=1), 2)])
def test_early_stopping_shorthands_and_default_monitor(data, rng, early_stopping, stops_after):
    # The default monitor: "loss" without validation, "val_loss" with; scripted flat from epoch 1.
    X, Y = data
    h = make_net().fit(X, Y, epochs=20, batch_size=8, callbacks=scripted("loss", [1.0] * 20),
                       early_stopping=early_stopping)
    assert h.stopped_epoch == stops_after and h.best_epoch == 1
    falling = [1.0 / e for e in range(1, 21)]
    h = make_net().fit(X, Y, epochs=20, batch_size=8, validation_split=0.25,
                       callbacks=[scripted("loss", falling), scripted("val_loss", [1.0] * 20)],
                       early_stopping=early_stopping)
    assert h.stopped_epoch == stops_after


def test_early_stopping_monitor_missing(data, default_sigint):
    X, Y = data
    with pytest.raises(ValueError, match="val_loss"):
        make_net().fit(X, Y, epochs=2, early_stopping=EarlyStopping(monitor="val_loss"))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("kwargs", [{"patience": 0}, {"patience": 2.0}, {"patience": True},
                                    {"min_delta": -1}, {"min_delta": float("nan")}, {"mode": "up"}])
def test_early_stopping_rejects(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        EarlyStopping(**kwargs)


# ---------------------------------------------------------------------------- callbacks
def test_function_callback_sees_each_epoch_and_can_stop(data):
    X, Y = data
    seen = []

    def cb(net_, epoch, logs):
        seen.append((net_ is net, epoch, dict(logs)))
        if epoch == 2:
            return True
        return None

    net = make_net()
    h = net.fit(X, Y, epochs=5, batch_size=8, seed=3, callbacks=cb)
    assert [(same, e) for same, e, _ in seen] == [(True, 1), (True, 2)]
    assert [logs["loss"] for *_, logs in seen] == h.loss and set(seen[0][2]) == {"loss", "time", "lr"}
    assert h.epochs == 2 and h.stopped_epoch == 2
    ref = make_net()
    ref.fit(X, Y, epochs=2, batch_size=8, seed=3)
    np.testing.assert_array_equal(net.parameters, ref.parameters)


def test_callback_object_hooks_run_once(data):
    X, Y = data
    rec, calls = Recorder(), []
    both = (cb for cb in [rec, lambda n, e, logs: calls.append(e)])  # any iterable
    h = make_net().fit(X, Y, epochs=3, batch_size=8, callbacks=both)
    assert rec.begun == 1 and rec.ended == 1 and rec.history is h
    assert sorted(rec.snaps) == [1, 2, 3] and calls == [1, 2, 3]


# ---------------------------------------------------------------------------- Ctrl-C
@pytest.mark.parametrize("epochs", [5, 2])  # pressed in epoch 2: the middle one, the last one
def test_ctrl_c_stops_at_the_end_of_the_epoch(data, default_sigint, epochs):
    X, Y = data
    handlers = []

    def press(net, epoch, logs):
        handlers.append(signal.getsignal(signal.SIGINT))
        if epoch == 2:
            signal.raise_signal(signal.SIGINT)

    net = make_net()
    with pytest.raises(KeyboardInterrupt) as info:
        net.fit(X, Y, epochs=epochs, batch_size=8, seed=1, optimizer="adam", callbacks=press)
    h = info.value.history
    assert h.epochs == 2 and h.interrupted and h.stopped_epoch is None
    assert handlers[0] is not signal.default_int_handler  # fit's own handler ran meanwhile
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ref = make_net()
    ref.fit(X, Y, epochs=2, batch_size=8, seed=1, optimizer="adam")
    np.testing.assert_array_equal(net.parameters, ref.parameters)
    np.testing.assert_array_equal(net.optimizer.state, ref.optimizer.state)
    assert net.optimizer.t == ref.optimizer.t and net.optimizer.epoch == 2


def test_ctrl_c_leaves_a_custom_handler_alone(data):
    X, Y = data
    got = []
    previous = signal.signal(signal.SIGINT, lambda s, f: got.append(s))
    try:
        h = make_net().fit(X, Y, epochs=3, callbacks=lambda n, e, logs: signal.raise_signal(signal.SIGINT))
        assert h.epochs == 3 and got == [signal.SIGINT] * 3
    finally:
        signal.signal(signal.SIGINT, previous)


def test_fit_in_a_worker_thread(data, default_sigint):
    X, Y = data
    out, handlers = [], []

    def look(net, epoch, logs):
        handlers.append(signal.getsignal(signal.SIGINT))

    def work():
        out.append(make_net().fit(X, Y, epochs=2, seed=1, callbacks=look))

    t = threading.Thread(target=work)
    t.start()
    t.join()
    ref = make_net().fit(X, Y, epochs=2, seed=1)
    assert out[0].loss == ref.loss
    assert handlers == [signal.default_int_handler] * 2


# ---------------------------------------------------------------------------- feature names
def test_dataframe_feature_names(data, tmp_path):
    pd = pytest.importorskip("pandas")
    X, Y = data
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    net = make_net()
    net.fit(df, Y, epochs=1)
    assert list(net.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_array_equal(net.predict(df), net.predict(X))
    before = theta(net)
    for bad in (df[["b", "a", "c"]], df.rename(columns={"a": "z"})):
        with pytest.raises(ValueError, match=r"\['a', 'b', 'c'\]"):
            net.predict(bad)
        with pytest.raises(ValueError, match="feature names"):
            net.fit(bad, Y, epochs=1)
    np.testing.assert_array_equal(net.parameters, before)

    net.save(tmp_path / "m.npz")
    loaded = Network.load(tmp_path / "m.npz")
    assert list(loaded.feature_names_in_) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="different order"):
        loaded.predict(df[["c", "b", "a"]])

    # format 2 (before feature names): the same keys without feature_names
    with np.load(tmp_path / "m.npz") as f:
        old = {k: f[k] for k in f.files if k != "feature_names"}
    old["format_version"] = np.int64(2)
    np.savez(tmp_path / "old.npz", **old)
    old_net = Network.load(tmp_path / "old.npz")
    assert old_net.feature_names_in_ is None
    np.testing.assert_array_equal(old_net.predict(df[["c", "b", "a"]]), net.predict(X[:, ::-1]))

    fresh = make_net()
    fresh.fit(pd.DataFrame(X), Y, epochs=1)  # integer column names: none recorded
    assert fresh.feature_names_in_ is None
    fresh.save(tmp_path / "n.npz")
    assert Network.load(tmp_path / "n.npz").feature_names_in_ is None


def test_validation_frame_columns_must_match_training_frame(data):
    pd = pytest.importorskip("pandas")
    X, Y = data
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    net = make_net()
    before = theta(net)
    with pytest.raises(ValueError, match="validation_data's X"):
        net.fit(df, Y, epochs=1, validation_data=(df[["c", "b", "a"]], Y))
    np.testing.assert_array_equal(net.parameters, before)
    assert net.feature_names_in_ is None


# ---------------------------------------------------------------------------- pickling
def _same_network(a, b, X, Y):
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.loss(X, Y) == b.loss(X, Y)
    flat = [[g for part in net.gradients(X, Y) for g in part] for net in (a, b)]  # W's, then b's
    for ga, gb in zip(*flat):
        np.testing.assert_array_equal(ga, gb)
    pa, pb = a.backprop(X, Y), b.backprop(X, Y)
    assert pa.loss == pb.loss
    np.testing.assert_array_equal(pa.phi[1], pb.phi[1])


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "joblib"])
def test_copies_keep_weights_tied_to_theta(data, tmp_path, how):
    X, Y = data
    net = make_net()
    net.fit(X, Y, epochs=2, batch_size=8, optimizer="adam")
    pickled = pickle.dumps(net)
    net.predict(X)  # scratch buffers exist now, and are not pickled
    assert pickle.dumps(net) == pickled
    if how == "pickle":
        other = pickle.loads(pickle.dumps(net))
    elif how == "deepcopy":
        other = copy.deepcopy(net)
    else:
        joblib.dump(net, tmp_path / "n.joblib")
        other = joblib.load(tmp_path / "n.joblib")
    assert_views_of_theta(other)
    _same_network(net, other, X, Y)
    w = other.weights[0][0, 0]
    other.weights[0][0, 0] += 1.0  # edits through the view reach θ, the copy's own
    assert other.parameters[0] == net.parameters[0] + 1.0
    h1 = net.fit(X, Y, epochs=2, batch_size=8, seed=5)
    other.weights[0][0, 0] = w  # (not −= 1.0: (w + 1) − 1 rounds w to a multiple of 2⁻⁵²)
    h2 = other.fit(X, Y, epochs=2, batch_size=8, seed=5)
    assert h1.loss == h2.loss  # optimizer state and weights carried over exactly


def test_memory_mapped_parameters(data, tmp_path):
    X, Y = data
    net = make_net()
    net.fit(X, Y, epochs=2, batch_size=8, optimizer="adam")
    path = tmp_path / "n.joblib"
    joblib.dump(net, path)
    raw = path.read_bytes()
    m = joblib.load(path, mmap_mode="r")
    # θ stays in the file's read-only mapping, and the weights view it
    assert all(isinstance(a, np.memmap) and not a.flags.writeable for a in m.weights + m.biases)
    assert not m.optimizer.state.flags.writeable
    _same_network(net, m, X, Y)
    assert not m.weights[0].flags.writeable  # gradients/backprop did not need to copy θ for good

    ref = copy.deepcopy(net)
    h_ref = ref.fit(X, Y, epochs=2, batch_size=8, seed=5)
    h = m.fit(X, Y, epochs=2, batch_size=8, seed=5)
    assert h.loss == h_ref.loss
    np.testing.assert_array_equal(m.parameters, ref.parameters)
    assert not any(isinstance(a, np.memmap) for a in m.weights + m.biases)  # θ in memory of its own now
    assert_views_of_theta(m)
    assert path.read_bytes() == raw
    np.testing.assert_array_equal(joblib.load(path).parameters, net.parameters)


# ---------------------------------------------------------------------------- divergence
def test_diverged_error_names_epoch_and_loss(rng, default_sigint):
    # A line y = w x + b by full-batch gradient descent with lr = 20: the error grows each
    # epoch until it overflows; NumPy finds the same epoch.
    X = rng.uniform(-1, 1, (16, 1))
    Y = 2 * X + 1
    rec = Recorder()
    net = Network([1, 1], activations="identity", dtype="float64", seed=0)
    w, b = float(net.weights[0][0, 0]), float(net.biases[0][0])
    with pytest.raises(DivergedError) as info:
        net.fit(X, Y, epochs=10_000, batch_size=16, lr=20.0, shuffle=False, callbacks=rec)
    e = info.value
    x, y = X[:, 0], Y[:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, 10_001):  # noqa: B007 - read after the loop: the epoch it diverged at
            r = w * x + b - y
            loss = 0.5 * np.mean(r * r)
            w, b = w - 20.0 * np.mean(r * x), b - 20.0 * np.mean(r)
            if not (np.isfinite(loss) and np.isfinite(w) and np.isfinite(b)):
                break
    assert e.epoch == epoch > 2 and len(rec.snaps) == epoch - 1
    assert isinstance(e.loss, float) and e.loss == loss  # inf: the squares overflow first
    assert f"epoch {epoch}" in str(e)
    np.testing.assert_array_equal(net.parameters, rec.snaps[epoch - 1])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_early_stopping_on_val_key_without_validation_is_refused_before_training(rng):
    net = Network([3, 4, 1], seed=0)
    X, Y = rng.uniform(-1, 1, (20, 3)), rng.normal(size=20)
    before = net.parameters
    with pytest.raises(ValueError, match=r"EarlyStopping.*val_loss"):
        net.fit(X, Y, early_stopping=EarlyStopping(monitor="val_loss"))
    np.testing.assert_array_equal(net.parameters, before)
    assert net.optimizer is None


def test_memory_mapped_network_trains_into_a_plain_array(tmp_path, rng):
    """Every array joblib maps (θ, and the engine's layout table, which the kernels take as a
    plain array) works: the loaded network predicts and trains as the original does."""
    import joblib

    net = Network([3, 4, 1], seed=0)
    joblib.dump(net, tmp_path / "n.joblib")
    loaded = joblib.load(tmp_path / "n.joblib", mmap_mode="r")
    X, Y = rng.uniform(-1, 1, (8, 3)), rng.normal(size=8)
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    loaded.fit(X, Y, epochs=1)
    net.fit(X, Y, epochs=1)
    np.testing.assert_array_equal(loaded.parameters, net.parameters)
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert type(loaded.weights[0]) is np.ndarray
    assert_views_of_theta(loaded)


# ---------------------------------------------------------------- the short road
# A default fit of at most one batch keeps its set-up across calls (training._short_road); an
# explicit threads=1 sends the twin down the full road: the two must agree bit for bit.
def _twin_fits(net, twin, calls, epochs=1, batch_size=1):
    for i, (X, Y) in enumerate(calls):
        lr = {"lr": 0.02} if i % 3 == 2 else {}  # (the short road takes an lr)
        h = net.fit(X, Y, epochs=epochs, batch_size=batch_size, **lr)
        g = twin.fit(X, Y, epochs=epochs, batch_size=batch_size, threads=1, **lr)
        assert h["loss"] == g["loss"] and h["lr"] == g["lr"] and h.epochs == epochs
    np.testing.assert_array_equal(net.parameters, twin.parameters)
    assert net.optimizer.t == twin.optimizer.t and net.epochs_trained == twin.epochs_trained


@pytest.mark.parametrize("sizes, rows", [([3, 5, 2], 1), ([8, 32, 32, 1], 1), ([8, 32, 32, 1], 5)])
def test_the_short_road_trains_as_the_full_one(rng, sizes, rows):
    """One-row calls (the unrolled epoch on the tiny net), and calls of 5 rows shuffled by the
    network's generator, 3 epochs each: the same θ, losses, steps and generator state."""
    net, twin = (Network(sizes, seed=0) for _ in range(2))
    f32 = np.float32
    calls = [(rng.normal(size=(rows, sizes[0])).astype(f32), rng.normal(size=(rows, sizes[-1])).astype(f32))
             for _ in range(20)]
    _twin_fits(net, twin, calls, epochs=3, batch_size=8)
    assert len(net._engine.short_roads) == 1
    assert net._rng.bit_generator.state == twin._rng.bit_generator.state


def test_the_short_road_follows_a_new_optimizer_and_a_changed_one(rng):
    net, twin = (Network([4, 16, 2], seed=0) for _ in range(2))
    calls = [(rng.normal(size=(1, 4)), rng.normal(size=(1, 2))) for _ in range(10)]
    _twin_fits(net, twin, calls)
    for n in (net, twin):  # momentum: no longer the fused SGD step, a gradient buffer is needed
        n.optimizer.momentum = 0.9
    _twin_fits(net, twin, calls)
    for n in (net, twin):
        n.fit(*calls[0], epochs=1, batch_size=1, optimizer="adam", lr=1e-3)
    _twin_fits(net, twin, calls)
    assert net.optimizer.name == "adam" and net.optimizer.t == 11


def test_the_short_road_refuses_bad_input_and_rolls_back_divergence(rng, default_sigint):
    net = Network([3, 8, 1], seed=0, dtype="float64")
    x, y = rng.normal(size=(1, 3)), rng.normal(size=(1, 1))
    net.fit(x, y, epochs=1, batch_size=1)
    before = net.parameters
    with pytest.raises(ValueError, match="NaN or Inf"):
        net.fit(np.full((1, 3), np.nan), y, epochs=1, batch_size=1)
    with pytest.raises(ValueError, match="shape"):
        net.fit(x[:, :2], y, epochs=1, batch_size=1)
    np.testing.assert_array_equal(net.parameters, before)
    net.optimizer.lr = 1e300
    with pytest.raises(DivergedError):
        net.fit(x * 1e10, y, epochs=1, batch_size=1)
    np.testing.assert_array_equal(net.parameters, before)
    assert net.optimizer.t == 0  # the rollback reset the moments and the step count


def test_ctrl_c_during_a_short_fit_stops_after_its_epoch(rng, default_sigint, monkeypatch):
    """Ctrl-C while the short road's kernel runs: the epoch finishes (θ, steps and history as a
    one-epoch fit's), the handler is restored, and KeyboardInterrupt carries the history."""
    from fastnn import _engine

    net, twin = Network([3, 8, 1], seed=0), Network([3, 8, 1], seed=0)
    x, y = rng.normal(size=(1, 3)).astype(np.float32), rng.normal(size=(1, 1)).astype(np.float32)
    net.fit(x, y, epochs=1, batch_size=1)  # the short road is set up from the second call
    twin.fit(x, y, epochs=1, batch_size=1)
    run = _engine.Trainer.run

    def pressed(self, *args):
        signal.raise_signal(signal.SIGINT)
        return run(self, *args)

    monkeypatch.setattr(_engine.Trainer, "run", pressed)
    with pytest.raises(KeyboardInterrupt) as info:
        net.fit(x, y, epochs=3, batch_size=1)
    monkeypatch.undo()
    assert net._engine.short_roads  # (the road it took)
    h = info.value.history
    assert h.epochs == 1 and h.interrupted and info.value.batches == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    g = twin.fit(x, y, epochs=1, batch_size=1)
    assert h["loss"] == g["loss"]
    np.testing.assert_array_equal(net.parameters, twin.parameters)
    assert net.optimizer.t == twin.optimizer.t == 2 and net.epochs_trained == twin.epochs_trained == 2


def test_a_step_that_overflows_theta_rolls_back_though_its_loss_was_finite(default_sigint):
    """The loss is computed before the step, so only the check of θ itself (``_Loop.finite``)
    finds an update that overflowed: on both roads, epoch 1 diverges and θ is as before."""
    x, y = np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32)
    for threads in (None, 1):  # the short road (a second call), the full road
        net = Network([1, 1], activations="identity", seed=0)
        net.fit(x, y, epochs=1, batch_size=1, lr=1e-3)
        before = net.parameters
        net.optimizer.lr = 1e300  # θ − lr·g: float32 Inf
        with pytest.raises(DivergedError) as info:
            net.fit(x, y, epochs=1, batch_size=1, threads=threads)
        assert np.isfinite(info.value.loss) and info.value.epoch == 1
        np.testing.assert_array_equal(net.parameters, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_theta_check_finds_every_nan_and_inf(dtype):
    """``_Loop.finite`` (``all_finite``'s Python, counted and reduced paths) finds a NaN or ±Inf
    on every position of sizes around SIMD widths, and passes θ at the dtype's largest values."""
    from fastnn.training import _Loop

    loop = _Loop.__new__(_Loop)
    big = np.finfo(dtype).max
    for n in [*range(1, 41), 67, 1153, 4097]:
        theta = np.full(n, big, dtype)
        theta[::2] = -big
        loop.theta = type("T", (), {"array": theta})()
        assert loop.finite(0.5)
        assert not loop.finite(float("nan"))
        for i in range(n):
            for bad in (np.nan, np.inf, -np.inf):
                saved, theta[i] = theta[i], bad
                assert not loop.finite(0.5), (n, i, bad)
                theta[i] = saved
