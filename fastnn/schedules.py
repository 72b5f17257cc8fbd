"""Learning-rate schedules, set once per epoch: the table ``SCHEDULES`` and its classes.

An optimizer holds one schedule and, for each epoch ``e`` (0-based, counting every epoch that
optimizer has trained, across fit calls), trains with ``schedule.lr(base_lr, e)`` and then calls
``schedule.report(loss)`` with that epoch's training loss. Only ``ReduceOnPlateau`` uses the
loss; the others are closed forms of ``e``. ``get_state()`` is a flat ``{str: float | int}``
dict holding the hyperparameters and whatever ``report`` changed, so
``from_state(schedule.name, schedule.get_state())`` resumes bit for bit.

>>> from fastnn import schedules
>>> s = schedules.ExponentialDecay(gamma=0.5)
>>> [s.lr(0.1, e) for e in range(3)]
[0.1, 0.05, 0.025]
>>> schedules.from_state(s.name, s.get_state())
ExponentialDecay(gamma=0.5)
"""
from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:
    from typing_extensions import Self


@overload
def _check(name: str, value: Any, where: str, ok: Callable[[Any], bool],
           integer: Literal[False] = ...) -> float: ...
@overload
def _check(name: str, value: Any, where: str, ok: Callable[[Any], bool],
           integer: Literal[True]) -> int: ...


def _check(name: str, value: Any, where: str, ok: Callable[[Any], bool], integer: bool = False) -> float:
    """``value`` as a float (or int), or a ValueError naming ``name`` and the valid range.
    bool is refused as a number; NaN fails every comparison in ``ok``, so it is refused too."""
    kind: Any = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not ok(value):
        what = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {what} {where}, got {value!r}")
    return int(value) if integer else float(value)


class Schedule:
    """Base class of the learning-rate schedules.

    A subclass sets ``name`` (its key in ``SCHEDULES``), ``_hyper`` (its constructor's
    arguments, in order) and ``_state`` (what ``report`` changes), and defines ``lr``.

    Attributes
    ----------
    name : str
        Its key in ``SCHEDULES`` (class attribute).
    """

    name = ""  # its key in SCHEDULES
    _hyper: tuple[str, ...] = ()  # constructor arguments, in order
    _state: tuple[str, ...] = ()  # what report() changes

    def lr(self, base_lr: float, epoch: int) -> float:
        """The learning rate of an epoch.

        Parameters
        ----------
        base_lr : float
            The optimizer's ``lr``.
        epoch : int
            The epoch, 0-based, counting every epoch the optimizer has trained (across fits).

        Returns
        -------
        float
        """
        raise NotImplementedError

    def report(self, loss: float) -> None:
        """Called after each epoch with that epoch's loss; only ReduceOnPlateau uses it.

        Parameters
        ----------
        loss : float
            The epoch's mean training loss.
        """

    def get_state(self) -> dict[str, float | int]:
        """The hyperparameters and what ``report`` changed, as a flat numeric dict.

        Returns
        -------
        dict of str to float or int
            What ``from_state`` (or ``set_state``, for the changed part) takes back.
        """
        return {k: getattr(self, k) for k in self._hyper + self._state}

    def set_state(self, d: dict[str, float | int]) -> None:
        """Restore what report() changed (hyperparameters stay as constructed).

        Parameters
        ----------
        d : dict
            A dict from ``get_state()``.

        Raises
        ------
        ValueError
            If ``d`` lacks a key of the changing state.
        """
        missing = [k for k in self._state if k not in d]
        if missing:
            raise ValueError(f"state: {type(self).__name__} state lacks {missing}; "
                             "pass a dict from get_state()")
        for k in self._state:
            setattr(self, k, d[k])

    @classmethod
    def from_state(cls, d: dict[str, float | int]) -> Self:
        """A schedule of this class with the hyperparameters and state in ``d``.

        Parameters
        ----------
        d : dict
            A dict from ``get_state()`` of a schedule of this class.

        Returns
        -------
        Schedule

        Raises
        ------
        ValueError
            If ``d`` lacks a hyperparameter or a key of the changing state, or holds an
            invalid value.
        """
        missing = [k for k in cls._hyper if k not in d]
        if missing:
            raise ValueError(f"state: {cls.__name__} state lacks {missing}; pass a dict from get_state()")
        s = cls(**{k: d[k] for k in cls._hyper})
        s.set_state(d)
        return s

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper)
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """lr = base_lr for every epoch (the default when an optimizer is given no schedule)."""

    name = "constant"

    def lr(self, base_lr: float, epoch: int) -> float:
        """base_lr."""
        return base_lr


class StepDecay(Schedule):
    """lr = base_lr · gamma^⌊epoch / step_size⌋ (torch.optim.lr_scheduler.StepLR).

    Parameters
    ----------
    step_size : int
        Epochs between decays, ≥ 1.
    gamma : float, default 0.1
        The factor of each decay, in (0, inf).

    Raises
    ------
    ValueError
        If an argument is out of range.

    Examples
    --------
    >>> from fastnn.schedules import StepDecay
    >>> [StepDecay(step_size=2, gamma=0.5).lr(1.0, e) for e in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    name = "step"
    _hyper = ("step_size", "gamma")

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _check("step_size", step_size, "≥ 1 (epochs between decays)", lambda n: n >= 1,
                                integer=True)
        self.gamma = _check("gamma", gamma, "in (0, inf)", lambda g: 0 < g < math.inf)

    def lr(self, base_lr: float, epoch: int) -> float:
        """base_lr · gamma^⌊epoch / step_size⌋."""
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """lr = base_lr · gamma^epoch (torch.optim.lr_scheduler.ExponentialLR).

    Parameters
    ----------
    gamma : float
        The factor per epoch, in (0, inf).

    Raises
    ------
    ValueError
        If ``gamma`` is out of range.
    """

    name = "exponential"
    _hyper = ("gamma",)

    def __init__(self, gamma: float) -> None:
        self.gamma = _check("gamma", gamma, "in (0, inf)", lambda g: 0 < g < math.inf)

    def lr(self, base_lr: float, epoch: int) -> float:
        """base_lr · gamma^epoch."""
        return base_lr * self.gamma**epoch


class CosineAnnealing(Schedule):
    """lr = eta_min + (base_lr − eta_min)(1 + cos(π · epoch / T_max)) / 2.

    The closed form of torch.optim.lr_scheduler.CosineAnnealingLR: base_lr at epoch 0, eta_min
    at epoch T_max, and (as in torch) back up again after it, with period 2·T_max.

    Parameters
    ----------
    T_max : int
        Epochs from base_lr down to eta_min, ≥ 1.
    eta_min : float, default 0.0
        The lowest lr, in [0, inf).

    Raises
    ------
    ValueError
        If an argument is out of range.
    """

    name = "cosine"
    _hyper = ("T_max", "eta_min")

    def __init__(self, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = _check("T_max", T_max, "≥ 1 (epochs from base_lr down to eta_min)", lambda n: n >= 1,
                            integer=True)
        self.eta_min = _check("eta_min", eta_min, "in [0, inf)", lambda x: 0 <= x < math.inf)

    def lr(self, base_lr: float, epoch: int) -> float:
        """eta_min + (base_lr − eta_min)(1 + cos(π · epoch / T_max)) / 2."""
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class InverseScaling(Schedule):
    """lr = base_lr / (t + 1)^power_t, scikit-learn's ``learning_rate="invscaling"``.

    With ``per="epoch"`` (the default), t = epoch: the number of epochs trained before this one.
    scikit-learn's t is different: it is the number of training *samples* seen so far
    (``MLP.t_ += n_samples`` after each epoch, then ``SGDOptimizer.iteration_ends(t_)`` sets
    ``learning_rate_init / (t_ + 1) ** power_t``), so its epoch e runs at
    base / (e·n_samples + 1)^power_t. ``per=n_samples`` (a positive int, the rows per epoch)
    gives t = epoch · per, which is exactly that sequence; ``per="epoch"`` is ``per=1``.

    Parameters
    ----------
    power_t : float, default 0.5
        The exponent, in [0, inf).
    per : int or "epoch", default "epoch"
        Steps of t per epoch: the rows per epoch for scikit-learn's sequence, ≥ 1.

    Raises
    ------
    ValueError
        If an argument is out of range.
    """

    name = "invscaling"
    _hyper = ("power_t", "per")

    def __init__(self, power_t: float = 0.5, per: int | Literal["epoch"] = "epoch") -> None:
        self.power_t = _check("power_t", power_t, "in [0, inf)", lambda p: 0 <= p < math.inf)
        if per == "epoch":
            per = 1
        self.per = _check("per", per, "≥ 1 (samples per epoch), or 'epoch'", lambda n: n >= 1,
                          integer=True)

    def lr(self, base_lr: float, epoch: int) -> float:
        """base_lr / (epoch · per + 1)^power_t."""
        scale: float = (epoch * self.per + 1) ** self.power_t  # int ** float: typed Any
        return base_lr / scale


THRESHOLD_MODES = ("rel", "abs")
"""ReduceOnPlateau's threshold modes; get_state stores the index, so the state stays numeric."""


class ReduceOnPlateau(Schedule):
    """Multiply the lr by ``factor`` when the loss stops improving
    (torch.optim.lr_scheduler.ReduceLROnPlateau, mode="min").

    After each epoch, ``report(loss)``: the loss improves on ``best`` if it is below
    best·(1 − threshold) ("rel") or best − threshold ("abs"); otherwise it is a bad epoch. Bad
    epochs during ``cooldown`` epochs after a reduction are not counted. More than ``patience``
    bad epochs in a row reduce: lr = max(base_lr · factor^reductions, min_lr), never above
    base_lr. One difference from torch: torch skips a reduction that changes the lr by less than
    its ``eps=1e-8``; here every reduction applies (they differ only for lr near 1e-8).

    Parameters
    ----------
    factor : float, default 0.1
        The factor of each reduction, in (0, 1).
    patience : int, default 10
        Bad epochs tolerated in a row, ≥ 0.
    threshold : float, default 1e-4
        The improvement that counts, in [0, inf).
    threshold_mode : {"rel", "abs"}, default "rel"
        Whether ``threshold`` is relative to ``best`` or absolute.
    cooldown : int, default 0
        Epochs after a reduction whose bad epochs are not counted, ≥ 0.
    min_lr : float, default 0.0
        The lowest lr, in [0, inf).

    Attributes
    ----------
    best : float
        The lowest loss reported so far (inf before the first).
    num_bad_epochs : int
        Bad epochs in a row so far.
    cooldown_counter : int
        Cooldown epochs left.
    scale : float
        factor^(reductions so far).

    Raises
    ------
    ValueError
        If an argument is out of range.

    Examples
    --------
    >>> from fastnn.schedules import ReduceOnPlateau
    >>> s = ReduceOnPlateau(factor=0.5, patience=1)
    >>> for loss in (1.0, 1.0, 1.0):
    ...     s.report(loss)
    >>> s.lr(0.1, 3)
    0.05
    """

    name = "plateau"
    _hyper = ("factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr")
    _state = ("best", "num_bad_epochs", "cooldown_counter", "scale")

    def __init__(self, factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_mode: Literal["rel", "abs"] = "rel", cooldown: int = 0,
                 min_lr: float = 0.0) -> None:
        self.factor = _check("factor", factor, "in (0, 1)", lambda f: 0 < f < 1)
        self.patience = _check("patience", patience, "≥ 0 (bad epochs tolerated)", lambda n: n >= 0,
                               integer=True)
        self.threshold = _check("threshold", threshold, "in [0, inf)", lambda x: 0 <= x < math.inf)
        if threshold_mode not in THRESHOLD_MODES:
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.threshold_mode = threshold_mode
        self.cooldown = _check("cooldown", cooldown, "≥ 0 (epochs)", lambda n: n >= 0, integer=True)
        self.min_lr = _check("min_lr", min_lr, "in [0, inf)", lambda x: 0 <= x < math.inf)
        self.best = math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.scale = 1.0  # factor^(reductions so far)

    def lr(self, base_lr: float, epoch: int) -> float:
        """min(base_lr, max(base_lr · scale, min_lr))."""
        return min(base_lr, max(base_lr * self.scale, self.min_lr))

    def report(self, loss: float) -> None:
        """Count the epoch as good or bad and reduce the lr after too many bad ones.

        Parameters
        ----------
        loss : float
            The epoch's mean training loss.
        """
        loss = float(loss)
        if self.threshold_mode == "rel":
            better = loss < self.best * (1 - self.threshold)
        else:
            better = loss < self.best - self.threshold
        if better:
            self.best, self.num_bad_epochs = loss, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self.scale *= self.factor
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_state(self) -> dict[str, float | int]:
        """As ``Schedule.get_state``, with ``threshold_mode`` as its index in ``THRESHOLD_MODES``."""
        return dict(super().get_state(), threshold_mode=THRESHOLD_MODES.index(self.threshold_mode))

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> Self:
        """As ``Schedule.from_state``; ``threshold_mode`` may be its index or its name."""
        if "threshold_mode" in d:
            d = dict(d, threshold_mode=THRESHOLD_MODES[int(d["threshold_mode"])])
        return super().from_state(d)


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, StepDecay, ExponentialDecay, CosineAnnealing, InverseScaling,
                              ReduceOnPlateau)}
"""The schedule classes by name: constant, step, exponential, cosine, invscaling, plateau."""


def get(spec: str | Schedule | None) -> Schedule:
    """A schedule from a name, an instance, or None.

    Parameters
    ----------
    spec : str, Schedule or None
        A key of ``SCHEDULES`` (made with its default hyperparameters), an instance (returned
        as is), or None for ``Constant()``.

    Returns
    -------
    Schedule

    Raises
    ------
    ValueError
        If ``spec`` is an unknown name or another type, or names a schedule that has required
        arguments (the message shows the call to write instead).
    """
    if spec is None:
        return Constant()
    if isinstance(spec, Schedule):
        return spec
    if not isinstance(spec, str) or spec not in SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, a schedule instance or None, "
                         f"got {spec!r}")
    cls = SCHEDULES[spec]
    needed = [p.name for p in inspect.signature(cls).parameters.values() if p.default is p.empty]
    if needed:
        raise ValueError(
            f"schedule {spec!r} has no default for {', '.join(needed)}; "
            f"pass fastnn.schedules.{cls.__name__}({', '.join(f'{n}=...' for n in needed)})"
        )
    return cls()


def from_state(name: str, d: dict[str, float | int]) -> Schedule:
    """Rebuild a schedule from its name and its ``get_state()`` dict.

    Parameters
    ----------
    name : str
        The schedule's ``name``, a key of ``SCHEDULES``.
    d : dict
        Its ``get_state()``.

    Returns
    -------
    Schedule
        A schedule that continues exactly where the saved one stopped.

    Raises
    ------
    ValueError
        If ``name`` is unknown or ``d`` is incomplete or invalid.
    """
    if name not in SCHEDULES:
        raise ValueError(f"name must be one of {sorted(SCHEDULES)}, got {name!r}")
    return SCHEDULES[name].from_state(d)
