"""Plain-NumPy float64 reference optimizers, one step each, from PyTorch's documented algorithms
(the pseudo-code in the torch.optim.SGD / Adam / AdamW / RMSprop docs, as their
``_single_tensor_*`` functions run it).

Each ``*_step(theta, g, state, lr, ...)`` takes the parameters θ and the gradient g as arrays of
one shape (fastnn's flat θ, or any one tensor), returns the new θ and updates ``state`` in place;
start from ``state = {}``. Hyperparameters carry fastnn's names (beta1, beta2), so one kwargs
dict configures both.

fastnn decays weights only: ``decay_mask`` is True on entries of W^[k] and False on biases b̄^[k];
weight decay (L2 added to g for SGD, Adam and RMSprop; decoupled for AdamW) applies only where it
is True. ``decay_mask=None`` decays every entry, as torch does within a param group.
"""
import numpy as np


def _masked(decay_mask, value, elsewhere=0.0):
    return np.where(True if decay_mask is None else decay_mask, value, elsewhere)


def sgd_step(theta, g, state, lr, momentum=0.0, nesterov=False, weight_decay=0.0, decay_mask=None):
    """g ← g + wd·θ; b ← g on the first step, else μ·b + g (dampening 0);
    g ← g + μ·b with Nesterov, else b; θ ← θ − lr·g."""
    g = g + _masked(decay_mask, weight_decay * theta)
    if momentum != 0:
        b = state.get("momentum_buffer")
        b = g.copy() if b is None else momentum * b + g
        state["momentum_buffer"] = b
        g = g + momentum * b if nesterov else b
    return theta - lr * g


def adam_step(theta, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decay_mask=None):
    """t ← t + 1; g ← g + wd·θ; m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
    θ ← θ − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)."""
    t = state["step"] = state.get("step", 0) + 1
    g = g + _masked(decay_mask, weight_decay * theta)
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * g * g
    step_size = lr / (1 - beta1**t)
    denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
    return theta - step_size * m / denom


def adamw_step(theta, g, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, decay_mask=None):
    """θ ← θ·(1 − lr·wd) (decoupled decay), then the Adam step without L2."""
    theta = theta * _masked(decay_mask, 1 - lr * weight_decay, 1.0)
    return adam_step(theta, g, state, lr, beta1, beta2, eps)


def rmsprop_step(theta, g, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, decay_mask=None):
    """centered=False, momentum=0: g ← g + wd·θ; v ← α·v + (1 − α)·g²; θ ← θ − lr·g / (√v + eps)."""
    g = g + _masked(decay_mask, weight_decay * theta)
    v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
    return theta - lr * g / (np.sqrt(v) + eps)


# keyed like fastnn.OPTIMIZERS
STEPS = {"sgd": sgd_step, "adam": adam_step, "adamw": adamw_step, "rmsprop": rmsprop_step}


def torch_optimizer(name, groups, lr, **kw):
    """The torch.optim twin of STEPS[name] with the same kwargs (beta1, beta2 → betas)."""
    import torch

    kw = dict(kw)
    if "beta1" in kw or "beta2" in kw:
        kw["betas"] = (kw.pop("beta1", 0.9), kw.pop("beta2", 0.999))
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
           "rmsprop": torch.optim.RMSprop}[name]
    return cls(groups, lr=lr, **kw)
