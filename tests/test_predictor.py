"""net.predictor(): the checked-once fast path gives predict's answers."""
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import numpy as np
import pytest

from fastnn import LOSSES, Network, _engine, _sync
from helpers import predict_blocks


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predictor_equals_predict(rng, loss, dtype):
    net = Network([5, 16, 3], loss=loss, dtype=dtype, seed=0)
    f = net.predictor()
    for n in (1, 7, 2500):  # one row, a few, and more than one block of rows
        X = rng.uniform(-2, 2, (n, 5)).astype(dtype)
        np.testing.assert_array_equal(f(X), net.predict(X))
        out = np.full((n, 3), np.nan, dtype)
        assert f(X, out) is out
        np.testing.assert_array_equal(out, net.predict(X))


def test_predictor_is_frozen_threadsafe_and_picklable(rng):
    net = Network([4, 32, 2], seed=0)
    X = rng.uniform(-1, 1, (300, 4)).astype(np.float32)
    f = net.predictor()
    before = net.predict(X)
    net.fit(X, rng.normal(size=(300, 2)), epochs=2, lr=0.1)
    np.testing.assert_array_equal(f(X), before)  # the weights it was made with
    assert not np.array_equal(net.predictor()(X), before)
    with ThreadPoolExecutor(4) as pool:
        assert all(np.array_equal(r, before) for r in pool.map(lambda _: f(X), range(40)))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(f))(X), before)


@pytest.mark.parametrize("bad", [
    np.zeros((3, 4), np.float64),  # another dtype
    np.zeros((3, 5), np.float32),  # n_0 wrong
    np.zeros((4, 3), np.float32).T,  # Fortran order
    np.zeros(4, np.float32),  # 1-D
    np.zeros((0, 4), np.float32),  # empty
    [[0.0] * 4],  # a list
])
def test_predictor_refuses_what_it_does_not_check(bad):
    f = Network([4, 8, 1], seed=0).predictor()
    with pytest.raises(ValueError, match="X: a predictor takes"):
        f(bad)


def test_predictor_refuses_a_wrong_out():
    f = Network([4, 8, 1], seed=0).predictor()
    X = np.zeros((3, 4), np.float32)
    for out in (np.zeros((3, 2), np.float32), np.zeros((3, 1), np.float64), np.zeros((3, 2), np.float32)[:, :1]):
        with pytest.raises(ValueError, match="out:"):
            f(X, out)


# ------------------------------------------------- predictor(threads=T): a helper team
def _helpers():
    import threading

    return sum(t.name == "fastnn-predictor-helper" and t.is_alive() for t in threading.enumerate())


def _until(cond, seconds=10.0):
    import time

    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    return cond()


@pytest.mark.parametrize("path", ["loops", "blas", "generic"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_a_helper_team_gives_the_single_threads_rows_bit_for_bit(rng, path, loss):
    net = Network([9, 70, 45, 4], loss=loss, dtype="float64", seed=0, kernel_path=path)
    one, team = net.predictor(), net.predictor(threads=3)  # two helpers on a 2-core machine
    try:
        with mock.patch.object(_engine, "TEAM_ROW_MIN_WORK", 0):  # (a small net: the team anyway)
            for _ in range(20):  # call after call: the helpers poll, sleep, wake
                x = rng.uniform(-2, 2, (1, 9))
                np.testing.assert_array_equal(team(x), one(x))
        assert team._team.sync[_sync.GEN] == 20
        X = rng.uniform(-2, 2, (50, 9))  # several rows, too few for the team: as predict runs them
        np.testing.assert_array_equal(team(X), net.predict(X))
        assert team._team.bsync[_sync.GEN] == 0
    finally:
        team.close()


def test_the_team_takes_the_calls_where_it_pays_and_leaves_the_rest_to_one_thread(rng):
    """On the real thresholds: a one-row call runs alone on a net below TEAM_ROW_MIN_WORK
    multiply-adds per row and with the team from there; a call of several rows goes to the
    team from TEAM_ROWS_MIN_WORK multiply-adds in all, in the blocks predict_split cuts for that
    work (below predict's own threshold predict runs it in one block: equal up to rounding, and
    the same bits on every repeat), and runs as predict does below."""
    net = Network([16, 64, 64, 64, 3], seed=0)  # 9,408 multiply-adds per row
    work = net._engine.row_work
    assert work == 16 * 64 + 2 * 64 * 64 + 64 * 3 < _engine.TEAM_ROW_MIN_WORK
    team = net.predictor(threads=2)
    t = team._team
    try:
        x = rng.uniform(-1, 1, (1, 16)).astype(np.float32)
        np.testing.assert_array_equal(team(x), net.predict(x))
        assert t.sync[_sync.GEN] == 0  # too small a row: one thread
        with mock.patch.object(_engine, "TEAM_ROW_MIN_WORK", work):
            np.testing.assert_array_equal(team(x), net.predict(x))
        assert t.sync[_sync.GEN] == 1
        few = -(-_engine.TEAM_ROWS_MIN_WORK // work) - 1  # just too few rows for the team
        X = rng.uniform(-1, 1, (4 * few, 16)).astype(np.float32)
        np.testing.assert_array_equal(team(X[:few]), net.predict(X[:few]))
        assert t.bsync[_sync.GEN] == 0
        assert _engine.predict_split(few + 1, work) is None  # predict runs this one alone
        for n in (few + 1, 4 * few):
            got = team(X[:n])
            np.testing.assert_allclose(got, net.predict(X[:n]), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got, _numpy_forward(net, X[:n]), rtol=1e-4, atol=1e-5)
            for _ in range(3):
                np.testing.assert_array_equal(team(X[:n]), got)
        assert t.bsync[_sync.GEN] == 8
    finally:
        team.close()


def _cpu_of(tid):
    """The CPU thread tid of this process last ran on (/proc's stat, field 39)."""
    with open(f"/proc/self/task/{tid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[36])


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="moving a thread needs Linux and two CPUs")
@pytest.mark.parametrize("rows", [1, 300])
def test_a_caller_moves_a_helper_off_its_cpu(rng, rows):
    """A helper that polls on the caller's CPU only takes turns with it, and the scheduler never
    moves a thread that runs all the time: the caller's call moves it (``_sync._announce``),
    MAX_MOVES times at most, and the results stay right."""
    net = Network([32, 256, 256, 3], seed=0)  # 74k multiply-adds a row: the team's calls
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    os.sched_setaffinity(0, {cpu})  # the caller, and the helper it starts (threads inherit it)
    try:
        with mock.patch.object(_engine, "TEAM_ROW_MIN_WORK", 0), \
                mock.patch.object(_engine, "usable_cores", lambda: len(allowed)):  # (the process's)
            team = net.predictor(threads=2)
            t = team._team
            sync = t.sync if rows == 1 else t.bsync
            X = rng.uniform(-1, 1, (rows, 32)).astype(np.float32)
            want = net.predict(X)
            np.testing.assert_array_equal(team(X), want)  # (wakes the helper, on cpu: its only one)
            assert _until(lambda: sync[_sync.HELPER_TID] > 0 and sync[_sync.HELPER_CPU] == cpu)
            tid = int(sync[_sync.HELPER_TID])
            os.sched_setaffinity(tid, allowed)  # free to move, yet still on cpu
            moves = sync[_sync.MOVES]  # (the first call may have tried one: the helper had no choice)
            assert _cpu_of(tid) == cpu and _engine.MAX_MOVES - 1 <= moves <= _engine.MAX_MOVES
            np.testing.assert_array_equal(team(X), want)  # the caller, on cpu, moves it
            assert sync[_sync.MOVES] == moves - 1
            assert os.sched_getaffinity(tid) == allowed  # (moved, and free again)
            assert _until(lambda: _cpu_of(tid) != cpu)
            sync[_sync.MOVES] = 0  # (none left: the next call moves nothing)
            sync[_sync.HELPER_CPU] = cpu
            np.testing.assert_array_equal(team(X), want)
            assert sync[_sync.MOVES] == 0
            team.close()
    finally:
        os.sched_setaffinity(0, allowed)


def _numpy_forward(net, X):
    """x̄^[K] of a plain net with ReLU hidden layers, in float64 (softmax for cross-entropy)."""
    x = X.astype(np.float64)
    for k, (W, b) in enumerate(zip(net.weights, net.biases)):
        z = x @ W.T.astype(np.float64) + b
        x = np.maximum(z, 0) if k < len(net.weights) - 1 else z
    if net.loss_name == "cross_entropy":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        x = e / e.sum(axis=1, keepdims=True)
    return x


def test_team_calls_from_many_threads_are_each_right(rng):
    net = Network([30, 200, 100, 3], dtype="float64", seed=0)
    team = net.predictor(threads=2)
    rows = rng.uniform(-1, 1, (400, 1, 30))
    want = [net.predict(r) for r in rows]
    try:
        with ThreadPoolExecutor(4) as pool, mock.patch.object(_engine, "TEAM_ROW_MIN_WORK", 0):
            got = list(pool.map(team, rows))  # the team serves one at a time; the others run alone
        assert team._team.sync[_sync.GEN] > 0
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    finally:
        team.close()


@pytest.mark.parametrize("min_rows", [None, 8])
def test_a_team_shares_the_row_blocks_predict_cuts_bit_for_bit(rng, min_rows):
    """Calls of several rows that predict splits over the cores: the team's caller and helpers
    claim the same blocks (``RowTeam.run_rows``), call after call, mixed with one-row calls and
    with calls from other threads (which run as predict does while the team is busy)."""
    net = Network([12, 64, 48, 3], seed=0)
    team = net.predictor(threads=2)
    calls = [rng.uniform(-1, 1, (n, 12)).astype(np.float32) for n in (2, 37, 300, 1, 1025, 64, 1, 513) * 3]
    try:
        with predict_blocks(2, min_rows):  # every call of two rows or more splits
            want = [net.predict(x) for x in calls]
            for x, w in zip(calls, want):
                np.testing.assert_array_equal(team(x), w)
            multi = sum(len(x) > 1 for x in calls)
            assert team._team.bsync[_sync.GEN] == multi  # each went to the team
            with ThreadPoolExecutor(3) as pool:
                got = list(pool.map(team, calls * 4))
            for a, w in zip(got, want * 4):
                np.testing.assert_array_equal(a, w)
        n = team._team.bsync[_sync.GEN]
        np.testing.assert_array_equal(team(calls[1]), net.predict(calls[1]))  # too small: predict's way
        assert team._team.bsync[_sync.GEN] == n
    finally:
        team.close()


@pytest.mark.parametrize("dtype, loss", [("float32", "mse"), ("float64", "cross_entropy")])
def test_a_team_by_columns_matches_a_numpy_forward_pass_and_repeats_its_bits(rng, dtype, loss):
    """On a net with a large W^[k] (here: any, TEAM_COLUMNS_MIN_WEIGHTS at 0) the team shares
    each layer's columns of blocks of up to 1,024 rows: against a float64 NumPy forward pass,
    equal to predict up to rounding, and bit for bit the same on every repeat of a call,
    whichever thread ran which item (calls from other threads meanwhile run as predict does)."""
    net = Network([12, 64, 48, 3], loss=loss, dtype=dtype, seed=0)
    with mock.patch.object(_engine, "TEAM_COLUMNS_MIN_WEIGHTS", 0):
        team = net.predictor(threads=2)
    assert team._team.by_columns
    calls = [rng.uniform(-1, 1, (n, 12)).astype(dtype) for n in (2, 37, 300, 1, 1025, 64, 2049, 513)]

    tol = 1e-5 if dtype == "float32" else 1e-12
    try:
        with predict_blocks(2):  # every call of two rows or more goes to the team
            first = [team(x) for x in calls]
            for x, got in zip(calls, first):
                np.testing.assert_allclose(got, _numpy_forward(net, x), rtol=tol, atol=tol)
                np.testing.assert_allclose(got, net.predict(x), rtol=tol, atol=tol)
            assert team._team.bsync[_sync.GEN] == sum(len(x) > 1 for x in calls)
            with ThreadPoolExecutor(3) as pool:
                again = list(pool.map(team, calls * 4))
            for a, w, x in zip(again, first * 4, calls * 4):
                if len(x) > 1:  # (one row: the one-row team, predict's bits)
                    np.testing.assert_allclose(a, w, rtol=tol, atol=tol)
            for x, w in zip(calls, first):  # from this thread alone: the team's bits, repeated
                np.testing.assert_array_equal(team(x), w)
    finally:
        team.close()


def test_the_helpers_stop_on_close_and_with_the_predictor_and_a_copy_starts_its_own(rng):
    import gc

    assert _until(lambda: _helpers() == 0)  # (those of earlier tests are gone)
    net = Network([6, 40, 2], seed=0)
    x = rng.uniform(-1, 1, (1, 6)).astype(np.float32)
    f = net.predictor(threads=3)
    assert _helpers() == 2
    g = pickle.loads(pickle.dumps(f))  # a copy has a team of its own
    assert _helpers() == 4
    np.testing.assert_array_equal(g(x), net.predict(x))
    f.close()
    assert _until(lambda: _helpers() == 2)
    np.testing.assert_array_equal(f(x), net.predict(x))  # closed: runs as predict does
    del g
    gc.collect()
    assert _until(lambda: _helpers() == 0)
    normed = Network([6, 40, 2], norm="layer", seed=0).predictor(threads=2)  # a norm: no team
    assert _helpers() == 0 and normed._team is None
    with pytest.raises(ValueError, match="threads"):
        net.predictor(threads=0)
