"""Every kernel path fastnn can take, forced one at a time, against independent references.

AUTO picks a path per net (unrolled for tiny nets) and per layer (BLAS or loops by work size);
here each path is forced so that none of them is only tested where AUTO happens to pick it.
"""
import os
import re
import threading

import numpy as np
import pytest

import naive
from fastnn import Network, _engine
from helpers import PATHS, central_difference, random_xy, randomize_biases

# Nets of <= 32 parameters that together use every activation in hidden and output layers
# (the unrolled path compiles per architecture, so these stay few and tiny).
NETS = [([2, 3, 3, 2], ["tanh", "sigmoid", "softplus"]),
        ([2, 3, 3, 2], ["leaky_relu", "relu", "identity"]),
        ([3, 4, 1], ["relu", "sigmoid"]),
        ([3, 4, 2], ["elu", "selu"]),
        ([2, 3, 3, 1], ["gelu", "silu", "identity"])]  # gelu and silu are for hidden layers only
EPS = 1e-6


def test_the_nets_cover_every_activation_in_the_table():
    """A new entry in fastnn.ACTIVATIONS must join NETS, so every path is checked with it."""
    from fastnn import ACTIVATIONS

    assert {a for _, acts in NETS for a in acts} == set(ACTIVATIONS)


def _fd_gradients(net, X, Y):
    out = []
    for arrs in (net.weights, net.biases):
        gs = []
        for a in arrs:
            g = np.zeros(a.shape)
            for i in np.ndindex(a.shape):
                g[i] = central_difference(net, a, i, X, Y, EPS)
            gs.append(g)
        out.append(gs)
    return out


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("sizes,acts", NETS)
@pytest.mark.parametrize("N", [1, 5])
def test_gradients_match_finite_differences(path, sizes, acts, N, rng, make_net):
    net = make_net(sizes, acts, path=path)
    X, Y = random_xy(rng, N, sizes[0], sizes[-1])
    dW, db = net.gradients(X, Y)
    fdW, fdb = _fd_gradients(net, X, Y)
    for g, f in zip(dW + db, fdW + fdb):
        np.testing.assert_allclose(g, f, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("sizes,acts", NETS[:2])
@pytest.mark.parametrize("batch", [1, 2, 5])
def test_fit_is_sequential_sgd_on_the_naive_gradient(path, sizes, acts, batch, rng, make_net):
    """fit(shuffle=False) over 5 rows = SGD steps W ← W − lr·mean gradient of each batch,
    with the gradients from tests/naive.py (batch 1 uses the fused per-sample step)."""
    net = make_net(sizes, acts, path=path)
    X, Y = random_xy(rng, 5, sizes[0], sizes[-1])
    Ws = [W.copy() for W in net.weights]
    bs = [b.copy() for b in net.biases]
    lr, seen = 0.1, []
    for s in range(0, 5, batch):
        seen.append(naive.loss(Ws, bs, acts, X[s:s + batch], Y[s:s + batch]) * len(X[s:s + batch]))
        dW, db = naive.gradients(Ws, bs, acts, X[s:s + batch], Y[s:s + batch])
        Ws = [W - lr * g for W, g in zip(Ws, dW)]
        bs = [b - lr * g for b, g in zip(bs, db)]
    hist = net.fit(X, Y, epochs=1, batch_size=batch, lr=lr, shuffle=False)
    for got, want in zip(net.weights + net.biases, Ws + bs):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert hist["loss"][0] == pytest.approx(sum(seen) / 5, rel=1e-10)


@pytest.mark.parametrize("path", PATHS)
def test_shuffled_fit_matches_fit_on_the_permuted_rows(path, rng, make_net):
    """Shuffling gathers rows by the epoch's permutation: same result as unshuffled fit on the
    rows in that order (the permutation comes from the same seeded generator)."""
    sizes, acts = NETS[0]
    X, Y = random_xy(rng, 9, sizes[0], sizes[-1])
    a, b = make_net(sizes, acts, path=path), make_net(sizes, acts, path=path, biases=np.random.default_rng(12345))
    b.set_parameters(a.parameters)
    a.fit(X, Y, epochs=1, batch_size=2, lr=0.05, seed=7)
    perm = np.arange(9)
    np.random.default_rng(7).shuffle(perm)
    b.fit(X[perm], Y[perm], epochs=1, batch_size=2, lr=0.05, shuffle=False)
    np.testing.assert_allclose(a.parameters, b.parameters, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("path", ["loops", "blas", "generic"])
def test_predict_matches_naive_on_more_rows_than_one_chunk(path, rng, make_net):
    """predict runs the forward kernel in chunks of its buffer's rows (1024)."""
    sizes, acts = [3, 6, 5, 2], ["tanh", "relu", "identity"]
    net = make_net(sizes, acts, path=path)
    X = rng.uniform(-1, 1, size=(1100, 3))
    np.testing.assert_allclose(net.predict(X), naive.predict(net.weights, net.biases, acts, X),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("path", ["loops", "blas", "generic"])
@pytest.mark.parametrize("N", [1500, 257])
def test_threaded_predict_matches_naive_and_the_serial_kernel(path, N, rng, make_net, predict_blocks):
    """predict splits rows into blocks that the threads claim (``_engine.predict``)."""
    sizes, acts = [3, 6, 5, 2], ["tanh", "relu", "identity"]
    net = make_net(sizes, acts, path=path)
    X = rng.uniform(-1, 1, size=(N, 3))
    serial = net.predict(X)  # too little work to split: the caller alone, in blocks of 1024 rows
    predict_blocks(3, min_rows=16)  # more threads than this machine's cores; many blocks, one cut short
    got = net.predict(X)
    np.testing.assert_allclose(got, naive.predict(net.weights, net.biases, acts, X), rtol=1e-12, atol=1e-12)
    if path == "loops":  # rows are computed independently, whatever block they fall in
        np.testing.assert_array_equal(got, serial)
    for _ in range(3):  # blocks go to whichever thread claims them first: same answer
        np.testing.assert_array_equal(net.predict(X), got)


@pytest.mark.parametrize("path", ["loops", "blas", "generic"])
@pytest.mark.parametrize("loss, norm", [("mse", None), ("cross_entropy", None), ("mse", "layer")])
def test_one_row_split_by_columns_over_threads_is_the_serial_row(path, loss, norm, rng, monkeypatch):
    """A one-row predict of a wide net shares each layer's columns among the threads
    (``_engine._predict_row``): naive's answer, and the single thread's bit for bit; a net with
    a norm (which needs its whole layer) keeps the single thread."""
    sizes = [7, 40, 33, 5]
    net = Network(sizes, loss=loss, norm=norm, dtype="float64", seed=1, kernel_path=path)
    randomize_biases(net, rng)
    X = rng.uniform(-1, 1, size=(1, 7))
    serial = net.predict(X)
    calls = []
    monkeypatch.setattr(_engine, "PREDICT_ROW_SPLIT_MIN_WORK", 0)
    monkeypatch.setattr(_engine, "usable_cores", lambda: 3)  # more threads than cores; ~12 items a layer
    real = _engine._predict_row
    monkeypatch.setattr(_engine, "_predict_row", lambda *a: calls.append(1) or real(*a))
    for _ in range(3):  # columns go to whichever thread claims them first: same answer
        np.testing.assert_array_equal(net.predict(X), serial)
    assert len(calls) == (0 if norm else 3)
    if norm is None:
        want = naive.predict(net.weights, net.biases, net.activations, X)  # (softmax last for cross_entropy)
        np.testing.assert_allclose(serial, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("path", PATHS)
def test_float32_training_keeps_dtype_and_tracks_float64(path, rng, make_net):
    sizes, acts = NETS[0]
    X, Y = random_xy(rng, 16, sizes[0], sizes[-1])
    n32 = make_net(sizes, acts, path=path, dtype="float32")
    n64 = make_net(sizes, acts, path=path, dtype="float64")
    n64.set_parameters(n32.parameters)
    n32.fit(X, Y, epochs=3, batch_size=4, lr=0.1, shuffle=False)
    n64.fit(X, Y, epochs=3, batch_size=4, lr=0.1, shuffle=False)
    assert n32.parameters.dtype == np.float32 and all(W.dtype == np.float32 for W in n32.weights)
    np.testing.assert_allclose(n32.parameters, n64.parameters, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ the batch split over threads
# fit(threads=T > 1) runs the engine's threaded epoch on T threads: rows of the batch per thread for
# the forward pass and φ, columns of W^[k] per thread for the step. Inside each thread a layer
# still takes loops or BLAS, so both are forced here; T = 3 splits unevenly, n_K = 1 leaves a
# thread without columns, and batch sizes that leave a partial last batch and fewer rows than
# threads are included.
THREADED_NETS = [*NETS[:2], ([4, 9, 7, 1], ["relu", "tanh", "identity"])]



@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("path", ["loops", "blas", "generic"])
@pytest.mark.parametrize("sizes,acts", THREADED_NETS)
@pytest.mark.parametrize("batch", [2, 5, 11])
def test_threaded_fit_is_sequential_sgd_on_the_naive_gradient(threads, path, sizes, acts, batch, split, rng,
                                                              make_net):
    net = make_net(sizes, acts, path=path)
    X, Y = random_xy(rng, 11, sizes[0], sizes[-1])
    Ws = [W.copy() for W in net.weights]
    bs = [b.copy() for b in net.biases]
    lr, seen = 0.1, []
    for _ in range(2):
        for s in range(0, 11, batch):
            xs, ys = X[s:s + batch], Y[s:s + batch]
            seen.append(naive.loss(Ws, bs, acts, xs, ys) * len(xs))
            dW, db = naive.gradients(Ws, bs, acts, xs, ys)
            Ws = [W - lr * g for W, g in zip(Ws, dW)]
            bs = [b - lr * g for b, g in zip(bs, db)]
    hist = net.fit(X, Y, epochs=2, batch_size=batch, lr=lr, shuffle=False, threads=threads)
    for got, want in zip(net.weights + net.biases, Ws + bs):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    half = len(seen) // 2
    assert hist["loss"] == pytest.approx([sum(seen[:half]) / 11, sum(seen[half:]) / 11], rel=1e-10)


@pytest.mark.parametrize("path", ["loops", "blas"])
def test_threaded_shuffled_fit_matches_fit_on_the_permuted_rows(path, split, rng, make_net):
    sizes, acts = THREADED_NETS[2]
    X, Y = random_xy(rng, 13, sizes[0], sizes[-1])
    a, b = make_net(sizes, acts, path=path), make_net(sizes, acts, path=path)
    b.set_parameters(a.parameters)
    a.fit(X, Y, epochs=1, batch_size=4, lr=0.05, seed=3, threads=2)
    perm = np.arange(13)
    np.random.default_rng(3).shuffle(perm)
    b.fit(X[perm], Y[perm], epochs=1, batch_size=4, lr=0.05, shuffle=False, threads=1)
    np.testing.assert_allclose(a.parameters, b.parameters, rtol=1e-12, atol=1e-14)


def test_threaded_fit_is_reproducible_and_tracks_the_serial_kernel(split, rng):
    """float32 at BLAS-sized layers: two threaded runs agree bit for bit (each element has a
    fixed owner thread), and they stay within float32 rounding of threads=1."""
    sizes = [20, 48, 48, 3]
    X, Y = random_xy(rng, 200, sizes[0], sizes[-1])
    runs = []
    for threads in (2, 2, 1):
        net = Network(sizes, dtype="float32", seed=4)
        net.fit(X, Y, epochs=3, batch_size=40, lr=0.05, seed=5, threads=threads)
        runs.append(net.parameters)
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_allclose(runs[0], runs[2], rtol=1e-4, atol=1e-5)


def test_threads_by_default_only_where_the_split_pays(cores):
    cores(4)

    def plan(sizes, batch, threads=None):
        return _engine.plan(threads, sizes, batch, _engine.kernel_path_code("auto"))

    deep = [16] + [64] * 8 + [1]
    assert plan(deep, 32) == (2, False)  # rows: 16 per thread at least
    assert plan(deep, 128) == (4, False)
    assert plan(deep, 256) == (4, False)  # 2^20 per layer, but each is narrower than the batch
    assert plan([256] * 3, 64) == (4, True)  # 2^22 per layer and wider than the batch
    assert plan([784, 512, 256, 10], 128) == (4, True)
    assert plan([784, 2048, 2048, 10], 1) == (4, True)  # columns need no rows
    assert plan([8, 32, 32, 1], 32) == (1, False)  # too little work per batch
    assert plan([64] * 5, 8) == (1, False)  # too few rows per thread
    assert plan([256] * 5, 8) == (4, True)  # ... but columns need no rows
    assert plan([2, 2, 1], 2, threads=3) == (2, False)  # never more row parts than rows
    assert plan([784, 512, 256, 10], 128, threads=1) == (1, True)  # the caller's count wins
    cores(1)
    assert plan(deep, 128) == (1, False)


def _fit_workers(net, *args, **kwargs):
    """(history, names of the threaded epoch's worker threads alive at the end of each epoch)."""
    seen = set()

    def look(net_, epoch, logs):
        seen.update(t.name for t in threading.enumerate() if t.name.startswith("fastnn_"))

    return net.fit(*args, callbacks=look, **kwargs), seen


@pytest.mark.parametrize("split", ["rows", "columns"], indirect=True)
def test_one_thread_alone_finishes_a_threaded_epoch(split, rng, thread_counts):
    """Any thread may run any item: if the other threads never turn up, the caller claims every
    item and gets the same θ and losses as a full team (each item has fixed rows/columns and shapes)."""
    sizes = [6, 20, 9, 2]
    X, Y = random_xy(rng, 30, sizes[0], sizes[-1])
    team, alone = Network(sizes, seed=2), Network(sizes, seed=2)
    kw = {"epochs": 1, "batch_size": 8, "lr": 0.05, "shuffle": False, "threads": 3}
    hist, workers = _fit_workers(team, X, Y, **kw)
    assert len(workers) == 2  # the caller and two workers share the 3 parts
    thread_counts(lambda: 1)  # 3 parts, but no worker is ever started: the caller runs them all
    hist_alone, workers = _fit_workers(alone, X, Y, **kw)
    assert not workers
    np.testing.assert_array_equal(alone.parameters, team.parameters)
    assert hist_alone["loss"] == hist["loss"]


@pytest.mark.parametrize("split", ["rows", "columns"], indirect=True)
def test_the_thread_count_of_each_run_never_changes_the_result(split, rng, run_length, thread_counts):
    """A busy machine may make fit use fewer threads for some runs (``ThreadChoice``); the
    threads share the same fixed items, so θ and the losses stay bit for bit the same."""
    sizes = [6, 40, 24, 2]
    X, Y = random_xy(rng, 300, sizes[0], sizes[-1])
    ref = Network(sizes, seed=2)
    want = ref.fit(X, Y, epochs=2, batch_size=32, lr=0.05, seed=1, threads=3, optimizer="adam")
    run_length("batch")  # a run per batch: many choices
    draws = np.random.default_rng(0)
    thread_counts(lambda: int(draws.integers(1, 4)))
    net = Network(sizes, seed=2)
    got = net.fit(X, Y, epochs=2, batch_size=32, lr=0.05, seed=1, threads=3, optimizer="adam")
    np.testing.assert_array_equal(net.parameters, ref.parameters)
    assert got["loss"] == want["loss"]


def test_thread_choice_follows_the_faster_count():
    from fastnn._engine import ThreadChoice

    def drive(choice, rate, runs):
        used = []
        for _ in range(runs):
            t = choice.pick()
            choice.report(t, 1000, 1000 / rate[t])
            used.append(t)
        return used

    quiet = ThreadChoice(2)  # two threads twice as fast: tries one now and then, ever more rarely
    used = drive(quiet, {1: 1.0, 2: 2.0}, 200)
    assert used.count(1) <= 6 and used[-1] == 2 and quiet.gap == ThreadChoice.PROBE_MAX
    busy = ThreadChoice(2)  # a core taken: one thread is faster, and stays in use
    used = drive(busy, {1: 1.0, 2: 0.5}, 200)
    assert used[2:].count(2) <= 6 and busy.threads == 1
    four = ThreadChoice(4)  # steps down one count at a time to the fastest
    drive(four, {1: 1.0, 2: 2.0, 3: 2.5, 4: 1.5}, 400)
    assert four.threads == 3
    changing = ThreadChoice(2)  # quiet, then a core taken, then given back: follows each within a few runs
    drive(changing, {1: 1.0, 2: 2.0}, 300)
    assert changing.threads == 2 and changing.gap == ThreadChoice.PROBE_MAX
    used = drive(changing, {1: 1.0, 2: 0.5}, 10)
    assert changing.threads == 1 and used[3:].count(2) <= 1
    used = drive(changing, {1: 1.6, 2: 3.0}, 10)  # (one thread, alone on its core again, speeds up too)
    assert changing.threads == 2 and used[3:].count(1) <= 1
    steady = ThreadChoice(2)  # noise within SHIFT leaves the probes as rare as before
    noise = iter(np.random.default_rng(0).uniform(1 / 1.2, 1.2, 1000))
    for _ in range(300):
        t = steady.pick()
        steady.report(t, 1000, 1000 / ({1: 1.0, 2: 2.0}[t] * next(noise)))
    assert steady.threads == 2 and steady.gap == ThreadChoice.PROBE_MAX
    for epoch in ((1000, 1000, 400), (400, 1000)):  # a short run at 2 threads is slow (fixed
        tails = ThreadChoice(2)                       # costs), but gives no verdict
        for _ in range(100):
            for rows in epoch:
                t = tails.pick()
                tails.report(t, rows, rows / {1: 1.0, 2: 2.0}[t] + (2000 if t == 2 and rows < 1000 else 0))
        assert tails.threads == 2 and tails.gap == ThreadChoice.PROBE_MAX


def test_fastnn_num_threads_caps_the_default(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})

    def plan(threads):
        return _engine.plan(threads, [16] + [64] * 8 + [1], 128, _engine.kernel_path_code("auto"))

    monkeypatch.setenv("FASTNN_NUM_THREADS", "3")
    assert plan(None) == (3, False)
    monkeypatch.setenv("FASTNN_NUM_THREADS", "1")
    assert plan(None) == (1, False)
    assert plan(2) == (2, False)  # asked for


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_bad_fastnn_num_threads_is_named(monkeypatch, value, rng):
    monkeypatch.setenv("FASTNN_NUM_THREADS", value)
    net = Network([16, 64, 64, 1], seed=0)
    before = net.parameters
    X, Y = random_xy(rng, 64, 16, 1)
    with pytest.raises(ValueError, match="FASTNN_NUM_THREADS"):
        net.fit(X, Y, epochs=1, batch_size=64)
    np.testing.assert_array_equal(net.parameters, before)


def test_threaded_divergence_rolls_back_to_the_last_finite_epoch(split, rng):
    from fastnn import DivergedError

    X, Y = random_xy(rng, 40, 4, 2)
    kw = dict(batch_size=8, lr=0.8, shuffle=False, threads=2)
    net = Network([4, 12, 2], ["identity", "identity"], dtype="float64", seed=0)
    with pytest.raises(DivergedError, match=r"epoch (\d+)") as info:
        net.fit(X, Y, epochs=500, **kw)
    E = int(re.search(r"epoch (\d+)", str(info.value)).group(1))
    assert E > 2
    ref = Network([4, 12, 2], ["identity", "identity"], dtype="float64", seed=0)
    ref.fit(X, Y, epochs=E - 1, **kw)
    np.testing.assert_array_equal(net.parameters, ref.parameters)
