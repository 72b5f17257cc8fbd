"""fastnn.dask on a LocalCluster of worker processes (1 thread each): agreement with the
single-machine fit, a quality table, the per-evaluation cost of L-BFGS for θ of 10k, 100k and
1M parameters (compute against broadcast and reduce, bytes moved), 1 against 2 workers, and
each worker's peak memory against its shard and θ.

    python scripts/bench_dask.py [--sections agreement,quality,cost,scaling,memory] [--quick]

``--quick`` shrinks every size (the test suite runs it so the script cannot rot). Times are
wall seconds on this machine; quote them with the CPU's name and as ratios. Nothing else should
run meanwhile: the workers share the machine's cores with the client.
"""
from __future__ import annotations

import argparse
import logging
import time
import tracemalloc
import warnings
from typing import Any

import numpy as np

SECTIONS = ("agreement", "quality", "cost", "scaling", "memory")


def _cluster(workers: int) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return cluster, Client(cluster)


def _chunked(X: np.ndarray, y: np.ndarray, parts: int) -> tuple[Any, Any]:
    import dask.array as da

    rows = -(-len(X) // parts)
    return da.from_array(X, chunks=(rows, X.shape[1])), da.from_array(y, chunks=rows)


def _moved(client: Any) -> float:
    """Bytes the workers have sent so far (to each other, and to the client's gathers)."""
    return float(sum(client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total).values()))


def agreement(client: Any, quick: bool) -> None:
    from sklearn.datasets import make_regression

    import fastnn
    from fastnn import dask as fd

    X, y = make_regression(800 if quick else 20_000, 20, noise=1.0, random_state=0)
    y = y / y.std()
    kw = dict(hidden_layer_sizes=(32, 32), solver="lbfgs", max_iter=25, random_state=0, dtype="float64")
    local = fastnn.MLPRegressor(**kw).fit(X, y)
    dist = fd.MLPRegressor(**kw, client=client).fit(*_chunked(X, y, 4))
    a, b = dist.network_.parameters, local.network_.parameters
    rel = float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
    print(f"lbfgs, {len(X)} rows in 4 chunks on {dist.n_shards_} workers, {kw['max_iter']} iterations: "
          f"max |θ_dist − θ_local| / max |θ_local| = {rel:.2e}; loss {dist.loss_:.10f} vs {local.loss_:.10f}")
    kw = dict(hidden_layer_sizes=(32, 32), solver="adam", max_iter=5, random_state=0, dtype="float64")
    local = fastnn.MLPRegressor(**kw).fit(X, y)
    one = fd.MLPRegressor(**kw, client=client).fit(*_chunked(X, y, 1))
    same = np.array_equal(one.network_.parameters, local.network_.parameters)
    print(f"adam, one shard, {kw['max_iter']} epochs: bit for bit equal to the local fit: {same}")


def quality(client: Any, quick: bool) -> None:
    from sklearn.datasets import load_digits, make_friedman1
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    import fastnn
    from fastnn import dask as fd

    Xd, yd = load_digits(return_X_y=True)
    Xf, yf = make_friedman1(2000 if quick else 20_000, 10, noise=0.5, random_state=0)
    print(f"{'data':<10} {'solver':<7} {'single machine':>15} {'2 workers':>10}  (test accuracy / R²)")
    for name, X, y, cls in [("digits", Xd, yd, True), ("friedman1", Xf, yf, False)]:
        Xtr, Xte, ytr, yte = train_test_split(StandardScaler().fit_transform(X), y, random_state=0)
        for solver, extra in [("lbfgs", {"max_iter": 100 if quick else 300}),
                              ("adam", {"max_iter": 20 if quick else 100, "learning_rate_init": 0.003})]:
            kw = dict(hidden_layer_sizes=(64, 64), solver=solver, random_state=0, **extra)
            local = (fastnn.MLPClassifier if cls else fastnn.MLPRegressor)(**kw).fit(Xtr, ytr)
            dist = (fd.MLPClassifier if cls else fd.MLPRegressor)(**kw, client=client).fit(*_chunked(Xtr, ytr, 4))
            dte = _chunked(Xte, yte, 2)
            differ = not np.array_equal(local.network_.parameters, dist.network_.parameters)
            print(f"{name:<10} {solver:<7} {local.score(Xte, yte):>15.4f} {dist.score(*dte):>10.4f}"
                  f"  (θ differ: {differ}; {dist.n_shards_} shards)")


def _per_evaluation(client: Any, kw: dict, X: np.ndarray, y: np.ndarray, parts: int) -> tuple[float, float]:
    """Median wall seconds of an L-BFGS evaluation (the client's θ out to the sum back), and the
    bytes the workers send per evaluation: the difference of a 12- and a 4-iteration fit, so the
    set-up's transfers (the network to each worker) cancel."""
    from fastnn import dask as fd

    fits = []
    for iters in (4, 12):
        moved = _moved(client)
        est = fd.MLPRegressor(**dict(kw, max_iter=iters), client=client).fit(*_chunked(X, y, parts))
        fits.append((est._evaluations, _moved(client) - moved, est._evaluation_seconds[1:]))
    (e1, m1, _), (e2, m2, seconds) = fits
    return float(np.median(seconds)), (m2 - m1) / (e2 - e1)


def cost(client: Any, quick: bool) -> None:
    import fastnn
    from fastnn import dask as fd

    workers = len(client.scheduler_info()["workers"])
    rows = 1000 if quick else 8000
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 100))
    y = X[:, :5].sum(1) + 0.1 * rng.standard_normal(rows)
    print(f"{rows} rows × 100 features on {workers} workers; per L-BFGS evaluation of [100, h, 1]:")
    print(f"{'θ':>9} {'wall ms':>9} {'compute ms':>11} {'overhead ms':>12} {'moved MiB':>10} {'θ MiB':>7}")
    for h in ([10, 98] if quick else [98, 980, 9800]):
        kw = dict(hidden_layer_sizes=(h,), solver="lbfgs", max_iter=3, random_state=0, dtype="float64")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = fastnn.MLPRegressor(**kw).fit(X[:64], y[:64]).network_
            fd.MLPRegressor(**kw, client=client).fit(*_chunked(X, y, workers))  # (warm-up: compile, load)
            time.sleep(1.0)
            wall, moved = _per_evaluation(client, kw, X, y, workers)
        # compute: one shard's loss and gradient in this process, as a worker runs it (the
        # shards run side by side)
        shard = ((X[:rows // workers], y[:rows // workers].reshape(-1, 1), None),)
        fd._loss_grad(net, net.parameters, shard, 1)
        t0 = time.perf_counter()
        for _ in range(5):
            fd._loss_grad(net, net.parameters, shard, 1)
        compute = (time.perf_counter() - t0) / 5
        mib = net.n_params * 8 / 2**20
        print(f"{net.n_params:>9,} {1e3 * wall:>9.1f} {1e3 * compute:>11.1f} {1e3 * (wall - compute):>12.1f} "
              f"{moved / 2**20:>10.2f} {mib:>7.2f}")
    print("(wall: median evaluation, θ out to the sums back; compute: one shard's loss and gradient in this "
          "process;\n moved: bytes the workers sent, θ from one worker to the others and each worker's sum to "
          "the client; θ also goes client → scheduler → a worker)")


def scaling(quick: bool) -> None:
    from sklearn.datasets import make_friedman1

    import fastnn
    from fastnn import dask as fd

    X, y = make_friedman1(4000 if quick else 100_000, 20, noise=0.5, random_state=0)
    runs = {"lbfgs": dict(solver="lbfgs", max_iter=10 if quick else 50),
            "adam": dict(solver="adam", max_iter=2 if quick else 5, batch_size=200)}
    times: dict[tuple[str, str], list[float]] = {}
    clusters = {w: _cluster(w) for w in (1, 2)}
    try:
        for name, extra in runs.items():
            kw = dict(hidden_layer_sizes=(64, 64), random_state=0, dtype="float64", n_jobs=1, **extra)
            fastnn.MLPRegressor(**kw).fit(X[:256], y[:256])
            for w, (_, client) in clusters.items():  # warm-up
                fd.MLPRegressor(**kw, client=client).fit(*_chunked(X[:2048], y[:2048], w))
            for _ in range(1 if quick else 3):  # interleaved: local, 1 worker, 2 workers
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    time.sleep(1.0)
                    t0 = time.perf_counter()
                    fastnn.MLPRegressor(**kw).fit(X, y)
                    times.setdefault((name, "local"), []).append(time.perf_counter() - t0)
                    for w, (_, client) in clusters.items():
                        time.sleep(1.0)
                        t0 = time.perf_counter()
                        est = fd.MLPRegressor(**kw, client=client).fit(*_chunked(X, y, w))
                        assert est.n_shards_ == w, (est.n_shards_, w)
                        times.setdefault((name, f"{w} worker"), []).append(time.perf_counter() - t0)
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()
    print(f"{len(X)} rows, [20, 64, 64, 1], 1 thread per worker; median wall s, and ratio to 1 worker:")
    for name in runs:
        one = float(np.median(times[(name, "1 worker")]))
        cells = "  ".join(f"{who} {np.median(times[(name, who)]):.2f} s ({np.median(times[(name, who)]) / one:.2f}×)"
                          for who in ("local", "1 worker", "2 worker"))
        print(f"{name:<6} {cells}")


def memory(client: Any, quick: bool) -> None:
    from fastnn import dask as fd

    rows, h = (4000, 256) if quick else (200_000, 512)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 50))
    y = X[:, :5].sum(1)
    workers = len(client.scheduler_info()["workers"])
    kw = dict(hidden_layer_sizes=(h, h), solver="lbfgs", max_iter=3, random_state=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fd.MLPRegressor(**kw, client=client).fit(*_chunked(X[:512], y[:512], workers))
        client.run(tracemalloc.start)
        est = fd.MLPRegressor(**kw, client=client).fit(*_chunked(X, y, 4 * workers))
    peaks = client.run(lambda: tracemalloc.get_traced_memory()[1])
    client.run(tracemalloc.stop)
    shard = rows // workers * (X.shape[1] + 1) * 8
    theta = est.network_.n_params * 8
    activations = rows // workers * sum(est.network_.sizes) * 8
    print(f"{rows} rows × 50 features, [50, {h}, {h}, 1] (θ {theta / 2**20:.2f} MiB), {workers} workers, "
          f"shard {shard / 2**20:.1f} MiB (its whole activations would be {activations / 2**20:.0f} MiB):")
    for who, peak in sorted(peaks.items()):
        print(f"  {who}: peak traced {peak / 2**20:.1f} MiB = {peak / shard:.2f} shards, or "
              f"shard + {(peak - shard) / theta:.1f} θ")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="small sizes (for the tests)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", "(lbfgs failed|Stochastic Optimizer)")  # (fixed iteration counts)
    warnings.filterwarnings("ignore", "Port 8787")
    logging.getLogger("distributed").setLevel(logging.ERROR)
    sections = args.sections.split(",")
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"--sections: unknown {unknown}; choose from {','.join(SECTIONS)}")
    shared = [s for s in sections if s != "scaling"]
    if shared:
        cluster, client = _cluster(2)
        try:
            for section in shared:
                print(f"## {section}")
                globals()[section](client, args.quick)
        finally:
            client.close()
            cluster.close()
    if "scaling" in sections:
        print("## scaling")
        scaling(args.quick)


if __name__ == "__main__":
    main()
