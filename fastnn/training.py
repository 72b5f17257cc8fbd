"""The fit loop: ``Network.fit`` delegates here.

One function per concern, in the order a fit runs them:

* ``fit``: checks the arguments and data, takes θ (``_guard``), and runs the epochs on the
  kernel the engine chose (``_engine.Trainer``);
* ``_split_validation``, ``_metrics``, ``_optimizer``: what fit trains on and reports;
* ``_Loop.epoch``: one epoch: the shuffle (``_shuffle``), runs of whole batches of about
  ``RUN_SECONDS`` with Ctrl-C between them (``_run_batches``), the divergence check and
  rollback (``_rollback``), then the logs, callbacks and snapshot (``_end_epoch``).

Every kernel call goes through the engine; this module never sees a kernel.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _validate
from . import losses as _losses
from . import optimizers as _opt
from ._engine import FUSED, THREADED_MIN_WORK, Engine, Trainer, all_finite, readonly
from ._guard import GuardedTheta
from ._sparse import SparseRows
from .callbacks import Callback, History, deferred_interrupt
from .callbacks import prepare as _prepare_callbacks

if TYPE_CHECKING:
    from ._typing import NetworkLike as Network


RUN_SECONDS = 0.05  # fit returns to Python about this often (Ctrl-C, progress), between batches
LONG_EPOCH_SECONDS = 2.0  # verbose fit shows a per-batch bar for epochs longer than this


class DivergedError(FloatingPointError):
    """Training produced a non-finite loss or weights; the weights were rolled back.

    Attributes
    ----------
    epoch : int or None
        The 1-based epoch (of that fit) that diverged.
    loss : float or None
        Its loss.
    """

    def __init__(self, message: str, epoch: int | None = None, loss: float | None = None) -> None:
        super().__init__(message)
        self.epoch, self.loss = epoch, loss


def _label_accuracy(Y: np.ndarray, P: np.ndarray) -> float:
    """The share of rows whose every 0/1 label is right, P thresholded at 0.5: one output, or
    binary_cross_entropy's multi-label rows (scikit-learn's subset accuracy)."""
    return float(np.mean(((Y > 0.5) == (P > 0.5)).all(axis=1)))


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    # name → f(y_true, y_pred) on validation rows; y_pred as predict returns it
    "accuracy": lambda Y, P: float(np.mean(np.argmax(Y, 1) == np.argmax(P, 1))) if Y.shape[1] > 1
                             else _label_accuracy(Y, P),
    "mae": lambda Y, P: float(np.mean(np.abs(Y - P))),
    "mse": lambda Y, P: float(np.mean((Y - P) ** 2)),
    "r2": lambda Y, P: float(np.mean(1 - ((Y - P) ** 2).sum(0) / np.maximum(((Y - Y.mean(0)) ** 2).sum(0), 1e-300))),
}


@dataclass
class _Data:
    """One fit's checked rows and what is reported on them."""

    X: np.ndarray | SparseRows  # SparseRows: a sparse X, whose first layer runs on its nonzeros
    Y: np.ndarray
    sw: np.ndarray  # sample weights, or empty
    val: tuple[np.ndarray | SparseRows, np.ndarray, np.ndarray] | None  # (Xv, Yv, wv), or None
    metrics: list[tuple[str, Callable[[np.ndarray, np.ndarray], float]]]
    callbacks: list[Callback]
    weight_exponent: int = 0  # sw = the caller's weights · 2^−weight_exponent (batch norm counts rows)


def fit(net: Network, theta: GuardedTheta, engine: Engine, rng: np.random.Generator, X: Any, Y: Any,
        epochs: int = 10, batch_size: int = 32, lr: float | None = None, shuffle: bool = True,
        seed: Any = None, verbose: bool = False, threads: int | None = None, optimizer: Any = None,
        sample_weight: Any = None, validation_data: Any = None, validation_split: float = 0.0,
        early_stopping: Any = None, callbacks: Any = None, metrics: Any = None) -> History:
    """``Network.fit`` (see there); θ, the engine and the generator are the network's own.
    (Positional after X, Y, in ``Network.fit``'s order: keywords cost a µs on one-row fits.)"""
    if (type(X) is np.ndarray and type(Y) is np.ndarray and threads is None and optimizer is None
            and sample_weight is None and validation_data is None and callbacks is None and early_stopping is None
            and metrics is None and seed is None and not verbose and type(validation_split) is float
            and validation_split == 0 and type(epochs) is int and epochs > 0 and type(batch_size) is int
            and X.ndim == 2 and 0 < len(X) <= min(batch_size, SHORT_ROWS)):
        road = _short_road(net, engine, len(X))
        if road is not None:
            return road.fit(theta, rng, X, Y, epochs, shuffle and len(X) > 1, lr)
    if type(epochs) is not int or epochs <= 0:  # (the common case checked first: short calls)
        epochs = _validate.positive_int("epochs", epochs)
    if type(batch_size) is not int or batch_size <= 0:
        batch_size = _validate.positive_int("batch_size", batch_size)
    if lr is not None:
        lr = _validate.learning_rate(lr)
    if threads is not None:
        threads = _validate.positive_int("threads", threads)
    opt = _optimizer(net, optimizer, lr)
    # (with a preprocess, its transform checks the columns' names in check_xy)
    names = _validate.feature_names(X) if net.preprocess is None else None
    X, Y = check_xy(net, X, Y)
    sw = _validate.sample_weight(sample_weight, len(X), net.dtype)
    val, cbs = None, []
    if validation_data is not None or not (type(validation_split) is float and validation_split == 0):
        X, Y, sw, val = _split_validation(net, X, Y, sw, validation_data, validation_split, names)
    if callbacks is not None or early_stopping is not None:
        cbs = _prepare_callbacks(callbacks, early_stopping)
    ms = _metrics(net, metrics, val is not None)
    for cb in cbs:  # a monitor that no log will hold is refused before any training
        check = getattr(cb, "check_monitor", None)
        if check is not None:
            check({"loss", "time", "lr"} | ({"val_loss", *(k for k, _ in ms)} if val else set()))
    batch = min(batch_size, len(X))
    if batch == 1 and "batch" in net.norm:
        raise ValueError(f"batch_size: batch norm needs at least 2 rows per batch (one row has no variance), "
                         f"got batch_size={batch_size} with {len(X)} training rows; pass batch_size >= 2 "
                         "or use norm='layer'")
    sparse = X if isinstance(X, SparseRows) else None
    trainer = engine.trainer(opt, batch, threads, weighted=bool(sw.size), sparse=sparse)
    # (read-only views: the kernels compile once for read-only and writable inputs alike)
    data = _Data(X if sparse is not None else readonly(X), readonly(Y), readonly(sw), val, ms, cbs,
                 _validate.weight_exponent(sample_weight) if sw.size else 0)
    theta.claim()
    try:
        theta.own()
        if opt.state is not None and not opt.state.flags.writeable:  # memory-mapped, as θ may be
            opt.state = np.array(opt.state)
        if lr is not None:
            opt.lr = float(lr)
        net.optimizer = opt
        if names is not None:
            net.feature_names_in_ = names
        loop = _Loop(net, theta, engine, data, opt, shuffle and len(X) > 1,
                     rng if seed is None else np.random.default_rng(seed))
        with trainer:
            return loop.epochs(trainer, epochs, verbose)
    finally:
        theta.release()


def check_xy(net: Network, X: Any, Y: Any, name: str = "X",
             names: bool = True) -> tuple[np.ndarray | SparseRows, np.ndarray]:
    """X and Y checked against ``net`` (widths, dtype, its loss's targets, the feature names
    its fit recorded unless ``names`` is False) and in the kernels' form (``SparseRows`` for a
    SciPy sparse X); X goes through ``net.preprocess`` first, if the net has one."""
    if net.preprocess is not None:
        X = net.preprocess.transform(X, name)
    if names and (type(X) is not np.ndarray or net.feature_names_in_ is not None):  # an array has none
        _validate.check_names(X, net.feature_names_in_, name)
    X = _validate.check_rows(X, net.sizes[0], net.dtype, name, first_skip=net.residual[:1] == [True])
    return X, _validate.check_Y(Y, len(X), net.sizes[-1], net.dtype, _losses.get(net.loss_name), name)


def _optimizer(net: Network, spec: Any, lr: float | None) -> _opt.Optimizer:
    """fit's optimizer: ``net.optimizer`` continued, or a new one from a name or object."""
    current: _opt.Optimizer | None = net.optimizer
    if spec is None:
        return current if current is not None else _opt.SGD(lr=0.01 if lr is None else lr)
    if isinstance(spec, str) and current is not None and current.name == spec.lower():
        return current
    new: _opt.Optimizer = _opt.get(spec, lr)
    new.bind(net.n_params, net.dtype)  # a mismatched object is refused before any work
    return new


def _split_validation(net: Network, X: np.ndarray | SparseRows, Y: np.ndarray, sw: np.ndarray, data: Any,
                      split: Any, names: np.ndarray | None
                      ) -> tuple[np.ndarray | SparseRows, np.ndarray, np.ndarray, Any]:
    """(X, Y, sw) to train on and the checked validation (Xv, Yv, wv), or None.
    ``names``: X's feature names, which a validation DataFrame's columns must match."""
    if data is not None and split:
        raise ValueError("pass validation_data or validation_split, not both")
    if data is not None:
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (Xv, Yv) or (Xv, Yv, sample_weight)")
        _validate.check_names(data[0], names, "validation_data's X")
        Xv, Yv = check_xy(net, data[0], data[1], "validation_data's X", names=False)
        wv = _validate.sample_weight(data[2] if len(data) == 3 else None, len(Xv), net.dtype,
                                     "validation_data's sample_weight")
        return X, Y, sw, (Xv, Yv, wv)
    if isinstance(split, bool) or not isinstance(split, (int, float, np.number)) or not 0 <= split < 1:
        raise ValueError(f"validation_split must be a fraction in [0, 1), got {split!r}")
    if not split:
        return X, Y, sw, None
    n_val = round(len(X) * split)
    if n_val < 1 or n_val >= len(X):
        raise ValueError(f"validation_split={split} of {len(X)} rows leaves "
                         f"{n_val} for validation and {len(X) - n_val} for training; "
                         "both need at least one row")
    cut = len(X) - n_val
    wv = sw[cut:] if sw.size else sw
    for part, w in (("held-out", wv), ("training", sw[:cut])):
        if w.size and not w.sum() > 0:
            raise ValueError(f"validation_split: the {part} rows' sample weights sum to 0")
    return X[:cut], Y[:cut], sw[:cut] if sw.size else sw, (X[cut:], Y[cut:], wv)


Metric = Callable[[np.ndarray, np.ndarray], float]  # f(y_true, y_pred) on validation rows


def _metrics(net: Network, metrics: Any, validating: bool) -> list[tuple[str, Metric]]:
    """[(log key, function)] for fit's ``metrics``, computed on the validation rows."""
    if metrics is None:
        return []
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    if metrics and not validating:
        raise ValueError("metrics are computed on validation rows; pass validation_data or "
                         "validation_split too")
    out = []
    for m in metrics:
        if isinstance(m, str) and m in METRICS:
            multilabel = m == "accuracy" and net.loss_name == "binary_cross_entropy"
            out.append((f"val_{m}", _label_accuracy if multilabel else METRICS[m]))
        elif callable(m):
            out.append((f"val_{getattr(m, '__name__', 'metric')}", m))
        else:
            raise ValueError(f"metrics: unknown metric {m!r}; pass names from {sorted(METRICS)} "
                             "or functions f(y_true, y_pred) -> float")
    return out


def _interrupted(history: History, batches: int, where: str) -> KeyboardInterrupt:
    """The KeyboardInterrupt fit raises on Ctrl-C, carrying ``.history`` and ``.batches``."""
    history.interrupted = True
    e = KeyboardInterrupt(f"fit stopped by Ctrl-C {where}")
    e.history, e.batches = history, batches  # type: ignore[attr-defined]
    return e


class _Loop:
    """The epochs of one fit."""

    def __init__(self, net: Network, theta: GuardedTheta, engine: Engine, data: _Data, opt: _opt.Optimizer,
                 shuffle: bool, rng: np.random.Generator) -> None:
        self.net, self.theta, self.engine, self.data, self.opt = net, theta, engine, data, opt
        self.shuffle, self.rng = shuffle, rng
        self.history = History()
        self.state: Any = None  # the optimizer's state, once bound

    def buffers(self, batch: int) -> None:
        """The fit's buffers: the epoch's row order, the weights in it, θ's rollback copy and the
        gradient (``_ShortRoad`` keeps them across its calls: same rows, optimizer and θ)."""
        d, opt = self.data, self.opt
        N = len(d.X)
        self.n_batches = -(-N // batch)
        # With shuffle, each epoch's order is a fresh permutation of ``order``; without, the
        # kernels read rows in place and never look at perm. (Shuffling one row draws nothing.)
        self.order = np.arange(N if self.shuffle else 0, dtype=np.int64)
        self.perm = self.order.copy()
        self.swp = d.sw.copy() if self.shuffle else d.sw  # the weights in the epoch's order
        self.swp_view = readonly(self.swp)  # what the kernels read
        self.backup = np.empty_like(self.theta.array)  # θ at the last finite epoch, for rollback
        # Plain SGD steps θ inside the gradient GEMM and needs no gradient buffer.
        self.code = FUSED if opt.fused else opt.code
        self.grad = self.theta.array[:0] if opt.fused else np.empty_like(self.theta.array)

    def finite(self, loss: float) -> bool:
        """True when the epoch's Σ L and θ hold no NaN or ±Inf (else ``_rollback``)."""
        return math.isfinite(loss) and all_finite(self.theta.array)

    def epochs(self, trainer: Trainer, epochs: int, verbose: bool, kept: bool = False) -> History:
        """Runs the epochs; ``kept``: ``buffers`` are set already (the short road)."""
        d, opt, history = self.data, self.opt, self.history
        if not kept:
            self.buffers(trainer.batch)
        self.state = opt.bind(self.net.n_params, self.net.dtype)
        for cb in d.callbacks:
            cb.on_train_begin(self.net, history)
        epoch_iter: Any = range(1, epochs + 1)
        if verbose:
            from tqdm.auto import tqdm

            epoch_iter = tqdm(epoch_iter, desc="fit", unit="epoch")
        try:
            with deferred_interrupt() as interrupted:
                for epoch in epoch_iter:
                    logs = self.epoch(trainer, epoch, verbose, interrupted)
                    stop = self._end_epoch(epoch, logs, epoch_iter if verbose else None)
                    if interrupted():
                        raise _interrupted(history, 0, f"after epoch {epoch}")
                    if stop:
                        history.stopped_epoch = epoch
                        break
        except (KeyboardInterrupt, DivergedError):
            self._train_end()  # callbacks see the end of a fit however it ends
            raise
        self._train_end()
        return history

    def short_epochs(self, trainer: Trainer, epochs: int) -> History:
        """``epochs`` and ``epoch`` for the short road: all rows are one batch, so each epoch is
        one kernel call, and a short fit has no callbacks, progress bars or validation. The same
        steps in the same order as the full road (the same bits; the tests compare the two),
        without its layers of calls, which cost more than a one-row epoch's arithmetic."""
        net, opt, theta, history, d = self.net, self.opt, self.theta, self.history, self.data
        if opt.state is None or opt.state is not self.state:  # (bound already: the kept set-up)
            self.state = opt.bind(net.n_params, net.dtype)
        counts = vars(opt)  # t and epoch are plain counters: skip Optimizer.__setattr__'s checks
        N = len(d.X)
        losses, times, lrs = history["loss"], history["time"], history["lr"]
        with deferred_interrupt() as interrupted:
            for epoch in range(1, epochs + 1):
                t0 = time.perf_counter()
                if self.shuffle:
                    self._shuffle()
                np.copyto(self.backup, theta.array)
                h = opt.hyper()
                loss = trainer.run(theta.array, self.grad, self.state, d.X, d.Y, self.perm, self.shuffle,
                                   self.swp_view, 0, N, self.code, h, opt.t, 0.0, True, net.epochs_trained) / N
                t1 = time.perf_counter()
                self.engine.row_seconds = (t1 - t0) / N
                if not self.finite(loss):
                    self._rollback(loss, h, epoch)
                counts["t"] += 1  # (one batch: N <= batch)
                counts["epoch"] += 1
                net.epochs_trained += 1
                opt.schedule.report(loss)
                losses.append(loss)  # (History.append of epoch's logs)
                times.append(t1 - t0)
                lrs.append(h.lr)
                theta.publish()
                if interrupted():
                    raise _interrupted(history, 0, f"after epoch {epoch}")
        return history

    def _train_end(self) -> None:
        for cb in self.data.callbacks:
            cb.on_train_end(self.net, self.history)

    def _shuffle(self) -> None:
        """This epoch's order: depends on the generator alone, so fits resume exactly."""
        np.copyto(self.perm, self.order)
        self.rng.shuffle(self.perm)
        if self.data.sw.size:
            np.take(self.data.sw, self.perm, out=self.swp)

    def epoch(self, trainer: Trainer, epoch: int, verbose: bool, interrupted: Callable[[], bool]) -> dict[str, float]:
        """One epoch; its logs (loss, time, lr, validation)."""
        t0 = time.perf_counter()
        if self.shuffle:
            self._shuffle()
        np.copyto(self.backup, self.theta.array)
        h = self.opt.hyper()
        N = len(self.data.X)
        loss, done = self._run_batches(trainer, epoch, h, verbose, interrupted)
        batch, opt = trainer.batch, self.opt
        if done < N:  # Ctrl-C within the epoch: θ and the optimizer are after batch done/B
            if not self.finite(loss):
                self._rollback(loss / done, h, epoch)
            opt.t += done // batch
            raise _interrupted(self.history, done // batch, f"in epoch {epoch}, after {done // batch} "
                                                            f"of its {self.n_batches} batches")
        loss /= N
        if not self.finite(loss):
            self._rollback(loss, h, epoch)
        opt.t += self.n_batches
        opt.epoch += 1
        self.net.epochs_trained += 1
        opt.schedule.report(float(loss))
        logs = {"loss": float(loss), "time": time.perf_counter() - t0, "lr": float(h.lr)}
        if self.data.val is not None:
            logs.update(self._validate())
        return logs

    def _run_batches(self, trainer: Trainer, epoch: int, h: _opt.Hyper, verbose: bool,
                     interrupted: Callable[[], bool]) -> tuple[float, int]:
        """Runs of whole batches of about RUN_SECONDS, Ctrl-C between them: (Σ L, rows done)."""
        d, e, batch = self.data, self.engine, trainer.batch
        N = len(d.X)
        loss, done = 0.0, 0
        bar = self._batch_bar(N, batch, epoch) if verbose else None
        while done < N:
            rows = N if trainer.whole_epochs else self._run_rows(batch, N - done)
            c0 = time.perf_counter()
            loss = trainer.run(self.theta.array, self.grad, self.state, d.X, d.Y, self.perm, self.shuffle,
                               self.swp_view, done, done + rows, self.code, h, self.opt.t + done // batch, loss,
                               done == 0, self.net.epochs_trained, d.weight_exponent)
            e.row_seconds = (time.perf_counter() - c0) / rows
            done += rows
            if bar is not None:
                bar.update(-(-rows // batch))
            if done < N and interrupted():
                break
        if bar is not None:
            bar.close()
        return loss, done

    def _run_rows(self, batch: int, left: int) -> int:
        """Rows for the next kernel call: whole batches worth about RUN_SECONDS by the last
        call's speed (one batch on a network's first call), or all that is left."""
        if self.engine.row_seconds is None:
            return min(batch, left)
        rows = int(RUN_SECONDS / max(self.engine.row_seconds, 1e-12)) // batch * batch
        return min(max(rows, batch), left)

    def _batch_bar(self, N: int, batch: int, epoch: int) -> Any:
        """A progress bar over the epoch's batches (fit with verbose) when the epoch looks long."""
        rs = self.engine.row_seconds
        if rs is None or rs * N < LONG_EPOCH_SECONDS:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=-(-N // batch), desc=f"epoch {epoch}", unit="batch", leave=False)

    def _rollback(self, loss: float, h: _opt.Hyper, epoch: int) -> None:
        """Divergence (the loss or θ not finite): θ back to the last finite epoch, the moments
        reset, and DivergedError."""
        theta = self.theta.array
        np.copyto(theta, self.backup)
        self.opt.reset()
        last = f"the end of epoch {epoch - 1}" if epoch > 1 else "their initial values"
        hint = _validate.overflow_hint(self.net.dtype, self.data.X, self.data.Y)
        advice = hint[2:] if hint else f"Try a smaller lr than {h.lr:g}, e.g. lr={h.lr / 10:g}"
        raise DivergedError(f"training diverged in epoch {epoch} (loss {loss}); weights were restored "
                            f"to {last}. {advice[0].upper()}{advice[1:]}", epoch=epoch, loss=float(loss))

    def _validate(self) -> dict[str, float]:
        """val_loss and the val_<metric> values of the current θ on the validation rows."""
        assert self.data.val is not None
        Xv, Yv, wv = self.data.val
        net, e = self.net, self.engine
        logs = {"val_loss": e.mean_loss(self.theta.array, Xv, Yv, wv)}
        if self.data.metrics:
            P = np.empty((len(Xv), net.sizes[-1]), net.dtype)
            e.predict(self.theta.array, Xv, P)
            for key, fn in self.data.metrics:
                logs[key] = float(fn(Yv, P))
        return logs

    def _end_epoch(self, epoch: int, logs: dict[str, float], bar: Any) -> bool:
        """History, callbacks (True: one asked to stop), progress and the snapshot for readers."""
        self.history.append(logs)
        stop = False
        for cb in self.data.callbacks:
            stop = bool(cb.on_epoch_end(self.net, epoch, logs)) or stop
        if bar is not None:
            bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k != "time"}, refresh=False)
        self.theta.publish()
        return stop


# ------------------------------------------------------------------------------ the short road
# A fit of at most one batch of rows (a one-row fit: online learning, a training loop of its
# own) with fit's defaults otherwise (an lr is allowed) spends most of its time setting up,
# not training (issue 22: 35 µs a call on [8,32,32,1], 2.5 µs of it in the kernel). The short road keeps that set-up:
# the trainer, the row order, the rollback copy and the gradient buffer, per row count, for the
# network's current optimizer; each call checks X and Y, takes θ, and runs the same epochs
# (``_Loop.epochs``) as the full road, so the two give the same bits.
SHORT_ROWS = 256  # at most this many rows take the short road


def _short_road(net: Network, engine: Engine, N: int) -> _ShortRoad | None:
    """The kept set-up for a default fit of N rows (one batch), or None when the call takes the
    full road: a first fit (no optimizer yet), clipping, a preprocess or feature names to check,
    bf16, batch norm on one row (the full road refuses it), a memory-mapped optimizer state, or
    a batch worth threads (whose count the full road plans afresh)."""
    opt = net.optimizer
    if (opt is None or opt.clip_norm is not None or net.preprocess is not None or net.feature_names_in_ is not None
            or engine.precision != "float32" or (N == 1 and "batch" in net.norm)
            or N * engine.row_work >= THREADED_MIN_WORK or (opt.state is not None and not opt.state.flags.writeable)):
        return None
    roads: dict[int, _ShortRoad] = engine.short_roads
    road = roads.get(N)
    if road is None or road.opt is not opt or road.fused != opt.fused or road.dtype != net.dtype:
        road = roads[N] = _ShortRoad(net, engine, opt, N)
    return road


class _ShortRoad:
    """One row count's kept set-up (``_short_road``)."""

    def __init__(self, net: Network, engine: Engine, opt: _opt.Optimizer, N: int) -> None:
        self.net, self.engine, self.opt, self.dtype, self.fused = net, engine, opt, net.dtype, opt.fused
        self.loss = _losses.get(net.loss_name)
        self.trainer = engine.trainer(opt, N, None, weighted=False)
        self.sw = readonly(np.empty(0, net.dtype))
        self.loop: _Loop | None = None

    def fit(self, theta: GuardedTheta, rng: np.random.Generator, X: np.ndarray, Y: Any, epochs: int,
            shuffle: bool, lr: float | None) -> History:
        net = self.net
        if lr is not None:
            lr = _validate.learning_rate(lr)
        X = _validate.check_X(X, net.sizes[0], self.dtype)
        Y = _validate.check_Y(Y, len(X), net.sizes[-1], self.dtype, self.loss)
        theta.claim()
        try:
            theta.own()
            if lr is not None and vars(self.opt)["lr"] != lr:  # (a set costs Optimizer.__setattr__'s check)
                self.opt.lr = float(lr)
            loop = self.loop
            kept = loop is not None and loop.shuffle == shuffle and loop.theta is theta \
                and loop.backup.size == theta.array.size
            if kept:
                assert loop is not None
                d = loop.data
                d.X, d.Y, loop.rng, loop.history = readonly(X), readonly(Y), rng, History()
            else:
                data = _Data(readonly(X), readonly(Y), self.sw, None, [], [])
                loop = self.loop = _Loop(net, theta, self.engine, data, self.opt, shuffle, rng)
            with self.trainer as trainer:
                if not kept:
                    loop.buffers(trainer.batch)
                return loop.short_epochs(trainer, epochs)
        finally:
            theta.release()
