"""Every optimizer in fastnn.OPTIMIZERS, on every kernel path and thread split, against
tests/naive_optim.py (itself checked against torch.optim in test_naive_optim.py) and, where torch
is installed, against torch.optim training an equivalent nn.Sequential.

The reference replays fit(shuffle=False) by hand: for each batch, g = the mean gradient at the
current θ (``gradients`` of a twin network holding the reference θ), then one reference step with
the epoch's lr from the schedule; after each epoch the schedule gets that epoch's mean loss.
"""
import math
import pickle

import numpy as np
import pytest

import fastnn
import naive_optim
from fastnn import schedules as S
from helpers import PATHS, params, random_xy, require, set_params

OPTIMIZERS = fastnn.OPTIMIZERS
LR = {"sgd": 0.1, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.01}
# One small net for every path (the unrolled path compiles per architecture).
SIZES, ACTS = [3, 5, 4, 2], ["tanh", "sigmoid", "identity"]
CONFIGS = {
    "sgd": [dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True), dict(weight_decay=0.1),
            dict(momentum=0.5, nesterov=True, weight_decay=0.1)],
    "adam": [dict(), dict(weight_decay=0.1), dict(beta1=0.5, beta2=0.9, eps=1e-3)],
    "adamw": [dict(), dict(weight_decay=0.3, beta1=0.0)],
    "rmsprop": [dict(), dict(alpha=0.9, eps=1e-4, weight_decay=0.1)],
}
CASES = [pytest.param(n, kw, id=f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}")
         for n in OPTIMIZERS for kw in CONFIGS.get(n, [dict()])]
RICHEST = {n: CONFIGS.get(n, [dict()])[-1] for n in OPTIMIZERS}  # where one config per optimizer runs
RTOL, ATOL = 1e-10, 1e-12


def test_every_optimizer_has_a_reference_and_configs():
    assert set(OPTIMIZERS) == set(naive_optim.STEPS) == set(CONFIGS)
    for name, cls in OPTIMIZERS.items():
        assert cls.name == name and isinstance(cls(), fastnn.optimizers.Optimizer)


def _optimizer(name, kw, schedule=None):
    return OPTIMIZERS[name](lr=LR[name], schedule=schedule, **kw)


def _flat(Ws, bs):
    return np.concatenate([W.ravel() for W in Ws] + [np.ravel(b) for b in bs])


class Reference:
    """fit(shuffle=False) by hand, with naive_optim's step; weight decay on W^[k] only."""

    def __init__(self, net, name, kw, schedule=None):
        self.twin = fastnn.Network(net.sizes, net.activations, dtype="float64")
        set_params(self.twin, *params(net))
        self.mask = np.concatenate([np.ones(W.size, bool) for W in net.weights] +
                                   [np.zeros(b.size, bool) for b in net.biases])
        self.step, self.lr, self.kw = naive_optim.STEPS[name], LR[name], kw
        self.schedule, self.state, self.epoch = S.get(schedule), {}, 0

    def fit(self, X, Y, batch, epochs):
        losses = []
        for _ in range(epochs):
            lr, total = self.schedule.lr(self.lr, self.epoch), 0.0
            for s in range(0, len(X), batch):
                xs, ys = X[s:s + batch], Y[s:s + batch]
                total += self.twin.loss(xs, ys) * len(xs)
                theta = self.step(_flat(*params(self.twin)), _flat(*self.twin.gradients(xs, ys)),
                                  self.state, lr, decay_mask=self.mask, **self.kw)
                o = 0
                for a in self.twin.weights + self.twin.biases:
                    a[...] = theta[o:o + a.size].reshape(a.shape)
                    o += a.size
            losses.append(total / len(X))
            self.schedule.report(losses[-1])
            self.epoch += 1
        return losses

    def assert_matches(self, net, hist=None, losses=None):
        for got, want in zip(net.weights + net.biases, self.twin.weights + self.twin.biases):
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
        if hist is not None:
            np.testing.assert_allclose(hist["loss"], losses, rtol=RTOL)


# ------------------------------------------------------------------ every path, 1 and 10 steps
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("rows,batch,epochs", [(4, 4, 1), (19, 4, 2), (3, 1, 1)],
                         ids=["1-step", "10-steps", "batch-1"])
def test_fit_matches_the_reference_on_every_path(name, kw, path, rows, batch, epochs, rng, make_net):
    """10 steps: 5 batches per epoch, the last one partial (3 rows), for 2 epochs. Batch 1:
    plain SGD takes the fused per-sample kernel there, the others a step per sample."""
    net = make_net(SIZES, ACTS, path=path)
    X, Y = random_xy(rng, rows, SIZES[0], SIZES[-1])
    ref = Reference(net, name, kw)
    opt = _optimizer(name, kw)
    hist = net.fit(X, Y, epochs=epochs, batch_size=batch, optimizer=opt, shuffle=False)
    ref.assert_matches(net, hist, ref.fit(X, Y, batch, epochs))
    assert net.optimizer is opt and (opt.t, opt.epoch) == (epochs * -(-rows // batch), epochs)


# ------------------------------------------------------------------ every schedule
SCHEDULED = {  # name -> (fastnn schedule, torch twin); the plateau one reduces after every epoch
    "constant": (lambda: S.Constant(), lambda L, o: L.ConstantLR(o, factor=1.0, total_iters=0)),
    "step": (lambda: S.StepDecay(2, gamma=0.3), lambda L, o: L.StepLR(o, 2, gamma=0.3)),
    "exponential": (lambda: S.ExponentialDecay(0.5), lambda L, o: L.ExponentialLR(o, 0.5)),
    "cosine": (lambda: S.CosineAnnealing(3, eta_min=1e-3), lambda L, o: L.CosineAnnealingLR(o, 3, eta_min=1e-3)),
    "invscaling": (lambda: S.InverseScaling(0.7), lambda L, o: L.LambdaLR(o, lambda e: 1 / (e + 1) ** 0.7)),
    "plateau": (lambda: S.ReduceOnPlateau(factor=0.5, patience=0, threshold=0.5),
                lambda L, o: L.ReduceLROnPlateau(o, factor=0.5, patience=0, threshold=0.5)),
}


def test_every_schedule_is_exercised():
    assert set(SCHEDULED) == set(S.SCHEDULES)


@pytest.mark.parametrize("schedule", SCHEDULED)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_schedules_set_each_epochs_lr(name, schedule, rng, make_net):
    net = make_net(SIZES, ACTS)
    X, Y = random_xy(rng, 12, SIZES[0], SIZES[-1])
    kw = RICHEST[name]
    ref = Reference(net, name, kw, SCHEDULED[schedule][0]())
    hist = net.fit(X, Y, epochs=4, batch_size=4, optimizer=_optimizer(name, kw, SCHEDULED[schedule][0]()),
                   shuffle=False)
    ref.assert_matches(net, hist, ref.fit(X, Y, 4, 4))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_float32_tracks_float64(name, path, rng, make_net):
    X, Y = random_xy(rng, 12, SIZES[0], SIZES[-1])
    n64 = make_net(SIZES, ACTS, path=path)
    n32 = fastnn.Network(SIZES, ACTS, dtype="float32", seed=1, kernel_path=path)
    n32.set_parameters(n64.parameters)
    n64.set_parameters(n32.parameters)  # both start from float32-representable θ
    for net in (n32, n64):
        net.fit(X, Y, epochs=3, batch_size=4, optimizer=_optimizer(name, RICHEST[name]), shuffle=False)
    assert n32.parameters.dtype == np.float32 and n32.optimizer.state.dtype == np.float32
    np.testing.assert_allclose(n32.parameters, n64.parameters, rtol=1e-4, atol=1e-5)



@pytest.mark.parametrize("path", ["loops", "blas", "generic"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_threaded_fit_matches_the_reference(name, path, split, rng, make_net):
    """2 threads, each stepping its own range of θ (weights and biases, so the decay mask is
    split too); 11 rows in batches of 5 leave a 1-row batch, fewer rows than threads."""
    sizes, acts = [4, 9, 7, 2], ["relu", "tanh", "identity"]
    net = make_net(sizes, acts, path=path)
    X, Y = random_xy(rng, 11, sizes[0], sizes[-1])
    kw = RICHEST[name]
    ref = Reference(net, name, kw, S.ExponentialDecay(0.8))
    hist = net.fit(X, Y, epochs=2, batch_size=5, optimizer=_optimizer(name, kw, S.ExponentialDecay(0.8)),
                   shuffle=False, threads=2)
    ref.assert_matches(net, hist, ref.fit(X, Y, 5, 2))


# ------------------------------------------------------------------ torch.optim on nn.Sequential
def _torch_fit(net, X, Y, name, kw, opt, batch, epochs, make_schedule=None, clip_norm=None):
    """The same training in torch: Linear layers holding W^[k], b̄^[k]; loss mean ½‖y − x̄‖²;
    weight decay in a param group of the weights only; with ``clip_norm``,
    ``clip_grad_norm_`` before each step. Returns (Ws, bs, epoch losses)."""
    torch = require("torch")
    acts = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU, "identity": torch.nn.Identity}
    layers = []
    for W, b, act in zip(net.weights, net.biases, net.activations):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.array(W)))
            lin.bias.copy_(torch.from_numpy(np.array(b)))
        layers += [lin, acts[act]()]
    model = torch.nn.Sequential(*layers)
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    groups = [{"params": [m.weight for m in lins], "weight_decay": opt.weight_decay},
              {"params": [m.bias for m in lins], "weight_decay": 0.0}]
    kw = {k: v for k, v in kw.items() if k != "weight_decay"}  # set per group above
    topt = naive_optim.torch_optimizer(name, groups, LR[name], **kw)
    sched = make_schedule(torch.optim.lr_scheduler, topt) if make_schedule else None
    X, Y, losses = torch.from_numpy(X), torch.from_numpy(Y), []
    for _ in range(epochs):
        total = 0.0
        for s in range(0, len(X), batch):
            topt.zero_grad()
            loss = 0.5 * ((model(X[s:s + batch]) - Y[s:s + batch]) ** 2).sum(1).mean()
            loss.backward()
            if clip_norm is not None:
                _torch_fit.norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)))
            topt.step()
            total += loss.item() * len(X[s:s + batch])
        losses.append(total / len(X))
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(losses[-1])
        elif sched is not None:
            sched.step()
    return ([m.weight.detach().numpy() for m in lins], [m.bias.detach().numpy() for m in lins], losses)


_torch_fit.norms = []  # the global gradient norms clip_grad_norm_ saw, for the clipping tests


def _assert_torch_matches(net, hist, torch_run):
    Ws, bs, losses = torch_run
    for got, want in zip(net.weights + net.biases, Ws + bs):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(hist["loss"], losses, rtol=RTOL)


@pytest.mark.parametrize("name,kw", CASES)
def test_fit_matches_torch_optim(name, kw, rng, make_net):
    net = make_net(SIZES, ACTS)
    X, Y = random_xy(rng, 19, SIZES[0], SIZES[-1])
    opt = _optimizer(name, kw)
    theirs = _torch_fit(net, X, Y, name, kw, opt, batch=4, epochs=2)
    _assert_torch_matches(net, net.fit(X, Y, epochs=2, batch_size=4, optimizer=opt, shuffle=False), theirs)


# every optimizer with a config of its own on every path, all pairs (the clip needs a gradient
# buffer: plain SGD leaves its fused kernel, and the unrolled epoch clips its stored gradient)
CLIPPED = [(n, kw, p) for i, (n, kw) in enumerate((n, kw) for n in OPTIMIZERS for kw in CONFIGS[n][:2])
           for p in [PATHS[i % len(PATHS)], PATHS[(i + 1) % len(PATHS)]]]


@pytest.mark.parametrize("name,kw,path", CLIPPED)
def test_clip_norm_matches_torch_clip_grad_norm(name, kw, path, rng, make_net):
    """clip_norm=0.3: most steps clip (their norm is above it), as clip_grad_norm_ then step."""
    net = make_net(SIZES, ACTS, path=path)
    X, Y = random_xy(rng, 19, SIZES[0], SIZES[-1])
    opt = OPTIMIZERS[name](lr=LR[name], clip_norm=0.3, **kw)
    assert not opt.fused and opt.config()["clip_norm"] == 0.3
    _torch_fit.norms.clear()
    theirs = _torch_fit(net, X, Y, name, kw, opt, batch=4, epochs=2, clip_norm=0.3)
    assert sum(n > 0.3 for n in _torch_fit.norms) >= 5, _torch_fit.norms  # the clip acts
    _assert_torch_matches(net, net.fit(X, Y, epochs=2, batch_size=4, optimizer=opt, shuffle=False), theirs)


def test_clip_norm_on_a_net_with_layer_norm_and_a_skip_and_threads(rng):
    """The extended kernels' gradient (θ with γ, β), clipped: the same steps as clipping
    loss_and_gradient by hand and stepping with naive_optim; threads=2 runs on one thread."""
    kw = dict(norm="layer", residual=True, dtype="float64", seed=3)
    net = fastnn.Network([3, 6, 6, 2], "tanh", **kw)
    twin = fastnn.Network([3, 6, 6, 2], "tanh", **kw)
    X, Y = random_xy(rng, 12, 3, 2)
    mask = np.zeros(net.n_params, bool)
    for W in net.unpack(mask)[0]:
        W[...] = True
    theta, state = twin.parameters.copy(), {}
    for s in range(0, 12, 4):
        twin.set_parameters(theta)
        _, g = twin.loss_and_gradient(X[s:s + 4], Y[s:s + 4], training=True)
        g = g * min(1.0, 0.2 / (np.linalg.norm(g) + 1e-6))
        theta = naive_optim.adam_step(theta, g, state, 0.01, weight_decay=0.1, decay_mask=mask)
    net.fit(X, Y, epochs=1, batch_size=4, optimizer=fastnn.Adam(lr=0.01, weight_decay=0.1, clip_norm=0.2),
            shuffle=False, threads=2)
    np.testing.assert_allclose(net.parameters, theta, rtol=1e-10, atol=1e-12)


def test_clip_norm_survives_save_and_load(tmp_path, rng):
    net = fastnn.Network([2, 4, 1], seed=0)
    X, Y = random_xy(rng, 8, 2, 1)
    net.fit(X, Y, epochs=1, optimizer=fastnn.SGD(lr=0.1, clip_norm=0.5))
    net.save(tmp_path / "m.npz")
    back = fastnn.Network.load(tmp_path / "m.npz")
    assert back.optimizer.clip_norm == 0.5 and "clip_norm=0.5" in repr(back.optimizer)


@pytest.mark.parametrize("schedule", SCHEDULED)
def test_schedules_match_torch_lr_scheduler(schedule, rng, make_net):
    net = make_net(SIZES, ACTS)
    X, Y = random_xy(rng, 12, SIZES[0], SIZES[-1])
    ours, make_theirs = SCHEDULED[schedule]
    opt = _optimizer("sgd", dict(momentum=0.9), ours())
    theirs = _torch_fit(net, X, Y, "sgd", dict(momentum=0.9), opt, batch=4, epochs=4, make_schedule=make_theirs)
    _assert_torch_matches(net, net.fit(X, Y, epochs=4, batch_size=4, optimizer=opt, shuffle=False), theirs)


# ------------------------------------------------------------------ state across fits
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_second_fit_continues_steps_state_and_schedule(name, rng, make_net):
    """Two fits of one epoch with one optimizer = one fit of two epochs: t (Adam's bias
    correction), the moments and the schedule's epoch all carry over."""
    X, Y = random_xy(rng, 10, SIZES[0], SIZES[-1])
    kw = RICHEST[name]
    twice, once = make_net(SIZES, ACTS), make_net(SIZES, ACTS)
    set_params(once, *params(twice))
    ref = Reference(twice, name, kw, S.CosineAnnealing(3))
    opt = _optimizer(name, kw, S.CosineAnnealing(3))
    h1 = twice.fit(X, Y, epochs=1, batch_size=4, optimizer=opt, shuffle=False)
    h2 = twice.fit(X, Y, epochs=1, batch_size=4, optimizer=opt, shuffle=False)
    assert (opt.t, opt.epoch) == (6, 2) and twice.optimizer is opt
    h = once.fit(X, Y, epochs=2, batch_size=4, optimizer=_optimizer(name, kw, S.CosineAnnealing(3)), shuffle=False)
    np.testing.assert_array_equal(twice.parameters, once.parameters)
    assert h1["loss"] + h2["loss"] == h["loss"]
    twice.fit(X, Y, epochs=1, batch_size=4, optimizer=name, shuffle=False)  # its name continues it too
    assert twice.optimizer is opt and (opt.t, opt.epoch) == (9, 3)
    ref.fit(X, Y, 4, 3)
    ref.assert_matches(twice)


@pytest.mark.parametrize("schedule", SCHEDULED)
def test_save_and_load_resume_the_optimizer_and_its_schedule(schedule, tmp_path, rng, make_net):
    """Split at epoch 2 of 4 through save/load = uninterrupted, bit for bit (the schedule's
    get_state goes through the model file)."""
    X, Y = random_xy(rng, 10, SIZES[0], SIZES[-1])
    whole, split = make_net(SIZES, ACTS), make_net(SIZES, ACTS)
    set_params(split, *params(whole))
    kw = dict(epochs=2, batch_size=4, shuffle=False)

    def make():
        return _optimizer("adam", RICHEST["adam"], SCHEDULED[schedule][0]())

    h = whole.fit(X, Y, **dict(kw, epochs=4), optimizer=make())
    h1 = split.fit(X, Y, **kw, optimizer=make())
    split.save(tmp_path / "m.npz")
    loaded = fastnn.Network.load(tmp_path / "m.npz")
    h2 = loaded.fit(X, Y, **kw)
    np.testing.assert_array_equal(loaded.parameters, whole.parameters)
    assert h1["loss"] + h2["loss"] == h["loss"] and h1["lr"] + h2["lr"] == h["lr"]
    assert loaded.optimizer.schedule.get_state() == whole.optimizer.schedule.get_state()


# ------------------------------------------------------------------ bad hyperparameters
NAN, INF = float("nan"), float("inf")
BAD = [
    ("sgd", dict(lr=0.0), "lr"), ("adam", dict(lr=-1e-3), "lr"), ("adamw", dict(lr=NAN), "lr"),
    ("rmsprop", dict(lr=INF), "lr"), ("sgd", dict(lr=True), "lr"), ("adam", dict(lr="0.1"), "lr"),
    ("adam", dict(beta1=1.0), "beta1"), ("adamw", dict(beta1=-0.1), "beta1"), ("adam", dict(beta1=NAN), "beta1"),
    ("adam", dict(beta2=1.0), "beta2"), ("adamw", dict(beta2=2.0), "beta2"),
    ("adam", dict(eps=-1e-8), "eps"), ("rmsprop", dict(eps=NAN), "eps"),
    ("sgd", dict(momentum=-0.1), "momentum"), ("sgd", dict(momentum=NAN), "momentum"),
    ("sgd", dict(nesterov=True), "nesterov"), ("sgd", dict(momentum=0.9, nesterov="yes"), "nesterov"),
    ("rmsprop", dict(alpha=-0.5), "alpha"), ("rmsprop", dict(alpha=1.5), "alpha"),
    ("sgd", dict(weight_decay=-0.1), "weight_decay"), ("adamw", dict(weight_decay=NAN), "weight_decay"),
    ("adam", dict(weight_decay=INF), "weight_decay"),
    ("adam", dict(schedule="cosine"), "T_max"), ("sgd", dict(schedule="warmup"), "schedule"),
    ("adam", dict(clip_norm=0.0), "clip_norm"), ("sgd", dict(clip_norm=NAN), "clip_norm"),
    ("rmsprop", dict(clip_norm="1"), "clip_norm"),
]


@pytest.mark.parametrize("name,kw,arg", BAD, ids=[f"{n}-{a}-{kw[a] if a in kw else kw}" for n, kw, a in BAD])
def test_bad_hyperparameters_are_named(name, kw, arg):
    with pytest.raises(ValueError, match=arg):
        OPTIMIZERS[name](**kw)


@pytest.mark.parametrize("lr", [0.0, -0.1, NAN, INF])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_bad_lr_in_fit_leaves_the_network_and_optimizer_unchanged(name, lr, rng, make_net):
    net = make_net(SIZES, ACTS)
    X, Y = random_xy(rng, 8, SIZES[0], SIZES[-1])
    opt = _optimizer(name, RICHEST[name])
    net.fit(X, Y, epochs=1, batch_size=4, optimizer=opt, shuffle=False)
    theta, state, t = net.parameters, None if opt.state is None else opt.state.copy(), opt.t
    with pytest.raises(ValueError, match="lr"):
        net.fit(X, Y, epochs=1, batch_size=4, optimizer=name, lr=lr)
    with pytest.raises(ValueError, match="lr"):  # an object carries its own lr
        net.fit(X, Y, epochs=1, batch_size=4, optimizer=opt, lr=0.5)
    np.testing.assert_array_equal(net.parameters, theta)
    assert net.optimizer is opt and opt.t == t
    if state is not None:
        np.testing.assert_array_equal(opt.state, state)


@pytest.mark.parametrize("spec", ["nadam", "", 3, fastnn.Adam])
def test_unknown_optimizer_is_named(spec, rng, make_net):
    net = make_net(SIZES, ACTS)
    theta = net.parameters
    X, Y = random_xy(rng, 8, SIZES[0], SIZES[-1])
    with pytest.raises(ValueError, match="optimizer"):
        net.fit(X, Y, epochs=1, batch_size=4, optimizer=spec)
    np.testing.assert_array_equal(net.parameters, theta)


def test_an_optimizer_bound_to_another_network_is_refused(rng, make_net):
    X, Y = random_xy(rng, 8, SIZES[0], SIZES[-1])
    opt = fastnn.Adam()
    make_net(SIZES, ACTS).fit(X, Y, epochs=1, batch_size=4, optimizer=opt)
    other = fastnn.Network([3, 7, 2], dtype="float64", seed=0)
    theta, t = other.parameters, opt.t
    with pytest.raises(ValueError, match="optimizer"):
        other.fit(X, Y, epochs=1, batch_size=4, optimizer=opt)
    np.testing.assert_array_equal(other.parameters, theta)
    assert opt.t == t and not math.isnan(opt.state.sum())


def test_momentum_switched_on_between_fits_gets_its_buffer(rng):
    """SGD's momentum set on the fitted optimizer (it had no state): a zero buffer appears, as for a
    new SGD(momentum=...) from that point; switched off again, the buffer goes. (Before, the kernel
    ran the momentum step on an empty state.)"""
    X, Y = rng.normal(size=(64, 4)), rng.normal(size=(64, 2))
    a, b = (fastnn.Network([4, 16, 2], seed=0) for _ in range(2))
    for n in (a, b):
        n.fit(X, Y, epochs=1, batch_size=16, lr=0.05, shuffle=False)
    a.optimizer.momentum = 0.9
    a.fit(X, Y, epochs=3, batch_size=16, shuffle=False)
    b.fit(X, Y, epochs=3, batch_size=16, shuffle=False, optimizer=fastnn.SGD(lr=0.05, momentum=0.9))
    np.testing.assert_array_equal(a.parameters, b.parameters)
    assert a.optimizer.state.size == a.n_params
    a.optimizer.momentum = 0.0
    a.fit(X, Y, epochs=1, batch_size=16, shuffle=False)
    assert a.optimizer.state.size == 0 and a.optimizer.fused


@pytest.mark.parametrize("opt, name, bad", [
    (fastnn.SGD(lr=0.1), "lr", -1.0), (fastnn.SGD(lr=0.1), "lr", float("nan")), (fastnn.SGD(), "momentum", 1.5),
    (fastnn.SGD(), "nesterov", True), (fastnn.Adam(), "beta2", 1.0), (fastnn.AdamW(), "weight_decay", -0.1),
    (fastnn.RMSprop(), "clip_norm", 0.0), (fastnn.Adam(), "eps", "1e-8")])
def test_a_hyperparameter_changed_later_is_checked_as_the_constructor_checks_it(opt, name, bad):
    """net.optimizer.<name> = value after a fit: refused with the constructor's message, unchanged."""
    before = getattr(opt, name)
    with pytest.raises(ValueError, match=f"{type(opt).__name__}: {name}"):
        setattr(opt, name, bad)
    assert getattr(opt, name) == before
    good = {"lr": 0.05, "momentum": 0.5, "nesterov": False, "beta2": 0.99, "weight_decay": 0.01, "clip_norm": 2.0,
            "eps": 1e-7}[name]
    setattr(opt, name, good)
    assert getattr(opt, name) == good and type(opt)(**opt.config()).config() == opt.config()


@pytest.mark.parametrize("opt", [fastnn.SGD(lr=0.1, momentum=0.5), fastnn.Adam(), fastnn.AdamW(), fastnn.RMSprop()])
def test_the_kept_hyperparameters_follow_every_change(opt):
    """hyper() keeps its h under a constant schedule (a one-row fit asks on every call): after
    each change it equals what a fresh optimizer with the same configuration gives; the step
    counters keep it, and another schedule's lr still moves with the epoch."""
    def fresh():
        return type(opt)(**opt.config(), schedule=opt.schedule).hyper()._replace()

    h = opt.hyper()
    assert opt.hyper() is h  # kept
    opt.lr = float(opt.lr)  # fit's lr=, the same value: still kept
    opt.t += 3
    opt.epoch += 1
    assert opt.hyper() is h
    field = type(opt)._fields[0]
    for name, value in [("lr", 0.05), ("weight_decay", 0.01), (field, 0.25), ("clip_norm", 2.0)]:
        setattr(opt, name, value)
        assert opt.hyper() == fresh() and getattr(opt.hyper(), name) == value
    opt.schedule = S.StepDecay(step_size=1, gamma=0.5)
    lrs = []
    for _ in range(3):
        lrs.append(opt.hyper().lr)
        opt.epoch += 1
    assert lrs == [0.05 * 0.5 ** e for e in range(opt.epoch - 3, opt.epoch)]
    assert pickle.loads(pickle.dumps(opt)).hyper() == opt.hyper()
