"""Data-parallel training on a Dask cluster: ``MLPRegressor`` and ``MLPClassifier`` that fit on
dask arrays or DataFrames whose rows stay on the workers (``pip install "fastnn[dask]"``).

The chunks are computed on the workers and each worker's chunks become its *shard* (a task on
that worker: lbfgs keeps the chunks as they are, the rounds put them side by side). The client
holds θ and the optimizer; each worker runs fastnn's kernels on its shard (DESIGN.md,
"Data-parallel on Dask"):

- ``solver="lbfgs"``: each evaluation of the loss and gradient sends θ to the workers once;
  each shard returns its rows' summed loss and gradient (row blocks on fastnn's threads), the
  sums are added in a tree of fan-in 8 whose root is the client, and SciPy's L-BFGS-B steps
  there. These are single-machine lbfgs's iterations on the
  concatenated rows, up to the order of the sums (Spark MLlib's MLP, dask-ml's linear models).
- ``solver="adam"`` or ``"sgd"``: synchronous rounds of local SGD. Every shard starts a round
  from the same θ and optimizer state and runs ``sync_every`` minibatches (default: a whole
  epoch) on its own rows; then θ and the optimizer's state are averaged, weighted by rows. With
  one worker this is the single-machine fit, bit for bit.

Every task is a plain function of (θ, shard), so Dask recomputes a lost worker's part on
another and the fit goes on.
"""
from __future__ import annotations

import numbers
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import estimators as _est
from .estimators import Interval, _Stopping, _validate_params

__all__ = ["MLPClassifier", "MLPRegressor"]

# A worker's tasks share its copy of the network (Dask keeps one per worker): one at a time.
_NET_LOCK = threading.Lock()


# ------------------------------------------------------------------------- on the workers
def _block(X: np.ndarray, y: np.ndarray, sw: np.ndarray | None, encode: Any, dtype: str) -> tuple:
    """One chunk in the kernels' form: (X, Y, sample weights or None)."""
    X = np.ascontiguousarray(X, dtype=dtype)
    Y = np.ascontiguousarray(encode(np.asarray(y)), dtype=dtype).reshape(X.shape[0], -1)
    return X, Y, None if sw is None else np.ascontiguousarray(sw, dtype=np.float64)


def _concat(*parts: tuple) -> tuple:
    """A worker's chunks side by side, in the order of the rows: its shard."""
    Xs, Ys, ws = zip(*parts, strict=True)
    return (np.concatenate(Xs), np.concatenate(Ys),
            None if ws[0] is None else np.concatenate(ws))


def _one_weight(shard: tuple) -> float:
    return _shard_weight((shard,))


def _group(*parts: tuple) -> tuple:
    """A worker's chunks as they are, in the order of the rows: L-BFGS's shard (no copy)."""
    return parts


def _shard_weight(parts: tuple) -> float:
    """Σ rows, or Σ w, of a shard's parts."""
    return float(sum(X.shape[0] if sw is None else np.sum(sw) for X, _, sw in parts))


# The reduction tree's fan-in: each task adds up to 8 shards' sums, and the client the last 8
# (with 8 workers or fewer, no task in between: on a LocalCluster a task's round trip costs
# about what moving 8 gradients of 100k parameters does).
_FAN_IN = 8

# Rows per block of an evaluation: the block's activations (rows × Σ n_k) stay near 2^18
# numbers, so a worker's peak is its shard plus a few θ-sized arrays, not the shard's activations.
_BLOCK_ENTRIES = 1 << 18


def _loss_grad(net: Any, theta: np.ndarray, shard: tuple, n_jobs: int | None) -> tuple[float, np.ndarray, float]:
    """The shard's summed loss and gradient at θ, and its weight (rows, or Σ w): row blocks of
    its parts on fastnn's threads (the kernels release the GIL), added in block order, so the
    result does not depend on the thread count."""
    rows = max(256, _BLOCK_ENTRIES // sum(net.sizes))
    blocks = [(X, Y, sw, i) for X, Y, sw in shard for i in range(0, len(X), rows)]

    def block(b: tuple) -> tuple[float, np.ndarray | None, float]:
        X, Y, sw, i = b
        w = None if sw is None else sw[i:i + rows]
        weight = min(rows, len(X) - i) if w is None else float(np.sum(w))
        if weight == 0:  # (all its weights 0: it adds nothing)
            return 0.0, None, 0.0
        value, g = net.loss_and_gradient(X[i:i + rows], Y[i:i + rows], w, training=True)
        g *= weight
        return value * weight, g, weight

    threads = max(1, min(_threads(n_jobs), len(blocks)))
    value, total, weight = 0.0, np.zeros(net.n_params), 0.0
    with _NET_LOCK, ThreadPoolExecutor(threads) as pool:
        net.set_parameters(theta)
        for v, g, w in pool.map(block, blocks) if threads > 1 else map(block, blocks):
            if g is not None:
                value, weight = value + v, weight + w
                total += g
    return value, total, weight


def _value(x: Any) -> Any:
    """x, as a task's result: unlike scattered data, Dask recomputes it on another worker when
    the one holding it dies."""
    return x


def _sum(*parts: tuple) -> tuple:
    """(loss, gradient, weight) sums of several shards, added in the order given."""
    value, g, w = parts[0]
    g = g.copy()
    for v, gi, wi in parts[1:]:
        value, w = value + v, w + wi
        g += gi
    return value, g, w


def _threads(n_jobs: int | None) -> int:
    """fastnn's threads on a worker: n_jobs, else the worker's own thread count."""
    if n_jobs is not None and n_jobs > 0:
        return n_jobs
    try:
        from distributed import get_worker

        return max(1, get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return 1


def _round(net: Any, state: tuple, shard: tuple, rng_state: dict, first: int, batches: int | None,
           fit_kw: dict) -> tuple:
    """``batches`` minibatches (None: the whole epoch) of this shard's epoch, from batch
    ``first``, starting from the client's θ and optimizer state; returns the new θ, optimizer
    state and step count t, the shard's summed loss, and its generator's state after the
    epoch's shuffle (the next epoch starts from it)."""
    theta, opt_state, t, epoch, lr, trained = state
    X, Y, sw = shard
    batch = fit_kw["batch_size"]
    fit_kw = {"batch_size": batch, "shuffle": fit_kw["shuffle"], "threads": _threads(fit_kw["n_jobs"]),
              "verbose": False}
    with _NET_LOCK:
        net.set_parameters(theta)
        opt = net.optimizer
        if opt_state is not None:
            opt.state = np.array(opt_state)
        opt.t, opt.epoch, opt.lr = t, epoch, lr
        net.epochs_trained = trained
        net._rng.bit_generator.state = rng_state
        if batches is None:  # a whole epoch, exactly as Network.fit runs it
            history = net.fit(X, Y, epochs=1, sample_weight=sw, **fit_kw)
            rows = X.shape[0]
            loss = history["loss"][-1] * (rows if sw is None else float(np.sum(sw)))
            after = net._rng.bit_generator.state
        else:  # batches first .. first + batches of the epoch's order, in place of a whole epoch
            n = X.shape[0]
            order = np.arange(n)
            if fit_kw["shuffle"] and n > 1:
                net._rng.shuffle(order)
            after = net._rng.bit_generator.state
            rows_idx = order[first * batch:(first + batches) * batch]
            rows = len(rows_idx)
            if rows == 0:
                return theta, opt_state, t, 0.0, after
            w = None if sw is None else sw[rows_idx]
            kw = dict(fit_kw, shuffle=False)
            history = net.fit(X[rows_idx], Y[rows_idx], epochs=1, sample_weight=w, **kw)
            loss = history["loss"][-1] * (rows if w is None else float(np.sum(w)))
        out_state = None if opt.state is None else opt.state.copy()
        return net.parameters.copy(), out_state, opt.t, loss, after


def _round_part(net: Any, state: tuple, shard: tuple, rng_state: dict, first: int, batches: int | None,
                fit_kw: dict, share: float) -> tuple:
    """``_round``, weighed for the average: (share · θ, share · optimizer state, in float64, or
    None for share 0; t; the summed loss; [the generator's state after the epoch's shuffle])."""
    theta, opt_state, t, loss, after = _round(net, state, shard, rng_state, first, batches, fit_kw)
    if share == 0:
        return None, None, t, loss, [after]
    return (share * theta.astype(np.float64), None if opt_state is None else share * opt_state.astype(np.float64),
            t, loss, [after])


def _sum_rounds(*parts: tuple) -> tuple:
    """Weighed round results added in the order given (their generator states listed in it)."""
    theta = state = None
    t, loss = 0, 0.0
    rngs: list[dict] = []
    for th, st, ti, li, ri in parts:
        if th is not None:
            theta = th if theta is None else theta + th
            state = st if state is None or st is None else state + st
        t, loss, rngs = max(t, ti), loss + li, rngs + ri
    return theta, state, t, loss, rngs


def _predict_block(X: np.ndarray, est: Any, how: str) -> np.ndarray:
    """A block's predictions by the fitted single-machine estimator."""
    return getattr(est, how)(X)


# ------------------------------------------------------------------------- on the client
def _reduce(client: Any, level: list[Any], add: Any = _sum) -> tuple:
    """The shards' results added in a tree of ``add`` tasks (``_sum``: the (loss, gradient,
    weight) sums; ``_sum_rounds``: weighed rounds) of fan-in ``_FAN_IN``, whose root is the
    client (Spark's treeAggregate)."""
    while len(level) > _FAN_IN:
        level = [client.submit(add, *level[i:i + _FAN_IN], pure=False) for i in range(0, len(level), _FAN_IN)]
    return add(*client.gather(level))


def _placement(client: Any, parts: list[Any], rows: tuple[int, ...]) -> dict[str, list[Any]]:
    """Which worker trains on which chunks (each worker's in row order): where Dask put them,
    unless that leaves a worker with more than 1.5 × its share of the rows while another has
    none or little; then the chunks are split in row order into one run of about equal rows
    per worker (moved once, before the fit), as a from_array's chunks, which Dask tends to
    place together, need."""
    who = client.who_has(parts)
    by_worker: dict[str, list[Any]] = defaultdict(list)
    count: dict[str, int] = defaultdict(int)
    for f, n in zip(parts, rows):
        where = sorted(who.get(f.key, ())) or [""]
        by_worker[where[0]].append(f)
        count[where[0]] += n
    workers = sorted(client.scheduler_info()["workers"])
    share = sum(rows) / max(1, min(len(workers), len(parts)))
    if len(workers) < 2 or len(parts) < 2 or max(count.values()) <= 1.5 * share:
        return dict(by_worker)
    runs: dict[str, list[Any]] = defaultdict(list)
    done = 0
    for f, n in zip(parts, rows):  # run i: the chunks whose first row falls in [i·share, (i+1)·share)
        runs[workers[min(int(done // share), len(workers) - 1)]].append(f)
        done += n
    return dict(runs)


def _rows(a: Any, name: str) -> Any:
    """A dask array of rows (a DataFrame's values, with known chunk sizes)."""
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(a, (dd.DataFrame, dd.Series)):
        a = a.to_dask_array(lengths=True)
    if not isinstance(a, da.Array):
        raise ValueError(f"{name} must be a dask array or a dask DataFrame/Series, got {type(a).__name__}; "
                         f"wrap a NumPy array with dask.array.from_array({name}, chunks=...) or use "
                         "fastnn.MLPRegressor/MLPClassifier on one machine")
    if any(np.isnan(c) for c in a.chunks[0]):
        a = a.compute_chunk_sizes()
    return a


class _DaskMLP(_est._BaseMLP):
    """What the distributed estimators add to fastnn's: fit on a cluster, predict per block."""

    client: Any
    sync_every: int | None
    timeout: float
    _is_classifier: bool
    classes_: np.ndarray

    _extra_constraints: ClassVar[dict[str, Any]] = {
        "client": "no_validation",
        "sync_every": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "timeout": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def _out_dtype(self, how: str) -> Any:
        """The dtype of ``how``'s output (labels or numbers)."""
        raise NotImplementedError

    def _client(self) -> Any:
        from distributed import default_client

        client = self.client if self.client is not None else default_client()
        try:
            client.wait_for_workers(1, timeout=self.timeout)
        except TimeoutError:
            raise TimeoutError(f"no Dask worker joined the cluster at {client.scheduler.address} within "
                               f"timeout={self.timeout} s; start workers, or pass client= for a cluster that "
                               "has them") from None
        return client

    def _refuse(self) -> None:
        """The parameters this distributed fit does not honour, each with its fix."""
        for name, bad, fix in [
            ("early_stopping", self.early_stopping, "early_stopping=False (score a held-out dask array afterwards)"),
            ("warm_start", self.warm_start, "warm_start=False"),
            ("class_weight", getattr(self, "class_weight", None), "class_weight=None (pass sample_weight)"),
            ("scoring", self.scoring, "scoring=None (it drives early stopping, which is not distributed)"),
        ]:
            if bad:
                raise ValueError(f"fastnn.dask: {name}={bad!r} is not supported on a cluster; use {fix}, "
                                 f"or fastnn.{type(self).__name__} on one machine")
        norms = [self.norm] if isinstance(self.norm, str) or self.norm is None else list(self.norm)
        if "batch" in norms:
            raise ValueError("fastnn.dask: norm='batch' needs the whole batch's statistics, which a shard "
                             "does not have; use norm='layer' or None")
        if self.solver == "lbfgs" and self.sync_every is not None:
            raise ValueError(f"sync_every={self.sync_every!r} counts minibatches of 'sgd' or 'adam'; "
                             "solver='lbfgs' syncs every evaluation: leave sync_every=None")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Train on the rows of a dask array or DataFrame, on the cluster's workers.

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
            Chunked by rows (a chunk's columns are all of them: other chunkings are rechunked).
        y : dask array or dask Series/DataFrame of shape (n_samples,) or (n_samples, n_outputs)
            Targets (the classifier: class labels, 1-D).
        sample_weight : dask array of shape (n_samples,), optional
            One weight ≥ 0 per row.

        Returns
        -------
        self
        """
        _validate_params(self)
        self._refuse()
        client = self._client()
        import dask
        import dask.array as da
        from distributed import wait

        columns = getattr(X, "columns", None)
        X, y = _rows(X, "X"), _rows(y, "y")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got {X.ndim}-D")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
        X = X.rechunk({1: -1})
        y = y.rechunk({0: X.chunks[0], **({1: -1} if y.ndim == 2 else {})})
        sw = None if sample_weight is None else _rows(sample_weight, "sample_weight").rechunk({0: X.chunks[0]})
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, numbers.Integral) else list(hidden)
        self.n_features_in_ = X.shape[1]
        if columns is not None:
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        # targets: the classifier's classes from the cluster (the labels never come whole)
        if self._is_classifier:
            if y.ndim != 1:
                raise ValueError("fastnn.dask.MLPClassifier takes 1-D class labels; a multi-label y is not "
                                 "supported on a cluster")
            self._encode_targets(da.unique(y).compute(), True, False, None)
        else:
            self._encode_targets(np.zeros((1, *y.shape[1:])), True, False, None)
        options = self._layer_options([X.shape[1], *hidden, 1])
        self._refuse_for_lbfgs(options)
        n_out = 1 if not self._is_classifier else (len(self.classes_) if len(self.classes_) > 2 else 1)
        if not self._is_classifier and y.ndim == 2:
            n_out = y.shape[1]
        dtype = self.dtype or ("float32" if X.dtype == np.float32 else "float64")
        self._init_network(np.zeros((0, X.shape[1]), dtype), np.zeros((0, n_out)), hidden, options)
        net = self.network_
        encode = self._encoder()
        # the chunks, persisted on the workers; then one shard per worker, made where its chunks are
        xs, ys = X.to_delayed().ravel(), y.to_delayed().ravel()
        ws = [None] * len(xs) if sw is None else list(sw.to_delayed().ravel())
        parts = client.compute([dask.delayed(_block)(a, b, c, encode, dtype) for a, b, c in zip(xs, ys, ws)])
        wait(parts)
        by_worker = _placement(client, parts, X.chunks[0])
        # (lbfgs: the chunks as they are; the rounds: side by side, as Network.fit takes them)
        make = _group if self.solver == "lbfgs" else _concat
        shards = [client.submit(make, *fs, workers=[w] if w else None, allow_other_workers=True, pure=False)
                  for w, fs in sorted(by_worker.items())]
        del parts
        weights = client.gather(client.map(_shard_weight if make is _group else _one_weight, shards, pure=False))
        self.n_shards_ = len(shards)
        try:
            if self.solver == "lbfgs":
                self._fit_cluster_lbfgs(client, net, shards, float(sum(weights)))
            else:
                self._fit_cluster_rounds(client, net, shards, weights, X.shape[0], sw is not None)
        finally:
            client.cancel(shards)
        return self

    def _encoder(self) -> Any:
        """y chunk → the network's targets, as ``_encode_targets`` makes them (picklable)."""
        if self._is_classifier:
            lb = self._label_binarizer
            return lambda y: np.asarray(lb.transform(y), dtype=np.float64)
        return lambda y: y.reshape(len(y), -1)

    def _fit_cluster_lbfgs(self, client: Any, net: Any, shards: list[Any], n: float) -> None:
        net_f = client.submit(_value, net, pure=False)
        self._evaluations = 0
        self._evaluation_seconds: list[float] = []

        def data_loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            t0 = time.perf_counter()
            th = client.submit(_value, np.asarray(theta), pure=False)  # θ reaches each worker once
            level = [client.submit(_loss_grad, net_f, th, shard, self.n_jobs, pure=False) for shard in shards]
            value, g, w = _reduce(client, level)
            self._evaluations += 1
            self._evaluation_seconds.append(time.perf_counter() - t0)
            if self.verbose:
                print(f"Evaluation {self._evaluations}, loss = {value / w:.8f}, "
                      f"{self._evaluation_seconds[-1]:.3f} s")
            return value / w, g / w

        res = self._lbfgs(net, n, data_loss_grad)
        self._lbfgs_done(net, res, n)

    def _fit_cluster_rounds(self, client: Any, net: Any, shards: list[Any], weights: list[float], N: int,
                            weighted: bool) -> None:
        batch = min(200, N) if self.batch_size == "auto" else min(self.batch_size, N)
        total_w = float(sum(weights))
        self._batch_weight = batch * (total_w / N if weighted else 1.0)
        self._n_train = N
        self.n_iter_ = 0
        self.validation_scores_ = self.best_validation_score_ = None
        self.best_loss_ = np.inf
        net.optimizer = self._make_optimizer(self._batch_weight, N)
        net.optimizer.bind(net.n_params, net.dtype)
        self._converged = False
        stopping = _Stopping(self, None)
        fit_kw = {"batch_size": batch, "shuffle": bool(self.shuffle), "n_jobs": self.n_jobs}
        # each shard's shuffles: the network's own generator for one shard (the local fit's
        # stream), an independent stream per shard for several
        if len(shards) == 1:
            rngs = [net._rng.bit_generator.state]
        else:
            seeds = np.random.SeedSequence(int(net._rng.integers(2**63))).spawn(len(shards))
            rngs = [np.random.default_rng(s).bit_generator.state for s in seeds]
        net_f = client.submit(_value, net, pure=False)
        sizes = client.gather(client.map(lambda s: s[0].shape[0], shards, pure=False))
        opt = net.optimizer
        per_epoch = max(-(-n // batch) for n in sizes)  # rounds cover the longest shard's epoch
        step = per_epoch if self.sync_every is None else self.sync_every
        for epoch in range(1, self.max_iter + 1):
            t0 = time.perf_counter()
            loss_sum = 0.0
            start_rngs = list(rngs)
            for first in range(0, per_epoch, step):
                # (the schedule and the dropout masks see epoch − 1 trained, as in Network.fit's epoch)
                state = (net.parameters.copy(), None if opt.state is None else opt.state.copy(), opt.t, epoch - 1,
                         opt.lr, epoch - 1)
                state_f = client.submit(_value, state, pure=False)
                # each shard's share of the average: the rows it trains on in this round
                rows = np.array([n if self.sync_every is None else max(0, min(step * batch, n - first * batch))
                                 for n in sizes], dtype=np.float64)
                share = rows / rows.sum()
                level = [client.submit(_round_part, net_f, state_f, shard, start_rngs[i], first,
                                       None if self.sync_every is None else step, fit_kw, float(share[i]), pure=False)
                         for i, shard in enumerate(shards)]
                theta, opt_state, t, round_loss, rngs = _reduce(client, level, _sum_rounds)
                net.set_parameters(theta)
                if opt.state is not None:
                    opt.state[:] = opt_state
                opt.t = t
                loss_sum += round_loss
            opt.epoch, net.epochs_trained = epoch, epoch
            if len(shards) == 1:
                net._rng.bit_generator.state = rngs[0]
            loss = loss_sum / (total_w if weighted else N)
            logs = {"loss": loss, "time": time.perf_counter() - t0}
            if not np.isfinite(loss):
                raise ValueError(_est._NONFINITE)
            stop = stopping.on_epoch_end(net, epoch, logs)
            if self.verbose:
                print(f"  ({logs['time']:.3f} s, {len(shards)} shards)")
            if stop:
                break
        if not self._converged and self.n_iter_ >= self.max_iter:
            import warnings

            from sklearn.exceptions import ConvergenceWarning

            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                          "the optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)

    def partial_fit(self, *args: Any, **kwargs: Any) -> Any:
        raise AttributeError("fastnn.dask estimators train with fit on a cluster; for block-by-block "
                             "training use dask_ml.wrappers.Incremental(fastnn.MLPRegressor(...))")

    def _local(self) -> Any:
        """A single-machine estimator with this one's fitted state, for the workers' blocks."""
        check_is_fitted(self, "network_")
        base: type[Any] = next(c for c in type(self).__mro__
                               if c.__module__ == _est.__name__ and c.__name__.startswith("MLP"))
        local = object.__new__(base)
        # (no client, and no feature names: the workers' blocks are plain arrays)
        local.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("client", "feature_names_in_")})
        return local

    def _blocks(self, X: Any, how: str, n_out: int | None) -> Any:
        X = _rows(X, "X").rechunk({1: -1})
        local = self._local()
        if n_out is None:  # labels or 1-D predictions
            return X.map_blocks(_predict_block, local, how=how, drop_axis=1, dtype=self._out_dtype(how),
                                meta=np.empty((0,), self._out_dtype(how)))
        return X.map_blocks(_predict_block, local, how=how, chunks=(X.chunks[0], (n_out,)),
                            dtype=np.float64, meta=np.empty((0, n_out)))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² (regressor) or accuracy (classifier) computed on the workers' blocks."""
        import dask
        import dask.array as da

        pred = self.predict(X)
        y = _rows(y, "y").rechunk({0: pred.chunks[0]})
        w = None if sample_weight is None else _rows(sample_weight, "sample_weight").rechunk({0: pred.chunks[0]})
        if self._is_classifier:
            hit = (pred == y).astype(np.float64)
            return float((da.sum(hit * w) / da.sum(w) if w is not None else hit.mean()).compute())
        y = y.astype(np.float64)
        pred = pred.astype(np.float64)
        if y.ndim == 1:
            pred = pred.reshape(y.shape) if pred.ndim == 1 else pred[:, 0]
        ww = 1.0 if w is None else (w[:, None] if y.ndim == 2 else w)
        mean = (da.sum(y * ww, axis=0) / da.sum(ww * da.ones_like(y), axis=0))
        ss_res = da.sum(ww * (y - pred) ** 2, axis=0)
        ss_tot = da.sum(ww * (y - mean) ** 2, axis=0)
        res, tot = dask.compute(ss_res, ss_tot)
        r2 = np.where(tot > 0, 1 - res / np.where(tot > 0, tot, 1), np.where(res > 0, 0.0, 1.0))
        return float(np.mean(r2))


class MLPRegressor(_DaskMLP, _est.MLPRegressor):
    """fastnn's ``MLPRegressor``, trained data-parallel on the rows of a Dask cluster.

    Every parameter of ``fastnn.MLPRegressor`` means what it means there (see its page), except
    those listed under Notes; three more say how to use the cluster.

    Parameters
    ----------
    client : distributed.Client, optional
        The cluster to train on; default: the Client in scope (``distributed.default_client``).
    sync_every : int, optional
        "sgd"/"adam": minibatches each shard runs between two averagings of θ and the
        optimizer's state; None (default): one epoch. Must stay None for "lbfgs", which sums
        every evaluation.
    timeout : float, default 60
        Seconds to wait for at least one worker before a ``TimeoutError``.

    Attributes
    ----------
    n_shards_ : int
        How many workers held rows (one shard each) in the last ``fit``.

    Notes
    -----
    Refused with a ``ValueError`` naming the fix: ``early_stopping``, ``warm_start``,
    ``scoring``, ``class_weight`` and ``norm="batch"``; ``partial_fit`` raises an
    ``AttributeError`` (use ``dask_ml.wrappers.Incremental`` with ``fastnn.MLPRegressor``).
    "lbfgs" takes single-machine L-BFGS's steps on the concatenated rows, up to the order of
    the sums. "sgd"/"adam" with one worker are the single-machine fit bit for bit; with
    several, each round's shards drift apart before they are averaged, so the result depends
    on the number of workers and on ``sync_every`` (fewer, longer rounds drift further).
    """
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_est.MLPRegressor._parameter_constraints, **_DaskMLP._extra_constraints}

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant", learning_rate_init=0.001,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, dtype=None, n_jobs=None, init="sklearn", norm=None,
                 dropout=0.0, residual=False, clip_norm=None, scoring=None, huber_epsilon=0.1, quantile=0.5,
                 precision="float32", client=None, sync_every=None, timeout=60.0):
        super().__init__(loss, hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
                         max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol,
                         verbose=verbose, warm_start=warm_start, momentum=momentum,
                         nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun, dtype=dtype,
                         n_jobs=n_jobs, init=init, norm=norm, dropout=dropout, residual=residual,
                         clip_norm=clip_norm, scoring=scoring, huber_epsilon=huber_epsilon, quantile=quantile,
                         precision=precision)
        self.client = client
        self.sync_every = sync_every
        self.timeout = timeout

    def _out_dtype(self, how: str) -> Any:
        return np.dtype(self.network_.dtype)

    def predict(self, X: Any) -> Any:
        """Predictions of a dask array's rows, as a dask array computed block by block on the workers."""
        check_is_fitted(self, "network_")
        return self._blocks(X, "predict", None if self._y_ndim == 1 else self.network_.sizes[-1])


class MLPClassifier(_DaskMLP, _est.MLPClassifier):
    """fastnn's ``MLPClassifier``, trained data-parallel on the rows of a Dask cluster.

    Every parameter of ``fastnn.MLPClassifier`` means what it means there (see its page), except
    those listed under Notes; three more say how to use the cluster.

    Parameters
    ----------
    client : distributed.Client, optional
        The cluster to train on; default: the Client in scope (``distributed.default_client``).
    sync_every : int, optional
        "sgd"/"adam": minibatches each shard runs between two averagings of θ and the
        optimizer's state; None (default): one epoch. Must stay None for "lbfgs", which sums
        every evaluation.
    timeout : float, default 60
        Seconds to wait for at least one worker before a ``TimeoutError``.

    Attributes
    ----------
    n_shards_ : int
        How many workers held rows (one shard each) in the last ``fit``.

    Notes
    -----
    Refused with a ``ValueError`` naming the fix: ``early_stopping``, ``warm_start``,
    ``scoring``, ``class_weight`` and ``norm="batch"``; ``partial_fit`` raises an
    ``AttributeError`` (use ``dask_ml.wrappers.Incremental`` with ``fastnn.MLPClassifier``).
    "lbfgs" takes single-machine L-BFGS's steps on the concatenated rows, up to the order of
    the sums. "sgd"/"adam" with one worker are the single-machine fit bit for bit; with
    several, each round's shards drift apart before they are averaged, so the result depends
    on the number of workers and on ``sync_every`` (fewer, longer rounds drift further).
    """
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_est.MLPClassifier._parameter_constraints, **_DaskMLP._extra_constraints}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, max_fun=15000, dtype=None, n_jobs=None, init="sklearn", norm=None,
                 dropout=0.0, residual=False, clip_norm=None, scoring=None, class_weight=None,
                 precision="float32", client=None, sync_every=None, timeout=60.0):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
                         max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol,
                         verbose=verbose, warm_start=warm_start, momentum=momentum,
                         nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun, dtype=dtype,
                         n_jobs=n_jobs, init=init, norm=norm, dropout=dropout, residual=residual,
                         clip_norm=clip_norm, scoring=scoring, class_weight=class_weight, precision=precision)
        self.client = client
        self.sync_every = sync_every
        self.timeout = timeout

    def _out_dtype(self, how: str) -> Any:
        return self.classes_.dtype if how == "predict" else np.dtype(self.network_.dtype)

    def predict(self, X: Any) -> Any:
        """Class labels of a dask array's rows, as a dask array computed on the workers."""
        check_is_fitted(self, "network_")
        return self._blocks(X, "predict", None)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities (n_samples, n_classes) of a dask array's rows, on the workers."""
        check_is_fitted(self, "network_")
        return self._blocks(X, "predict_proba", max(len(self.classes_), 2))
