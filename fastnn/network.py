"""``Network``: a K-layer fully connected net, x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]).

The class validates input, allocates every buffer once, and runs the epoch loop in Python;
each epoch's minibatches run inside one call to the jitted kernel in ``_kernels``.
"""
from __future__ import annotations

import contextlib
import math
import json
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from . import _kernels as _k
from . import _parallel
from . import _unrolled
from . import activations as _act
from . import losses as _losses
from . import optimizers as _opt
from . import schedules as _schedules
from ._io import atomic_write
from .callbacks import History, deferred_interrupt, prepare as _prepare_callbacks

# 2: loss, optimizer state and the shuffling generator's state; 3: feature names. 1, 2 still load.
FORMAT_VERSION = 3
RUN_SECONDS = 0.05  # fit returns to Python about this often (Ctrl-C, progress), between batches
LONG_EPOCH_SECONDS = 2.0  # verbose fit shows a per-batch bar for epochs longer than this
_DTYPES = ("float32", "float64")


class DivergedError(FloatingPointError):
    """Training produced a non-finite loss or weights; the weights were rolled back.

    ``epoch``: the 1-based epoch (of that fit) that diverged; ``loss``: its loss.
    """

    def __init__(self, message, epoch=None, loss=None):
        super().__init__(message)
        self.epoch, self.loss = epoch, loss


def _label_accuracy(Y, P):
    """The share of rows whose every 0/1 label is right, P thresholded at 0.5: one output, or
    binary_cross_entropy's multi-label rows (scikit-learn's subset accuracy)."""
    return float(np.mean(((Y > 0.5) == (P > 0.5)).all(axis=1)))


_METRICS = {  # name → f(y_true, y_pred) on validation rows; y_pred as predict returns it
    "accuracy": lambda Y, P: float(np.mean(np.argmax(Y, 1) == np.argmax(P, 1))) if Y.shape[1] > 1
                             else _label_accuracy(Y, P),
    "mae": lambda Y, P: float(np.mean(np.abs(Y - P))),
    "mse": lambda Y, P: float(np.mean((Y - P) ** 2)),
    "r2": lambda Y, P: float(np.mean(1 - ((Y - P) ** 2).sum(0) / np.maximum(((Y - Y.mean(0)) ** 2).sum(0), 1e-300))),
}


def _feature_names(X):
    """A DataFrame's column names when they are all strings (scikit-learn's rule), else None."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = [c for c in columns]
    if not names or not all(isinstance(c, str) for c in names):
        return None
    if any("\0" in c for c in names):  # a saved model could not keep them (NumPy strips NUL)
        raise ValueError(f"X: column names may not contain NUL characters, got {names!r}; "
                         "rename those columns")
    return np.asarray(names, dtype=object)


def _interrupted(history, batches, where):
    """The KeyboardInterrupt fit raises on Ctrl-C, carrying ``.history`` and ``.batches``."""
    history.interrupted = True
    e = KeyboardInterrupt(f"fit stopped by Ctrl-C {where}")
    e.history, e.batches = history, batches
    return e


def _refuse_complex(a, name):
    """Complex input would be cast to real, dropping the imaginary part: refuse it."""
    kind = a.dtype.kind if isinstance(a, np.ndarray) else None
    if kind is None and a is not None and not hasattr(a, "dtypes"):
        try:
            kind = np.asarray(a).dtype.kind
        except Exception:  # conversion errors are reported by the caller's own conversion
            return
    elif kind is None and hasattr(a, "dtypes"):  # a DataFrame
        kind = "c" if any(np.dtype(d).kind == "c" for d in a.dtypes if isinstance(d, np.dtype)) else None
    if kind == "c":
        raise ValueError(f"{name} is complex; fastnn trains on real numbers: pass the real part "
                         f"(np.real({name})) or split real and imaginary parts into columns")


@dataclass
class Backprop:
    """Every quantity of the seed's derivation, keyed by its 1-based layer number k.

    Rows are samples: ``x[k][i]`` is the seed's column x̄^[k] for sample i, laid as a row.
    ``phi[k]`` is per sample (not divided by N); ``dW``/``db`` are the gradients of the mean loss.
    """

    z: dict = field(default_factory=dict)  # z̄^[k], k = 1..K
    x: dict = field(default_factory=dict)  # x̄^[k], k = 0..K
    phi: dict = field(default_factory=dict)  # φ^[k], k = 1..K
    dW: dict = field(default_factory=dict)  # ∂L/∂W^[k]
    db: dict = field(default_factory=dict)  # ∂L/∂b̄^[k]
    loss: float = 0.0


@dataclass
class _Run:
    """One fit's checked data and choices, handed to the epoch loop."""

    X: np.ndarray
    Y: np.ndarray
    sw: np.ndarray  # sample weights, or empty
    batch: int
    opt: object
    shuffle: bool
    rng: object
    unrolled: object  # the generated epoch, or None
    pool: object  # the EpochPool, or None
    val: object  # (Xv, Yv, wv), or None
    metrics: list
    callbacks: list


_NO_WEIGHTS = {np.dtype(d): np.empty(0, d) for d in _DTYPES}  # size 0: nothing to write


def _positive_int(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class Network:
    """A fully connected network, x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]) for k = 1..K.

    ``loss`` is one of ``fastnn.LOSSES``: "mse" (the seed's ½‖y − x̄^[K]‖², any output ψ^[K]),
    "cross_entropy" (softmax outputs) or "binary_cross_entropy" (sigmoid outputs); the last two
    fix ψ^[K], and ``predict`` returns probabilities.

    >>> net = Network([2, 2, 1], seed=0)          # n_0 = 2 inputs, one hidden layer, 1 output
    >>> net.weights[0].shape                      # W^[1] is n_1 × n_0
    (2, 2)
    >>> net.activations                           # ψ^[1], ψ^[2]
    ['relu', 'identity']
    >>> Network([4, 8, 3], loss="cross_entropy").activations
    ['relu', 'softmax']
    """

    def __init__(self, sizes, activations=None, *, loss="mse", dtype="float32", seed=None,
                 _draw=True):
        sizes = self._check_sizes(sizes)
        K = len(sizes) - 1
        loss = _losses.get(loss)
        out = loss.link or "identity"  # the default ψ^[K]
        if activations is None:
            activations = ["relu"] * (K - 1) + [out]
        elif isinstance(activations, str):
            activations = [activations] * (K - 1) + [out]
        else:
            activations = list(activations)
            if len(activations) != K:
                raise ValueError(
                    f"activations: got {len(activations)} names for {K} layers; "
                    f"pass one name per layer (psi^[1..{K}]), a single string, or None"
                )
        if loss.link and activations[-1] != loss.link:
            raise ValueError(
                f"activations: loss={loss.name!r} fixes the output activation to {loss.link!r}, "
                f"got {activations[-1]!r}; pass {loss.link!r} (or None) as the last activation")
        # A linked loss's output layer stores z̄^[K] (identity); the loss applies its link.
        table = [_act.get(a) for a in activations[:-1]]
        table.append(_act.ACTIVATIONS["identity"] if loss.link else _act.get(activations[-1]))
        if str(np.dtype(dtype) if isinstance(dtype, type) else dtype) not in _DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")

        self.sizes = sizes
        self.activations = [a.name for a in table[:-1]] + [loss.link or table[-1].name]
        self.loss_name = loss.name
        self._loss = loss.code
        self.dtype = np.dtype(dtype)
        self._rng = np.random.default_rng(seed)
        self.optimizer = None  # set by fit; its state carries over to the next fit
        self.feature_names_in_ = None  # a DataFrame's column names, recorded by fit

        # Offset table: one row per layer; W^[k] then b̄^[k] in one flat parameter buffer.
        lay = np.zeros((K, _k.LAYOUT_COLS), dtype=np.int64)
        off = width = 0
        for k in range(K):
            n_in, n_out = sizes[k], sizes[k + 1]
            lay[k] = (n_in, n_out, off, off + n_out * n_in, table[k].code, width)
            off += n_out * n_in + n_out
            width += n_out
        self._lay = lay
        self._theta = np.zeros(off, dtype=self.dtype)
        self._path = _k.AUTO  # per-layer BLAS/loops choice; tests force each path
        self._row_seconds = None  # fit's estimate of one row's training time (sizes its runs)
        self._views()
        self._runtime()
        if _draw:  # load fills θ from the file instead
            self._init_weights(table)

    def _views(self):
        """W^[k] and b̄^[k] as views into θ."""
        K = self.n_layers
        self.weights = [_k._W(self._theta, self._lay, k) for k in range(K)]
        self.biases = [_k._b(self._theta, self._lay, k) for k in range(K)]

    # Threads. Every thread gets its own batch buffers (``_local``), so predict, loss, gradients
    # and backprop may run in many threads at once on one network. A fit owns θ: it waits for
    # inference calls already reading θ, and until it ends, other threads' inference calls read
    # ``_snapshot``, a copy of θ at the start of the fit or, once one of them asked, at the end
    # of the last finished epoch; a second fit at the same time is an error.
    _RUNTIME = ("_local", "_guard", "_fit_owner", "_readers", "_snapshot", "_snapshot_wanted",
                "_unrolled", "_row_work", "_layer_work", "_thread_choice")

    def _runtime(self):
        self._local = threading.local()
        self._guard = threading.Condition(threading.Lock())
        self._fit_owner = None  # the thread whose fit owns θ
        self._readers = 0  # inference calls reading θ itself
        self._snapshot = None
        self._snapshot_wanted = False
        self._unrolled = {}  # (path, direct) → the generated epoch or None
        self._thread_choice = {}  # (parts, by columns, batch) → its ThreadChoice, kept across fits
        work = [a * b for a, b in zip(self.sizes[:-1], self.sizes[1:])]
        self._row_work, self._layer_work = sum(work), max(work)  # multiply-adds of one row

    def _read(self):
        """The θ an inference call reads, and whether it must call ``_done_reading``: θ itself,
        or during another thread's fit its snapshot."""
        with self._guard:
            owner = self._fit_owner
            if owner is not None and owner != threading.get_ident():
                self._snapshot_wanted = True
                return self._snapshot, False
            self._readers += 1
            return self._theta, True

    def _done_reading(self):
        with self._guard:
            self._readers -= 1
            if not self._readers and self._fit_owner is not None:
                self._guard.notify_all()  # the fit waiting in _claim

    @contextlib.contextmanager
    def _reading(self):
        theta, counted = self._read()
        try:
            yield theta
        finally:
            if counted:
                self._done_reading()

    def _claim(self):
        """fit takes θ: later inference calls from other threads read a snapshot, and the fit
        starts once the calls already reading θ are done."""
        with self._guard:
            if self._fit_owner is not None:
                raise RuntimeError("fit: this network is already training (in another thread, or "
                                   "fit was called from one of its own callbacks); wait for that fit "
                                   "to end, or train a copy (copy.deepcopy(net))")
            self._snapshot = self._theta.copy()
            self._snapshot_wanted = False
            self._fit_owner = threading.get_ident()
            while self._readers:
                self._guard.wait()

    def _publish(self):
        """A fresh snapshot for other threads, at the end of an epoch, if one of them asked."""
        if self._snapshot_wanted:
            with self._guard:
                self._snapshot = self._theta.copy()
                self._snapshot_wanted = False

    def _release(self):
        with self._guard:
            self._fit_owner = None
            self._snapshot = None

    # Pickling (pickle, copy.deepcopy, joblib) keeps θ and drops the views, the scratch buffers
    # and the thread state; views would otherwise come back as copies no longer tied to θ.
    def __getstate__(self):
        state = self.__dict__.copy()
        for key in ("weights", "biases") + self._RUNTIME:
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        state.pop("_bufs", None)  # pickles of fastnn 0.1 before per-thread buffers
        self.__dict__.update(state)
        self.__dict__.setdefault("_row_seconds", None)
        self._lay = np.array(self._lay)  # writable and in memory, as the kernels were compiled for
        self._views()
        self._runtime()

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _check_sizes(sizes):
        try:
            sizes = list(sizes)
        except TypeError:
            raise ValueError(f"sizes must be a list of layer widths like [2, 2, 1], got {sizes!r}") from None
        if len(sizes) < 2:
            raise ValueError(
                f"sizes needs at least two entries (n_0 inputs and n_K outputs), got {sizes!r}"
            )
        for n in sizes:
            if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n <= 0:
                raise ValueError(f"sizes: every width must be a positive integer, got {sizes!r}")
        return [int(n) for n in sizes]

    def _init_weights(self, table):
        """He-normal for ReLU-like ψ^[k], Glorot-uniform for tanh/sigmoid/identity/softmax; b̄ = 0."""
        for W, b, a in zip(self.weights, self.biases, table):
            n_out, n_in = W.shape
            if a.init == "he":
                W[:] = self._rng.normal(0.0, np.sqrt(2.0 / n_in), size=W.shape)
            else:
                lim = np.sqrt(6.0 / (n_in + n_out))
                W[:] = self._rng.uniform(-lim, lim, size=W.shape)
            b[:] = 0

    # ------------------------------------------------------------------ properties
    @property
    def n_layers(self):
        """K, the number of layers with weights."""
        return len(self.sizes) - 1

    @property
    def n_params(self):
        return self._theta.size

    # ------------------------------------------------------------------ validation
    def _check_names(self, X, name="X", known=None):
        """The column names of a DataFrame X, checked against ``known`` (default: those fit recorded)."""
        names = _feature_names(X)
        known = self.feature_names_in_ if known is None else known
        if names is not None and known is not None and (
                len(names) != len(known) or (names != known).any()):
            have, want = set(names), set(known)
            missing = [n for n in known if n not in have]
            extra = [n for n in names if n not in want]
            detail = (f"missing {missing}" if missing else "") + (", " if missing and extra else "") + (
                f"unexpected {extra}" if extra else "")
            raise ValueError(
                f"{name}'s columns {list(names)} do not match the feature names the network was "
                f"trained on, {list(known)} ({detail or 'same names, different order'}); "
                f"select them in that order, e.g. {name}[net.feature_names_in_]")
        return names

    def _check_X(self, X, name="X"):
        if (type(X) is np.ndarray and X.dtype == self.dtype and X.ndim == 2 and X.flags.c_contiguous
                and X.shape[1] == self.sizes[0] and X.shape[0]):  # already what the kernels take
            if not _k._all_finite(X.reshape(-1)):
                raise ValueError(f"{name} contains NaN or Inf; remove or impute those entries first")
            return X
        self._check_names(X, name)
        _refuse_complex(X, name)
        try:
            with np.errstate(over="ignore"):  # too big for float32 → Inf, reported below
                X = np.asarray(X, dtype=self.dtype)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name} must be a numeric array of shape (N, {self.sizes[0]}): {e}") from None
        if X.ndim == 1 and self.sizes[0] == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(
                f"{name} has shape {X.shape} but the input layer has n_0 = {self.sizes[0]} "
                f"units; pass {name} with shape (N, {self.sizes[0]})"
            )
        if X.shape[0] == 0:
            raise ValueError(f"{name} is empty (0 rows); pass at least one sample")
        X = np.ascontiguousarray(X)
        if not _k._all_finite(X.reshape(-1)):
            raise ValueError(f"{name} contains NaN or Inf; remove or impute those entries first")
        return X

    def _check_XY(self, X, Y, name="X"):
        X = self._check_X(X, name)
        n_K, loss = self.sizes[-1], _losses.BY_CODE[self._loss]
        labels = False
        if not (type(Y) is np.ndarray and Y.dtype == self.dtype and Y.ndim == 2 and Y.flags.c_contiguous
                and Y.shape[1] == n_K):  # else already what the kernels take
            _refuse_complex(Y, f"{name}'s Y" if name != "X" else "Y")
            labels = loss.targets == "probabilities" and np.ndim(Y) == 1
            try:
                with np.errstate(over="ignore"):
                    Y = np.asarray(Y, dtype=np.float64 if labels else self.dtype)
            except (TypeError, ValueError) as e:
                raise ValueError(f"Y must be a numeric array of shape (N, {n_K}): {e}") from None
            if Y.ndim == 1 and n_K == 1:
                Y = Y[:, None]
            if labels:
                Y = self._one_hot(Y)
            if Y.ndim != 2 or Y.shape[1] != n_K:
                raise ValueError(
                    f"Y has shape {Y.shape} but the output layer has n_K = {n_K} units; "
                    f"pass Y with shape (N, {n_K})" + (" or (N,)" if n_K == 1 else "")
                    + (" or integer labels of shape (N,)" if loss.targets == "probabilities" else "")
                )
            Y = np.ascontiguousarray(Y)
        if Y.shape[0] != X.shape[0]:
            raise ValueError(
                f"{name} has {X.shape[0]} rows but its Y has {Y.shape[0]}; pass one target row per sample"
            )
        if not _k._all_finite(Y.reshape(-1)):
            raise ValueError("Y contains NaN or Inf; remove or impute those entries first")
        if loss.targets == "probabilities" and not labels:
            sums = Y.sum(axis=1, dtype=np.float64)
            if (Y < 0).any() or (np.abs(sums - 1) > 1e-4).any():
                bad = int(np.argmax((np.abs(sums - 1) > 1e-4) | (Y < 0).any(axis=1)))
                raise ValueError(
                    f"Y: loss='cross_entropy' needs probability rows (entries >= 0 summing to 1) "
                    f"or integer labels of shape (N,); row {bad} is {Y[bad].tolist()}")
        if loss.targets == "binary" and ((Y < 0) | (Y > 1)).any():
            raise ValueError("Y: loss='binary_cross_entropy' needs targets in [0, 1] "
                             "(one column of 0/1 labels per output)")
        return X, Y

    def _check_weights(self, sample_weight, N, name="sample_weight"):
        """Per-sample weights as a float array of N entries >= 0 (empty for None)."""
        if sample_weight is None:
            return _NO_WEIGHTS[self.dtype]
        _refuse_complex(sample_weight, name)
        try:
            w = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name} must be a numeric array of shape ({N},): {e}") from None
        if w.ndim == 0:
            w = np.full(N, float(w))
        if w.shape != (N,):
            raise ValueError(f"{name} has shape {w.shape}; pass one weight per sample, shape ({N},)")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(f"{name} must be finite and >= 0 (got min {w.min():g}, max {w.max():g})")
        if not w.max(initial=0.0) > 0:
            raise ValueError(f"{name} sums to 0; at least one sample needs a positive weight")
        # Only ratios matter (Σ w (·) / Σ w): a power-of-two rescale to max w in [0.5, 1) is
        # exact and keeps any accepted scale inside the dtype's range, sums included.
        w = np.ascontiguousarray(np.ldexp(w, -np.frexp(w.max())[1]), dtype=self.dtype)
        if not w.sum(dtype=np.float64) > 0:
            raise ValueError(f"{name}: the weights span more than {self.dtype.name} can hold")
        return w

    def _one_hot(self, labels):
        """Integer class labels (N,) → one-hot rows (N, n_K)."""
        n_K = self.sizes[-1]
        if not ((labels == np.floor(labels)) & (labels >= 0) & (labels < n_K)).all():
            raise ValueError(f"Y: class labels must be integers in [0, {n_K}) for n_K = {n_K} "
                             f"outputs, got values from {labels.min():g} to {labels.max():g}")
        Y = np.zeros((len(labels), n_K), self.dtype)
        Y[np.arange(len(labels)), labels.astype(np.int64)] = 1
        return Y

    # ------------------------------------------------------------------ buffers
    def _width(self):
        return int(sum(self.sizes[1:]))

    def _batch_buffers(self, rows):
        """Activation and φ buffers for up to ``rows`` samples, this thread's own, kept and
        reused across its calls (grown when a call needs more rows)."""
        bufs = getattr(self._local, "bufs", None)
        if bufs is None or bufs[0] < rows:
            n = rows * self._width()
            bufs = self._local.bufs = (
                rows,
                np.empty(n, self.dtype),  # x̄^[k], k = 1..K
                np.empty(n, self.dtype),  # φ^[k]
                np.empty(rows * self.sizes[0], self.dtype),  # gathered x̄^[0] rows (shuffle)
                np.empty(rows * self.sizes[-1], self.dtype),  # gathered y rows
            )
        return bufs

    # ------------------------------------------------------------------ the math
    def predict(self, X):
        """x̄^[K] for every row of X: an (N, n_K) array (probabilities for a cross-entropy loss).

        A DataFrame's columns must carry the feature names ``fit`` recorded, in that order.
        """
        return self._predict(self._check_X(X))

    def predictor(self):
        """A callable for many fast predictions: ``f = net.predictor(); f(X)``.

        It holds a frozen copy of θ as it is now and checks only that X is a C-contiguous array
        of the network's dtype with n_0 columns (no NaN check, no feature names), which makes a
        one-sample call on a small net about 5x cheaper than ``predict``. Thread-safe; a later
        ``fit`` does not change it (see ``fastnn.predictor``).
        """
        from .predictor import Predictor

        return Predictor(self)

    # ------------------------------------------------------------------ export (fastnn.export)
    def to_onnx(self, path, *, opset=None, input_name="x", output_name="y"):
        """Write the network as an ONNX model (Gemm + activation per layer, a dynamic batch axis
        "N", opset 17 by default); needs ``pip install "fastnn[onnx]"``."""
        from .export import to_onnx

        to_onnx(self, path, opset=opset, input_name=input_name, output_name=output_name)

    def to_torch(self):
        """A ``torch.nn.Sequential`` of Linear and activation modules with these weights."""
        from .export import to_torch

        return to_torch(self)

    @classmethod
    def from_torch(cls, module, *, loss=None, dtype=None):
        """A Network from a ``torch.nn.Sequential`` of Linear layers and supported activations
        (see ``fastnn.export.from_torch`` for the rules)."""
        from .export import from_torch

        return from_torch(module, loss=loss, dtype=dtype)

    def _predict(self, X):
        out = np.empty((len(X), self.sizes[-1]), self.dtype)
        theta, counted = self._read()
        try:
            _parallel.predict(theta, self._lay, self._loss, X, out, self._path, self._activations_buffer,
                              self._row_work, self._layer_work)
        finally:
            if counted:
                self._done_reading()
        return out

    def _activations_buffer(self, rows):
        """This thread's x̄^[k] buffer for ``rows`` rows: fit's, if this thread has one big
        enough, else one of its own (predict's workers never allocate φ or gather buffers)."""
        bufs = getattr(self._local, "bufs", None)
        if bufs is not None and bufs[0] >= rows:
            return bufs[1]
        a = getattr(self._local, "abuf", None)
        if a is None or a.size < rows * self._width():
            a = self._local.abuf = np.empty(rows * self._width(), self.dtype)
        return a

    def loss(self, X, Y, sample_weight=None):
        """Mean over samples of the loss L (``loss_name``: the seed's ½‖y − x̄^[K]‖² by default);
        with ``sample_weight``, the weighted mean Σ w L / Σ w."""
        X, Y = self._check_XY(X, Y)
        return self._mean_loss(X, Y, self._check_weights(sample_weight, len(X)))

    def _mean_loss(self, X, Y, sw):
        block = min(len(X), 1024)  # fixed blocks: the sum's order never depends on the buffers
        _, abuf, pbuf, *_ = self._batch_buffers(block)
        with self._reading() as theta, _parallel.ONE_BLAS_THREAD:
            total = _k._evaluate(theta, self._lay, self._loss, X, Y, sw, abuf, pbuf, self._path, block)
        return float(total / (sw.sum(dtype=np.float64) if sw.size else len(X)))

    def backprop(self, X, Y):
        """Run the seed's forward pass and φ^[k] recurrence on all of X; return every piece."""
        X, Y = self._check_XY(X, Y)
        N, K = len(X), self.n_layers
        theta = self._private_theta()
        abuf, pbuf, grad, loss = self._backward_all(X, Y, theta=theta)
        bp = Backprop(loss=float(loss / N))
        bp.x[0] = X
        for k in range(1, K + 1):
            bp.x[k] = _k._rows(abuf, self._lay, k - 1, N)
            W, b = _k._W(theta, self._lay, k - 1), _k._b(theta, self._lay, k - 1)
            bp.z[k] = bp.x[k - 1] @ W.T + b  # z̄^[k], recomputed
            bp.phi[k] = _k._rows(pbuf, self._lay, k - 1, N)
            bp.dW[k] = _k._W(grad, self._lay, k - 1) / self.dtype.type(N)
            bp.db[k] = _k._b(grad, self._lay, k - 1) / self.dtype.type(N)
        return bp

    def _backward_all(self, X, Y, sw=None, theta=None):
        """x̄^[k] and φ^[k] buffers for all of X, Σ_samples ∂L/∂θ, and Σ_samples L (checked X, Y).

        With weights sw (checked): N · Σ w (·) / Σ w in place of both sums. θ: the parameters
        to use (writable), else the network's own (fit's, writable)."""
        N = len(X)
        abuf, pbuf = np.empty(N * self._width(), self.dtype), np.empty(N * self._width(), self.dtype)
        grad = np.empty_like(self._theta)
        Xf, Yf = X.reshape(-1), Y.reshape(-1)
        theta = self._theta if theta is None else theta
        sw = grad[:0] if sw is None else sw
        with _parallel.ONE_BLAS_THREAD:  # results never depend on BLAS's threads
            _k._forward(theta, self._lay, Xf, 0, abuf, N, self._path)
            loss = _k._backward(theta, grad, grad[:0], self._lay, Xf, 0, Yf, 0, sw, 0, abuf, pbuf,
                                self._loss, N, False, _opt.FUSED, np.zeros(2), (0.0,) * 6, self._path)
        return abuf, pbuf, grad, loss

    def gradients(self, X, Y):
        """(dW, db): ∂/∂W^[k] and ∂/∂b̄^[k] of ``loss(X, Y)``, shaped like weights/biases.

        Computed by the same kernels ``fit`` uses for this network.
        """
        X, Y = self._check_XY(X, Y)
        N = len(X)
        unrolled = self._unrolled_epoch(direct=False)
        theta = self._private_theta()
        if unrolled is None:
            grad = self._backward_all(X, Y, theta=theta)[2]
        else:
            grad = np.empty_like(theta)
            unrolled(theta, grad, grad[:0], X, Y, np.arange(N), False, N, _opt.FUSED, np.zeros(2), 0, False)
        grad /= self.dtype.type(N)
        K = self.n_layers
        return [_k._W(grad, self._lay, k) for k in range(K)], [_k._b(grad, self._lay, k) for k in range(K)]

    def _private_theta(self):
        """A copy of θ (or of a running fit's snapshot) for gradients and backprop: their kernels
        compile only for writable θ (the training branch steps it), and must not see a fit that
        starts in another thread write it; predict and loss read θ in place, read-only too."""
        with self._reading() as theta:
            return theta.copy()

    def _unrolled_epoch(self, direct):
        """The generated straight-line epoch when this net is tiny enough, else None."""
        key = (self._path, direct)
        if key not in self._unrolled:
            epoch = None
            if self._path == _k.UNROLLED or (self._path == _k.AUTO and self.n_params <= _unrolled.MAX_PARAMS):
                codes = [int(c) for c in self._lay[:, _k.ACT]]
                epoch = _unrolled.epoch_for(self.sizes, codes, self._loss, direct)
            self._unrolled[key] = epoch
        return self._unrolled[key]

    # ------------------------------------------------------------------ training
    def fit(self, X, Y, epochs=10, batch_size=32, lr=None, shuffle=True, seed=None, verbose=False,
            threads=None, optimizer=None, *, sample_weight=None, validation_data=None,
            validation_split=0.0, early_stopping=None, callbacks=None, metrics=None):
        """Train on X, Y for ``epochs`` epochs of minibatches; one optimizer step per batch.

        ``optimizer``: a name from ``fastnn.OPTIMIZERS`` ("sgd", "adam", "adamw", "rmsprop") or an
        object such as ``fastnn.Adam(lr=1e-3)``. None continues ``self.optimizer`` (the one the
        last fit used, with its state), or starts plain SGD: W^[k] ← W^[k] − lr · (mean of
        ∂L/∂W^[k] over the batch). A name that matches ``self.optimizer``'s kind also continues
        it. ``lr`` sets the optimizer's learning rate (default: the optimizer's own, 0.01 for SGD).

        ``sample_weight``: one weight >= 0 per row; each batch's gradient and loss become the
        weighted means Σ w (·) / Σ w over the batch (scikit-learn's rule).

        Validation: ``validation_data=(Xv, Yv)`` or ``(Xv, Yv, wv)``, or ``validation_split=f``,
        which holds out the last fraction f of the rows (before any shuffling). Each epoch then
        logs ``val_loss`` and ``val_<name>`` for each of ``metrics`` ("accuracy", "r2", "mae",
        "mse", or functions f(y_true, y_pred) → float, named by ``__name__``).

        ``early_stopping``: True, a patience, or a ``fastnn.EarlyStopping``: stop when the
        validation loss (else the training loss) has not improved for ``patience`` epochs, and
        restore the best epoch's weights. ``callbacks``: ``fastnn.Callback`` objects or functions
        ``f(net, epoch, logs)`` called after each epoch; returning True stops training.

        Returns a ``History``: ``history["loss"]`` holds each epoch's mean training loss (each
        batch's taken before its update), then ``val_loss``, ``time`` (seconds) and ``lr``. If
        the loss or the weights turn non-finite, the weights go back to the end of the last
        finite epoch, the optimizer's moments restart from zero, and ``DivergedError`` is raised.

        Ctrl-C (in the main thread) stops training within about RUN_SECONDS (50 ms): epochs run
        as runs of whole batches, and training stops after the run in progress. The weights and
        the optimizer are then those after the last finished batch (never half a batch), and
        the ``KeyboardInterrupt`` raised carries the ``History`` of the finished epochs as
        ``.history`` and the number of batches done in the interrupted epoch as ``.batches``
        (0: it stopped between epochs). A second Ctrl-C interrupts at once.

        Threads: a fit owns θ. It waits for inference calls (predict, loss, gradients,
        backprop) that other threads already started, and while it runs, those threads' calls
        see a consistent snapshot: θ at the start of this fit, or at the end of the last
        finished epoch once they have asked. A second fit of the same network at the same time
        raises RuntimeError.

        ``threads``: into how many parts each batch is split, for as many cores (BLAS runs one
        thread per core). None picks by size: one for small nets, else every core this process
        may use (``FASTNN_NUM_THREADS`` caps it). When another process holds a core, fit runs
        the parts on fewer threads for as long as that is faster (``_parallel.ThreadChoice``).
        A seeded run's result depends on the data, the arguments and the number of parts, never
        on timing or load; different part counts differ in the last bits.

        A network whose parameters are read-only (loaded with ``joblib.load(mmap_mode="r")``)
        first copies them into memory of its own; the file is never written.
        """
        if type(epochs) is not int or epochs <= 0:  # (the common case checked first: short calls)
            epochs = _positive_int("epochs", epochs)
        if type(batch_size) is not int or batch_size <= 0:
            batch_size = _positive_int("batch_size", batch_size)
        if lr is not None and not (type(lr) is float and 0 < lr < math.inf) and (
                isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (int, float, np.integer, np.floating))
                or not np.isfinite(lr) or lr <= 0):
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        if threads is not None:
            threads = _positive_int("threads", threads)
        opt = self._optimizer(optimizer, lr)
        names = _feature_names(X)
        X, Y = self._check_XY(X, Y)
        sw = self._check_weights(sample_weight, len(X))
        val, cbs = None, []
        if validation_data is not None or not (type(validation_split) is float and validation_split == 0):
            X, Y, sw, val = self._validation(X, Y, sw, validation_data, validation_split, names)
        if callbacks is not None or early_stopping is not None:
            cbs = _prepare_callbacks(callbacks, early_stopping)
        metrics = self._metrics(metrics, val is not None)
        for cb in cbs:  # a monitor that no log will hold is refused before any training
            check = getattr(cb, "check_monitor", None)
            if check is not None:
                check({"loss", "time", "lr"} | ({"val_loss", *(k for k, _ in metrics)} if val else set()))
        N = len(X)
        batch = min(batch_size, N)
        rng = self._rng if seed is None else np.random.default_rng(seed)
        unrolled = None if sw.size else self._unrolled_epoch(direct=batch == 1 and opt.fused)
        n_threads, by_columns = 1, False
        if unrolled is None:
            n_threads, by_columns = _parallel.plan(threads, self.sizes, batch, self._path)
        self._claim()
        try:
            self._own_parameters()
            if lr is not None:
                opt.lr = float(lr)
            self.optimizer = opt
            if names is not None:
                self.feature_names_in_ = names
            run = _Run(X, Y, sw, batch, opt, shuffle, rng, unrolled, None, val, metrics, cbs)
            # BLAS at one thread: fastnn splits the work itself (``_parallel``), and results
            # never depend on whether BLAS threads a product (none does below the threshold).
            hold = 0 if unrolled is not None else math.inf if n_threads > 1 else batch * self._layer_work
            with _parallel.blas_hold(hold):
                if n_threads == 1:
                    return self._fit_epochs(run, epochs, verbose)
                choice = self._thread_choice.setdefault((n_threads, by_columns, batch),
                                                        _parallel.ThreadChoice(n_threads))
                with _parallel.EpochPool(n_threads, by_columns, choice) as run.pool:
                    return self._fit_epochs(run, epochs, verbose)
        finally:
            self._release()

    def _validation(self, X, Y, sw, data, split, names):
        """(X, Y, sw) to train on and the checked validation (Xv, Yv, wv), or None.
        ``names``: X's feature names, which a validation DataFrame's columns must match."""
        if data is not None and split:
            raise ValueError("pass validation_data or validation_split, not both")
        if data is not None:
            if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (Xv, Yv) or (Xv, Yv, sample_weight)")
            self._check_names(data[0], "validation_data's X", names)
            Xv, Yv = self._check_XY(data[0], data[1], "validation_data's X")
            wv = self._check_weights(data[2] if len(data) == 3 else None, len(Xv),
                                     "validation_data's sample_weight")
            return X, Y, sw, (Xv, Yv, wv)
        if isinstance(split, bool) or not isinstance(split, (int, float, np.number)) or not 0 <= split < 1:
            raise ValueError(f"validation_split must be a fraction in [0, 1), got {split!r}")
        if not split:
            return X, Y, sw, None
        n_val = int(round(len(X) * split))
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

    def _metrics(self, metrics, validating):
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
            if isinstance(m, str) and m in _METRICS:
                multilabel = m == "accuracy" and self.loss_name == "binary_cross_entropy"
                out.append((f"val_{m}", _label_accuracy if multilabel else _METRICS[m]))
            elif callable(m):
                out.append((f"val_{getattr(m, '__name__', 'metric')}", m))
            else:
                raise ValueError(f"metrics: unknown metric {m!r}; pass names from {sorted(_METRICS)} "
                                 "or functions f(y_true, y_pred) -> float")
        return out

    def _own_parameters(self):
        """Copy read-only (memory-mapped) parameters or optimizer state before training writes them."""
        if not self._theta.flags.writeable:
            self._theta = np.array(self._theta)  # a plain ndarray, not another memmap
            self._views()
        opt = self.optimizer
        if opt is not None and opt.state is not None and not opt.state.flags.writeable:
            opt.state = np.array(opt.state)

    def _optimizer(self, spec, lr):
        """fit's optimizer: ``self.optimizer`` continued, or a new one from a name or object."""
        current = self.optimizer
        if spec is None:
            return current if current is not None else _opt.SGD(lr=0.01 if lr is None else lr)
        if isinstance(spec, str) and current is not None and current.name == spec.lower():
            return current
        new = _opt.get(spec, lr)
        new.bind(self.n_params, self.dtype)  # a mismatched object is refused before any work
        return new

    def _fit_epochs(self, run, epochs, verbose):
        """fit's epoch loop, on the kernel chosen: unrolled, threaded (pool) or serial."""
        X, sw, batch, opt = run.X, run.sw, run.batch, run.opt
        N = len(X)
        n_batches = -(-N // batch)
        bufs = None if run.unrolled is not None else self._batch_buffers(batch)
        # With shuffle, each epoch's order is a fresh permutation of ``order``; without, the
        # kernels read rows in place and never look at perm. (Shuffling one row draws nothing.)
        run.shuffle = run.shuffle and N > 1
        order = np.arange(N if run.shuffle else 0, dtype=np.int64)
        perm = order.copy()
        swp = sw.copy() if run.shuffle else sw  # the weights in the epoch's order
        backup = np.empty_like(self._theta)  # θ at the last finite epoch, for rollback
        state = opt.bind(self.n_params, self.dtype)
        # Plain SGD steps θ inside the gradient GEMM and needs no gradient buffer.
        code = _opt.FUSED if opt.fused else opt.code
        grad = self._theta[:0] if opt.fused else np.empty_like(self._theta)
        history = History()
        for cb in run.callbacks:
            cb.on_train_begin(self, history)

        epoch_iter = range(1, epochs + 1)
        if verbose:
            from tqdm.auto import tqdm

            epoch_iter = tqdm(epoch_iter, desc="fit", unit="epoch")
        with deferred_interrupt() as interrupted:
            for epoch in epoch_iter:
                t0 = time.perf_counter()
                if run.shuffle:  # each epoch's order depends on the generator alone, so fits resume
                    np.copyto(perm, order)
                    run.rng.shuffle(perm)
                    if sw.size:
                        np.take(sw, perm, out=swp)
                np.copyto(backup, self._theta)
                h = opt.hyper()
                loss, done = 0.0, 0
                bar = self._batch_bar(N, batch, epoch) if verbose else None
                # Runs of whole batches of about RUN_SECONDS, Ctrl-C between them. The unrolled
                # epoch (tiny nets, ~0.1 µs a sample) runs whole: it keeps θ in registers, whose
                # precision a run boundary would change.
                while done < N:
                    rows = N if run.unrolled is not None else self._run_rows(batch, N - done)
                    c0 = time.perf_counter()
                    loss = self._run(run, done, done + rows, perm, swp, grad, state, bufs, code, h,
                                     opt.t + done // batch, loss, fresh=done == 0)
                    self._row_seconds = (time.perf_counter() - c0) / rows
                    done += rows
                    if bar is not None:
                        bar.update(-(-rows // batch))
                    if done < N and interrupted():
                        break
                if bar is not None:
                    bar.close()
                if done < N:  # Ctrl-C within the epoch: θ and the optimizer are after batch done/B
                    if not (math.isfinite(loss) and _k._all_finite(self._theta)):
                        self._diverged(loss / done, backup, opt, h, epoch)
                    opt.t += done // batch
                    raise _interrupted(history, done // batch, f"in epoch {epoch}, after {done // batch} "
                                                               f"of its {n_batches} batches")
                loss /= N
                if not (math.isfinite(loss) and _k._all_finite(self._theta)):
                    self._diverged(loss, backup, opt, h, epoch)
                opt.t += n_batches
                opt.epoch += 1
                opt.schedule.report(float(loss))
                logs = {"loss": float(loss), "time": time.perf_counter() - t0, "lr": float(h[0])}
                if run.val is not None:
                    logs.update(self._validate(run))
                history.append(logs)
                stop = False
                for cb in run.callbacks:
                    stop = bool(cb.on_epoch_end(self, epoch, logs)) or stop
                if verbose:
                    epoch_iter.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k != "time"},
                                           refresh=False)
                if self._snapshot_wanted:
                    self._publish()
                if interrupted():
                    raise _interrupted(history, 0, f"after epoch {epoch}")
                if stop:
                    history.stopped_epoch = epoch
                    break
        for cb in run.callbacks:
            cb.on_train_end(self, history)
        return history

    def _run(self, run, r0, r1, perm, swp, grad, state, bufs, code, h, t0, total, fresh):
        """Batches r0/B .. r1/B of the epoch, on the kernel chosen (unrolled, threaded or
        serial); returns ``total`` plus their Σ L. Rows come from perm[r0:r1] (shuffle), or are
        X[r0:r1] in place."""
        args = (self._theta, grad, state)
        if run.unrolled is not None:  # always a whole epoch (see _fit_epochs)
            return total + run.unrolled(*args, run.X, run.Y, perm, run.shuffle, run.batch, code, h, t0, True)
        X, Y, sw = run.X, run.Y, swp[r0:r1]
        if run.shuffle:
            perm = perm[r0:r1]
        else:
            X, Y = X[r0:r1], Y[r0:r1]
        _, abuf, pbuf, xb, yb = bufs
        if run.pool is not None:
            return run.pool.epoch(*args, self._lay, X, Y, sw, perm, run.shuffle, xb, yb, abuf, pbuf,
                                  run.batch, self._loss, code, h, t0, self._path, rows=r1 - r0, fresh=fresh)
        return _k._epoch(*args, self._lay, X, Y, sw, perm, run.shuffle, xb, yb, abuf, pbuf, run.batch,
                         self._loss, code, h, t0, self._path, total)

    def _run_rows(self, batch, left):
        """Rows for fit's next kernel call: whole batches worth about RUN_SECONDS by the last
        call's speed (one batch on a network's first call), or all that is left."""
        if self._row_seconds is None:
            return min(batch, left)
        rows = int(RUN_SECONDS / max(self._row_seconds, 1e-12)) // batch * batch
        return min(max(rows, batch), left)

    def _batch_bar(self, N, batch, epoch):
        """A progress bar over the epoch's batches (fit with verbose) when the epoch looks long."""
        if self._row_seconds is None or self._row_seconds * N < LONG_EPOCH_SECONDS:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=-(-N // batch), desc=f"epoch {epoch}", unit="batch", leave=False)

    def _diverged(self, loss, backup, opt, h, epoch):
        """θ back to ``backup``, the moments reset, and DivergedError (loss or θ not finite)."""
        np.copyto(self._theta, backup)
        opt.reset()
        last = f"the end of epoch {epoch - 1}" if epoch > 1 else "their initial values"
        raise DivergedError(
            f"training diverged in epoch {epoch} (loss {loss}); weights were restored "
            f"to {last}. Try a smaller lr than {h[0]:g}, e.g. lr={h[0] / 10:g}",
            epoch=epoch, loss=float(loss))

    def _validate(self, run):
        """val_loss and the val_<metric> values of the current θ on the validation rows."""
        Xv, Yv, wv = run.val
        logs = {"val_loss": self._mean_loss(Xv, Yv, wv)}
        if run.metrics:
            P = self._predict(Xv)
            for key, fn in run.metrics:
                logs[key] = float(fn(Yv, P))
        return logs

    # ------------------------------------------------------------------ display
    def summary(self):
        """A table of the layers in the seed's 1-based numbering."""
        rows = [("k", "W^[k]", "b^[k]", "psi^[k]", "params")]
        for k, (W, a) in enumerate(zip(self.weights, self.activations), start=1):
            n_out, n_in = W.shape
            rows.append((str(k), f"{n_out} x {n_in}", f"{n_out}", a, f"{n_out * n_in + n_out:,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        fmt = lambda r: "  ".join(s.ljust(w) if c == 3 else s.rjust(w) for c, (s, w) in enumerate(zip(r, widths)))
        lines = [f"Network(sizes={self.sizes}, loss={self.loss_name}, dtype={self.dtype.name})", fmt(rows[0])]
        lines.append("-" * len(lines[-1]))
        lines += [fmt(r) for r in rows[1:]]
        lines.append(f"total params: {self.n_params:,}")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()

    def __repr__(self):
        return (f"Network(sizes={self.sizes}, activations={self.activations}, loss='{self.loss_name}', "
                f"dtype='{self.dtype.name}')")

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Write an .npz with the architecture, loss, parameters, optimizer state and the
        shuffling generator's state, atomically; ``load`` then resumes training exactly.

        The file is written next to ``path`` under a temporary name, then renamed over it: if
        writing fails (a full disk, an error, a killed process), an existing file at ``path``
        stays as it was. It keeps that file's permission bits, or gets 0o666 less the umask.
        Errors are ``OSError`` naming ``path``: ``FileNotFoundError`` when its folder does not
        exist, ``PermissionError``, errno ENOSPC for a full disk.

        While another thread's ``fit`` trains this network, ``save`` raises RuntimeError (the
        optimizer's state is mid-update); save from a callback of that fit, or after it returns.
        """
        with self._reading() as theta:
            if theta is not self._theta:
                raise RuntimeError("save: this network is training in another thread; save from one "
                                   "of that fit's callbacks (fit(callbacks=[...])), or after it returns")
            self._save(path)

    def _save(self, path):
        opt, opt_state = self.optimizer, self._theta[:0]
        opt_meta = ""
        if opt is not None:
            opt_state = opt.state if opt.state is not None else opt_state
            opt_meta = json.dumps({
                "name": opt.name, "config": opt.config(), "t": opt.t, "epoch": opt.epoch,
                "schedule": {"name": opt.schedule.name, "state": opt.schedule.get_state()}})
        names = self.feature_names_in_
        atomic_write(path, lambda f: np.savez(
            f,
            format_version=np.int64(FORMAT_VERSION),
            sizes=np.asarray(self.sizes, dtype=np.int64),
            activations=np.asarray(self.activations, dtype="U32"),
            loss=np.asarray(self.loss_name),
            dtype=np.asarray(self.dtype.name),
            params=self._theta,
            rng=np.asarray(json.dumps(self._rng.bit_generator.state)),
            optimizer=np.asarray(opt_meta),
            optimizer_state=opt_state,
            feature_names=np.asarray([] if names is None else list(names), dtype="U"),
        ))

    @classmethod
    def load(cls, path):
        """Read a model written by ``save`` (format 1, 2 or 3), trusting nothing in the file.

        Every field is checked before anything sized by the file is allocated, and the weights
        are read from the file, never drawn at random first. A damaged, hostile or foreign file,
        or one whose network needs more memory than is available, raises ``ValueError`` naming
        the file and the field; a missing file raises ``FileNotFoundError``. Never unpickles.
        """
        from . import _persist

        return _persist.load(cls, path)


def _restore_optimizer(meta):
    """The optimizer ``save`` described in ``meta`` (hyperparameters, schedule, step and epoch
    counters), without its state buffers; KeyError, TypeError or ValueError if ``meta`` is not
    such a description."""
    schedule = meta["schedule"]
    opt = _opt.OPTIMIZERS[meta["name"]](
        **meta["config"], schedule=_schedules.from_state(schedule["name"], schedule["state"]))
    for counter in ("t", "epoch"):
        value = meta[counter]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{counter} must be a non-negative integer, got {value!r}")
        setattr(opt, counter, value)
    return opt
