"""The optimizer table: how θ takes a step once backprop has the batch's mean gradient g.

The formulas are PyTorch's (``torch.optim`` docs: bias correction, where eps goes, the Nesterov
form), so a run can be checked against ``torch.optim`` step by step. Weight decay applies to the
weights W^[k] only, never to the biases b̄^[k] (scikit-learn's ``alpha`` convention).

Each optimizer class names two jitted functions the kernels dispatch to by its ``code``:

    prepare(h, t) -> c            per-step constants (a 6-tuple of floats that only the class's
                                  own step reads) from the hyperparameters h (``Hyper``, read by
                                  name) and the 1-based step number t
    step(theta, g, s, lo, hi, wd, c)
                                  one flat elementwise pass over θ[lo:hi], g and the state s
                                  (``n_state`` buffers of θ's length, laid end to end); wd is
                                  h[WEIGHT_DECAY] on a range of weights and 0 on biases

Plain SGD (no momentum, no weight decay) never reaches ``step``: the kernels fuse its update into
the gradient GEMM (α = −lr/B, β = 1 into θ), with no gradient buffer at all.

Examples
--------
>>> import fastnn
>>> opt = fastnn.optimizers.get("adam", lr=0.01)
>>> opt
Adam(lr=0.01, weight_decay=0.0, beta1=0.9, beta2=0.999, eps=1e-08, schedule=Constant())
>>> fastnn.SGD(lr=0.1, momentum=0.9, nesterov=True).config()
{'lr': 0.1, 'weight_decay': 0.0, 'momentum': 0.9, 'nesterov': True}
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from . import schedules as _schedules
from ._jit import jit

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._typing import FloatArray


# ------------------------------------------------------------------------ the kernels' side
class Hyper(NamedTuple):
    """One epoch's hyperparameters as the kernels read them, by name: every optimizer's fields
    in one type (those an optimizer lacks are 0), so one compiled kernel serves them all."""

    lr: float  # this epoch's lr, from the schedule
    weight_decay: float
    momentum: float = 0.0
    nesterov: float = 0.0  # 1.0 for Nesterov momentum
    beta1: float = 0.0
    beta2: float = 0.0
    eps: float = 0.0
    alpha: float = 0.0
    clip_norm: float = 0.0  # the bound on the batch gradient's global norm; 0: no clipping


# The kernels receive h as a plain tuple (Numba types it in C; a named tuple costs ~0.4 µs a
# call) and read its fields by these names: h[LR], h[WEIGHT_DECAY], ...
LR, WEIGHT_DECAY, MOMENTUM, NESTEROV, BETA1, BETA2, EPS, ALPHA, CLIP_NORM = range(len(Hyper._fields))
_FIELD = {f: i for i, f in enumerate(Hyper._fields)}
NO_STEP = Hyper(0.0, 0.0)  # for kernel calls that compute gradients and take no step


@jit(inline=True)
def _state(theta: FloatArray, k: int) -> Any:
    return np.uint64(k) * np.uint64(theta.size)


# State that decays geometrically (momentum, Adam's m and v, RMSprop's v for a parameter whose
# gradient stays 0, e.g. behind a dead ReLU) reaches the subnormal range after a few hundred
# steps, where x86 arithmetic runs ~20x slower (Adam's step on deep: 13 -> 290 us). Values
# below the dtype's smallest normal number are stored as 0 instead; nothing else changes.
@jit(inline=True)
def _flush(x: Any, tiny: Any) -> Any:
    return x * type(x)(abs(x) >= tiny)  # branch-free, so the loop still vectorises


@jit(inline=True)
def _tiny(theta: FloatArray) -> Any:
    return theta.dtype.type(np.finfo(theta.dtype).tiny)


@jit(inline=True)
def sgd_prepare(h: tuple[float, ...], t: int) -> tuple[float, ...]:
    """SGD's per-step constants: (lr, momentum μ, nesterov (0 or 1), 0, 0, 0) from h (``Hyper``)."""
    return h[LR], h[MOMENTUM], h[NESTEROV], 0.0, 0.0, 0.0


@jit(inline=True)
def sgd_step(theta: FloatArray, g: FloatArray, s: FloatArray, lo: int, hi: int, wd: float,
             c: tuple[float, ...]) -> None:
    """g ← g + wd θ; b ← μ b + g (b starts at 0, so b = g on step 1); g ← g + μ b (Nesterov)
    or b; θ ← θ − lr g.

    Parameters
    ----------
    theta : ndarray
        θ, flat; θ[lo:hi] is updated in place.
    g : ndarray
        The batch's mean gradient, θ's layout; read only.
    s : ndarray
        The state: the momentum buffer b, θ's length (unused when μ = 0); updated in place.
    lo, hi : int
        The range of θ to step.
    wd : float
        Weight decay: h[1] on a range of weights W^[k], 0 on biases b̄^[k].
    c : tuple of 6 floats
        The step's constants from ``sgd_prepare``.
    """
    T = theta.dtype.type
    lr, mu, nesterov = T(c[0]), T(c[1]), c[2] != 0
    if mu == 0:
        for i in range(lo, hi):
            theta[i] -= lr * (g[i] + wd * theta[i])
        return
    tiny = _tiny(theta)
    for i in range(lo, hi):
        gi = g[i] + wd * theta[i]
        b = _flush(mu * s[i] + gi, tiny)
        s[i] = b
        theta[i] -= lr * (gi + mu * b if nesterov else b)


@jit(inline=True)
def adam_prepare(h: tuple[float, ...], t: int) -> tuple[float, ...]:
    """Adam's and AdamW's per-step constants with the bias corrections of step t (1-based):
    (lr/(1−β1^t), √(1−β2^t), β1, β2, lr, eps) from h (``Hyper``)."""
    bc1 = 1.0 - h[BETA1] ** t
    bc2 = 1.0 - h[BETA2] ** t
    # step size lr/(1−β1^t), √(1−β2^t), β1, β2, lr, eps
    return h[LR] / bc1, math.sqrt(bc2), h[BETA1], h[BETA2], h[LR], h[EPS]


@jit(inline=True)
def _adam(theta: FloatArray, g: FloatArray, s: FloatArray, lo: int, hi: int, wd: float,
          c: tuple[float, ...], decoupled: bool) -> None:
    """m ← m + (1−β1)(g − m); v ← β2 v + (1−β2) g²; θ ← θ − (lr/(1−β1^t)) m / (√v/√(1−β2^t) + eps).

    L2 (Adam) adds wd θ to g first; decoupled (AdamW) scales θ by 1 − lr wd first.
    """
    T = theta.dtype.type
    size, bc2, a1, b2 = T(c[0]), T(c[1]), T(1 - c[2]), T(c[3])
    lr, eps = T(c[4]), T(c[5])
    P = _state(theta, 1)
    shrink = T(1) - lr * wd if decoupled else T(1)
    l2 = T(0) if decoupled else wd
    tiny = _tiny(theta)
    for i in range(lo, hi):
        th = theta[i] * shrink
        gi = g[i] + l2 * th
        m = _flush(s[i] + a1 * (gi - s[i]), tiny)
        v = _flush(b2 * s[P + i] + (T(1) - b2) * gi * gi, tiny)
        s[i], s[P + i] = m, v
        theta[i] = th - size * m / (math.sqrt(v) / bc2 + eps)


@jit(inline=True)
def adam_step(theta: FloatArray, g: FloatArray, s: FloatArray, lo: int, hi: int, wd: float,
              c: tuple[float, ...]) -> None:
    """Adam's step with L2 weight decay: g ← g + wd θ, then the Adam update of θ[lo:hi].

    Parameters
    ----------
    theta : ndarray
        θ, flat; θ[lo:hi] is updated in place.
    g : ndarray
        The batch's mean gradient, θ's layout; read only.
    s : ndarray
        The state: the moments m and v, θ's length each, end to end; updated in place.
    lo, hi : int
        The range of θ to step.
    wd : float
        Weight decay: h[1] on a range of weights W^[k], 0 on biases b̄^[k].
    c : tuple of 6 floats
        The step's constants from ``adam_prepare``.
    """
    _adam(theta, g, s, lo, hi, wd, c, False)


@jit(inline=True)
def adamw_step(theta: FloatArray, g: FloatArray, s: FloatArray, lo: int, hi: int, wd: float,
               c: tuple[float, ...]) -> None:
    """AdamW's step with decoupled weight decay: θ ← θ(1 − lr wd), then the Adam update.

    Parameters
    ----------
    theta : ndarray
        θ, flat; θ[lo:hi] is updated in place.
    g : ndarray
        The batch's mean gradient, θ's layout; read only.
    s : ndarray
        The state: the moments m and v, θ's length each, end to end; updated in place.
    lo, hi : int
        The range of θ to step.
    wd : float
        Weight decay: h[1] on a range of weights W^[k], 0 on biases b̄^[k].
    c : tuple of 6 floats
        The step's constants from ``adam_prepare``.
    """
    _adam(theta, g, s, lo, hi, wd, c, True)


@jit(inline=True)
def rmsprop_prepare(h: tuple[float, ...], t: int) -> tuple[float, ...]:
    """RMSprop's per-step constants: (lr, α, eps, 0, 0, 0) from h (``Hyper``)."""
    return h[LR], h[ALPHA], h[EPS], 0.0, 0.0, 0.0


@jit(inline=True)
def rmsprop_step(theta: FloatArray, g: FloatArray, s: FloatArray, lo: int, hi: int, wd: float,
                 c: tuple[float, ...]) -> None:
    """g ← g + wd θ; v ← α v + (1−α) g²; θ ← θ − lr g / (√v + eps).

    Parameters
    ----------
    theta : ndarray
        θ, flat; θ[lo:hi] is updated in place.
    g : ndarray
        The batch's mean gradient, θ's layout; read only.
    s : ndarray
        The state: the mean square v, θ's length; updated in place.
    lo, hi : int
        The range of θ to step.
    wd : float
        Weight decay: h[1] on a range of weights W^[k], 0 on biases b̄^[k].
    c : tuple of 6 floats
        The step's constants from ``rmsprop_prepare``.
    """
    T = theta.dtype.type
    lr, alpha, eps = T(c[0]), T(c[1]), T(c[2])
    tiny = _tiny(theta)
    for i in range(lo, hi):
        gi = g[i] + wd * theta[i]
        v = _flush(alpha * s[i] + (T(1) - alpha) * gi * gi, tiny)
        s[i] = v
        theta[i] -= lr * gi / (math.sqrt(v) + eps)


# ------------------------------------------------------------------------ the Python side
def _number(cls: str, name: str, value: Any, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False, hi_open: bool = False) -> float:
    """A finite float in the given range, or a ValueError naming the argument and the range."""
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))
    ok = ok and math.isfinite(value)
    ok = ok and (lo is None or (value > lo if lo_open else value >= lo))
    ok = ok and (hi is None or (value < hi if hi_open else value <= hi))
    if not ok:
        left = "" if lo is None else ("(" if lo_open else "[") + f"{lo:g}"
        right = "" if hi is None else f"{hi:g}" + (")" if hi_open else "]")
        rng = f"in {left or '(-inf'}, {right or 'inf)'}"
        raise ValueError(f"{cls}: {name} must be a finite number {rng}, got {value!r}")
    return float(value)


_ALWAYS_CHECKED = ("lr", "weight_decay", "clip_norm")  # every optimizer's hyperparameters
_COUNTERS = frozenset({"t", "epoch", "state"})  # what fit changes as it trains


class Optimizer:
    """Hyperparameters plus state in flat buffers with θ's layout (``n_state`` of them).

    The base class of ``SGD``, ``Adam``, ``AdamW`` and ``RMSprop``; pass one of those (or its
    name) to ``Network.fit(optimizer=...)``.

    ``t`` counts the steps taken (one per batch) and ``epoch`` the epochs trained; both carry
    over from one ``fit`` to the next, as does the state, so a second fit continues the first.
    ``schedule`` (``fastnn.schedules``) sets each epoch's lr from ``lr``.

    Parameters
    ----------
    lr : float
        The base learning rate, > 0.
    weight_decay : float, default 0.0
        The weight decay on W^[k] (never on b̄^[k]), ≥ 0.
    schedule : str, Schedule or None, default None
        The learning-rate schedule: a name in ``fastnn.SCHEDULES``, an instance, or None for
        a constant lr.
    clip_norm : float or None, default None
        Clip the batch's gradient g (all of θ) to this global norm before each step,
        g ← g · min(1, clip_norm / (‖g‖₂ + 1e-6)), as ``torch.nn.utils.clip_grad_norm_``
        followed by the step (Keras' ``global_clipnorm``); > 0, or None for no clipping. The
        norm needs every layer's gradient before any step, so a clipped fit keeps a gradient
        buffer (plain SGD too) and runs on one thread.

    Attributes
    ----------
    name : str
        Its key in ``OPTIMIZERS`` (class attribute; None on this base class).
    code : int
        The kernels' code for it (class attribute; None on this base class).
    n_state : int
        How many buffers of θ's length the state holds.
    lr, weight_decay : float
        The hyperparameters, as given.
    clip_norm : float or None
        The gradient's global-norm bound, as given.
    schedule : Schedule
        The learning-rate schedule.
    t : int
        Steps taken so far (one per batch).
    epoch : int
        Epochs trained so far.
    state : ndarray or None
        The state, ``n_state`` · n_params entries in θ's dtype; None until ``bind``.

    Raises
    ------
    ValueError
        If a hyperparameter is not a finite number in its range, or ``schedule`` is unknown.
    """

    # Set by each optimizer class; None on this base class.
    name: ClassVar[str]
    code: ClassVar[int]
    n_state: int
    _prepare: ClassVar[Callable[..., tuple[float, ...]]]
    _step: ClassVar[Callable[..., None]]
    name = code = n_state = _prepare = _step = None  # type: ignore[assignment]
    # hyperparameters besides lr and weight_decay (fields of Hyper)
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, lr: float, weight_decay: float = 0.0,
                 schedule: str | _schedules.Schedule | None = None, clip_norm: float | None = None) -> None:
        cls = type(self).__name__
        self.lr = _number(cls, "lr", lr, 0, lo_open=True)
        self.weight_decay = _number(cls, "weight_decay", weight_decay, 0)
        self.clip_norm = None if clip_norm is None else _number(cls, "clip_norm", clip_norm, 0, lo_open=True)
        self.schedule = _schedules.get(schedule)
        self.t = 0
        self.epoch = 0
        self.state: FloatArray | None = None  # n_state · n_params entries, made by bind()

    @property
    def fused(self) -> bool:
        """True when the step is plain SGD, done inside the gradient GEMM with no buffers."""
        return False

    def hyper(self) -> Hyper:
        """The hyperparameters h for the next epoch (``Hyper``, read by name in the kernels):
        the lr from the schedule for ``epoch``, the weight decay and the class's own fields.
        Kept while nothing changes under a constant schedule (a one-row fit asks every call)."""
        kept: Hyper | None = self.__dict__.get("_hyper")
        if kept is not None:
            return kept
        h = [0.0] * len(Hyper._fields)
        h[LR], h[WEIGHT_DECAY] = float(self.schedule.lr(self.lr, self.epoch)), float(self.weight_decay)
        h[CLIP_NORM] = float(self.clip_norm or 0.0)
        for f in self._fields:
            h[_FIELD[f]] = float(getattr(self, f))
        hyper = Hyper._make(h)
        if type(self.schedule) is _schedules.Constant:  # (another schedule's lr moves with the epoch)
            object.__setattr__(self, "_hyper", hyper)
        return hyper

    def bind(self, n_params: int, dtype: npt.DTypeLike) -> FloatArray:
        """Allocate the state for a θ of ``n_params`` entries, once.

        Parameters
        ----------
        n_params : int
            The length of θ.
        dtype : dtype
            θ's dtype, float32 or float64.

        Returns
        -------
        ndarray
            ``state``, zeros when newly allocated.

        Raises
        ------
        ValueError
            If the state was allocated for another size or dtype (another network).
        """
        n = self.n_state * n_params
        if self.state is None:
            self.state = np.zeros(n, dtype)
        elif self.state.size != n or self.state.dtype != dtype:
            raise ValueError(
                f"optimizer: this {type(self).__name__} holds state for another network "
                f"({self.state.size // max(self.n_state, 1)} {self.state.dtype} parameters, this one has "
                f"{n_params} {np.dtype(dtype)}); pass a new optimizer object or its name")
        return self.state

    def reset(self) -> None:
        """Forget the moments (after a rollback): state to zero, steps to zero."""
        if self.state is not None:
            self.state[:] = 0
        self.t = 0

    def __setattr__(self, name: str, value: Any) -> None:
        # A hyperparameter changed after __init__ (``net.optimizer.lr = 0.1``) is checked as
        # __init__ checks it: a ValueError names it and its range, and nothing changes.
        # (First assignments, in __init__, are __init__'s own checks.)
        d = self.__dict__
        if name in d and (name in _ALWAYS_CHECKED or name in self._fields):
            if not (name == "lr" and type(value) is float and 0 < value < math.inf):  # (fit sets lr per call)
                config = {**self.config(), name: value}
                value = getattr(type(self)(**config, schedule=self.schedule), name)
        # hyper()'s kept h depends on every attribute but the counters (fit's lr= sets the same
        # lr on every call, which keeps it)
        if "_hyper" in d and name not in _COUNTERS and not (name == "lr" and d["lr"] == value):
            del d["_hyper"]
        object.__setattr__(self, name, value)

    def config(self) -> dict[str, Any]:
        """The hyperparameters, as a dict that ``__init__`` accepts.

        Returns
        -------
        dict
            ``lr``, ``weight_decay``, the class's own hyperparameters and ``clip_norm`` when
            set (the schedule is not included).
        """
        return {"lr": self.lr, "weight_decay": self.weight_decay,
                **{f: getattr(self, f) for f in self._fields},
                **({"clip_norm": self.clip_norm} if self.clip_norm is not None else {})}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args}, schedule={self.schedule!r})"


class SGD(Optimizer):
    """θ ← θ − lr g, with optional momentum μ (PyTorch's form, dampening 0) and Nesterov.

    With momentum: b ← μ b + g, θ ← θ − lr b, or θ ← θ − lr (g + μ b) with Nesterov. Plain
    SGD (no momentum, no weight decay) runs fused into the gradient GEMM, with no state.

    Parameters
    ----------
    lr : float, default 0.01
        The learning rate, > 0.
    momentum : float, default 0.0
        μ, in [0, 1).
    nesterov : bool, default False
        Nesterov momentum; needs momentum > 0.
    weight_decay : float, default 0.0
        L2 weight decay on W^[k] (added to g), ≥ 0.
    schedule : str, Schedule or None, default None
        The learning-rate schedule (see ``Optimizer``).
    clip_norm : float or None, default None
        Clip the batch gradient's global norm to this before each step (see ``Optimizer``).

    Attributes
    ----------
    momentum : float
        μ.
    nesterov : bool
        Whether the step is Nesterov's.

    Raises
    ------
    ValueError
        If a hyperparameter is out of range, or nesterov=True with momentum 0.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.SGD(lr=0.1, momentum=0.9).n_state  # one momentum buffer
    1
    >>> fastnn.SGD(lr=0.1).fused  # stepped inside the gradient GEMM
    True
    """

    name, code = "sgd", 0
    _prepare, _step = sgd_prepare, sgd_step
    _fields = ("momentum", "nesterov")

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, schedule: str | _schedules.Schedule | None = None,
                 clip_norm: float | None = None) -> None:
        super().__init__(lr, weight_decay, schedule, clip_norm)
        self.momentum = _number("SGD", "momentum", momentum, 0, 1, hi_open=True)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0, e.g. momentum=0.9")
        self.nesterov = bool(nesterov)

    @property
    def n_state(self) -> int:  # type: ignore[override]
        """One momentum buffer while momentum > 0 (which may be set between fits), else none."""
        return 1 if self.momentum > 0 else 0

    def bind(self, n_params: int, dtype: npt.DTypeLike) -> FloatArray:
        # momentum switched on since the last fit: a zero buffer (the first step's b is g, as
        # PyTorch's); switched off: none
        state = self.state
        if state is not None and state.dtype == dtype and state.size in (0, n_params) \
                and state.size != self.n_state * n_params:
            self.state = np.zeros(self.n_state * n_params, dtype)
        return super().bind(n_params, dtype)

    @property
    def fused(self) -> bool:
        """True without momentum, weight decay and clipping: the step runs inside the gradient GEMM."""
        return self.momentum == 0 and self.weight_decay == 0 and self.clip_norm is None


class Adam(Optimizer):
    """Adam with L2 weight decay added to the gradient (PyTorch's ``Adam``).

    m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g², θ ← θ − lr m̂ / (√v̂ + eps) with the bias
    corrections m̂ = m/(1−β1^t), v̂ = v/(1−β2^t).

    Parameters
    ----------
    lr : float, default 1e-3
        The learning rate, > 0.
    beta1, beta2 : float, default 0.9, 0.999
        The decay rates of the first and second moments, in [0, 1).
    eps : float, default 1e-8
        Added to √v̂, ≥ 0.
    weight_decay : float, default 0.0
        L2 weight decay on W^[k], added to g, ≥ 0.
    schedule : str, Schedule or None, default None
        The learning-rate schedule (see ``Optimizer``).
    clip_norm : float or None, default None
        Clip the batch gradient's global norm to this before each step (see ``Optimizer``).

    Attributes
    ----------
    beta1, beta2, eps : float
        The hyperparameters, as given.

    Raises
    ------
    ValueError
        If a hyperparameter is not a finite number in its range.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.Adam(lr=1e-2, beta2=0.99).n_state  # m and v
    2
    """

    name, code, n_state = "adam", 1, 2
    _prepare, _step = adam_prepare, adam_step
    _fields = ("beta1", "beta2", "eps")

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, schedule: str | _schedules.Schedule | None = None,
                 clip_norm: float | None = None) -> None:
        super().__init__(lr, weight_decay, schedule, clip_norm)
        cls = type(self).__name__
        self.beta1 = _number(cls, "beta1", beta1, 0, 1, hi_open=True)
        self.beta2 = _number(cls, "beta2", beta2, 0, 1, hi_open=True)
        self.eps = _number(cls, "eps", eps, 0)


class AdamW(Adam):
    """Adam with decoupled weight decay, θ ← θ(1 − lr·wd) before the step (PyTorch's ``AdamW``).

    Parameters
    ----------
    lr : float, default 1e-3
        The learning rate, > 0.
    beta1, beta2 : float, default 0.9, 0.999
        The decay rates of the first and second moments, in [0, 1).
    eps : float, default 1e-8
        Added to √v̂, ≥ 0.
    weight_decay : float, default 1e-2
        Decoupled weight decay on W^[k], ≥ 0 (PyTorch's default).
    schedule : str, Schedule or None, default None
        The learning-rate schedule (see ``Optimizer``).
    clip_norm : float or None, default None
        Clip the batch gradient's global norm to this before each step (see ``Optimizer``).

    Raises
    ------
    ValueError
        If a hyperparameter is not a finite number in its range.
    """

    name, code = "adamw", 2
    _step = adamw_step

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 1e-2, schedule: str | _schedules.Schedule | None = None,
                 clip_norm: float | None = None) -> None:
        super().__init__(lr, beta1, beta2, eps, weight_decay, schedule, clip_norm)


class RMSprop(Optimizer):
    """v ← αv + (1−α)g², θ ← θ − lr g/(√v + eps) (PyTorch's ``RMSprop``, not centered).

    Parameters
    ----------
    lr : float, default 1e-2
        The learning rate, > 0.
    alpha : float, default 0.99
        The decay rate α of the mean square, in [0, 1].
    eps : float, default 1e-8
        Added to √v, ≥ 0.
    weight_decay : float, default 0.0
        L2 weight decay on W^[k], added to g, ≥ 0.
    schedule : str, Schedule or None, default None
        The learning-rate schedule (see ``Optimizer``).
    clip_norm : float or None, default None
        Clip the batch gradient's global norm to this before each step (see ``Optimizer``).

    Attributes
    ----------
    alpha, eps : float
        The hyperparameters, as given.

    Raises
    ------
    ValueError
        If a hyperparameter is not a finite number in its range.
    """

    name, code, n_state = "rmsprop", 3, 1
    _prepare, _step = rmsprop_prepare, rmsprop_step
    _fields = ("alpha", "eps")

    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 schedule: str | _schedules.Schedule | None = None, clip_norm: float | None = None) -> None:
        super().__init__(lr, weight_decay, schedule, clip_norm)
        self.alpha = _number("RMSprop", "alpha", alpha, 0, 1)
        self.eps = _number("RMSprop", "eps", eps, 0)


OPTIMIZERS: dict[str, type[SGD | Adam | RMSprop]] = {cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop)}
"""The optimizer classes by name: ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``."""
BY_CODE = tuple(sorted(OPTIMIZERS.values(), key=lambda cls: cls.code))
"""The optimizer classes by code: ``BY_CODE[code]`` is the class with that code."""
assert all(cls.code == i for i, cls in enumerate(BY_CODE))
FUSED = -1
"""The kernels' code for plain SGD stepped inside the gradient GEMM."""


def get(spec: str | Optimizer, lr: float | None = None) -> Optimizer:
    """An optimizer from a name or an instance.

    Parameters
    ----------
    spec : str or Optimizer
        A key of ``OPTIMIZERS`` (any case), made with its default hyperparameters, or an
        instance, returned as is.
    lr : float, optional
        The learning rate for an optimizer made from a name; None keeps the class's default.
        Must be None when ``spec`` is an instance.

    Returns
    -------
    Optimizer

    Raises
    ------
    ValueError
        If ``spec`` is neither a known name nor an ``Optimizer``, if ``lr`` is given with an
        instance, or if ``lr`` is out of range.

    Examples
    --------
    >>> from fastnn import optimizers
    >>> optimizers.get("SGD", lr=0.05)
    SGD(lr=0.05, weight_decay=0.0, momentum=0.0, nesterov=False, schedule=Constant())
    """
    if isinstance(spec, Optimizer):
        if lr is not None:
            raise ValueError(f"lr: pass the learning rate to the optimizer object instead, "
                             f"e.g. {type(spec).__name__}(lr={lr!r})")
        return spec
    if isinstance(spec, str) and spec.lower() in OPTIMIZERS:
        cls = OPTIMIZERS[spec.lower()]
        return cls() if lr is None else cls(lr=lr)
    raise ValueError(f"optimizer: unknown optimizer {spec!r}; choose one of {sorted(OPTIMIZERS)} "
                     f"or pass an object such as fastnn.Adam(lr=1e-3)")
