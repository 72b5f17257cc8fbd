"""Small helpers shared by the test modules, and the engine's knobs (the only engine settings
tests change; the fixtures in conftest.py wrap them)."""
import contextlib
import copy
import itertools
from unittest import mock

import numpy as np

import fastnn
from fastnn import _engine, training

ACTIVATION_NAMES = sorted(fastnn.ACTIVATIONS)  # from the table: a new entry is tested by every test
# Every kernel path a test forces, by its ``Network(kernel_path=...)`` name ("auto" picks among them).
PATHS = ["loops", "blas", "unrolled", "generic"]


def random_xy(rng, n_samples, n_in, n_out, dtype=np.float64):
    X = rng.uniform(-1.0, 1.0, size=(n_samples, n_in)).astype(dtype)
    Y = rng.normal(size=(n_samples, n_out)).astype(dtype)
    return X, Y


def params(net):
    """Independent copies of the network's weights and biases (0-based lists)."""
    return [np.array(W, copy=True) for W in net.weights], [np.array(b, copy=True) for b in net.biases]


def assert_params_equal(net, saved):
    Ws, bs = saved
    assert len(net.weights) == len(Ws) and len(net.biases) == len(bs)
    for W_now, W_then in zip(net.weights, Ws):
        np.testing.assert_array_equal(W_now, W_then)
    for b_now, b_then in zip(net.biases, bs):
        np.testing.assert_array_equal(b_now, b_then)


def set_params(net, Ws, bs):
    for k, (W, b) in enumerate(zip(Ws, bs)):
        net.weights[k][...] = W
        net.biases[k][...] = b


def randomize_biases(net, rng, scale=0.3):
    for b in net.biases:
        b[...] = rng.normal(scale=scale, size=b.shape)


def randomize_norms(net, rng):
    """γ^[k] uniform in [0.5, 1.5) and β^[k] normal (scale 0.3) for each layer with norm."""
    for g, beta in zip(net.norm_scales, net.norm_shifts):
        if g is not None:
            g[...] = rng.uniform(0.5, 1.5, g.shape)
            beta[...] = rng.normal(scale=0.3, size=beta.shape)


def central_difference(net, arr, i, X, Y, eps=1e-6):
    """(L(θ + eps·e_i) − L(θ − eps·e_i)) / 2eps for entry i of one of net's weight/bias views."""
    orig = arr[i]
    arr[i] = orig + eps
    lp = net.loss(X, Y)
    arr[i] = orig - eps
    lm = net.loss(X, Y)
    arr[i] = orig
    return (lp - lm) / (2 * eps)


def assert_views_of_theta(net):
    """Each ``weights[k-1]`` and ``biases[k-1]`` is a view of the network's own θ: a write
    through it shows in ``net.parameters`` at its place in the layout (``unpack``), and nowhere
    else. Leaves θ as it was."""
    before = net.parameters
    views = net.weights + net.biases
    for i, view in enumerate(views):
        old = view.flat[-1]
        view.flat[-1] = old + 1
        want = before.copy()
        Ws, bs = net.unpack(want)
        (Ws + bs)[i].flat[-1] = old + 1
        np.testing.assert_array_equal(net.parameters, want)
        view.flat[-1] = old
    np.testing.assert_array_equal(net.parameters, before)


def targets(rng, net, N):
    """N targets that net's loss accepts: labels, 0/1 rows, counts or real rows."""
    nK = net.sizes[-1]
    if net.loss_name == "cross_entropy":
        return rng.integers(0, nK, N)
    if net.loss_name == "binary_cross_entropy":
        return rng.integers(0, 2, (N, nK)).astype(float)
    if net.loss_name == "poisson":
        return rng.poisson(1.0, (N, nK)).astype(float)
    return rng.normal(size=(N, nK))


def resumed(net, optimizer=None):
    """(θ, losses) of a copy of ``net`` after one more shuffled epoch in batches of 4, drawn
    by its own generator, with its own optimizer (or a copy of ``optimizer``). Two networks
    give the same, bit for bit, when their θ, optimizers and generators agree: this is how the
    tests compare the shuffling generator, which has no public reader."""
    twin = copy.deepcopy(net)
    twin.preprocess = None  # (X is drawn in the network's own input space)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (24, net.sizes[0]))
    try:
        history = twin.fit(X, targets(rng, net, 24), epochs=1, batch_size=4,
                           optimizer=copy.deepcopy(optimizer))
        losses = history["loss"]
    except fastnn.DivergedError as e:
        losses = ("diverged", e.epoch)
    return twin.parameters, losses


def assert_resume_alike(a, b, optimizer=None):
    """``resumed(a)`` and ``resumed(b)`` agree bit for bit."""
    (theta_a, losses_a), (theta_b, losses_b) = resumed(a, optimizer), resumed(b, optimizer)
    assert theta_a.dtype == theta_b.dtype and theta_a.tobytes() == theta_b.tobytes()
    assert losses_a == losses_b


# ------------------------------------------------------------------ the engine's knobs
# The only settings of fastnn._engine and fastnn.training that tests change, each for the
# length of a ``with`` block (hypothesis tests use them directly, the others through the
# fixtures in conftest.py). They change how the work is split and timed, never the math.

@contextlib.contextmanager
def forced_split(how):
    """fit's threaded split (``threads`` > 1) by "rows" of the batch or by "columns" of W^[k],
    whatever the layers' work: ``_engine.COLUMNS_MIN_LAYER_WORK`` at 0, or beyond any net."""
    assert how in ("rows", "columns")
    with mock.patch.object(_engine, "COLUMNS_MIN_LAYER_WORK", 0 if how == "columns" else 1 << 62):
        yield


@contextlib.contextmanager
def usable_cores(n):
    """The engine sees ``n`` cores (``_engine.usable_cores``): fit's default thread count and
    predict's workers follow."""
    with mock.patch.object(_engine, "usable_cores", lambda: n):
        yield


@contextlib.contextmanager
def predict_blocks(cores, min_rows=None):
    """predict splits every call of two rows or more into blocks for ``cores`` threads
    (``_engine.PREDICT_THREADED_MIN_WORK`` at 0), blocks of at least ``min_rows`` rows
    (``_engine.PREDICT_MIN_ROWS``; None keeps it)."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(usable_cores(cores))
        stack.enter_context(mock.patch.object(_engine, "PREDICT_THREADED_MIN_WORK", 0))
        if min_rows is not None:
            stack.enter_context(mock.patch.object(_engine, "PREDICT_MIN_ROWS", min_rows))
        yield


@contextlib.contextmanager
def run_length(how):
    """fit's runs of batches (one kernel call each): one "batch" per run, or one run per
    "epoch", from a network's first fit on. ``training.RUN_SECONDS`` is 0 or 1e9 s, and every
    engine's ``row_seconds`` (its estimate of one row's time, which sizes the runs) reads 1 ns."""
    seconds = {"batch": 0.0, "epoch": 1e9}[how]
    pinned = property(lambda engine: 1e-9,
                      lambda engine, value: engine.__dict__.__setitem__("row_seconds", value))
    with mock.patch.object(training, "RUN_SECONDS", seconds), \
            mock.patch.object(_engine.Engine, "row_seconds", pinned, create=True):
        yield


@contextlib.contextmanager
def thread_counts(pick):
    """A threaded fit runs each of its runs of batches on ``pick()`` threads (1 up to its
    parts), in place of ``_engine.ThreadChoice``'s timed choice; the first run too."""
    chosen = property(lambda choice: pick(),
                      lambda choice, value: choice.__dict__.__setitem__("threads", value))
    with mock.patch.object(_engine.ThreadChoice, "pick", lambda choice: pick()), \
            mock.patch.object(_engine.ThreadChoice, "report", lambda choice, *timing: None), \
            mock.patch.object(_engine.ThreadChoice, "threads", chosen, create=True):
        yield


def require(module):
    """``pytest.importorskip(module)``, except in CI (the ``CI`` environment variable set, as
    .ci/run runs): there a missing peer library (torch) fails the test instead of skipping it,
    so a comparison never silently drops out."""
    import importlib
    import os

    import pytest

    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def all_pairs(factors, allowed=lambda row: True):
    """Rows (dicts) covering every allowed pair of values of every two factors at least once.
    One row per combination of the two largest factors (which all-pairs needs at least), each
    completed with the values of the others that cover the most pairs not yet covered; then,
    while pairs remain, the row of the full product that covers the most. Rows must be
    ``allowed``. Deterministic."""
    names = sorted(factors, key=lambda n: -len(factors[n]))
    full = [dict(zip(names, values)) for values in itertools.product(*(factors[n] for n in names))]
    full = [r for r in full if allowed(r)]

    def pairs(r):
        return {(a, repr(r[a]), b, repr(r[b])) for a, b in itertools.combinations(names, 2)}

    todo = set().union(*(pairs(r) for r in full))
    chosen = []
    for first, second in itertools.product(factors[names[0]], factors[names[1]]):
        fits = [r for r in full if r[names[0]] == first and r[names[1]] == second]
        if fits:
            best = max(fits, key=lambda r: len(pairs(r) & todo))
            chosen.append(best)
            todo -= pairs(best)
    while todo:
        best = max(full, key=lambda r: len(pairs(r) & todo))
        chosen.append(best)
        todo -= pairs(best)
    return [{n: r[n] for n in factors} for r in chosen]


def _bf16_skip():
    """pytest's mark for tests that run bf16 products (``precision="bf16"``): skipped, saying
    why, on a CPU without AVX512_BF16/AMX-BF16 or (outside CI) without Intel MKL; in CI a CPU
    with bf16 and no MKL fails them instead."""
    import os

    import pytest

    from fastnn import _blas

    missing = _blas.bf16_missing()
    skip = missing is not None and ("CPU" in missing or not os.environ.get("CI"))
    return pytest.mark.skipif(skip, reason=f"bf16 products cannot run here: {missing}")


needs_bf16 = _bf16_skip()
