"""What ``Network.fit`` reports and who may stop it: ``History``, callbacks, ``EarlyStopping``.

After each epoch ``fit`` builds the epoch's ``logs`` (``loss``, ``time``, ``lr``, and with
validation data ``val_loss`` and ``val_<metric>``), appends them to the ``History`` and hands
them to every callback. A callback is a ``Callback`` object or a plain function
``f(net, epoch, logs)``; returning True stops training after that epoch.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import _compat

if TYPE_CHECKING:
    from types import FrameType

    from typing_extensions import Self

    from ._typing import CallbackFunction, FloatArray, Logs
    from ._typing import NetworkLike as Network


class History(dict[str, list[float]]):
    """One list per logged quantity, one entry per finished epoch: ``history["loss"]`` or
    ``history.loss``, ``val_loss``, ``time``, ``lr``, ``val_<metric>``.

    ``best_epoch``: the 1-based epoch whose weights an ``EarlyStopping`` restored (else None);
    ``stopped_epoch``: the epoch after which a callback stopped training (else None);
    ``interrupted``: True when Ctrl-C ended the fit (the history is then attached to the
    ``KeyboardInterrupt`` as its ``history``).
    """

    # (class-level defaults, set on the instance when they change: a one-row fit makes a
    # History per call)
    best_epoch: int | None = None
    stopped_epoch: int | None = None
    interrupted: bool = False

    def __init__(self) -> None:
        super().__init__(loss=[], time=[], lr=[])

    def __getattr__(self, key: str) -> list[float]:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    @property
    def epochs(self) -> int:
        """How many epochs finished."""
        return len(self["loss"])

    def append(self, logs: Mapping[str, float]) -> None:
        """Record one finished epoch: each value of ``logs`` goes at the end of its key's list.

        Parameters
        ----------
        logs : mapping of str to float
            The epoch's logs, as ``fit`` hands them to the callbacks; a key not seen before
            starts a new list.
        """
        for key, value in logs.items():
            self.setdefault(key, []).append(value)

    def plot(self, keys: str | Sequence[str] | None = None, ax: Any = None) -> Any:
        """Plot the per-epoch curves with matplotlib: losses on ``ax``, metrics on a second y-axis.

        Parameters
        ----------
        keys : list of str, optional
            The logged quantities to draw. Default: every one but ``time`` and ``lr``, so the
            losses (``loss``, ``val_loss``) and the logged metrics (``val_accuracy``,
            ``val_r2``, ``val_mae``, a key a callback writes, ...).
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.

        Returns
        -------
        matplotlib Axes
            ``ax``. Keys ending in ``loss`` go on it (left y-axis). When other keys are drawn
            with them, those go on a twin axes sharing the epochs (right y-axis, dashed lines),
            ``ax.right_ax`` (as pandas names its ``secondary_y`` axes), and one legend lists
            both. With only losses or only metrics, everything is drawn on ``ax``.

        Raises
        ------
        ValueError
            If a key was not logged.

        Examples
        --------
        >>> import numpy as np
        >>> from fastnn import Network
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(80, 2))
        >>> y = (X[:, 0] * X[:, 1] > 0).astype(int)
        >>> net = Network([2, 8, 2], ["relu", "softmax"], loss="cross_entropy", seed=0)
        >>> history = net.fit(X, y, epochs=5, validation_split=0.25, metrics="accuracy")
        >>> ax = history.plot()
        >>> [line.get_label() for line in ax.get_lines()]
        ['loss', 'val_loss']
        >>> [line.get_label() for line in ax.right_ax.get_lines()]
        ['val_accuracy']
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError('History.plot needs matplotlib: pip install matplotlib') from None
        if keys is None:
            keys = [k for k in self if k not in ("time", "lr")]
        elif isinstance(keys, str):
            keys = [keys]
        missing = [k for k in keys if k not in self]
        if missing:
            raise ValueError(f"History.plot: {missing} not logged; keys are {sorted(self)}")
        if ax is None:
            ax = plt.figure().add_subplot()
        losses = [k for k in keys if k.endswith("loss")]
        metrics = [k for k in keys if not k.endswith("loss")]
        right = None
        if losses and metrics:
            right = getattr(ax, "right_ax", None)
            if right is None:
                right = ax.right_ax = ax.twinx()
                right.left_ax = ax
            right.set_ylabel("metric")
            ax.set_ylabel("loss")
        elif losses:
            ax.set_ylabel("loss")
        # one color cycle over both axes, so a metric's line never takes a loss's color
        shift = len(ax.get_lines()) + (len(right.get_lines()) if right is not None else 0)
        for i, key in enumerate(keys):
            on, style = (right, "--") if right is not None and key in metrics else (ax, "-")
            on.plot(range(1, len(self[key]) + 1), self[key], style, label=key, color=f"C{(shift + i) % 10}")
        ax.set_xlabel("epoch")
        # one legend for both axes, on the twin if there is one (it is drawn above ax's lines)
        top = getattr(ax, "right_ax", None)
        handles, labels = ax.get_legend_handles_labels()
        if top is not None:
            more = top.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        (top or ax).legend(handles, labels)
        return ax

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.items() if v and k != "time"}
        return f"History(epochs={self.epochs}, last={last})"


class Callback:
    """Override any of these; ``on_epoch_end`` returns True to stop training.

    The hooks take ``net`` as ``Any`` so that a subclass may annotate it as ``fastnn.Network``.
    """

    def on_train_begin(self, net: Any, history: History) -> None:
        """Called by ``fit`` before the first epoch.

        Parameters
        ----------
        net : Network
            The network being trained.
        history : History
            The fit's history, empty so far.
        """

    def on_epoch_end(self, net: Any, epoch: int, logs: Logs) -> bool | None:
        """Called by ``fit`` after each epoch, once its logs are in the history.

        Parameters
        ----------
        net : Network
            The network being trained, with this epoch's θ.
        epoch : int
            The epoch that just finished, 1-based.
        logs : dict of str to float
            The epoch's logs (``loss``, ``time``, ``lr``, ``val_*``); a callback may add keys
            that the callbacks after it read.

        Returns
        -------
        bool or None
            True to stop training after this epoch.
        """
        return False

    def on_train_end(self, net: Any, history: History) -> None:
        """Called by ``fit`` once training ends, however it ends (finished, stopped, diverged or
        interrupted).

        Parameters
        ----------
        net : Network
            The network that was trained.
        history : History
            The fit's history.
        """


class _Function(Callback):
    def __init__(self, fn: CallbackFunction) -> None:
        self.fn = fn

    def on_epoch_end(self, net: Network, epoch: int, logs: Logs) -> bool | None:
        return self.fn(net, epoch, logs)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Pass it as ``fit(..., early_stopping=EarlyStopping(...))`` (``early_stopping=True`` or a
    patience builds one with the defaults).

    Parameters
    ----------
    monitor : str, optional
        Any key of the epoch's logs: ``"loss"``, ``"val_loss"``, or ``"val_<metric>"`` for each
        of fit's ``metrics`` (``"val_accuracy"``, ``"val_r2"``, ``"val_mae"``, ``"val_mse"``,
        ``"val_<__name__>"`` of a metric function), or a key that an earlier callback writes
        into ``logs``. None (default): ``"val_loss"`` when fit has validation data, else
        ``"loss"``. A ``val_*`` key that fit will not log is refused before training starts.
    patience : int, default 10
        Epochs without an improvement larger than ``min_delta`` before training stops.
    min_delta : float, default 0.0
        The least change that counts as an improvement, in the monitored quantity's units.
    mode : {"auto", "min", "max"}, default "auto"
        Whether smaller ("min") or larger ("max") values are better. "auto" maximizes keys
        containing ``acc``, ``score`` or ``r2`` (``val_accuracy``, ``val_r2``) and minimizes
        every other (losses, ``val_mae``, ``val_mse``); pass "max" for a metric function whose
        name says neither, e.g. ``val_f1``.
    restore_best_weights : bool, default True
        At the end of training, θ goes back to the epoch with the best value and
        ``history.best_epoch`` names it. The best is updated on any improvement, while the
        patience count only resets on one larger than ``min_delta`` (scikit-learn's rule for
        its ``tol``).

    Raises
    ------
    ValueError
        For a patience that is not a positive integer, a negative or non-finite
        ``min_delta``, an unknown ``mode``, or (at fit) a ``monitor`` the logs do not hold.

    Examples
    --------
    Stop when the validation accuracy has not risen for 3 epochs, and keep the best epoch's
    weights:

    >>> import numpy as np
    >>> from fastnn import EarlyStopping, Network
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] * X[:, 1] > 0).astype(int)
    >>> net = Network([2, 16, 2], ["tanh", "softmax"], loss="cross_entropy", seed=0)
    >>> stop = EarlyStopping(monitor="val_accuracy", mode="max", patience=3)
    >>> history = net.fit(X, y, epochs=200, lr=0.1, validation_split=0.25,
    ...                   metrics="accuracy", early_stopping=stop)
    >>> history.stopped_epoch < 200
    True
    >>> best = history.best_epoch
    >>> history.val_accuracy[best - 1] == max(history.val_accuracy)
    True

    ``mode="min"`` for a metric where smaller is better, e.g. the mean absolute error of a
    regression: ``EarlyStopping(monitor="val_mae", mode="min")`` with ``metrics="mae"``.
    """

    # Set by on_train_begin, for one fit.
    _key: str | None  # the monitored key; None until the first epoch's logs pick a default
    best: float | None  # the best value so far, sign-flipped so that smaller is better
    best_epoch: int | None
    wait: int  # epochs since the last improvement larger than min_delta
    _theta: FloatArray | None  # θ at the best epoch, when restore_best_weights

    def __init__(self, monitor: str | None = None, patience: int | np.integer[Any] = 10,
                 min_delta: float = 0.0, mode: str = "auto", restore_best_weights: bool = True) -> None:
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
            raise ValueError(f"patience must be a positive integer, got {patience!r}")
        if not (isinstance(min_delta, (int, float, np.number)) and math.isfinite(min_delta)
                and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.mode, self.restore_best_weights = mode, restore_best_weights

    def check_monitor(self, keys: Collection[str]) -> None:
        """Called by fit before training with the keys its logs will hold (other keys may
        still come from callbacks that write into the logs, so only val_* keys are checked).

        Parameters
        ----------
        keys : collection of str
            The keys of fit's logs.

        Raises
        ------
        ValueError
            If ``monitor`` is a ``val_*`` key not among ``keys``.
        """
        if self.monitor is not None and self.monitor.startswith("val_") and self.monitor not in keys:
            raise ValueError(f"EarlyStopping(monitor={self.monitor!r}): fit logs only {sorted(keys)}; "
                             "pass validation_data or validation_split (and the metric), "
                             "or monitor one of those")

    def on_train_begin(self, net: Network, history: History) -> None:
        self._key = self.monitor
        self.best, self.best_epoch, self.wait, self._theta = None, None, 0, None

    def on_epoch_end(self, net: Network, epoch: int, logs: Logs) -> bool:
        if self._key is None:
            self._key = "val_loss" if "val_loss" in logs else "loss"
        if self._key not in logs:
            raise ValueError(f"EarlyStopping(monitor={self._key!r}): fit logs only {sorted(logs)}; "
                             "pass validation data for val_* keys, or monitor one of those")
        sign = -1.0 if self._maximize() else 1.0
        value = sign * float(logs[self._key])  # smaller is better from here on
        if self.best is None or value < self.best:
            improved_enough = self.best is None or value < self.best - self.min_delta
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self._theta = net.snapshot()  # θ and batch norm's running statistics
            if improved_enough:
                self.wait = 0
                return False
        self.wait += 1
        return self.wait >= self.patience

    def on_train_end(self, net: Network, history: History) -> None:
        if self.restore_best_weights and self._theta is not None:
            net.restore(self._theta)
            history.best_epoch = self.best_epoch
        self._theta = None

    def _maximize(self) -> bool:
        if self.mode != "auto":
            return self.mode == "max"
        assert self._key is not None  # on_epoch_end picked it before calling
        return any(s in self._key for s in ("acc", "score", "r2"))


def prepare(callbacks: Any, early_stopping: Any) -> list[Callback]:
    """fit's list of Callback objects from its ``callbacks`` and ``early_stopping`` arguments.

    Parameters
    ----------
    callbacks : Callback, callable, iterable of those, or None
        fit's ``callbacks``: ``Callback`` objects or functions ``f(net, epoch, logs)``.
    early_stopping : bool, int, EarlyStopping or None
        fit's ``early_stopping``: True for the defaults, a patience, or an ``EarlyStopping``.

    Returns
    -------
    list of Callback
        The callbacks in order, functions wrapped, the ``EarlyStopping`` last.

    Raises
    ------
    ValueError
        If either argument is none of those.
    """
    if callbacks is None:
        callbacks = []
    elif callable(callbacks) or isinstance(callbacks, Callback):
        callbacks = [callbacks]
    else:
        try:
            callbacks = list(callbacks)
        except TypeError:
            raise ValueError(f"callbacks must be a list of fastnn.Callback objects or functions "
                             f"f(net, epoch, logs), got {callbacks!r}") from None
    out: list[Callback] = []
    for cb in callbacks:
        if isinstance(cb, Callback):
            out.append(cb)
        elif callable(cb):
            out.append(_Function(cb))
        else:
            raise ValueError(f"callbacks: {cb!r} is neither a fastnn.Callback nor a function "
                             "f(net, epoch, logs); pass a list of those")
    if early_stopping is None or early_stopping is False:
        return out
    if early_stopping is True:
        early_stopping = EarlyStopping()
    elif isinstance(early_stopping, (int, np.integer)) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=early_stopping)
    if not isinstance(early_stopping, EarlyStopping):
        raise ValueError(f"early_stopping must be True, a patience (int) or a fastnn.EarlyStopping, "
                         f"got {early_stopping!r}")
    return [*out, early_stopping]


class deferred_interrupt:
    """``with deferred_interrupt() as pressed:`` within the block a first Ctrl-C only sets a flag
    (``pressed()`` reads it), so fit can stop at the end of a run of batches with consistent
    weights; a second one interrupts at once. Outside the main thread, or under a custom SIGINT
    handler, nothing changes. (A class, not a generator: fit enters it once per call.)"""

    _pressed: bool  # a first Ctrl-C came
    _installed: bool  # our handler replaced the default one

    def __enter__(self) -> Self:
        sig = _compat.signals  # signal's C functions, without the enum wrappers
        self._pressed = False
        self._installed = (threading.current_thread() is threading.main_thread()
                           and sig.getsignal(sig.SIGINT) is sig.default_int_handler)
        if self._installed:
            sig.signal(sig.SIGINT, self._handler)
        return self

    def __call__(self) -> bool:
        return self._pressed

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self._pressed:
            raise KeyboardInterrupt
        self._pressed = True

    def __exit__(self, *exc: object) -> Literal[False]:
        if self._installed:
            sig = _compat.signals
            sig.signal(sig.SIGINT, sig.default_int_handler)
        return False
