"""fastnn's estimators on a real local Dask cluster (a scheduler and two worker processes):
GridSearchCV through joblib's Dask backend gives the serial search's results, and
dask_ml's Incremental trains through partial_fit, block by block, as a local loop would.

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
