"""The deep-net layers of issue 19 (norm, dropout, residual, the new activations) against
independent references.

* PyTorch: the same net built by hand from ``nn.Linear``, ``nn.LayerNorm``, ``nn.BatchNorm1d``
  and the activation modules, with the weights, γ, β and running statistics copied (never via
  fastnn's own ``to_torch``), and dropout given fastnn's mask. Forward (eval and training),
  the gradient of the mean loss, and whole optimizer steps (``fit`` against ``torch.optim``),
  batch norm's running statistics included. The reference runs in float64 for both dtypes.
  Per tensor, max|a − b| / max|b| <= 1e-10 (float64) or 1e-5 (float32).
* Dropout's masks: rate within binomial bounds, independence across units, samples and layers,
  the 1/(1 − p) scale, gradients through a fixed mask against central differences.
* Threads, resumed fits, batch norm's small batches, the kernel paths.

``python -m pytest tests/test_deep_layers.py -s -k agreement_table`` prints the largest relative
errors seen against PyTorch, per option and dtype, as a Markdown table.
"""
import copy
import itertools

import numpy as np
import pytest

from fastnn import SGD, Adam, AdamW, Network, RMSprop
from helpers import all_pairs, randomize_biases, randomize_norms, require

TOL = {"float32": 1e-5, "float64": 1e-10}
SIZES = [5, 6, 6, 3]  # layer 2 (6 -> 6) takes the skip when residual=True; layer 1 cannot
N = 8


# ------------------------------------------------------------------------------ the reference
@pytest.fixture(scope="module")
def torch():
    torch = require("torch")
    torch.manual_seed(0)
    return torch


def _activation(nn, name):
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity,
            "leaky_relu": lambda: nn.LeakyReLU(0.01), "gelu": lambda: nn.GELU(approximate="none"),
            "silu": nn.SiLU, "elu": lambda: nn.ELU(alpha=1.0), "selu": nn.SELU}[name]()


def reference(torch, net):
    """The net as a float64 torch module made by hand: for each hidden layer k a block
    Linear → LayerNorm/BatchNorm1d (or nothing) → ψ^[k] → dropout with a given mask → skip, then
    Linear → ψ^[K] (the logits for a cross-entropy loss). W, b̄, γ, β and the running statistics
    are copied from ``net``. ``module.masks[k]`` (a tensor, or None) is layer k's dropout mask in
    training mode."""
    nn = torch.nn
    t64 = lambda a: torch.tensor(np.asarray(a, np.float64))  # noqa: E731

    class Block(nn.Module):
        def __init__(self, owner, k, n_in, n_out, norm, act, p, residual):
            super().__init__()
            self.owner, self.k, self.p, self.residual = [owner], k, p, residual
            self.linear = nn.Linear(n_in, n_out)
            self.norm = {None: nn.Identity, "layer": lambda: nn.LayerNorm(n_out, eps=1e-5),
                         "batch": lambda: nn.BatchNorm1d(n_out, eps=1e-5, momentum=0.1)}[norm]()
            self.act = _activation(nn, act)

        def forward(self, x):
            a = self.act(self.norm(self.linear(x)))
            mask = self.owner[0].masks.get(self.k)
            if self.training and self.p > 0:  # d = a ⊙ m / (1 − p), with the given mask
                a = a * mask / (1 - self.p)
            return x + a if self.residual else a

    class Reference(nn.Module):
        def __init__(self):
            super().__init__()
            self.masks = {}
            K = net.n_layers
            self.blocks = nn.ModuleList(
                Block(self, k, net.sizes[k - 1], net.sizes[k], net.norm[k - 1], net.activations[k - 1],
                      net.dropout[k - 1], net.residual[k - 1]) for k in range(1, K))
            self.out = nn.Linear(net.sizes[K - 1], net.sizes[K])
            self.out_act = nn.Identity() if net.loss_name != "mse" else _activation(nn, net.activations[-1])

        def forward(self, x, hidden=None):
            for k, block in enumerate(self.blocks, start=1):
                x = block(x)
                if hidden is not None:
                    hidden[k] = x
            return self.out_act(self.out(x))

    module = Reference().double()
    with torch.no_grad():
        linears = [b.linear for b in module.blocks] + [module.out]
        for lin, W, b in zip(linears, net.weights, net.biases):
            lin.weight.copy_(t64(W))
            lin.bias.copy_(t64(b))
        for block, gamma, beta, mean, var in zip(module.blocks, net.norm_scales, net.norm_shifts,
                                                 net.running_means, net.running_vars):
            if gamma is not None:
                block.norm.weight.copy_(t64(gamma))
                block.norm.bias.copy_(t64(beta))
            if mean is not None:
                block.norm.running_mean.copy_(t64(mean))
                block.norm.running_var.copy_(t64(var))
    return module


def torch_loss(torch, net, out, Y, sw=None):
    """The mean (or Σ w L / Σ w) of fastnn's per-sample loss L on the module's output."""
    F = torch.nn.functional
    Y = torch.tensor(np.asarray(Y, np.float64))
    if net.loss_name == "mse":  # ½‖y − x̄^[K]‖²
        L = 0.5 * ((out - Y) ** 2).sum(1)
    elif net.loss_name == "cross_entropy":  # −Σ y log softmax(z̄^[K]), labels or probabilities
        L = F.cross_entropy(out, Y.long(), reduction="none") if Y.ndim == 1 else -(Y * F.log_softmax(out, 1)).sum(1)
    else:  # Σ_j softplus(z_j) − y_j z_j
        L = F.binary_cross_entropy_with_logits(out, Y, reduction="none").sum(1)
    if sw is None:
        return L.mean()
    w = torch.tensor(np.asarray(sw, np.float64))
    return (w * L).sum() / w.sum()


def link(torch, net, out):
    """x̄^[K] from the module's output: probabilities for a cross-entropy loss."""
    if net.loss_name == "cross_entropy":
        return torch.softmax(out, 1)
    if net.loss_name == "binary_cross_entropy":
        return torch.sigmoid(out)
    return out


def tensors(module):
    """The module's parameters in fastnn's order per layer: W, b, γ, β (γ, β where there is norm)."""
    out = []
    for block in module.blocks:
        out += [block.linear.weight, block.linear.bias]
        if hasattr(block.norm, "weight"):
            out += [block.norm.weight, block.norm.bias]
    return [*out, module.out.weight, module.out.bias]


def fastnn_tensors(net, vector=None):
    """θ (or a θ-shaped vector) split as ``tensors`` orders the module's."""
    vector = net.parameters if vector is None else vector
    Ws, bs = net.unpack(vector)
    gs, betas = net.unpack_norm(vector)
    out = []
    for k in range(net.n_layers - 1):
        out += [Ws[k], bs[k]]
        if gs[k] is not None:
            out += [gs[k], betas[k]]
    return [*out, Ws[-1], bs[-1]]


def batch_norm_biases(net):
    """Where b̄^[k] of the batch norm layers sits in ``fastnn_tensors``'s list."""
    out, i = [], 0
    for k in range(net.n_layers - 1):
        if net.norm[k] == "batch":
            out.append(i + 1)
        i += 2 if net.norm[k] is None else 4
    return out


def assert_gradients_close(net, grad, wants, training, what, options=()):
    """A flat gradient of net's against ``wants`` (tensors in ``fastnn_tensors``'s order), as
    ``assert_all_close``, but for b̄^[k] of the batch norm layers in training mode: batch norm
    subtracts the batch's mean of z̄^[k] there, so b̄^[k] has no effect and its exact gradient is
    0. Both sides then hold rounding noise, which must be small against the gradient of the
    layer's W^[k] (the tensor before it)."""
    gots = fastnn_tensors(net, grad)
    noise = batch_norm_biases(net) if training else []
    for i in noise:
        scale = float(np.max(np.abs(gots[i - 1])))
        assert np.max(np.abs(gots[i])) <= TOL[net.dtype.name] * scale, f"{what}: ∂L/∂b̄ of a batch norm layer"
    keep = [i for i in range(len(gots)) if i not in noise]
    assert_all_close([gots[i] for i in keep], [wants[i] for i in keep], net.dtype, what, options)


def running(module):
    """The module's batch norm running means, then variances, as fastnn's
    ``running_means + running_vars`` lists them (None for a layer without batch norm)."""
    means = [b.norm.running_mean if hasattr(b.norm, "running_mean") else None for b in module.blocks]
    return means + [b.norm.running_var if hasattr(b.norm, "running_var") else None for b in module.blocks]


# Largest relative error seen per (option, dtype, quantity), for the closing note's table
# (test_agreement_table), and the (check, case) pairs that recorded theirs.
WORST = {}
DONE = set()


def relative_error(got, want):
    got = np.asarray(got, np.float64)
    want = np.asarray(want.detach().numpy() if hasattr(want, "detach") else want, np.float64)
    assert got.shape == want.shape
    scale = np.max(np.abs(want))
    return float(np.max(np.abs(got - want)) / scale) if scale > 0 else float(np.max(np.abs(got)))


def assert_close(got, want, dtype, what, options=()):
    """max|got − want| / max|want| within the dtype's tolerance; records the error under each
    of ``options`` for the agreement table."""
    err = relative_error(got, want)
    for key in options:
        WORST[key] = max(WORST.get(key, 0.0), err)
    assert err <= TOL[str(dtype)], f"{what}: relative error {err:.3g} > {TOL[str(dtype)]:g}"


def assert_all_close(gots, wants, dtype, what, options=()):
    assert len(gots) == len(wants)
    for i, (got, want) in enumerate(zip(gots, wants)):
        assert_close(got, want, dtype, f"{what}[{i}]", options)


# ------------------------------------------------------------------------------ the cases


# The adaptive optimizers run with eps = 1e-3: b̄^[k] of a batch norm layer has an exact gradient
# of 0 in training (batch norm subtracts the batch mean of z̄^[k]), so both sides see rounding
# noise there, which Adam and RMSprop divide by √v̂ + eps of that same noise. At the default
# eps 1e-8 that noise moved b̄^[k] apart by up to 4e-9 (float64) and 2e-2 (float32) of its size,
# in directions neither side controls (and the running means inherited it). At eps 1e-3 the
# noise moves it by less than 1e-7 lr, and eps's place in the formula weighs more in every
# other entry.
OPTIMIZERS = {  # (fastnn's optimizer, torch.optim's class and arguments)
    "sgd": (lambda: SGD(lr=0.1), ("SGD", dict(lr=0.1))),
    "sgd-nesterov-wd": (lambda: SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
                        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05))),
    "adam-wd": (lambda: Adam(lr=0.01, eps=1e-3, weight_decay=0.05),
                ("Adam", dict(lr=0.01, eps=1e-3, weight_decay=0.05))),
    "adamw": (lambda: AdamW(lr=0.01, eps=1e-3, weight_decay=0.1),
              ("AdamW", dict(lr=0.01, eps=1e-3, weight_decay=0.1))),
    "rmsprop": (lambda: RMSprop(lr=0.01, eps=1e-3, weight_decay=0.05),
                ("RMSprop", dict(lr=0.01, eps=1e-3, weight_decay=0.05))),
}
FACTORS = {
    "norm": [None, "layer", "batch"],
    "dropout": [0.0, 0.2],
    "residual": [False, True],
    "dtype": ["float64", "float32"],
    "loss": ["mse", "cross_entropy", "binary_cross_entropy"],
    "optimizer": ["sgd", "sgd-nesterov-wd", "adam-wd", "adamw"],
    "act": ["gelu", "silu", "elu", "selu"],
}
CASES = all_pairs(FACTORS)
CASES += [dict(norm="batch", dropout=0.2, residual=True, dtype="float64", loss="mse", optimizer="rmsprop", act="gelu"),
          dict(norm="layer", dropout=0.2, residual=True, dtype="float32", loss="cross_entropy", optimizer="rmsprop",
               act="silu")]  # (RMSprop's kernel once per dtype, outside the all-pairs rows)


def case_id(c):
    return "-".join([c["norm"] or "nonorm", f"p{c['dropout']:g}", "res" if c["residual"] else "nores",
                     c["dtype"], c["loss"], c["optimizer"], c["act"]])


def options(c, quantity):
    """The keys (option, dtype, quantity) a case's errors are recorded under in the table."""
    names = ["all", f"norm={c['norm']}", f"dropout={c['dropout']:g}", f"residual={c['residual']}",
             f"ψ={c['act']}", f"loss={c['loss']}", f"optimizer={c['optimizer']}"]
    return [(name, c["dtype"], quantity) for name in names]


def make(c, seed=0):
    """The case's net with random b̄, γ, β and (batch norm) running statistics, and its data."""
    net = Network(SIZES, c["act"], loss=c["loss"], norm=c["norm"], dropout=c["dropout"], residual=c["residual"],
                  dtype=c["dtype"], seed=seed)
    rng = np.random.default_rng(seed + 100)
    randomize_biases(net, rng)
    randomize_norms(net, rng)
    if c["norm"] == "batch":
        net.set_running_stats([rng.normal(scale=0.5, size=n) for n in SIZES[1:-1]],
                              [rng.uniform(0.5, 2.0, n) for n in SIZES[1:-1]])
    X = rng.normal(size=(N, SIZES[0])).astype(c["dtype"])
    if c["loss"] == "cross_entropy":
        Y = rng.integers(0, SIZES[-1], N)
    elif c["loss"] == "binary_cross_entropy":
        Y = rng.integers(0, 2, (N, SIZES[-1])).astype(float)
    else:
        Y = rng.normal(size=(N, SIZES[-1]))
    return net, X, Y


def set_masks(torch, module, bp, rows=slice(None)):
    module.masks = {k: torch.tensor(m[rows]) for k, m in bp.mask.items()}


def t64(torch, a):
    return torch.tensor(np.asarray(a, np.float64))


# ------------------------------------------------------------------------------ forward
@pytest.mark.parametrize("c", CASES, ids=case_id)
def test_forward_matches_torch(c, torch):
    check_forward(c, torch)


def check_forward(c, torch):
    """predict against module.eval(); backprop(training=True)'s x̄^[k] (every layer) against
    module.train() with the same dropout masks (batch norm on the batch's own statistics)."""
    net, X, Y = make(c)
    module = reference(torch, net)
    module.eval()
    with torch.no_grad():
        want = link(torch, net, module(t64(torch, X)))
    assert_close(net.predict(X), want, net.dtype, "predict", options(c, "forward"))
    bp = net.backprop(X, Y, training=True)
    assert sorted(bp.mask) == ([k for k in (1, 2) if c["dropout"] > 0])
    module.train()
    set_masks(torch, module, bp)
    hidden = {}
    with torch.no_grad():
        want = link(torch, net, module(t64(torch, X), hidden))
    assert_close(bp.x[net.n_layers], want, net.dtype, "x[K], training", options(c, "forward"))
    for k, h in hidden.items():
        assert_close(bp.x[k], h, net.dtype, f"x[{k}], training", options(c, "forward"))
    DONE.add(("forward", case_id(c)))


# ------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("training", [False, True], ids=["eval", "training"])
@pytest.mark.parametrize("c", CASES, ids=case_id)
def test_loss_and_gradient_match_torch_autograd(c, training, torch):
    check_gradient(c, training, torch)


def check_gradient(c, training, torch):
    """loss_and_gradient (eval, or training with the next epoch's masks) against autograd."""
    net, X, Y = make(c)
    module = reference(torch, net)
    module.train(training)
    if training:
        set_masks(torch, module, net.backprop(X, Y, training=True))
    loss = torch_loss(torch, net, module(t64(torch, X)), Y)
    loss.backward()
    got_loss, grad = net.loss_and_gradient(X, Y, training=training)
    assert grad.dtype == np.float64
    assert_close(got_loss, loss, net.dtype, "loss", options(c, "gradient"))
    mode = "training" if training else "eval"
    assert_gradients_close(net, grad, [p.grad for p in tensors(module)], training, f"gradient ({mode})",
                           options(c, "gradient"))
    DONE.add((f"gradient-{mode}", case_id(c)))


# ------------------------------------------------------------------------------ optimizer steps
def torch_optimizer(torch, c, module):
    """torch.optim's twin of the case's optimizer; weight decay on the Linear weights only (as
    fastnn decays W^[k], never b̄^[k], γ^[k], β^[k])."""
    name, kw = OPTIMIZERS[c["optimizer"]][1]
    kw = dict(kw)
    wd = kw.pop("weight_decay", 0.0)
    linears = [b.linear for b in module.blocks] + [module.out]
    decayed = [lin.weight for lin in linears]
    rest = [p for p in module.parameters() if all(p is not w for w in decayed)]
    return getattr(torch.optim, name)([dict(params=decayed, weight_decay=wd), dict(params=rest, weight_decay=0.0)],
                                      **kw)


@pytest.mark.parametrize("c", CASES, ids=case_id)
def test_optimizer_steps_and_running_statistics_match_torch(c, torch):
    check_steps(c, torch)


def check_steps(c, torch):
    """fit's steps against torch.optim's on the same losses: one full batch (batch_size=N),
    then two epochs of two batches each (shuffle=False), each epoch with the masks that
    backprop(training=True) shows for it. After each epoch every parameter, and batch norm's
    running statistics (moved by torch's own BatchNorm1d in train mode), agree."""
    net, X, Y = make(c)
    module = reference(torch, net)
    module.train()
    opt = torch_optimizer(torch, c, module)
    Xt = t64(torch, X)
    for epoch, batch in enumerate([N, 4, 4]):
        bp = net.backprop(X, Y, training=True)  # this epoch's masks (positions 0..N-1)
        net.fit(X, Y, epochs=1, batch_size=batch, shuffle=False,
                optimizer=OPTIMIZERS[c["optimizer"]][0]() if epoch == 0 else None)
        assert net.epochs_trained == epoch + 1
        for r0 in range(0, N, batch):
            rows = slice(r0, r0 + batch)
            set_masks(torch, module, bp, rows)
            opt.zero_grad()
            torch_loss(torch, net, module(Xt[rows]), Y[rows]).backward()
            opt.step()
        what = f"after epoch {epoch + 1} (batch {batch})"
        assert_all_close(fastnn_tensors(net), tensors(module), net.dtype, f"θ {what}", options(c, "step"))
        for got, want in zip(net.running_means + net.running_vars, running(module)):
            assert (got is None) == (want is None)
            if got is not None:
                assert_close(got, want, net.dtype, f"running statistics {what}", options(c, "step"))
    DONE.add(("step", case_id(c)))


CHECKS = {"forward": check_forward, "gradient-eval": lambda c, torch: check_gradient(c, False, torch),
          "gradient-training": lambda c, torch: check_gradient(c, True, torch), "step": check_steps}


def test_agreement_table(torch):
    """Prints the largest max|a − b| / max|b| over the tensors of the cases, per option and
    dtype: forward (predict, x̄^[k] in training), gradient (eval and training), optimizer steps
    (θ and running statistics). Runs the checks that did not run in this session."""
    for (name, check), c in itertools.product(CHECKS.items(), CASES):
        if (name, case_id(c)) not in DONE:
            check(c, torch)
    quantities = ["forward", "gradient", "step"]
    dtypes = ["float64", "float32"]
    rows = sorted({key[0] for key in WORST}, key=lambda o: (o != "all", o.split("=")[0], o))
    lines = ["| option | " + " | ".join(f"{d} {q}" for d in dtypes for q in quantities) + " |",
             "|---|" + "---|" * (len(dtypes) * len(quantities))]
    for option in rows:
        cells = [WORST.get((option, d, q)) for d in dtypes for q in quantities]
        lines.append(f"| {option} | " + " | ".join("–" if v is None else f"{v:.1e}" for v in cells) + " |")
    print(f"\nAgainst PyTorch (float64 reference), max|a − b| / max|b| per tensor, worst over {len(CASES)} "
          f"cases; tolerances {TOL}\n" + "\n".join(lines))
    assert all(v <= TOL[key[1]] for key, v in WORST.items())


# ------------------------------------------------------------------------------ sample weights
def test_integer_sample_weights_under_batch_norm_equal_repeated_rows(torch):
    """Batch norm's statistics are weighted means: weights [2, 1, 1, 3, 1, 0, 1, 1] give the
    loss, the gradient (training mode), one fit step and the running statistics of the batch
    with row 0 twice, row 3 three times and row 5 left out, which torch computes as a batch."""
    c = dict(norm="batch", dropout=0.0, residual=True, dtype="float64", loss="mse", optimizer="sgd", act="tanh")
    net, X, Y = make(c)
    sw = np.array([2, 1, 1, 3, 1, 0, 1, 1])
    rep = np.repeat(np.arange(N), sw)
    loss_w, grad_w = net.loss_and_gradient(X, Y, sw, training=True)
    loss_r, grad_r = net.loss_and_gradient(X[rep], Y[rep], training=True)
    module = reference(torch, net)
    module.train()
    want = torch_loss(torch, net, module(t64(torch, X[rep])), Y[rep])
    want.backward()
    assert_close(loss_w, want, net.dtype, "weighted loss")
    assert_close(loss_r, want, net.dtype, "loss of the repeated rows")
    for grad in (grad_w, grad_r):
        assert_gradients_close(net, grad, [p.grad for p in tensors(module)], True, "gradient")
    a, b = copy.deepcopy(net), copy.deepcopy(net)
    a.fit(X, Y, sample_weight=sw, epochs=1, batch_size=N, shuffle=False, optimizer="sgd", lr=0.1)
    b.fit(X[rep], Y[rep], epochs=1, batch_size=len(rep), shuffle=False, optimizer="sgd", lr=0.1)
    assert_all_close(fastnn_tensors(a), fastnn_tensors(b), net.dtype, "θ after a step")
    assert_all_close(a.running_means, b.running_means, net.dtype, "running means after a step")


def batch_norm_net_and_torch(torch, rows, momentum=0.1):
    """A float64 net with batch norm in both hidden layers, data, and its reference module in
    train mode with BatchNorm1d's momentum ``momentum`` (1.0: the running statistics become the
    batch's), having seen X[rows]."""
    c = dict(norm="batch", dropout=0.0, residual=False, dtype="float64", loss="mse", optimizer="sgd", act="tanh")
    net, X, Y = make(c)
    module = reference(torch, net)
    module.train()
    for block in module.blocks:
        block.norm.momentum = momentum
    with torch.no_grad():
        module(t64(torch, X[rows]))
    return net, X, Y, [r for r in running(module) if r is not None]


def test_set_batch_statistics_matches_torch_on_the_whole_batch(torch):
    """set_batch_statistics(X): the mean and unbiased variance of X's z̄^[k], layer after layer
    (each on the batch statistics of the layers before), as BatchNorm1d(momentum=1) keeps them."""
    net, X, _, want = batch_norm_net_and_torch(torch, slice(None), momentum=1.0)
    theta = net.parameters
    net.set_batch_statistics(X)
    assert_all_close(net.running_means + net.running_vars, want, net.dtype, "running statistics")
    np.testing.assert_array_equal(net.parameters, theta)


@pytest.mark.parametrize("weights", ["integers", "ones", "two-rows", "set_batch_statistics"])
def test_running_variance_with_integer_sample_weights_equals_repeated_rows(weights, torch):
    """The running statistics after a fit step with integer weights (or set by
    set_batch_statistics) are those of the repeated rows: torch's BatchNorm1d on them, unbiased
    variance of the Σ w rows. fit rescales the weights by a power of two (only their ratios
    matter elsewhere), so this checks that the count Σ w is the caller's: weights of ones must
    give the unweighted N/(N − 1), and two rows of weight 1 must move the statistics."""
    sw = {"integers": np.array([2, 1, 1, 3, 1, 0, 1, 1]), "ones": np.ones(N, int), "two-rows": np.ones(2, int),
          "set_batch_statistics": np.array([2, 1, 1, 3, 1, 0, 1, 1])}[weights]
    rep = np.repeat(np.arange(len(sw)), sw)
    setting = weights == "set_batch_statistics"
    net, X, Y, want = batch_norm_net_and_torch(torch, rep, momentum=1.0 if setting else 0.1)
    X, Y = X[: len(sw)], Y[: len(sw)]
    if setting:
        net.set_batch_statistics(X, sample_weight=sw)
    else:
        net.fit(X, Y, sample_weight=sw, epochs=1, batch_size=len(sw), shuffle=False, optimizer="sgd", lr=0.1)
    assert_all_close(net.running_means + net.running_vars, want, net.dtype, "running statistics")


# ------------------------------------------------------------------------------ dropout's masks
def masks(net, X, Y):
    """{k: layer k's mask m^[k]} of fit's next epoch (positions 0..N-1), 0/1 floats."""
    bp = net.backprop(X, Y, training=True)
    for m in bp.mask.values():
        assert m.shape[0] == len(X) and set(np.unique(m)) <= {0.0, 1.0}
    return bp.mask


def corr(a, b):
    """Pearson's r of two equally long 0/1 samples and its 5σ bound under independence."""
    a, b = np.ravel(a), np.ravel(b)
    return float(np.corrcoef(a, b)[0, 1]), 5 / np.sqrt(a.size)


@pytest.fixture(scope="module")
def wide():
    """Nets [4, 64, 64, 64, 1] with dropout 0.1 and 0.5 in every hidden layer, 512 rows."""
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(512, 4)), rng.normal(size=(512, 1))
    return {p: Network([4, 64, 64, 64, 1], "tanh", dropout=p, dtype="float64", seed=11) for p in (0.1, 0.5)}, X, Y


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_rate_is_within_binomial_bounds_per_layer_and_unit(p, wide):
    nets, X, Y = wide
    net = nets[p]
    ms = masks(net, X, Y)
    assert sorted(ms) == [1, 2, 3]
    for k, m in ms.items():
        n = m.size  # 512 x 64 draws
        dropped = 1 - m.mean()
        assert abs(dropped - p) <= 5 * np.sqrt(p * (1 - p) / n), f"layer {k}: dropped {dropped:.4f}, p = {p}"
        per_unit = 1 - m.mean(0)  # 512 draws each; 5σ over 64 units
        assert np.all(np.abs(per_unit - p) <= 5 * np.sqrt(p * (1 - p) / m.shape[0])), f"layer {k}'s units"
        per_row = 1 - m.mean(1)  # 64 draws each; 5σ over 512 rows
        assert np.all(np.abs(per_row - p) <= 5 * np.sqrt(p * (1 - p) / m.shape[1])), f"layer {k}'s rows"


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_masks_are_independent_across_units_samples_layers_epochs_and_seeds(p, wide):
    """Pearson's r within 5σ of 0 between the masks of neighbouring units (same sample), of the
    same unit in neighbouring samples, of two layers, of two epochs and of two networks' seeds."""
    nets, X, Y = wide
    net = nets[p]
    ms = masks(net, X, Y)
    pairs = {}
    for k, m in ms.items():
        pairs[f"units j, j+1 of layer {k}"] = (m[:, :-1], m[:, 1:])
        pairs[f"samples i, i+1 of layer {k}"] = (m[:-1], m[1:])
        pairs[f"samples i, i+2 of layer {k}"] = (m[:-2], m[2:])
    pairs["layers 1, 2"] = (ms[1], ms[2])
    pairs["layers 2, 3"] = (ms[2], ms[3])
    pairs["layer 1's units j and layer 2's j+1"] = (ms[1][:, :-1], ms[2][:, 1:])
    later = copy.deepcopy(net)
    later.fit(X[:2], Y[:2], epochs=1, batch_size=2, lr=1e-12)  # the epoch count keys the masks
    assert later.epochs_trained == 1
    pairs["epochs 0, 1"] = (ms[1], masks(later, X, Y)[1])
    other = Network(net.sizes, "tanh", dropout=p, dtype="float64", seed=12)
    assert other.dropout_seed != net.dropout_seed
    pairs["seeds 11, 12"] = (ms[1], masks(other, X, Y)[1])
    for what, (a, b) in pairs.items():
        r, bound = corr(a, b)
        assert abs(r) <= bound, f"{what}: r = {r:.4f} (bound {bound:.4f})"
    # the same keys give the same masks: on a copy, on the first rows, after a predict
    np.testing.assert_array_equal(masks(copy.deepcopy(net), X, Y)[2], ms[2])
    np.testing.assert_array_equal(masks(net, X[:10], Y[:10])[3], ms[3][:10])
    net.predict(X)
    np.testing.assert_array_equal(masks(net, X, Y)[1], ms[1])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_kept_values_are_scaled_by_exactly_one_over_one_minus_p(p, dtype):
    """x̄^[1] in training is x̄^[1] of evaluation times the dtype's 1/(1 − p) where kept, exactly 0
    where dropped; x̄^[2] is ψ(z̄^[2]) ⊙ m / (1 − p) of its own (training) input."""
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(64, 4)), rng.normal(size=(64, 2))
    net = Network([4, 16, 16, 2], "tanh", dropout=p, dtype=dtype, seed=5)
    train, evaluation = net.backprop(X, Y, training=True), net.backprop(X, Y)
    assert evaluation.mask == {}
    scale = np.dtype(dtype).type(1 / (1 - p))
    m = train.mask[1].astype(bool)
    assert train.x[1].dtype == np.dtype(dtype)
    np.testing.assert_array_equal(train.x[1][m], evaluation.x[1][m] * scale)
    assert np.all(train.x[1][~m] == 0)
    assert 0 < m.mean() < 1
    want = np.tanh(train.z[2].astype(np.float64)) * train.mask[2] / (1 - p)
    np.testing.assert_allclose(train.x[2], want, rtol=TOL[dtype], atol=TOL[dtype])


FD_NETS = [dict(norm=None, residual=False, act="tanh"), dict(norm="layer", residual=True, act="gelu"),
           dict(norm="batch", residual=True, act="silu"), dict(norm=["batch", "layer"], residual=False, act="elu")]


@pytest.mark.parametrize("spec", FD_NETS, ids=lambda s: f"{s['norm']}-{s['residual']}-{s['act']}")
def test_gradient_through_fixed_dropout_masks_matches_central_differences(spec):
    """loss_and_gradient(training=True) is a function of θ for fixed masks (the next epoch's):
    every entry of its gradient, W, b̄, γ, β alike, agrees with (L(θ + εe_i) − L(θ − εe_i))/2ε
    of its own loss; and the loss is that of backprop(training=True)."""
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(10, 4)), rng.normal(size=(10, 2))
    net = Network([4, 6, 6, 2], spec["act"], norm=spec["norm"], dropout=0.3, residual=spec["residual"],
                  dtype="float64", seed=2)
    theta = net.parameters + rng.normal(scale=0.2, size=net.n_params)  # b̄, γ, β off their start
    net.set_parameters(theta)
    loss, grad = net.loss_and_gradient(X, Y, training=True)
    assert loss == pytest.approx(net.backprop(X, Y, training=True).loss, rel=1e-12)
    assert loss != pytest.approx(net.loss_and_gradient(X, Y)[0], rel=1e-3)  # the masks act
    eps = 1e-6

    def loss_at(i, step):
        t = theta.copy()
        t[i] += step
        net.set_parameters(t)
        return net.loss_and_gradient(X, Y, training=True)[0]

    fd = np.array([(loss_at(i, eps) - loss_at(i, -eps)) / (2 * eps) for i in range(net.n_params)])
    net.set_parameters(theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8 * np.max(np.abs(grad)))


# ------------------------------------------------------------------------------ threads and runs
THREADED = {  # [16, 32, 32, 2] at batch 32: 2 threads run (the count is forced, the split by `split`)
    "layer": dict(norm="layer"), "batch": dict(norm="batch"), "dropout": dict(dropout=0.2),
    "residual": dict(residual=True), "layer-dropout-residual": dict(norm="layer", dropout=0.2, residual=True),
    "batch-dropout-residual": dict(norm="batch", dropout=0.2, residual=True),
    "layer-batch-dropout": dict(norm=["layer", "batch"], dropout=0.2),
}


def threaded_fit(dtype, threads, **options):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(128, 16)), rng.normal(size=(128, 2))
    net = Network([16, 32, 32, 2], "tanh", dtype=dtype, seed=0, **options)
    net.fit(X, Y, epochs=2, batch_size=32, threads=threads, optimizer=SGD(lr=0.05, momentum=0.9))
    return net


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(THREADED))
def test_two_threads_agree_with_each_other_bit_for_bit_and_with_one_thread_to_rounding(name, dtype, split):
    """In a row split (batch norm's per-unit sums combined across the parts) and in a column
    split (layer norm's per-row sums combined), with dropout's masks keyed by sample position:
    two runs on 2 threads give the same θ and running statistics bit for bit, and 1 thread gives
    them to rounding, as for the plain net (whose 1- and 2-thread fits differ in the last bits
    too: the sums split), and bit for bit where the plain net's do."""
    runs = [threaded_fit(dtype, threads, **THREADED[name]) for threads in (2, 2, 1)]
    snaps = [net.snapshot() for net in runs]
    assert snaps[0].tobytes() == snaps[1].tobytes()
    tol = {"float64": 1e-12, "float32": 1e-5}[dtype]
    np.testing.assert_allclose(snaps[2], snaps[0], rtol=tol, atol=tol)
    plain = [threaded_fit(dtype, threads).parameters for threads in (2, 1)]
    if plain[0].tobytes() == plain[1].tobytes():  # where 1 and 2 threads agree, they still do
        assert snaps[2].tobytes() == snaps[0].tobytes()


@pytest.mark.parametrize("norm", [None, "layer", "batch"])
def test_a_seeded_fit_does_not_depend_on_how_its_epochs_are_split_or_run(norm, run_length):
    """With dropout: fit 2 + 2 epochs (also through a pickled copy) == fit 4 epochs, bit for bit,
    θ, running statistics and epochs_trained; runs of one batch per kernel call == one run per
    epoch (the masks of a run that starts mid-epoch are keyed by their epoch positions)."""
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(40, 5)), rng.normal(size=(40, 3))

    def fresh():
        return Network(SIZES, "gelu", norm=norm, dropout=0.3, residual=True, dtype="float64", seed=6)

    kw = dict(batch_size=8, optimizer="adam")
    run_length("epoch")
    once = fresh()
    once.fit(X, Y, epochs=4, **kw)
    twice = fresh()
    twice.fit(X, Y, epochs=2, **kw)
    resumed = copy.deepcopy(twice)
    twice.fit(X, Y, epochs=2, **kw)
    resumed.fit(X, Y, epochs=2, **kw)
    run_length("batch")
    batches = fresh()
    batches.fit(X, Y, epochs=4, **kw)
    for net in (twice, resumed, batches):
        assert net.epochs_trained == 4
        assert net.snapshot().tobytes() == once.snapshot().tobytes()
    other = fresh()
    other.fit(X, Y, epochs=3, **kw)
    assert other.snapshot().tobytes() != once.snapshot().tobytes()  # (the comparison can fail)


# ------------------------------------------------------------------------------ batch norm's small batches
@pytest.mark.parametrize("norm", ["batch", ["layer", "batch"]], ids=["batch", "layer-batch"])
@pytest.mark.parametrize("rows,batch_size", [(5, 1), (1, 32)], ids=["batch_size=1", "one-row"])
def test_batch_norm_refuses_batches_of_one_row(norm, rows, batch_size):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(rows, 5)), rng.normal(size=(rows, 3))
    net = Network(SIZES, norm=norm, dtype="float64", seed=0)
    before = net.snapshot()
    with pytest.raises(ValueError, match=r"batch_size.*batch norm.*(?s:.*)batch_size >= 2"):
        net.fit(X, Y, epochs=1, batch_size=batch_size)
    assert net.snapshot().tobytes() == before.tobytes() and net.epochs_trained == 0 and net.optimizer is None
    layer = Network(SIZES, norm="layer", dropout=0.2, dtype="float64", seed=0)  # one row has its own statistics
    layer.fit(X, Y, epochs=1, batch_size=batch_size)
    assert np.isfinite(layer.parameters).all()


def test_a_last_batch_of_one_row_keeps_the_running_statistics_and_steps_with_xhat_zero():
    """N = 9 in batches of 4: the last batch's single row has no variance. Its x̂ is 0 (ẑ = β),
    so it steps θ by its own training-mode gradient (0 for W, b̄, γ of the batch norm layers),
    leaves the running statistics as the first two batches left them, and nothing is NaN."""
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(9, 5)), rng.normal(size=(9, 3))
    net = Network(SIZES, "tanh", norm="batch", residual=True, dtype="float64", seed=0)
    kw = dict(epochs=1, batch_size=4, shuffle=False, optimizer="sgd", lr=0.1)
    nine, eight = copy.deepcopy(net), copy.deepcopy(net)
    nine.fit(X, Y, **kw)
    eight.fit(X[:8], Y[:8], **kw)
    assert np.isfinite(nine.snapshot()).all() and np.isfinite(nine.predict(X)).all()
    for got, want in zip(nine.running_means + nine.running_vars, eight.running_means + eight.running_vars):
        np.testing.assert_array_equal(got, want)
    bp = eight.backprop(X[8:], Y[8:], training=True)
    for k in (1, 2):
        assert np.all(bp.xhat[k] == 0)
        np.testing.assert_array_equal(bp.zhat[k], np.broadcast_to(eight.norm_shifts[k - 1], (1, 6)))
        scale = np.max(np.abs(bp.dbeta[k]))  # (0 but for rounding: φ^[k] = (h − mean h)/σ of one row)
        assert scale > 0 and max(np.max(np.abs(bp.dW[k])), np.max(np.abs(bp.db[k])), np.max(np.abs(bp.dgamma[k]))) \
            <= 1e-12 * scale
    _, grad = eight.loss_and_gradient(X[8:], Y[8:], training=True)
    assert np.isfinite(grad).all() and np.any(grad != 0)
    np.testing.assert_allclose(nine.parameters, eight.parameters - 0.1 * grad, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------------------------ kernel paths
PATH_NETS = {"layer-residual": dict(norm="layer", residual=True),
             "batch-dropout": dict(norm="batch", dropout=0.3),
             "dropout-residual": dict(dropout=0.3, residual=True),
             "all": dict(norm="batch", dropout=0.3, residual=True)}


@pytest.mark.parametrize("name", list(PATH_NETS))
def test_every_kernel_path_agrees_on_an_extended_net(name):
    """[2, 3, 3, 1] (25 weights and biases: "auto" would run its plain twin unrolled). Every
    path, "unrolled" included (it declines the extended net and falls back), gives "loops"'s
    loss and gradient in both modes, gradients(), predict, and θ and running statistics after
    3 shuffled epochs of Adam, to 1e-10."""
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(12, 2)), rng.normal(size=(12, 1))
    nets = {}
    for path in ("loops", "blas", "generic", "auto", "unrolled"):
        net = nets[path] = Network([2, 3, 3, 1], "tanh", dtype="float64", seed=3, kernel_path=path, **PATH_NETS[name])
        net.set_parameters(net.parameters + np.random.default_rng(9).normal(scale=0.2, size=net.n_params))
    ref = nets["loops"]
    want = {t: ref.loss_and_gradient(X, Y, training=t) for t in (False, True)}
    for path, net in nets.items():
        for training, (loss, grad) in want.items():
            got_loss, got = net.loss_and_gradient(X, Y, training=training)
            assert got_loss == pytest.approx(loss, rel=1e-12), path
            assert_gradients_close(net, got, fastnn_tensors(ref, grad), training, f"{path} gradient")
        dW, db = net.gradients(X, Y)  # eval mode, as loss_and_gradient's default
        Ws, bs = ref.unpack(want[False][1])
        assert_all_close(dW + db, Ws + bs, "float64", f"{path} gradients()")
        assert_close(net.predict(X), ref.predict(X), "float64", f"{path} predict")
    for net in nets.values():
        net.fit(X, Y, epochs=3, batch_size=4, optimizer=Adam(lr=0.01, eps=1e-3))
    for path, net in nets.items():
        assert_close(net.snapshot(), ref.snapshot(), "float64", f"{path}: θ and running statistics after fit")
        assert net.epochs_trained == 3
