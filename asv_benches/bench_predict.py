"""Prediction, float32: one row per call (latency) and 100,000 rows in one call (throughput),
through ``predict`` (validates every call) and ``predictor()`` (checked once).

scripts/bench_inference.py times the same calls against ONNX Runtime, PyTorch, JAX, scikit-learn
and NumPy.
"""
import functools
import os

import numpy as np

from .common import Network, fresh_net, require, warm_jit

NETS = {"small": [8, 32, 32, 1], "medium": [64, 256, 256, 10], "mnist": [784, 512, 256, 10]}
ROWS = 100_000


@functools.cache
def rows(n, n0):
    """(n, n0) float32 rows: 1024 random ones, tiled (cheap to make for 100,000 × 784)."""
    block = np.random.default_rng(0).standard_normal((min(n, 1024), n0), dtype=np.float32)
    return np.ascontiguousarray(np.resize(block, (n, n0)))


def _caller(net, call):
    require("predict", *(("predictor",) if call == "predictor" else ()))
    warm_jit("float32")
    sizes = NETS[net]
    model = fresh_net(sizes, "float32")
    return (model.predict if call == "predict" else model.predictor()), sizes[0]


class PredictLatency:
    """One row per call: per-call overhead (checks, buffers, dispatch) on top of a tiny forward."""

    params = [["small", "medium"], ["predict", "predictor"]]
    param_names = ["net", "call"]

    def setup(self, net, call):
        self.f, n0 = _caller(net, call)
        self.x = rows(1, n0)
        self.f(self.x)  # the per-thread buffers

    def time_one_row(self, net, call):
        self.f(self.x)


class PredictThroughput:
    """100,000 rows in one call: samples/s = 100,000 / time."""

    params = [["medium", "mnist"], ["predict", "predictor"]]
    param_names = ["net", "call"]
    number = 1

    def setup(self, net, call):
        self.f, n0 = _caller(net, call)
        self.X = rows(ROWS, n0)
        self.f(self.X[:1024])

    def time_rows(self, net, call):
        self.f(self.X)


def _two_threads(bench):
    """FASTNN_NUM_THREADS=2 for a benchmark's calls (asv runs with 1); ``_end_two_threads``,
    from its teardown, puts back what was there and closes its predictor's team."""
    bench.cap = os.environ.get("FASTNN_NUM_THREADS")
    bench.capped = True
    os.environ["FASTNN_NUM_THREADS"] = "2"


def _end_two_threads(bench):
    if getattr(bench, "capped", False):  # (setup may have skipped before capping)
        if bench.cap is None:
            os.environ.pop("FASTNN_NUM_THREADS", None)
        else:
            os.environ["FASTNN_NUM_THREADS"] = bench.cap
    close = getattr(getattr(bench, "f", None), "close", None)
    if close is not None:
        close()


class PredictTeamRows:
    """256 rows of medium ([64, 256, 256, 10]) on two threads (FASTNN_NUM_THREADS=2 for the
    call, over asv's 1): ``predictor()`` hands its two row blocks to predict's pool, whose
    thread sleeps between calls; ``predictor(threads=2)``'s helper stays awake and claims the
    same blocks (issue 22). Ten calls back to back: a stream, which the team is for.
    "predictor-threads-columns": the team's split by each layer's columns (which fastnn picks
    for nets whose largest W^[k] has 2^22 entries or more, ``_engine.TEAM_COLUMNS_MIN_WEIGHTS``),
    forced on this net, where it waits once per layer."""

    params = [["predictor", "predictor-threads", "predictor-threads-columns"]]
    param_names = ["call"]

    def setup(self, call):
        require("predict", "predictor")
        from fastnn import _engine

        if call != "predictor" and not hasattr(_engine.RowTeam, "run_rows"):
            raise NotImplementedError("the predictor's team takes no calls of several rows at this commit")
        if call.endswith("columns") and not hasattr(_engine, "TEAM_COLUMNS_MIN_WEIGHTS"):
            raise NotImplementedError("the predictor's team has no split by columns at this commit")
        warm_jit("float32")
        _two_threads(self)
        model = fresh_net([64, 256, 256, 10], "float32")
        if call == "predictor":
            self.f = model.predictor()
        else:
            limit = getattr(_engine, "TEAM_COLUMNS_MIN_WEIGHTS", None)
            if call.endswith("columns"):
                _engine.TEAM_COLUMNS_MIN_WEIGHTS = 0  # (read when the team is made)
            try:
                self.f = model.predictor(threads=2)
            finally:
                if limit is not None:
                    _engine.TEAM_COLUMNS_MIN_WEIGHTS = limit
        self.x = rows(256, 64)
        self.f(self.x)

    def time_rows_256_x10(self, call):
        for _ in range(10):  # a stream of calls, which the team is for (a lone call wakes it)
            self.f(self.x)

    def teardown(self, call):
        _end_two_threads(self)


class PredictWideRow:
    """One row of a wide net ([784, 2048, 2048, 10]: 5.8M multiply-adds, weights streamed from
    memory): ``predict`` (columns split over the cores per call) and ``predictor(threads=2)``
    (helper threads awake between calls)."""

    params = [["predict", "predictor-threads"]]
    param_names = ["call"]

    def setup(self, call):
        require("predict", "predictor")
        import inspect

        if call != "predict" and "threads" not in inspect.signature(Network.predictor).parameters:
            raise NotImplementedError("Network.predictor(threads=) does not exist at this commit")
        warm_jit("float32")
        model = fresh_net([784, 2048, 2048, 10], "float32")
        self.f = model.predict if call == "predict" else model.predictor(threads=2)
        self.x = rows(1, 784)
        self.f(self.x)

    def time_wide_row(self, call):
        self.f(self.x)

    def teardown(self, call):
        close = getattr(getattr(self, "f", None), "close", None)  # (setup may have skipped)
        if close is not None:
            close()


class PredictTeamDeep:
    """Calls of deep ([16, 64×8, 1]: 29,760 multiply-adds a row) on two threads
    (FASTNN_NUM_THREADS=2 for the call, over asv's 1): 256 rows (7.6M multiply-adds, which
    predict runs on one thread: a pool's wake-up costs more than the second core saves) and one
    row. ``predictor(threads=2)``'s awake helper takes half of the 256 rows
    (``_engine.TEAM_ROWS_MIN_WORK``) and leaves the one row, too small a net for its columns to
    pay, to the caller alone (``_engine.TEAM_ROW_MIN_WORK``; issue 22). Ten calls back to back."""

    params = [["predictor", "predictor-threads"], [1, 256]]
    param_names = ["call", "rows"]

    def setup(self, call, rows_):
        require("predict", "predictor")
        from fastnn import _engine

        if call != "predictor" and not hasattr(_engine, "TEAM_ROWS_MIN_WORK"):
            raise NotImplementedError("the predictor's team takes no calls below predict's split at this commit")
        warm_jit("float32")
        _two_threads(self)
        model = fresh_net([16] + [64] * 8 + [1], "float32")
        self.f = model.predictor() if call == "predictor" else model.predictor(threads=2)
        self.x = rows(rows_, 16)
        self.f(self.x)

    def time_calls_x10(self, call, rows_):
        for _ in range(10):
            self.f(self.x)

    def teardown(self, call, rows_):
        _end_two_threads(self)
