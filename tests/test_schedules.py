"""fastnn.schedules against torch.optim.lr_scheduler, scikit-learn's invscaling, and closed forms.

Pure Python: no network is trained here. Each torch comparison skips where torch is missing.
"""
import json
import math

import numpy as np
import pytest

from fastnn import schedules as S
from helpers import require

BASE = 0.1
EPOCHS = 30
# A loss curve with improvements, plateaus, improvements smaller than the default rel threshold,
# a NaN and an Inf, so ReduceOnPlateau's every branch runs.
LOSSES = [1.0, 0.9, 0.9, 0.9, 0.9, 0.85, 0.84999, 0.84999, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7,
          0.7, float("nan"), 0.7, 0.69, 0.6, 0.6, 0.6, 0.6, float("inf"), 0.6, 0.5, 0.5, 0.5,
          0.5, 0.5, 0.4]
assert len(LOSSES) == EPOCHS

# One example per table entry (a name missing here fails test_every_schedule_has_an_example).
EXAMPLES = {
    "constant": lambda: S.Constant(),
    "step": lambda: S.StepDecay(step_size=4, gamma=0.5),
    "exponential": lambda: S.ExponentialDecay(gamma=0.9),
    "cosine": lambda: S.CosineAnnealing(T_max=7, eta_min=1e-3),
    "invscaling": lambda: S.InverseScaling(power_t=0.7),
    "plateau": lambda: S.ReduceOnPlateau(factor=0.5, patience=1, cooldown=1, min_lr=0.004),
}


def _run(schedule, losses=LOSSES, base=BASE):
    """The lr of each epoch, as an optimizer drives the schedule: lr(), train, report(loss)."""
    lrs = []
    for e, loss in enumerate(losses):
        lrs.append(schedule.lr(base, e))
        schedule.report(loss)
    return lrs


def _torch_run(make, losses=LOSSES, base=BASE):
    """The same for a torch scheduler on a dummy one-parameter SGD optimizer."""
    torch = require("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    sched = make(torch.optim.lr_scheduler, opt)
    lrs = []
    for loss in losses:
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(loss)
        else:
            sched.step()
    return lrs


def test_every_schedule_has_an_example():
    assert set(EXAMPLES) == set(S.SCHEDULES)
    for name, make in EXAMPLES.items():
        assert type(make()) is S.SCHEDULES[name] and S.SCHEDULES[name].name == name


TORCH_TWINS = [
    (lambda: S.Constant(), lambda L, o: L.ConstantLR(o, factor=1.0, total_iters=0)),
    (lambda: S.StepDecay(step_size=4, gamma=0.5), lambda L, o: L.StepLR(o, step_size=4, gamma=0.5)),
    (lambda: S.StepDecay(step_size=1), lambda L, o: L.StepLR(o, step_size=1)),
    (lambda: S.ExponentialDecay(gamma=0.9), lambda L, o: L.ExponentialLR(o, gamma=0.9)),
    (lambda: S.ExponentialDecay(gamma=1.05), lambda L, o: L.ExponentialLR(o, gamma=1.05)),
    (lambda: S.CosineAnnealing(T_max=7, eta_min=1e-3), lambda L, o: L.CosineAnnealingLR(o, T_max=7, eta_min=1e-3)),
    (lambda: S.CosineAnnealing(T_max=30), lambda L, o: L.CosineAnnealingLR(o, T_max=30)),
]


@pytest.mark.parametrize("ours,theirs", TORCH_TWINS)
def test_closed_form_schedules_match_torch(ours, theirs):
    # torch multiplies the previous lr each epoch (StepLR, ExponentialLR) or follows a recurrence
    # (CosineAnnealingLR); ours is the closed form, so they agree to rounding, not bit for bit.
    np.testing.assert_allclose(_run(ours()), _torch_run(theirs), rtol=1e-12, atol=1e-15)


PLATEAUS = [
    dict(),  # torch's defaults: patience 10 outlasts the plateaus, the 0.84999 step is below 1e-4 rel
    dict(factor=0.5, patience=1),
    dict(factor=0.5, patience=1, cooldown=2),
    dict(factor=0.3, patience=0, min_lr=0.004),  # hits min_lr
    dict(factor=0.5, patience=2, threshold=0.02, threshold_mode="abs"),
    dict(factor=0.5, patience=1, threshold=0.0, cooldown=1),
]


@pytest.mark.parametrize("kw", PLATEAUS)
def test_reduce_on_plateau_matches_torch(kw):
    ours = _run(S.ReduceOnPlateau(**kw))
    theirs = _torch_run(lambda L, o: L.ReduceLROnPlateau(o, mode="min", **kw))
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0)
    assert len(set(theirs)) > 1 or not kw  # each non-default case reduces at least once


@pytest.mark.parametrize("power_t", [0.0, 0.25, 0.5, 1.0])
@pytest.mark.parametrize("per", ["epoch", 1, 50])
def test_inverse_scaling_matches_sklearn_sgd_optimizer(power_t, per):
    """scikit-learn's MLP runs epoch e at the lr its SGDOptimizer holds then: learning_rate_init
    until the first iteration_ends(t_), then learning_rate_init / (t_ + 1)^power_t with t_ the
    samples seen so far (fit adds n_samples to t_ after each epoch)."""
    opt_module = pytest.importorskip("sklearn.neural_network._stochastic_optimizers")
    n = 1 if per == "epoch" else per
    sk = opt_module.SGDOptimizer([np.zeros(1)], learning_rate_init=BASE, lr_schedule="invscaling",
                                 momentum=0.0, power_t=power_t)
    theirs, t_ = [], 0
    for _ in range(EPOCHS):
        theirs.append(sk.learning_rate)
        t_ += n
        sk.iteration_ends(t_)
    ours = _run(S.InverseScaling(power_t=power_t, per=per))
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)


def test_closed_forms_without_torch():
    assert _run(S.Constant(), LOSSES[:3]) == [BASE] * 3
    assert _run(S.StepDecay(3, gamma=0.5), LOSSES[:8], base=1.0) == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert _run(S.ExponentialDecay(0.5), LOSSES[:4], base=1.0) == [1, 0.5, 0.25, 0.125]
    cos = S.CosineAnnealing(T_max=4, eta_min=0.1)
    # base at 0, the middle at T_max/2, eta_min at T_max, back up with period 2·T_max
    assert [cos.lr(1.0, e) for e in (0, 2, 4, 6, 8)] == pytest.approx([1.0, 0.55, 0.1, 0.55, 1.0], rel=1e-15)
    assert [S.InverseScaling(0.5).lr(1.0, e) for e in (0, 3, 8)] == pytest.approx([1, 1 / 2, 1 / 3], rel=1e-15)
    assert S.InverseScaling(1.0, per=10).lr(1.0, 2) == pytest.approx(1 / 21, rel=1e-15)
    # patience 1: the second bad epoch in a row reduces, for the epoch after it
    plateau = S.ReduceOnPlateau(factor=0.5, patience=1, min_lr=0.3)
    assert _run(plateau, [1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 1], base=1.0) == [1, 1, 1, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]
    assert plateau.get_state()["best"] == 0.5 and plateau.scale == 0.125


def test_plateau_never_raises_the_lr_to_min_lr():
    # as in torch: a reduction takes max(lr · factor, min_lr) only when that is lower
    assert _run(S.ReduceOnPlateau(patience=0, min_lr=1.0), [1, 2, 3, 4], base=0.5) == [0.5] * 4


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_state_split_at_epoch_13_resumes_bit_for_bit(name):
    whole = _run(EXAMPLES[name]())
    first = EXAMPLES[name]()
    head = _run(first, LOSSES[:13])
    state = json.loads(json.dumps(first.get_state()))  # a round trip through a file format
    assert all(type(v) in (int, float) for v in first.get_state().values())
    resumed = S.from_state(name, state)
    assert repr(resumed) == repr(first)
    tail = []
    for e in range(13, EPOCHS):
        tail.append(resumed.lr(BASE, e))
        resumed.report(LOSSES[e])
    assert head + tail == whole


def test_set_state_restores_what_report_changed():
    a, b = S.ReduceOnPlateau(patience=0), S.ReduceOnPlateau(patience=0)
    _run(a, [1.0, 2.0, 0.5, 3.0])
    b.set_state(a.get_state())
    assert b.get_state() == a.get_state() and b.lr(1.0, 4) == a.lr(1.0, 4) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="best"):
        b.set_state({"num_bad_epochs": 0})


def test_get_accepts_a_name_an_instance_or_none():
    assert type(S.get(None)) is S.Constant
    s = S.CosineAnnealing(T_max=5)
    assert S.get(s) is s
    for name in ("constant", "invscaling", "plateau"):
        assert type(S.get(name)) is S.SCHEDULES[name]
    assert repr(S.get("plateau")) == ("ReduceOnPlateau(factor=0.1, patience=10, threshold=0.0001, "
                                      "threshold_mode='rel', cooldown=0, min_lr=0.0)")
    assert repr(S.CosineAnnealing(10)) == "CosineAnnealing(T_max=10, eta_min=0.0)"


@pytest.mark.parametrize("name,needs", [("cosine", "T_max"), ("step", "step_size"), ("exponential", "gamma")])
def test_get_names_the_hyperparameter_a_name_lacks(name, needs):
    with pytest.raises(ValueError, match=needs):
        S.get(name)


@pytest.mark.parametrize("spec", ["cosin", "", 3, S.CosineAnnealing])
def test_get_refuses_unknown_specs(spec):
    with pytest.raises(ValueError, match="schedule must be one of"):
        S.get(spec)


NAN = float("nan")
BAD = [
    (S.StepDecay, dict(step_size=0), "step_size"),
    (S.StepDecay, dict(step_size=2.0), "step_size"),
    (S.StepDecay, dict(step_size=True), "step_size"),
    (S.StepDecay, dict(step_size=3, gamma=0.0), "gamma"),
    (S.StepDecay, dict(step_size=3, gamma=-0.5), "gamma"),
    (S.ExponentialDecay, dict(gamma=NAN), "gamma"),
    (S.ExponentialDecay, dict(gamma=math.inf), "gamma"),
    (S.ExponentialDecay, dict(gamma="0.9"), "gamma"),
    (S.CosineAnnealing, dict(T_max=0), "T_max"),
    (S.CosineAnnealing, dict(T_max=-3), "T_max"),
    (S.CosineAnnealing, dict(T_max=10, eta_min=-1e-3), "eta_min"),
    (S.CosineAnnealing, dict(T_max=10, eta_min=NAN), "eta_min"),
    (S.InverseScaling, dict(power_t=-0.5), "power_t"),
    (S.InverseScaling, dict(power_t=False), "power_t"),
    (S.InverseScaling, dict(per="batch"), "per"),
    (S.InverseScaling, dict(per=0), "per"),
    (S.ReduceOnPlateau, dict(factor=1.0), "factor"),
    (S.ReduceOnPlateau, dict(factor=0.0), "factor"),
    (S.ReduceOnPlateau, dict(factor=NAN), "factor"),
    (S.ReduceOnPlateau, dict(patience=-1), "patience"),
    (S.ReduceOnPlateau, dict(patience=1.5), "patience"),
    (S.ReduceOnPlateau, dict(threshold=-1e-4), "threshold"),
    (S.ReduceOnPlateau, dict(threshold_mode="max"), "threshold_mode"),
    (S.ReduceOnPlateau, dict(cooldown=-2), "cooldown"),
    (S.ReduceOnPlateau, dict(min_lr=-1.0), "min_lr"),
    (S.ReduceOnPlateau, dict(min_lr=NAN), "min_lr"),
]


@pytest.mark.parametrize("cls,kw,arg", BAD, ids=[f"{c.__name__}-{k}" for c, k, _ in BAD])
def test_bad_hyperparameters_name_the_argument(cls, kw, arg):
    with pytest.raises(ValueError, match=rf"^{arg} must be .* got "):
        cls(**kw)


def test_numpy_scalars_are_numbers():
    s = S.StepDecay(np.int64(3), gamma=np.float64(0.5))
    assert (s.step_size, s.gamma) == (3, 0.5) and type(s.step_size) is int and type(s.gamma) is float
