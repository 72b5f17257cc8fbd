"""fastnn's estimators on a real local Dask cluster (a scheduler and two worker processes):
GridSearchCV through joblib's Dask backend gives the serial search's results, and
dask_ml's Incremental trains through partial_fit, block by block, as a local loop would, and
fastnn.dask trains one network data-parallel: lbfgs as on one machine (with sample weights, and
after a worker is killed mid-fit), adam/sgd bit for bit on one shard.

The nets have more than 128 parameters, so they run fastnn's generic kernels, which the
module compiles (or loads) once before the workers start; the workers load them from Numba's
disk cache."""
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")
pytest.importorskip("sklearn")
import joblib
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

GRID = {"mlpclassifier__alpha": [1e-4, 1.0], "mlpclassifier__hidden_layer_sizes": [(16,), (32,)]}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(600, 8, n_informative=5, random_state=0)
    return X, y


def search(n_jobs, X, y):
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=40, learning_rate_init=0.01, random_state=0))
    return GridSearchCV(pipe, GRID, cv=3, n_jobs=n_jobs).fit(X, y)


@pytest.fixture(scope="module")
def serial(data):
    """The search on one core, here; it also compiles (or loads) the kernels the workers use."""
    return search(1, *data)


@pytest.fixture(scope="module")
def client(serial):
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. a port in use: it picks another
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
    with cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


def test_grid_search_on_dask_equals_the_serial_search(serial, client, data):
    from distributed import get_task_stream

    with get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
        on_dask = search(-1, *data)
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert on_dask.best_params_ == serial.best_params_ and on_dask.best_score_ == serial.best_score_
    X, _ = data
    np.testing.assert_array_equal(on_dask.predict_proba(X), serial.predict_proba(X))
    # all 4 candidates x 3 folds ran on the workers (joblib batches them into tasks named
    # "batch_of__fit_and_score_<n>_calls-..."), and both workers took some
    fits = sum(int(m.group(1)) for t in stream.data
               if (m := re.search(r"_fit_and_score_(\d+)_calls", str(t["key"]))))
    assert fits == len(on_dask.cv_results_["params"]) * 3
    assert {t["worker"] for t in stream.data} == set(client.scheduler_info()["workers"])


def test_incremental_trains_block_by_block_like_a_local_partial_fit_loop(client, data):
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    from distributed import get_task_stream

    X, y = data
    X = StandardScaler().fit_transform(X)
    n, passes = len(X), 3
    dX, dy = da.from_array(X, chunks=(n // 4, -1)), da.from_array(y, chunks=n // 4)
    assert dX.numblocks == (4, 1)
    est = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    inc = wrappers.Incremental(est, shuffle_blocks=False)
    with get_task_stream(client) as stream:
        inc.fit(dX, dy, classes=[0, 1])
        for _ in range(passes - 1):
            inc.partial_fit(dX, dy, classes=[0, 1])
        pred = inc.predict(dX)
        assert isinstance(pred, da.Array)
        pred = pred.compute()
    assert stream.data and {t["worker"] for t in stream.data} <= set(client.scheduler_info()["workers"])

    # one partial_fit (one epoch) per block per pass, in block order: the same as doing it here
    local = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    for _ in range(passes):
        for rows in np.array_split(np.arange(n), 4):
            local.partial_fit(X[rows], y[rows], classes=[0, 1])
    fitted = inc.estimator_
    assert fitted.n_iter_ == local.n_iter_ == 4 * passes and fitted.t_ == passes * n
    for a, b in zip(fitted.coefs_ + fitted.intercepts_, local.coefs_ + local.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(pred, local.predict(X))
    assert inc.score(dX, dy) > 0.8


# ----------------------------------------------- fastnn.dask: data-parallel fits on the cluster
def _dask_rows(X, y, chunks):
    da = pytest.importorskip("dask.array")
    return da.from_array(X, chunks=(chunks, X.shape[1])), da.from_array(y, chunks=chunks)


@pytest.fixture(scope="module")
def regression():
    from sklearn.datasets import make_regression

    X, y = make_regression(400, 6, noise=0.5, random_state=1)
    return X, y / y.std()


LBFGS = dict(hidden_layer_sizes=(12,), solver="lbfgs", max_iter=15, random_state=0, dtype="float64", alpha=1e-3)


def test_lbfgs_on_two_workers_takes_the_single_machine_steps(client, regression):
    import fastnn
    from fastnn import dask as fd

    X, y = regression
    local = fastnn.MLPRegressor(**LBFGS).fit(X, y)  # (also compiles what the workers load)
    dist = fd.MLPRegressor(**LBFGS, client=client).fit(*_dask_rows(X, y, 100))
    assert dist.n_shards_ == 2  # both workers held rows
    a, b = dist.network_.parameters, local.network_.parameters
    assert np.max(np.abs(a - b)) <= 1e-6 * np.max(np.abs(b))
    assert dist.n_iter_ == local.n_iter_ and abs(dist.loss_ - local.loss_) <= 1e-9 * local.loss_
    dX, dy = _dask_rows(X, y, 100)
    pred = dist.predict(dX)
    assert type(pred).__module__.startswith("dask")
    np.testing.assert_allclose(pred.compute(), local.predict(X), rtol=1e-6, atol=1e-9)
    assert dist.score(dX, dy) == pytest.approx(local.score(X, y), abs=1e-9)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_one_shard_fit_equals_the_local_fit_bit_for_bit(client, regression, solver):
    import fastnn
    from fastnn import dask as fd

    X, y = regression
    kw = dict(hidden_layer_sizes=(12,), solver=solver, max_iter=4, random_state=0, dtype="float64",
              learning_rate_init=0.01, batch_size=32)
    local = fastnn.MLPRegressor(**kw).fit(X, y)
    dist = fd.MLPRegressor(**kw, client=client).fit(*_dask_rows(X, y, len(X)))  # one chunk: one shard
    assert dist.n_shards_ == 1
    np.testing.assert_array_equal(dist.network_.parameters, local.network_.parameters)
    assert dist.loss_curve_ == local.loss_curve_
    if solver == "adam":
        np.testing.assert_array_equal(dist.network_.optimizer.state, local.network_.optimizer.state)


def test_local_sgd_rounds_on_two_workers_learn_and_average_by_rows(client, regression):
    from fastnn import dask as fd

    X, y = regression
    dX, dy = _dask_rows(X, y, 100)
    kw = dict(hidden_layer_sizes=(12,), solver="adam", max_iter=30, random_state=0, learning_rate_init=0.01,
              batch_size=20, client=client)
    per_epoch = fd.MLPRegressor(**kw).fit(dX, dy)
    per_batches = fd.MLPRegressor(**kw, sync_every=2).fit(dX, dy)
    for est in (per_epoch, per_batches):
        assert est.n_shards_ == 2 and est.loss_curve_[-1] < 0.25 * est.loss_curve_[0]
        assert est.score(dX, dy) > 0.9
    assert per_epoch.loss_curve_ != per_batches.loss_curve_


def test_classifier_on_a_dask_dataframe_with_text_labels(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import make_classification

    import fastnn
    from fastnn import dask as fd

    X, y = make_classification(300, 5, n_informative=4, n_redundant=0, n_classes=3, random_state=2)
    labels = np.array(["ant", "bee", "cat"], dtype=object)[y]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    dX = dd.from_pandas(frame, npartitions=3)
    dy = dd.from_pandas(pd.Series(labels), npartitions=3)
    kw = dict(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=40, random_state=0, dtype="float64")
    local = fastnn.MLPClassifier(**kw).fit(frame, labels)
    dist = fd.MLPClassifier(**kw, client=client).fit(dX, dy)
    assert list(dist.classes_) == ["ant", "bee", "cat"] and list(dist.feature_names_in_) == list(frame.columns)
    proba = dist.predict_proba(dX.to_dask_array(lengths=True)).compute()
    np.testing.assert_allclose(proba, local.predict_proba(frame), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(dist.predict(dX).compute(), local.predict(frame))
    assert dist.score(dX, dy) == pytest.approx(local.score(frame, labels))


def test_refusals_name_the_parameter_and_the_fix(client, regression):
    from fastnn import dask as fd

    X, y = regression
    dX, dy = _dask_rows(X, y, 100)
    for kw, word in [({"early_stopping": True}, "early_stopping"), ({"norm": "batch"}, "norm='batch'"),
                     ({"solver": "lbfgs", "sync_every": 2}, "sync_every"), ({"warm_start": True}, "warm_start")]:
        with pytest.raises(ValueError, match=word):
            fd.MLPRegressor(hidden_layer_sizes=(4,), client=client, **kw).fit(dX, dy)
    with pytest.raises(ValueError, match="dask array"):
        fd.MLPRegressor(client=client).fit(X, y)
    with pytest.raises(AttributeError, match="Incremental"):
        fd.MLPRegressor(client=client).partial_fit(dX, dy)


def test_a_cluster_without_workers_times_out_with_a_clear_error():
    from distributed import Client, LocalCluster

    from fastnn import dask as fd

    X, y = np.zeros((8, 2)), np.zeros(8)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, Client(cluster) as c:
        with pytest.raises(TimeoutError, match="no Dask worker"):
            fd.MLPRegressor(client=c, timeout=0.5).fit(*_dask_rows(X, y, 4))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_shard_is_evaluated_in_row_blocks_that_sum_to_the_whole(monkeypatch, regression, n_jobs):
    # (in this process: the workers' function on its own, with blocks of 256 rows)
    import fastnn
    from fastnn import dask as fd

    X, y = regression
    X = np.vstack([X, X[:300]])  # 700 rows in parts of 500 and 200: blocks of 256, 244, 200
    y = np.concatenate([y, y[:300]])
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    net = fastnn.MLPRegressor(hidden_layer_sizes=(12,), max_iter=2, random_state=0, dtype="float64").fit(X, y).network_
    monkeypatch.setattr(fd, "_BLOCK_ENTRIES", 1)
    theta = net.parameters + 0.01
    for sw in (None, w):
        Y = y.reshape(-1, 1)
        parts = [(X[a:b], Y[a:b], None if sw is None else sw[a:b]) for a, b in [(0, 500), (500, 700)]]
        value, g, weight = fd._loss_grad(net, theta, tuple(parts), n_jobs)
        want_w = len(X) if sw is None else w.sum()
        net.set_parameters(theta)
        v_ref, g_ref = net.loss_and_gradient(X, y, sw, training=True)
        assert weight == pytest.approx(want_w, rel=1e-15)
        assert value / weight == pytest.approx(v_ref, rel=1e-12)
        np.testing.assert_allclose(g / weight, g_ref, rtol=1e-10, atol=1e-14)


def test_the_reduction_tree_adds_every_shard_once_in_order(client, monkeypatch):
    # fan-in 2 over 5 parts: three levels of tasks on the cluster, then the client's sum
    from fastnn import dask as fd

    rng = np.random.default_rng(0)
    parts = [(float(i), rng.standard_normal(7), float(i + 1)) for i in range(5)]
    futures = client.scatter(parts)
    monkeypatch.setattr(fd, "_FAN_IN", 2)
    value, g, w = fd._reduce(client, futures)
    assert value == 10.0 and w == 15.0
    np.testing.assert_allclose(g, sum(p[1] for p in parts), rtol=1e-15)


def test_rounds_average_in_a_tree_as_at_the_client(client, regression, monkeypatch):
    # fan-in 2 over 4 shards' round results: a level of _sum_rounds tasks on the cluster, then
    # the client's, against the plain weighted sums
    from fastnn import dask as fd

    rng = np.random.default_rng(1)
    parts = [(s * rng.standard_normal(5), s * rng.standard_normal(15), t, float(t), [{"i": t}])
             for t, s in enumerate([0.1, 0.2, 0.3, 0.4])] + [(None, None, 9, 0.0, [{"i": 9}])]
    monkeypatch.setattr(fd, "_FAN_IN", 2)
    theta, state, t, loss, rngs = fd._reduce(client, client.scatter(parts), fd._sum_rounds)
    np.testing.assert_allclose(theta, sum(p[0] for p in parts[:4]), rtol=1e-14)
    np.testing.assert_allclose(state, sum(p[1] for p in parts[:4]), rtol=1e-14)
    assert t == 9 and loss == 6.0 and [r["i"] for r in rngs] == [0, 1, 2, 3, 9]


def test_chunks_piled_on_one_worker_are_split_in_row_order_between_the_workers():
    from types import SimpleNamespace

    from fastnn import dask as fd

    class Cluster:  # (who_has and scheduler_info, as distributed.Client answers them)
        def __init__(self, where):
            self.where = where

        def who_has(self, parts):
            return {p.key: self.where[p.key] for p in parts}

        def scheduler_info(self):
            return {"workers": {"tcp://a": {}, "tcp://b": {}, "tcp://c": {}}}

    parts = [SimpleNamespace(key=k) for k in "pqrstu"]
    rows = (100, 100, 100, 100, 100, 100)
    piled = fd._placement(Cluster({k: ("tcp://b",) for k in "pqrstu"}), parts, rows)
    assert {w: [p.key for p in fs] for w, fs in piled.items()} == {
        "tcp://a": ["p", "q"], "tcp://b": ["r", "s"], "tcp://c": ["t", "u"]}
    spread = {"p": ("tcp://a",), "q": ("tcp://b",), "r": ("tcp://c",), "s": ("tcp://a",), "t": ("tcp://b",),
              "u": ("tcp://c", "tcp://a")}
    kept = fd._placement(Cluster(spread), parts, rows)  # balanced already: where Dask put them
    assert {w: [p.key for p in fs] for w, fs in kept.items()} == {
        "tcp://a": ["p", "s", "u"], "tcp://b": ["q", "t"], "tcp://c": ["r"]}


def test_two_chunks_train_on_both_workers(client, regression):
    from fastnn import dask as fd

    X, y = regression
    est = fd.MLPRegressor(**dict(LBFGS, max_iter=2), client=client).fit(*_dask_rows(X, y, 200))
    assert est.n_shards_ == 2


def test_sample_weights_on_two_workers_give_the_local_weighted_lbfgs_and_verbose_shows_each_evaluation(
        client, regression, capsys):
    import fastnn
    from fastnn import dask as fd

    da = pytest.importorskip("dask.array")
    X, y = regression
    w = np.random.default_rng(3).uniform(0.0, 3.0, len(X))
    kw = dict(LBFGS, max_iter=8)
    local = fastnn.MLPRegressor(**kw).fit(X, y, sample_weight=w)
    dist = fd.MLPRegressor(**kw, client=client, verbose=True).fit(*_dask_rows(X, y, 100),
                                                                   sample_weight=da.from_array(w, chunks=100))
    a, b = dist.network_.parameters, local.network_.parameters
    assert dist.n_shards_ == 2 and np.max(np.abs(a - b)) <= 1e-6 * np.max(np.abs(b))
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Evaluation ")]
    assert len(lines) == dist._evaluations >= dist.n_iter_
    assert re.fullmatch(r"Evaluation 1, loss = [0-9.]+, [0-9.]+ s", lines[0])


def test_a_worker_killed_mid_fit_is_replaced_and_lbfgs_ends_where_it_would_have(client, regression):
    # Last in the module: it kills one of the shared cluster's workers (its nanny starts another).
    import os
    import signal
    import threading
    import time

    from fastnn import dask as fd

    X, y = regression
    clean = fd.MLPRegressor(**LBFGS, client=client).fit(*_dask_rows(X, y, 100))
    est = fd.MLPRegressor(**LBFGS, client=client)
    victim = sorted(client.scheduler_info()["workers"])[0]
    pid = client.run(os.getpid, workers=[victim])[victim]  # the worker's process (its nanny restarts it)
    killed, done = threading.Event(), threading.Event()

    def kill_after_two_evaluations():
        while getattr(est, "_evaluations", 0) < 2:
            if done.is_set():
                return
            time.sleep(0.002)
        os.kill(pid, signal.SIGKILL)
        killed.set()

    killer = threading.Thread(target=kill_after_two_evaluations, daemon=True)
    killer.start()
    try:
        est.fit(*_dask_rows(X, y, 100))
    finally:
        done.set()
        killer.join(30)
    assert killed.is_set()
    np.testing.assert_allclose(est.network_.parameters, clean.network_.parameters, rtol=0, atol=1e-12)
    assert est.n_iter_ == clean.n_iter_
    client.wait_for_workers(2, timeout=60)  # the nanny replaced it
