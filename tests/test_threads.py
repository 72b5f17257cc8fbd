"""One network, many threads: inference calls run side by side, a fit owns θ, and fit returns
to Python often enough for a prompt Ctrl-C."""
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from fastnn import Network, _engine, training


def test_concurrent_inference_gives_the_single_threaded_answers(rng):
    net = Network([16, 64, 64, 4], seed=0)
    X = [rng.uniform(-1, 1, (n, 16)).astype(np.float32) for n in (2000, 700, 1500, 3)]
    Y = [rng.normal(size=(len(x), 4)) for x in X]
    want_p = [net.predict(x) for x in X]
    want_l = [net.loss(x, y) for x, y in zip(X, Y)]
    want_g = [net.gradients(x, y)[0][0] for x, y in zip(X, Y)]

    def work(i):
        j = i % len(X)
        for _ in range(10):
            assert np.array_equal(net.predict(X[j]), want_p[j])
            assert net.loss(X[j], Y[j]) == want_l[j]
            assert np.array_equal(net.gradients(X[j], Y[j])[0][0], want_g[j])
        return True

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(8)))


def test_inference_during_a_fit_in_another_thread_reads_a_consistent_snapshot(rng):
    net = Network([8, 64, 64, 1], seed=0)
    X, Y = rng.uniform(-1, 1, (4000, 8)), rng.normal(size=4000)
    Xq = X[:50]
    seen = []  # θ after each finished epoch, recorded by the fit's own thread

    def record(net_, epoch, logs):
        seen.append(net_.parameters)

    start = net.parameters
    fit = threading.Thread(target=net.fit, args=(X, Y),
                           kwargs=dict(epochs=30, batch_size=8, lr=1e-3, callbacks=[record]))
    fit.start()
    answers = []
    while fit.is_alive():
        answers.append(net.predict(Xq))
        time.sleep(0.002)
    fit.join()
    assert len(seen) == 30 and len(answers) > 5
    # every answer is the net at its start or at the end of some epoch: never half an epoch
    states = [start, *seen]
    outputs = [Network.predict(_with_theta(net, th), Xq) for th in states]
    for a in answers:
        assert any(np.array_equal(a, o) for o in outputs)


def _with_theta(net, theta):
    return Network(net.sizes, net.activations, loss=net.loss_name, dtype=net.dtype.name, parameters=theta)


def test_a_second_fit_at_the_same_time_is_refused(rng):
    net = Network([4, 8, 1], seed=0)
    X, Y = rng.uniform(-1, 1, (64, 4)), rng.normal(size=64)
    errors = []

    def nested(net_, epoch, logs):
        try:
            net_.fit(X, Y, epochs=1)
        except RuntimeError as e:
            errors.append(str(e))
        return True

    net.fit(X, Y, epochs=3, callbacks=[nested])
    assert len(errors) == 1 and "already training" in errors[0]
    net.fit(X, Y, epochs=1)  # and the network is free again afterwards


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
def test_runs_of_batches_give_the_one_call_result_bit_for_bit(rng, run_length, shuffle, threads):
    X, Y = rng.uniform(-1, 1, (300, 6)), rng.normal(size=(300, 2))
    w = rng.uniform(0.5, 2, 300)
    results = []
    for runs in ("epoch", "batch"):  # one kernel call per epoch, or one call per batch
        run_length(runs)
        net = Network([6, 32, 2], seed=1)
        hist = net.fit(X, Y, epochs=2, batch_size=16, optimizer="adam", shuffle=shuffle, seed=3,
                       threads=threads, sample_weight=w)
        results.append((net.parameters, hist["loss"], net.optimizer.t))
    (theta_a, loss_a, t_a), (theta_b, loss_b, t_b) = results
    np.testing.assert_array_equal(theta_a, theta_b)
    assert loss_a == loss_b and t_a == t_b == 2 * 19


def test_ctrl_c_takes_effect_within_a_run_of_batches(rng, monkeypatch):
    """An interrupt mid-epoch stops after the run in progress (~RUN_SECONDS of work); θ and the
    optimizer are those after the last finished batch: equal to a fit on exactly those batches."""
    monkeypatch.setattr(training, "RUN_SECONDS", 0.01)
    N = 200_000
    X, Y = rng.uniform(-1, 1, (N, 32)).astype(np.float32), rng.normal(size=(N, 4)).astype(np.float32)
    net = Network([32, 256, 256, 4], seed=0)
    net.fit(X[:64], Y[:64], epochs=1, batch_size=32, shuffle=False)  # compile, and time a run
    timer = threading.Timer(0.1, signal.raise_signal, (signal.SIGINT,))
    t0 = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt) as info:
        net.fit(X, Y, epochs=5, batch_size=32, shuffle=False, optimizer="adam")
    took = time.perf_counter() - t0
    e = info.value
    assert e.history.interrupted and e.history.epochs == 0, "an epoch took under 0.1 s: raise N"
    assert took < 0.1 + 0.25, f"Ctrl-C took effect after {took:.2f} s"
    assert 0 < e.batches < N // 32
    twin = Network([32, 256, 256, 4], seed=0)
    twin.fit(X[:64], Y[:64], epochs=1, batch_size=32, shuffle=False)
    twin.fit(X[:e.batches * 32], Y[:e.batches * 32], epochs=1, batch_size=32, shuffle=False,
             optimizer="adam")
    np.testing.assert_array_equal(net.parameters, twin.parameters)
    assert net.optimizer.t == twin.optimizer.t == e.batches
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_long_epochs_show_a_per_batch_progress_bar(rng, monkeypatch, capsys):
    monkeypatch.setattr(training, "LONG_EPOCH_SECONDS", 0.0)
    net = Network([4, 8, 1], seed=0)
    X, Y = rng.uniform(-1, 1, (64, 4)), rng.normal(size=64)
    net.fit(X, Y, epochs=1, batch_size=8)  # times a run: the bar needs an estimate
    net.fit(X, Y, epochs=2, batch_size=8, verbose=True)
    err = capsys.readouterr().err
    assert "epoch 1" in err and "/8 [" in err and "batch/s" in err  # the inner bar, 8 batches
    net.fit(X, Y, epochs=1, batch_size=8)  # not verbose: no bar
    assert "batch" not in capsys.readouterr().err


def test_save_during_another_threads_fit_is_refused_but_works_from_its_callbacks(rng, tmp_path):
    net = Network([8, 64, 1], seed=0)
    X, Y = rng.uniform(-1, 1, (2000, 8)), rng.normal(size=2000)
    saved, refused, go = [], [], threading.Event()

    def at_epoch_end(net_, epoch, logs):
        go.set()
        net_.save(tmp_path / f"e{epoch}.npz")  # the fit's own thread: a consistent file
        saved.append(net_.parameters)
        time.sleep(0.05)

    fit = threading.Thread(target=net.fit, args=(X, Y), kwargs=dict(epochs=3, batch_size=8,
                                                                     callbacks=[at_epoch_end]))
    fit.start()
    go.wait(10)
    try:
        net.save(tmp_path / "other.npz")
    except RuntimeError as e:
        refused.append(str(e))
    fit.join()
    assert refused and "training in another thread" in refused[0]
    assert not (tmp_path / "other.npz").exists()
    for epoch, theta in enumerate(saved, start=1):
        np.testing.assert_array_equal(Network.load(tmp_path / f"e{epoch}.npz").parameters, theta)


def test_the_unrolled_epoch_is_not_split_into_runs(rng, run_length):
    """Tiny nets keep θ in registers for a whole call; splitting the epoch would round it at
    each run boundary, so their epoch is always one call, whatever RUN_SECONDS says."""
    X, Y = rng.uniform(-1, 1, (512, 1)).astype(np.float32), rng.normal(size=(512, 1)).astype(np.float32)
    thetas = []
    for runs in ("epoch", "batch"):
        run_length(runs)
        net = Network([1, 4, 1], seed=5, kernel_path="unrolled")
        net.fit(X, Y, epochs=3, batch_size=32, lr=0.05, seed=5)
        thetas.append(net.parameters)
    np.testing.assert_array_equal(*thetas)
    auto = Network([1, 4, 1], seed=5)  # which "auto" picks for a net this small
    auto.fit(X, Y, epochs=3, batch_size=32, lr=0.05, seed=5)
    np.testing.assert_array_equal(auto.parameters, thetas[0])


def _kernel_blas_threads():
    import scipy.linalg.cython_blas  # noqa: F401  (the BLAS the kernels call)
    from threadpoolctl import threadpool_info

    return {i["filepath"]: i["num_threads"] for i in threadpool_info()
            if i["user_api"] == "blas" and "scipy.libs" in i["filepath"]}


def test_one_blas_thread_is_counted_across_threads_and_restored():
    before = _kernel_blas_threads()
    if not before:
        pytest.skip("SciPy's BLAS is not a bundled OpenBLAS here")
    hold = _engine.ONE_BLAS_THREAD
    entered, leave = threading.Event(), threading.Event()

    def other():
        with hold:
            entered.set()
            leave.wait(10)

    t = threading.Thread(target=other)
    with hold:
        assert set(_kernel_blas_threads().values()) == {1}
        t.start()
        assert entered.wait(10)
    assert set(_kernel_blas_threads().values()) == {1}  # the other thread still holds it
    leave.set()
    t.join()
    assert _kernel_blas_threads() == before


def test_inference_results_do_not_depend_on_blas_threads(rng):
    """Every kernel call runs BLAS at one thread, so a product never changes with BLAS's count."""
    from threadpoolctl import threadpool_limits

    net = Network([32, 128, 4], seed=0)  # dW^[1] differs in the last bits with 2 BLAS threads
    X, Y = rng.uniform(-1, 1, (5000, 32)).astype(np.float32), rng.normal(size=(5000, 4))
    with threadpool_limits(limits=1, user_api="blas"):
        want = net.predict(X), net.loss(X, Y), net.gradients(X, Y)[0][0]
    with threadpool_limits(limits=2, user_api="blas"):
        got = net.predict(X), net.loss(X, Y), net.gradients(X, Y)[0][0]
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1] == want[1]
    np.testing.assert_array_equal(got[2], want[2])


def test_a_predict_worker_error_reaches_the_caller_and_the_workers_go_on(rng, monkeypatch, predict_blocks):
    net = Network([16, 64, 64, 4], seed=0)
    X = rng.uniform(-1, 1, (3000, 16)).astype(np.float32)
    want = net.predict(X)
    predict_blocks(2)
    raised = threading.Event()
    buffer = _engine.Engine.activations_buffer

    def failing(engine, rows):  # a worker fails before its share; the caller's waits until one has
        if threading.current_thread().name.startswith("fastnn-predict"):
            raised.set()
            raise RuntimeError("worker failed")
        raised.wait(10)
        return buffer(engine, rows)

    monkeypatch.setattr(_engine.Engine, "activations_buffer", failing)
    with pytest.raises(RuntimeError, match="worker failed"):
        net.predict(X)
    monkeypatch.setattr(_engine.Engine, "activations_buffer", buffer)
    np.testing.assert_array_equal(net.predict(X), want)  # the same workers, working again
