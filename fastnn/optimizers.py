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
                                  h.weight_decay on a range of weights and 0 on biases

Plain SGD (no momentum, no weight decay) never reaches ``step``: the kernels fuse its update into
the gradient GEMM (α = −lr/B, β = 1 into θ), with no gradient buffer at all.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import schedules as _schedules
from ._jit import jit


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


NO_STEP = Hyper(0.0, 0.0)  # for kernel calls that compute gradients and take no step


@jit(inline=True)
def _state(theta, k):
    return np.uint64(k) * np.uint64(theta.size)


# State that decays geometrically (momentum, Adam's m and v, RMSprop's v for a parameter whose
# gradient stays 0, e.g. behind a dead ReLU) reaches the subnormal range after a few hundred
# steps, where x86 arithmetic runs ~20x slower (Adam's step on deep: 13 -> 290 us). Values
# below the dtype's smallest normal number are stored as 0 instead; nothing else changes.
@jit(inline=True)
def _flush(x, tiny):
    return x * type(x)(abs(x) >= tiny)  # branch-free, so the loop still vectorises


@jit(inline=True)
def _tiny(theta):
    return theta.dtype.type(np.finfo(theta.dtype).tiny)


@jit(inline=True)
def sgd_prepare(h, t):
    return h.lr, h.momentum, h.nesterov, 0.0, 0.0, 0.0


@jit(inline=True)
def sgd_step(theta, g, s, lo, hi, wd, c):
    """g ← g + wd θ; b ← μ b + g (b starts at 0, so b = g on step 1); g ← g + μ b (Nesterov)
    or b; θ ← θ − lr g."""
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
def adam_prepare(h, t):
    bc1 = 1.0 - h.beta1 ** t
    bc2 = 1.0 - h.beta2 ** t
    # step size lr/(1−β1^t), √(1−β2^t), β1, β2, lr, eps
    return h.lr / bc1, math.sqrt(bc2), h.beta1, h.beta2, h.lr, h.eps


@jit(inline=True)
def _adam(theta, g, s, lo, hi, wd, c, decoupled):
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
def adam_step(theta, g, s, lo, hi, wd, c):
    _adam(theta, g, s, lo, hi, wd, c, False)


@jit(inline=True)
def adamw_step(theta, g, s, lo, hi, wd, c):
    _adam(theta, g, s, lo, hi, wd, c, True)


@jit(inline=True)
def rmsprop_prepare(h, t):
    return h.lr, h.alpha, h.eps, 0.0, 0.0, 0.0


@jit(inline=True)
def rmsprop_step(theta, g, s, lo, hi, wd, c):
    """g ← g + wd θ; v ← α v + (1−α) g²; θ ← θ − lr g / (√v + eps)."""
    T = theta.dtype.type
    lr, alpha, eps = T(c[0]), T(c[1]), T(c[2])
    tiny = _tiny(theta)
    for i in range(lo, hi):
        gi = g[i] + wd * theta[i]
        v = _flush(alpha * s[i] + (T(1) - alpha) * gi * gi, tiny)
        s[i] = v
        theta[i] -= lr * gi / (math.sqrt(v) + eps)


# ------------------------------------------------------------------------ the Python side
def _number(cls, name, value, lo=None, hi=None, lo_open=False, hi_open=False):
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


class Optimizer:
    """Hyperparameters plus state in flat buffers with θ's layout (``n_state`` of them).

    ``t`` counts the steps taken (one per batch) and ``epoch`` the epochs trained; both carry
    over from one ``fit`` to the next, as does the state, so a second fit continues the first.
    ``schedule`` (``fastnn.schedules``) sets each epoch's lr from ``lr``.
    """

    name = code = n_state = _prepare = _step = None
    _fields = ()  # hyperparameters besides lr and weight_decay (fields of Hyper)

    def __init__(self, lr, weight_decay=0.0, schedule=None):
        cls = type(self).__name__
        self.lr = _number(cls, "lr", lr, 0, lo_open=True)
        self.weight_decay = _number(cls, "weight_decay", weight_decay, 0)
        self.schedule = _schedules.get(schedule)
        self.t = 0
        self.epoch = 0
        self.state = None  # n_state · n_params entries, made by bind()

    @property
    def fused(self):
        """True when the step is plain SGD, done inside the gradient GEMM with no buffers."""
        return False

    def hyper(self):
        """h for the next epoch (``Hyper``): the lr from the schedule, the weight decay and the
        class's own fields."""
        lr = self.schedule.lr(self.lr, self.epoch)
        return Hyper(float(lr), float(self.weight_decay), **{f: float(getattr(self, f)) for f in self._fields})

    def bind(self, n_params, dtype):
        """Allocate the state for a θ of n_params entries (once; a mismatch is an error)."""
        n = self.n_state * n_params
        if self.state is None:
            self.state = np.zeros(n, dtype)
        elif self.state.size != n or self.state.dtype != dtype:
            raise ValueError(
                f"optimizer: this {type(self).__name__} holds state for another network "
                f"({self.state.size // max(self.n_state, 1)} {self.state.dtype} parameters, this one has "
                f"{n_params} {np.dtype(dtype)}); pass a new optimizer object or its name")
        return self.state

    def reset(self):
        """Forget the moments (after a rollback): state to zero, steps to zero."""
        if self.state is not None:
            self.state[:] = 0
        self.t = 0

    def config(self):
        """The hyperparameters, as a dict that ``__init__`` accepts."""
        return {"lr": self.lr, "weight_decay": self.weight_decay,
                **{f: getattr(self, f) for f in self._fields}}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args}, schedule={self.schedule!r})"


class SGD(Optimizer):
    """θ ← θ − lr g, with optional momentum μ (PyTorch's form, dampening 0) and Nesterov."""

    name, code, n_state = "sgd", 0, 1
    _prepare, _step = sgd_prepare, sgd_step
    _fields = ("momentum", "nesterov")

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, schedule=None):
        super().__init__(lr, weight_decay, schedule)
        self.momentum = _number("SGD", "momentum", momentum, 0, 1, hi_open=True)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0, e.g. momentum=0.9")
        self.nesterov = bool(nesterov)
        self.n_state = 1 if self.momentum > 0 else 0

    @property
    def fused(self):
        return self.momentum == 0 and self.weight_decay == 0


class Adam(Optimizer):
    """Adam with L2 weight decay added to the gradient (PyTorch's ``Adam``)."""

    name, code, n_state = "adam", 1, 2
    _prepare, _step = adam_prepare, adam_step
    _fields = ("beta1", "beta2", "eps")

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, schedule=None):
        super().__init__(lr, weight_decay, schedule)
        cls = type(self).__name__
        self.beta1 = _number(cls, "beta1", beta1, 0, 1, hi_open=True)
        self.beta2 = _number(cls, "beta2", beta2, 0, 1, hi_open=True)
        self.eps = _number(cls, "eps", eps, 0)


class AdamW(Adam):
    """Adam with decoupled weight decay, θ ← θ(1 − lr·wd) before the step (PyTorch's ``AdamW``)."""

    name, code = "adamw", 2
    _step = adamw_step

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, schedule=None):
        super().__init__(lr, beta1, beta2, eps, weight_decay, schedule)


class RMSprop(Optimizer):
    """v ← αv + (1−α)g², θ ← θ − lr g/(√v + eps) (PyTorch's ``RMSprop``, not centered)."""

    name, code, n_state = "rmsprop", 3, 1
    _prepare, _step = rmsprop_prepare, rmsprop_step
    _fields = ("alpha", "eps")

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, schedule=None):
        super().__init__(lr, weight_decay, schedule)
        self.alpha = _number("RMSprop", "alpha", alpha, 0, 1)
        self.eps = _number("RMSprop", "eps", eps, 0)


OPTIMIZERS = {cls.name: cls for cls in (SGD, Adam, AdamW, RMSprop)}
BY_CODE = tuple(sorted(OPTIMIZERS.values(), key=lambda cls: cls.code))
assert all(cls.code == i for i, cls in enumerate(BY_CODE))
FUSED = -1  # the kernels' code for plain SGD stepped inside the gradient GEMM


def get(spec, lr=None):
    """An optimizer from a name (with ``lr`` if given) or an instance (``lr`` must be None)."""
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
