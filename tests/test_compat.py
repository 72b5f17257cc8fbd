"""fastnn/_compat.py and the BLAS hold: every use of another library's private internals has a
fallback, and each fallback, forced here, gives the same results as the fast path.

(Numba's light cached load and its fallback: tests/test_startup.py.)"""
import math
import os
import signal
import subprocess
import sys
import textwrap
from typing import ClassVar

import numpy as np
import pytest

from fastnn import Network, _compat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------------------- scipy.linalg
def test_the_lazy_scipy_linalg_runs_once_while_other_threads_wait():
    """Eight threads touch the lazily loaded package at once: each gets the loaded package's
    names (with importlib.util.LazyLoader on Python 3.11, all but the first could find it half
    run and raise AttributeError)."""
    script = textwrap.dedent("""
        import sys, threading, types
        from fastnn import _compat  # (importing fastnn loads cython_blas this way: the GEMM cell)
        _compat.import_cython_blas()
        linalg = sys.modules["scipy.linalg"]
        assert type(linalg).__name__ == "_LazyPackage" and "scipy.linalg._basic" not in sys.modules
        barrier, got, errors = threading.Barrier(8), [], []

        def touch():
            barrier.wait()
            try:
                got.append((linalg.solve, linalg.lu_factor, linalg.blas, linalg.cython_blas))
            except BaseException as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=touch) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        import scipy.linalg, scipy.linalg.cython_blas as cb
        assert not errors, errors
        assert len(got) == 8 and len(set(got)) == 1 and got[0][3] is cb
        assert type(linalg) is types.ModuleType and scipy.linalg is linalg
        assert scipy.linalg.solve([[2.0]], [4.0]).tolist() == [2.0]
        print("ok")
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                       timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


# ---------------------------------------------------------------------------- BLAS hold
def _kernel_blas_threads():
    import scipy.linalg.cython_blas  # noqa: F401  (the BLAS the kernels call)
    from threadpoolctl import threadpool_info

    return {i["filepath"]: i["num_threads"] for i in threadpool_info()
            if i["user_api"] == "blas" and "scipy.libs" in i["filepath"]}


def test_the_blas_hold_through_threadpoolctl_sets_and_restores_the_same_counts(monkeypatch):
    """Without OpenBLAS's thread-count symbols (forced: none found), the hold goes through
    threadpoolctl's public limit(); the counts it sets and restores are the direct calls'."""
    import threadpoolctl

    from fastnn import _blas

    if not _kernel_blas_threads():
        pytest.skip("SciPy's BLAS is not a bundled OpenBLAS here")
    limits = []
    limit = threadpoolctl.ThreadpoolController.limit
    monkeypatch.setattr(threadpoolctl.ThreadpoolController, "limit",
                        lambda self, **kw: limits.append(kw) or limit(self, **kw))
    seen = {}
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = _kernel_blas_threads()
        for way in ("direct", "threadpoolctl"):
            if way == "threadpoolctl":
                monkeypatch.setattr(_blas, "openblas_thread_calls", lambda controller: None)
            hold, n = _blas.OneBlasThread(), len(limits)
            with hold:
                inside = _kernel_blas_threads()
                with hold:  # counted: the inner exit restores nothing
                    pass
                assert _kernel_blas_threads() == inside
            seen[way] = (inside, _kernel_blas_threads(), len(limits) - n)
    assert set(before.values()) == {2}
    assert seen["direct"] == ({f: 1 for f in before}, before, 0)
    assert seen["threadpoolctl"] == ({f: 1 for f in before}, before, 1)


# ---------------------------------------------------------------------------- CPython signal
@pytest.fixture
def default_sigint():
    """SIGINT as Python sets it up (KeyboardInterrupt), whatever the test runner installed."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_in_a_fit_is_the_same_through_the_signal_module(default_sigint, monkeypatch, rng):
    """Ctrl-C in epoch 2 stops the fit there, with the same θ and history, whether fastnn calls
    CPython's _signal (the fast path here) or the public signal module (the fallback)."""
    X, Y = rng.uniform(-1, 1, (40, 3)), rng.normal(size=(40, 2))

    def press(net, epoch, logs):
        if epoch == 2:
            signal.raise_signal(signal.SIGINT)

    if sys.implementation.name == "cpython":
        assert _compat.signals.__name__ == "_signal"
    results = []
    for module in (_compat.signals, signal):
        monkeypatch.setattr(_compat, "signals", module)
        net = Network([3, 8, 2], "tanh", dtype="float64", seed=0)
        with pytest.raises(KeyboardInterrupt) as info:
            net.fit(X, Y, epochs=4, batch_size=8, seed=1, callbacks=press)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        results.append((info.value.history["loss"], [w.copy() for w in net.weights + net.biases]))
    assert results[0][0] == results[1][0] and len(results[0][0]) == 2
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- scikit-learn
def _estimator(Interval, StrOptions, Options, validate_params, options):
    """A tiny estimator with one parameter per kind of constraint fastnn's estimators use."""
    import numbers

    from sklearn.base import BaseEstimator

    class Est(BaseEstimator):
        _parameter_constraints: ClassVar[dict] = {
            "sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
            "solver": [StrOptions(options)],
            "alpha": [Interval(numbers.Real, 0, None, closed="left")],
            "batch": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
            "rate": [Interval(numbers.Real, 0, None, closed="neither")],
            "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
            "fraction": [Interval(numbers.Real, 0, 1, closed="left")],
            "shuffle": ["boolean"],
            "random_state": ["random_state"],
            "verbose": ["verbose"],
            "dtype": [None, StrOptions({"float32", "float64"})],
            "n_jobs": [None, Interval(numbers.Integral, 1, None, closed="left"),
                       Interval(numbers.Integral, None, -1, closed="right")],
            "patience": [Interval(numbers.Integral, 1, None, closed="left"), Options(numbers.Real, {np.inf})],
        }

        def __init__(self, sizes=(4,), solver="adam", alpha=0.0, batch="auto", rate=0.1,
                     momentum=0.9, fraction=0.1, shuffle=True, random_state=None, verbose=False,
                     dtype=None, n_jobs=None, patience=10):
            self.sizes, self.solver, self.alpha, self.batch = sizes, solver, alpha, batch
            self.rate, self.momentum, self.fraction, self.shuffle = rate, momentum, fraction, shuffle
            self.random_state, self.verbose, self.dtype, self.n_jobs = random_state, verbose, dtype, n_jobs
            self.patience = patience

        def check(self):
            try:
                validate_params(self)
            except ValueError as e:
                assert isinstance(e, TypeError)  # InvalidParameterError is both
                return str(e)
            return None

    return Est


def test_the_parameter_checks_fallback_accepts_rejects_and_words_like_scikit_learn():
    import sklearn

    fast = _compat.sklearn_param_validation()
    slow = _compat.sklearn_param_validation(version="0.0")  # forced by the version check
    if _compat.release(sklearn.__version__) <= (1, 9):
        assert fast[0].__module__ == "sklearn.utils._param_validation"
    assert slow[0].__module__ == "fastnn._compat"
    options = {"lbfgs", "sgd", "adam"}  # one set: both list it in one order
    Fast, Slow = (_estimator(*impl, options) for impl in (fast, slow))
    values = [object(), None, True, False, np.bool_(True), 0, 1, 2, -1, -2, 2**32, np.int64(3),
              0.0, 0.5, 1.0, 1.5, -0.5, math.nan, math.inf, -math.inf, np.float32(0.25),
              "auto", "adam", "float64", "x", "", [1, 2], (3,), np.array([5]), np.random.RandomState(0)]
    outcomes = 0
    for param in Fast().get_params():
        for value in values:
            want = Fast(**{param: value}).check()
            assert Slow(**{param: value}).check() == want, (param, value)
            outcomes += want is None
    assert 0 < outcomes < 13 * len(values)  # some accepted, some refused


def test_sample_weight_checks_match_scikit_learns_private_ones():
    import sklearn
    from sklearn.utils import validation

    ref = getattr(validation, "_check_sample_weight", None)
    if ref is None or _compat.release(sklearn.__version__) != (1, 9):
        pytest.skip("the reference is scikit-learn 1.9's _check_sample_weight")
    X = np.zeros((4, 2))
    cases = [2, 0.5, np.float32(3), True, 0, [1, 2, 3, 4], np.arange(4), np.arange(1, 5, dtype=np.float32),
             np.arange(8.0)[::2], [[1, 2, 3, 4]], np.ones((4, 1)), [1, 2, 3], np.zeros(4),
             [1, np.nan, 1, 1], [1, np.inf, 1, 1], ["a", "b", "c", "d"], ["1", "2", "3", "4"]]

    def outcome(check, w):
        try:
            got = check(w)
        except (ValueError, TypeError) as e:
            return type(e), str(e)
        return got.dtype, got.flags.c_contiguous, got.tolist()

    for w in cases:
        assert outcome(lambda w: _compat.check_sample_weight(w, X), w) == \
            outcome(lambda w: ref(w, X, dtype=np.float64), w), w
