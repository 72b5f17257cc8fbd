"""Property-based tests (issue 11): hypothesis draws networks, kernel paths, optimizers, thread
counts and hostile arrays, and each test checks one invariant that must hold whatever it drew.

* predict, loss, gradients, backprop and fit raise nothing but ValueError (input refused) and
  DivergedError (accepted input that diverged); the interpreter never crashes;
* a refused input leaves θ bit-identical and the optimizer as it was;
* accepted input gives the answer of the same values as a C-contiguous array of the net's
  dtype, bit for bit, finite whenever the exact float64 math (``naive.py``) stays far inside the
  dtype's range; a fit ends with finite θ, or with DivergedError and θ back at the end of the
  last finite epoch;
* fit trains to the same θ on every kernel path and thread count up to rounding, and bit for bit
  whatever the length of its runs of batches or the scale of the sample weights;
* ``save``/``load`` round-trips exactly;
* gradients match central differences where the net is smooth.

The tests at the end pin the bugs these found (complex input cast to real, sample weights
outside the dtype's range, NUL in feature names), now fixed.

The examples are derandomized, so every run checks the same ones. FASTNN_PROPERTY_SCALE=<n>
runs n times as many, drawn at random (a longer hunt: FASTNN_PROPERTY_SCALE=50).
"""
import contextlib
import os
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import naive
from fastnn import ACTIVATIONS, LOSSES, OPTIMIZERS, DivergedError, Network, _engine
from fastnn import losses as _losses
from helpers import (
    ACTIVATION_NAMES,
    PATHS,
    assert_resume_alike,
    central_difference,
    forced_split,
    params,
    randomize_biases,
    randomize_norms,
    run_length,
)

SCALE = int(os.environ.get("FASTNN_PROPERTY_SCALE", "1"))
PROFILE = settings(derandomize=SCALE == 1, database=None, deadline=None, print_blob=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.filter_too_much])


def examples(n):
    return settings(PROFILE, max_examples=n * SCALE)


LOSS_NAMES = sorted(LOSSES)
SMOOTH = ["identity", "sigmoid", "softplus", "tanh"]
F32_MAX = float(np.finfo(np.float32).max)
# Values a finite input may hold: ±0, tiny and huge magnitudes, float32 and float64 denormals,
# and ±1e300, which a float32 net must refuse (it becomes ±Inf).
SPECIALS = [0.0, -0.0, 1e-30, -1e-30, 1e-40, 5e-324, -5e-324, 1e-310, float(np.finfo(np.float32).tiny),
            1e30, -1e30, F32_MAX, -F32_MAX, 1e3, 1e300, -1e300]

# The unrolled path compiles once per architecture, activations, loss and dtype (seconds apiece
# on a cold cache), so it only runs on these three nets, one per loss ("auto" picks it for every
# net of at most UNROLLED_MAX_PARAMS parameters); tests/test_paths.py covers the other activations.
UNROLLED_MAX_PARAMS = _engine.MAX_UNROLLED_PARAMS
UNROLLED_NETS = [([2, 3, 3, 2], ["leaky_relu", "tanh", "identity"], "mse"),
                 ([2, 3, 3], ["relu", "softmax"], "cross_entropy"),
                 ([3, 2, 2], ["softplus", "sigmoid"], "binary_cross_entropy")]
OPTIMIZER_MAKERS = [lambda lr: OPTIMIZERS["sgd"](lr=lr),
                    lambda lr: OPTIMIZERS["sgd"](lr=lr, momentum=0.9, nesterov=True, weight_decay=1e-3),
                    lambda lr: OPTIMIZERS["adam"](lr=lr),
                    lambda lr: OPTIMIZERS["adamw"](lr=lr),
                    lambda lr: OPTIMIZERS["rmsprop"](lr=lr)]


def n_params(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


# ------------------------------------------------------------------------ strategies
# Up to 24 rows, or one time in 16 more than the 1024 that predict and loss work on at a time.
ROWS = st.integers(0, 15).flatmap(lambda i: st.integers(1025, 1100) if i == 15 else st.integers(1, 24))
# Widths 1-8 three times in four, up to 300 otherwise (shrinking goes to the narrow branch).
WIDTH = st.integers(0, 3).flatmap(lambda i: st.integers(9, 300) if i == 3 else st.integers(1, 8))


@st.composite
def nets(draw, dtypes=("float32", "float64"), activations=tuple(ACTIVATION_NAMES),
         paths=("auto", *PATHS), max_depth=6, width=WIDTH, losses=tuple(LOSS_NAMES)):
    """A Network on a kernel path from ``paths`` ("auto" forces none) with nonzero biases."""
    dtype, path = draw(st.sampled_from(dtypes)), draw(st.sampled_from(paths))
    link = {name: _losses.get(name).link for name in LOSS_NAMES}
    K = draw(st.integers(1, max_depth))
    sizes = [draw(width) for _ in range(K + 1)]
    loss = draw(st.sampled_from(losses))
    acts = [draw(st.sampled_from(activations)) for _ in range(K)]
    acts[-1] = link[loss] or acts[-1]
    if acts[-1] in ACTIVATIONS and not ACTIVATIONS[acts[-1]].from_output:  # gelu, silu: hidden only
        acts[-1] = "identity"
    if path == "unrolled" or (path == "auto" and n_params(sizes) <= UNROLLED_MAX_PARAMS):
        ok = [n for n in UNROLLED_NETS if set(n[1]) - {"softmax"} <= set(activations) and n[2] in losses]
        sizes, acts, loss = draw(st.sampled_from(ok))
    net = Network(sizes, acts, loss=loss, dtype=dtype, seed=draw(st.integers(0, 2**16)), kernel_path=path)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    for b in net.biases:
        b[...] = rng.normal(scale=0.3, size=b.shape)
    return net


@st.composite
def xy(draw, net, specials=True, rows=st.integers(1, 24)):
    """Finite (X, Y) for net's loss, X with some of SPECIALS; Y as labels or rows."""
    N, n0, nK = draw(rows), net.sizes[0], net.sizes[-1]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.uniform(-1, 1, (N, n0)) * draw(st.sampled_from([1.0, 1e-30, 1e3, 1e30] if specials else [1.0]))
    if specials:
        for value in draw(st.lists(st.sampled_from(SPECIALS), max_size=4)):
            X[rng.integers(N), rng.integers(n0)] = value
    kind = _losses.get(net.loss_name).targets
    if kind == "probabilities":
        if draw(st.booleans()):
            Y = rng.integers(0, nK, N).astype(draw(st.sampled_from([np.float64, np.int64])))  # labels
        else:
            Y = rng.dirichlet(np.ones(nK), N)
    elif kind == "binary":
        Y = rng.integers(0, 2, (N, nK)) * 1.0 if draw(st.booleans()) else rng.uniform(0, 1, (N, nK))
    elif kind == "nonnegative":  # counts (poisson)
        Y = rng.poisson(1.0, (N, nK)) * 1.0
    else:
        Y = rng.normal(size=(N, nK))
        if specials:
            for value in draw(st.lists(st.sampled_from(SPECIALS), max_size=2)):
                Y[rng.integers(N), rng.integers(nK)] = value
    if specials and nK == 1 and kind != "probabilities" and draw(st.booleans()):
        Y = Y[:, 0]  # (N,) targets of a one-output net
    return X, Y


def _relaid(A, how):
    """A with the same values in another memory layout or container."""
    if how == "F":
        return np.asfortranarray(A)
    if how == "cols" and A.ndim == 2:  # A[:, ::2]
        wide = np.zeros((A.shape[0], 2 * A.shape[1]), A.dtype)
        wide[:, ::2] = A
        return wide[:, ::2]
    if how == "rows":  # A[::3]
        tall = np.zeros((3 * A.shape[0], *A.shape[1:]), A.dtype)
        tall[::3] = A
        return tall[::3]
    if how == "readonly":
        A = A.copy()
        A.flags.writeable = False
        return A
    if how == "list":
        return A.tolist()
    if how == "object":
        return A.astype(object)
    if how == "float32":
        with np.errstate(over="ignore"):  # ±1e300 becomes ±Inf, and is then refused
            return A.astype(np.float32)
    return A


# Containers that keep the values (the answer must not change) and dtypes that change them
# (the answer must be that of the converted values).
SAME = ["C", "F", "cols", "rows", "readonly", "list", "object", "float32"]
CONVERTED = {"int": lambda A: np.clip(np.rint(A * 3), -9, 9).astype(np.int64),
             "uint8": lambda A: np.clip(np.rint(A * 3), 0, 9).astype(np.uint8),
             "bool": lambda A: A > 0,
             "float16": lambda A: np.clip(A, -6e4, 6e4).astype(np.float16)}
LAYOUTS = SAME + list(CONVERTED)


def layout(A, how):
    return CONVERTED[how](np.asarray(A)) if how in CONVERTED else _relaid(np.asarray(A), how)


def as_given(net, A):
    """What a call should see: A's values as a C-contiguous array of the net's dtype."""
    with np.errstate(over="ignore"):  # ±1e300 in a float32 net: ±Inf, which is refused
        return np.ascontiguousarray(np.asarray(A, dtype=net.dtype))


def optimizer_state(net):
    opt = net.optimizer
    if opt is None:
        return None
    return (id(opt), opt.t, opt.epoch, repr(opt), None if opt.state is None else opt.state.copy())


def assert_same_optimizer(net, before):
    after = optimizer_state(net)
    assert (before is None) == (after is None)
    if before is not None:
        assert before[:4] == after[:4]
        if before[4] is not None:
            np.testing.assert_array_equal(after[4], before[4])


def in_range(net, X, Y):
    """True when every quantity of the exact float64 math on these weights (naive.py: z̄, x̄, φ,
    the gradients and the loss), and every partial sum and product of two of them, stays 1000x
    inside the largest number of the net's dtype: outputs must then be finite."""
    Ws, bs = params(net)
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    if net.loss_name == "cross_entropy" and Y.ndim == 1:  # class labels
        Y = np.eye(net.sizes[-1])[Y.astype(int)]
    Y = Y.reshape(len(X), -1)
    with np.errstate(all="ignore"):
        bp = naive.backprop(Ws, bs, net.activations, X, Y, net.loss_name)
        parts = [X, Y, net.parameters, np.array([bp["loss"]])]
        parts += [a for key in ("z", "x", "phi", "dW", "db") for a in bp[key].values()]
        big = max(1.0, *(float(np.max(np.abs(a))) for a in parts))
        bound = 4 * big * big * max(net.sizes) * len(X)
    return bool(np.isfinite(bound) and bound < float(np.finfo(net.dtype).max) / 1000)


def all_finite(*arrays):
    return all(np.isfinite(np.asarray(a, np.float64)).all() for a in arrays)


def backprop_arrays(bp):
    return [np.array([bp.loss])] + [a for d in (bp.z, bp.x, bp.phi, bp.dW, bp.db) for a in d.values()]


def assert_identical(a, b):
    """Bit-identical arrays (NaN equal to NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.tobytes() == b.tobytes()


# ------------------------------------------------------------------------ inference
INFERENCE = {
    "predict": lambda net, X, Y: [net.predict(X)],
    "loss": lambda net, X, Y: [np.array([net.loss(X, Y)])],
    "gradients": lambda net, X, Y: [a for part in net.gradients(X, Y) for a in part],
    "backprop": lambda net, X, Y: backprop_arrays(net.backprop(X, Y)),
}


@examples(500)
@given(data=st.data())
def test_inference_answers_as_for_a_contiguous_array_and_is_finite_in_range(data):
    """Accepted input in any layout gives the answer of its values as a C-contiguous array of
    the net's dtype, bit for bit, leaves θ alone, and is finite when the exact math is in range.
    A value the dtype cannot hold (float32 overflow) is refused with ValueError instead, and so
    is a loss that is not finite in the dtype (only where the exact math is out of range)."""
    net = data.draw(nets())
    X, Y = data.draw(xy(net, rows=ROWS))
    how_x, how_y = data.draw(st.sampled_from(LAYOUTS)), data.draw(st.sampled_from(SAME))
    Xl, Yl = layout(X, how_x), layout(Y, how_y)
    Xc, Yc = as_given(net, Xl), as_given(net, Yl)
    method = data.draw(st.sampled_from(sorted(INFERENCE)))
    theta = net.parameters
    if not all_finite(Xc, *([Yc] if method != "predict" else [])):  # ±1e300 in a float32 net
        with pytest.raises(ValueError, match=r"\b[XY]\b.*NaN or Inf"):
            INFERENCE[method](net, Xl, Yl)
        assert_identical(net.parameters, theta)
        return
    with np.errstate(over="ignore", invalid="ignore"):  # backprop's z̄ of out-of-range input
        try:
            got = INFERENCE[method](net, Xl, Yl)
        except ValueError as e:
            assert method == "loss" and "not finite" in str(e) and not in_range(net, Xc, Yc), e
            assert_identical(net.parameters, theta)
            with pytest.raises(ValueError, match="not finite"):
                INFERENCE[method](net, Xc, Yc)
            return
        assert_identical(net.parameters, theta)
        for a, b in zip(got, INFERENCE[method](net, Xc, Yc)):
            assert_identical(a, b)
    if in_range(net, Xc, Yc):
        assert all_finite(*got), f"{method} gave non-finite values on in-range input"


# ------------------------------------------------------------------------ training
@st.composite
def fits(draw, N, lrs=st.sampled_from([1e-3, 0.1, 10.0, 1e4])):
    """fit's keyword arguments for N rows: epochs, batch size, shuffle, threads, optimizer
    (with an lr from ``lrs``), sample weights."""
    opt = draw(st.sampled_from(OPTIMIZER_MAKERS))(draw(lrs))
    rng = np.random.default_rng(N)
    weights = draw(st.sampled_from([None, "random", "read-only", "one-nonzero", "scalar"]))
    sw = {None: None, "scalar": 2.5, "random": rng.uniform(0, 3, N), "read-only": rng.uniform(0, 3, N),
          "one-nonzero": np.r_[1.0, np.zeros(N - 1)]}[weights]  # a batch may weigh 0 in all
    if weights == "read-only":
        sw.flags.writeable = False
    return dict(epochs=draw(st.integers(1, 4)), batch_size=draw(st.integers(1, N + 2)),
                shuffle=draw(st.booleans()), threads=draw(st.sampled_from([None, 1, 2])),
                optimizer=opt, sample_weight=sw, seed=0)


@examples(400)
@given(data=st.data())
def test_fit_ends_finite_or_diverged_with_theta_rolled_back(data):
    """fit returns with finite θ and losses, or raises DivergedError with θ bit-identical to the
    end of the last finite epoch (the initial θ when epoch 1 diverged) and the moments reset.
    Moderate data at lr = 1e-3 never diverges."""
    net = data.draw(nets())
    tame = data.draw(st.booleans())
    X, Y = data.draw(xy(net, specials=not tame))
    X, Y = layout(X, data.draw(st.sampled_from(SAME))), layout(Y, data.draw(st.sampled_from(SAME)))
    kwargs = data.draw(fits(len(X), **({"lrs": st.just(1e-3)} if tame else {})))
    opt = kwargs["optimizer"]
    if not all_finite(as_given(net, X), as_given(net, Y)):  # ±1e300 in a float32 net
        theta = net.parameters
        with pytest.raises(ValueError, match=r"\b[XY]\b.*NaN or Inf"):
            net.fit(X, Y, **kwargs)
        assert_identical(net.parameters, theta)
        return
    # Divergence in a later epoch: θ scaled far up at the end of epoch ``blow_up`` (then snapshot).
    blow_up = None if tame else data.draw(st.sampled_from([None, 1, 2, 3]))
    big = np.finfo(net.dtype).max ** 0.75

    def scale(net, epoch, logs):
        with np.errstate(over="ignore"):
            scaled = net.parameters * big
        if epoch == blow_up and all_finite(scaled):
            net.set_parameters(scaled)

    snapshots = [net.parameters]
    kwargs["callbacks"] = [scale, lambda net, epoch, logs: snapshots.append(net.parameters)]
    with forced_split(data.draw(st.sampled_from(["rows", "columns"]))):
        try:
            history = net.fit(X, Y, **kwargs)
        except DivergedError as e:
            event(f"diverged in epoch {e.epoch}")
            assert not tame, f"moderate data diverged in epoch {e.epoch} at lr=1e-3"
            assert e.epoch == len(snapshots)
            assert all_finite(net.parameters)
            assert_identical(net.parameters, snapshots[-1])
            assert opt.t == 0 and (opt.state is None or not opt.state.any())
            return
    event("finished")
    assert len(history["loss"]) == len(snapshots) - 1 == kwargs["epochs"]
    assert all_finite(history["loss"], net.parameters)
    assert_identical(net.parameters, snapshots[-1])


@examples(300)
@given(data=st.data())
def test_fit_agrees_across_paths_and_threads_and_not_with_run_length(data):
    """Moderate float64 data, lr = 1e-3: every kernel path and thread count trains to the θ of
    loops on one thread up to rounding, and runs of one batch per kernel call to the θ, losses
    and step count of one call per epoch, bit for bit."""
    net = data.draw(nets(dtypes=("float64",)))
    X, Y = data.draw(xy(net, specials=False, rows=st.integers(1, 40)))
    kwargs = data.draw(fits(len(X), lrs=st.just(1e-3)))
    how = data.draw(st.sampled_from(["rows", "columns"]))
    results = []
    for path, threads, runs in ((None, kwargs["threads"], "epoch"), (None, kwargs["threads"], "batch"),
                                ("loops", 1, "epoch")):
        if path is None:
            copy = pickle.loads(pickle.dumps(net))
        else:  # the same θ on another kernel path (the shuffles come from fit's seed)
            copy = Network(net.sizes, net.activations, loss=net.loss_name, dtype=net.dtype,
                           parameters=net.parameters, kernel_path=path)
        args = dict(kwargs, threads=threads, optimizer=pickle.loads(pickle.dumps(kwargs["optimizer"])))
        with forced_split(how), run_length(runs):
            history = copy.fit(X, Y, **args)
        results.append((copy.parameters, history["loss"], copy.optimizer.t))
    (theta, losses, t), (theta_runs, losses_runs, t_runs), (theta_loops, _, _) = results
    assert_identical(theta_runs, theta)
    assert losses_runs == losses and t_runs == t
    np.testing.assert_allclose(theta, theta_loops, rtol=1e-7, atol=1e-9)


@examples(150)
@given(data=st.data())
def test_sample_weights_act_only_through_their_ratios(data):
    """Weights 2^k · w (|k| <= 60) give the loss, the fit's θ and its history of weights w, bit for
    bit: Σ w L / Σ w does not depend on the scale, and a power of two rescales exactly."""
    net = data.draw(nets())
    X, Y = data.draw(xy(net, specials=False))
    kwargs = data.draw(fits(len(X), lrs=st.just(1e-3)))
    w = np.random.default_rng(len(X)).uniform(0, 2, len(X))
    w[0] = 1.0  # a positive sum
    scaled = w * 2.0 ** data.draw(st.integers(-60, 60))
    assert net.loss(X, Y, sample_weight=scaled) == net.loss(X, Y, sample_weight=w)
    results = []
    for sw in (w, scaled):
        copy = pickle.loads(pickle.dumps(net))
        args = dict(kwargs, sample_weight=sw, optimizer=pickle.loads(pickle.dumps(kwargs["optimizer"])))
        history = copy.fit(X, Y, **args)
        results.append((copy.parameters, history["loss"]))
    assert_identical(results[1][0], results[0][0])
    assert results[1][1] == results[0][1]


# ------------------------------------------------------------------------ refused input
def _put(A, value, rng):
    """A float64 copy of A with ``value`` at a random entry."""
    A = np.array(A, dtype=np.float64)
    A.reshape(-1)[rng.integers(A.size)] = value
    return A


CALLS = {  # name -> f(net, X, Y, sample_weight, more of fit's arguments)
    "predict": lambda net, X, Y, w, a: net.predict(X),
    "loss": lambda net, X, Y, w, a: net.loss(X, Y, sample_weight=w),
    "gradients": lambda net, X, Y, w, a: net.gradients(X, Y),
    "backprop": lambda net, X, Y, w, a: net.backprop(X, Y),
    "fit": lambda net, X, Y, w, a: net.fit(X, Y, sample_weight=w, **{"epochs": 2, **a}),
}
TAKE_Y, TAKE_W = ["loss", "gradients", "backprop", "fit"], ["loss", "fit"]


def _rows(net, X, row):
    """One target row (its first n_K entries) for every row of X."""
    return np.tile(np.asarray(row, np.float64)[:net.sizes[-1]], (len(X), 1))


# name -> (the calls it applies to, the loss it needs (None: any),
#          f(net, X, Y, rng) -> what it changes of X, Y, w (sample weights) and args (fit's))
DEFECTS = {
    "X-nan": (CALLS, None, lambda n, X, Y, r: {"X": _put(X, np.nan, r)}),
    "X-inf": (CALLS, None, lambda n, X, Y, r: {"X": _put(X, np.inf, r)}),
    "X--inf": (CALLS, None, lambda n, X, Y, r: {"X": _put(X, -np.inf, r)}),
    "X-beyond-the-dtype": (CALLS, None, lambda n, X, Y, r: {"X": _put(X, 1e39 if n.dtype == np.float32 else 1e309, r)}),
    "X-extra-column": (CALLS, None, lambda n, X, Y, r: {"X": np.hstack([X, X[:, :1]])}),
    "X-missing-column": (CALLS, None, lambda n, X, Y, r: {"X": X[:, :-1] if X.shape[1] > 1 else X[None]}),
    "X-3d": (CALLS, None, lambda n, X, Y, r: {"X": X[None]}),
    "X-empty": (CALLS, None, lambda n, X, Y, r: {"X": X[:0], "Y": Y[:0]}),
    "X-scalar": (CALLS, None, lambda n, X, Y, r: {"X": 1.5}),
    "X-None": (CALLS, None, lambda n, X, Y, r: {"X": None}),
    "X-text": (CALLS, None, lambda n, X, Y, r: {"X": np.full(X.shape, "abc")}),
    "X-ragged": (CALLS, None, lambda n, X, Y, r: {"X": [list(X[0]), [*X[0], 1.0]]}),
    "X-dict": (CALLS, None, lambda n, X, Y, r: {"X": {"a": 1}}),
    "Y-nan": (TAKE_Y, None, lambda n, X, Y, r: {"Y": _put(Y, np.nan, r)}),
    "Y-inf": (TAKE_Y, None, lambda n, X, Y, r: {"Y": _put(Y, np.inf, r)}),
    "Y-extra-column": (TAKE_Y, None, lambda n, X, Y, r: {"Y": np.zeros((len(X), n.sizes[-1] + 1))}),
    "Y-extra-row": (TAKE_Y, None, lambda n, X, Y, r: {"Y": np.concatenate([Y, Y[:1]])}),
    "Y-text": (TAKE_Y, None, lambda n, X, Y, r: {"Y": np.full(np.shape(Y), "abc")}),
    "Y-label-out-of-range": (TAKE_Y, "cross_entropy", lambda n, X, Y, r: {"Y": _put(np.zeros(len(X)), n.sizes[-1], r)}),
    "Y-label-fraction": (TAKE_Y, "cross_entropy", lambda n, X, Y, r: {"Y": _put(np.zeros(len(X)), 0.5, r)}),
    "Y-row-sums-to-2": (TAKE_Y, "cross_entropy", lambda n, X, Y, r: {"Y": _rows(n, X, [2.0] * n.sizes[-1])}),
    "Y-negative-probability": (TAKE_Y, "cross_entropy",
                               lambda n, X, Y, r: {"Y": _rows(n, X, [-1.0, 2.0] + [0.0] * n.sizes[-1])}),
    "Y-outside-0-1": (TAKE_Y, "binary_cross_entropy",
                      lambda n, X, Y, r: {"Y": _put(_rows(n, X, [0.0] * n.sizes[-1]), 1.5, r)}),
    "w-negative": (TAKE_W, None, lambda n, X, Y, r: {"w": _put(np.ones(len(X)), -1.0, r)}),
    "w-nan": (TAKE_W, None, lambda n, X, Y, r: {"w": _put(np.ones(len(X)), np.nan, r)}),
    "w-zero-sum": (TAKE_W, None, lambda n, X, Y, r: {"w": np.zeros(len(X))}),
    "w-length": (TAKE_W, None, lambda n, X, Y, r: {"w": np.ones(len(X) + 1)}),
    "w-2d": (TAKE_W, None, lambda n, X, Y, r: {"w": np.ones((len(X), 2))}),
    "w-text": (TAKE_W, None, lambda n, X, Y, r: {"w": ["a"] * len(X)}),
}
FIT_ARGUMENTS = {
    "lr-negative": dict(lr=-0.1), "lr-nan": dict(lr=float("nan")), "lr-bool": dict(lr=True),
    "epochs-0": dict(epochs=0), "epochs-fraction": dict(epochs=2.5), "batch_size-0": dict(batch_size=0),
    "batch_size-bool": dict(batch_size=True), "batch_size-float": dict(batch_size=np.float64(4)),
    "threads-0": dict(threads=0), "threads-negative": dict(threads=-2), "optimizer-unknown": dict(optimizer="nope"),
    "optimizer-object-and-lr": dict(optimizer=OPTIMIZERS["adam"](), lr=0.1),
    "validation_split-1.5": dict(validation_split=1.5), "validation_data-one-item": dict(validation_data=([[1.0]],)),
    "callbacks-int": dict(callbacks=3), "metrics-without-validation": dict(metrics="r2"),
    "early_stopping-text": dict(early_stopping="yes"),
}
for name, args in FIT_ARGUMENTS.items():
    DEFECTS["fit-" + name] = (["fit"], None, lambda n, X, Y, r, args=args: {"args": args})


@pytest.mark.parametrize("defect", list(DEFECTS))
@examples(20)
@given(data=st.data())
def test_refused_input_raises_value_error_and_changes_nothing(defect, data):
    """One defect (NaN/Inf, a wrong shape, empty or non-numeric data, targets the loss can't
    take, bad sample weights or fit arguments) → ValueError; θ bit-identical, optimizer as it was."""
    calls, loss, make = DEFECTS[defect]
    net = data.draw(nets(width=st.integers(1, 8), losses=(loss,) if loss else tuple(LOSS_NAMES)))
    X, Y = data.draw(xy(net, specials=False, rows=st.integers(2, 12)))
    if data.draw(st.booleans()):  # a net that trained already: its optimizer has state to keep
        with contextlib.suppress(DivergedError):
            net.fit(X, Y, epochs=1, optimizer=data.draw(st.sampled_from(OPTIMIZER_MAKERS))(1e-3))
    call = data.draw(st.sampled_from(sorted(calls)))
    given = dict(X=X, Y=Y, w=None, args={})
    given.update(make(net, X, Y, np.random.default_rng(data.draw(st.integers(0, 2**16)))))
    for key in "XY":  # the defective arrays in any layout
        if isinstance(given[key], np.ndarray) and given[key].dtype.kind == "f":
            given[key] = layout(given[key], data.draw(st.sampled_from(SAME)))
    theta, opt = net.parameters, optimizer_state(net)
    with pytest.raises(ValueError):
        CALLS[call](net, given["X"], given["Y"], given["w"], given["args"])
    assert_identical(net.parameters, theta)
    assert_same_optimizer(net, opt)


# ------------------------------------------------------------------------ anything at all
# What a user might pass by mistake, made from a float array A; some are accepted, some refused.
STRANGE = {
    "complex": lambda A, rng: A + 0j,
    "complex-imaginary": lambda A, rng: A + 1j,
    "datetime": lambda A, rng: A.astype("datetime64[s]"),
    "timedelta": lambda A, rng: A.astype("timedelta64[s]"),
    "bytes-numbers": lambda A, rng: A.astype("S32"),
    "text-numbers": lambda A, rng: A.astype("U32"),
    "object-with-None": lambda A, rng: np.where(rng.random(A.shape) < 0.3, None, A.astype(object)),
    "object-nested": lambda A, rng: np.array([object()] * A.size, dtype=object).reshape(A.shape),
    "float64-max": lambda A, rng: _put(A, np.finfo(np.float64).max, rng),
    "longdouble": lambda A, rng: A.astype(np.longdouble),
    "uint64-max": lambda A, rng: np.full(A.shape, np.iinfo(np.uint64).max, np.uint64),
    "int8": lambda A, rng: np.clip(A, -100, 100).astype(np.int8),
    "matrix": lambda A, rng: np.asmatrix(A),
    "masked": lambda A, rng: np.ma.masked_invalid(_put(A, np.nan, rng)),
    "generator": lambda A, rng: (row for row in A),
    "tuple-of-rows": lambda A, rng: tuple(A),
    "structured": lambda A, rng: np.zeros(len(A), dtype=[("a", "f8"), ("b", "f8")]),
    "zero-stride": lambda A, rng: np.broadcast_to(A[:1], A.shape),
    "no-columns": lambda A, rng: np.zeros((len(A), 0)),
}


def _strange(A, kind, rng):
    with np.errstate(invalid="ignore"):  # datetime, timedelta of floats
        return STRANGE[kind](np.asarray(A, np.float64), rng)


@pytest.mark.parametrize("kind", list(STRANGE))
@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning",
                            "ignore::PendingDeprecationWarning")  # np.matrix
@examples(25)
@given(data=st.data())
def test_any_input_raises_only_value_error_or_diverged_error(kind, data):
    """Whatever X, Y or sample_weight is, every call returns or raises ValueError (θ and the
    optimizer then unchanged) or, from fit, DivergedError; inference never changes θ."""
    net = data.draw(nets(width=st.integers(1, 8)))
    X, Y = data.draw(xy(net, rows=st.integers(2, 12)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    target = data.draw(st.sampled_from(["X", "Y", "w"]))
    call = data.draw(st.sampled_from({"X": sorted(CALLS), "Y": TAKE_Y, "w": TAKE_W}[target]))
    w = None
    if target == "X":
        X = _strange(X, kind, rng)
    elif target == "Y":
        Y = _strange(Y, kind, rng)
    else:
        w = _strange(rng.uniform(0.5, 2, len(X)), kind, rng)
    theta, opt = net.parameters, optimizer_state(net)
    try:
        with np.errstate(all="ignore"), contextlib.suppress(DivergedError if call == "fit" else ()):
            CALLS[call](net, X, Y, w, {"epochs": 1})
    except ValueError:
        event(f"{target} refused")
        assert_identical(net.parameters, theta)
        assert_same_optimizer(net, opt)
        return
    event(f"{target} accepted")
    if call != "fit":
        assert_identical(net.parameters, theta)


# ------------------------------------------------------------------------ save / load
@examples(150)
@given(data=st.data())
def test_save_load_round_trips_exactly(data, tmp_path_factory):
    """load(save(net)) has the same sizes, activations, loss, dtype, feature names, θ and
    optimizer, bit for bit, predicts the same numbers, and trains on exactly as net does (the
    same shuffles: the generator's state came back too). A loaded net runs on "auto", so the
    nets drawn here do."""
    net = data.draw(nets(paths=("auto",)))
    X, Y = data.draw(xy(net, specials=False))
    if data.draw(st.booleans()):
        names = data.draw(st.lists(st.text(max_size=6).filter(lambda n: "\0" not in n),
                                   min_size=net.sizes[0], max_size=net.sizes[0]))  # NUL: refused
        pd = pytest.importorskip("pandas")
        X = pd.DataFrame(X, columns=names)
    if data.draw(st.booleans()):
        opt = data.draw(st.sampled_from(OPTIMIZER_MAKERS))(1e-3)
        with contextlib.suppress(DivergedError):
            net.fit(X, Y, epochs=data.draw(st.integers(1, 2)), optimizer=opt)
    path = tmp_path_factory.mktemp("roundtrip") / "net.npz"
    net.save(path)
    back = Network.load(path)
    assert (back.sizes, back.activations, back.loss_name, back.dtype) == (
        net.sizes, net.activations, net.loss_name, net.dtype)
    assert_identical(back.parameters, net.parameters)
    if net.feature_names_in_ is None:
        assert back.feature_names_in_ is None
    else:
        assert list(back.feature_names_in_) == list(net.feature_names_in_)
    assert (net.optimizer is None) == (back.optimizer is None)
    if net.optimizer is not None:
        assert repr(back.optimizer) == repr(net.optimizer)
        assert (back.optimizer.t, back.optimizer.epoch) == (net.optimizer.t, net.optimizer.epoch)
        if net.optimizer.state is not None and net.optimizer.state.size:
            assert_identical(back.optimizer.state, net.optimizer.state)
    assert_identical(back.predict(X), net.predict(X))
    assert_resume_alike(back, net)


# ------------------------------------------------------------------------ gradients
@examples(200)
@given(data=st.data())
def test_gradients_match_central_differences_where_smooth(data):
    """float64 nets of smooth ψ (identity, sigmoid, softplus, tanh) on moderate inputs: every
    kernel path's gradient agrees with (L(θ + εe_i) − L(θ − εe_i)) / 2ε on sampled entries."""
    net = data.draw(nets(dtypes=("float64",), activations=tuple(SMOOTH), max_depth=4))
    X, Y = data.draw(xy(net, specials=False, rows=st.integers(1, 6)))
    dW, db = net.gradients(X, Y)
    loss = net.loss(X, Y)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    for _ in range(12):
        k = int(rng.integers(net.n_layers))
        if rng.random() < 0.5:
            arr, grad, i = net.weights[k], dW[k], tuple(rng.integers(net.weights[k].shape))
        else:
            arr, grad, i = net.biases[k], db[k], (int(rng.integers(net.biases[k].size)),)
        fd = central_difference(net, arr, i, X, Y)
        np.testing.assert_allclose(grad[i], fd, rtol=1e-5, atol=1e-7 * max(1.0, abs(loss)),
                                   err_msg=f"layer {k + 1}, entry {i}, path {net.kernel_path}")


# ------------------------------------------------------------------------ found by the above
def test_feature_names_with_nul_are_refused_at_fit():
    """A saved model could not keep them (NumPy's 'U' arrays strip trailing NUL)."""
    pd = pytest.importorskip("pandas")
    net = Network([2, 1], seed=0)
    before = net.parameters
    with pytest.raises(ValueError, match="NUL"):
        net.fit(pd.DataFrame([[0.0, 1.0]], columns=["a", "b\0"]), [0.0], epochs=1)
    np.testing.assert_array_equal(net.parameters, before)


def test_complex_input_is_refused():
    net = Network([2, 1], seed=0)
    before = net.parameters
    with pytest.raises(ValueError, match=r"\bX\b.*complex"):
        net.predict(np.array([[1 + 2j, 3 - 1j]]))
    with pytest.raises(ValueError, match=r"\bY\b.*complex"):
        net.fit(np.zeros((1, 2)), np.array([1 + 1j]))
    with pytest.raises(ValueError, match=r"sample_weight.*complex"):
        net.fit(np.zeros((1, 2)), [0.0], sample_weight=np.array([1 + 0j]))
    with pytest.raises(ValueError, match=r"\bX\b.*complex"):
        net.predict([[1 + 2j, 0]])
    np.testing.assert_array_equal(net.parameters, before)


@pytest.mark.parametrize("dtype,k", [("float32", 130), ("float32", -150), ("float64", -1060), ("float64", 1022)],
                         ids=["float32-overflow", "float32-underflow", "float64-subnormal", "float64-sum-overflow"])
def test_sample_weights_of_any_accepted_scale_act_only_through_their_ratios(dtype, k):
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(-1, 1, (8, 3)), rng.normal(size=(8, 2))
    scaled = np.ldexp(rng.uniform(0.5, 2, 8), k)
    w = np.ldexp(scaled, -k)  # the same weights at scale 1 (as rounded at scale 2^k: subnormals)
    net = Network([3, 5, 2], "tanh", dtype=dtype, seed=0)
    with np.errstate(all="ignore"):
        assert net.loss(X, Y, sample_weight=scaled) == pytest.approx(net.loss(X, Y, sample_weight=w), rel=1e-6)
    a, b = pickle.loads(pickle.dumps(net)), pickle.loads(pickle.dumps(net))
    a.fit(X, Y, epochs=2, batch_size=4, sample_weight=w)
    b.fit(X, Y, epochs=2, batch_size=4, sample_weight=scaled)  # DivergedError, or θ off
    np.testing.assert_allclose(b.parameters, a.parameters, rtol=1e-5)


# ------------------------------------------------------------------------ deep-net layers (issue 19)
# Networks whose hidden layers draw norm (None, "layer", "batch"), dropout (0, 0.1, 0.5) and a skip
# (where the widths allow one), at least one layer extended; b̄, γ, β and the running statistics
# random. The unrolled path declines them, so any path may be drawn.
NORMS = [None, "layer", "batch"]
RATES = [0.0, 0.1, 0.5]
SMOOTH_HIDDEN = [*SMOOTH, "gelu", "silu"]


@st.composite
def deep_specs(draw, dtypes=("float32", "float64"), activations=tuple(ACTIVATION_NAMES),
               paths=("auto", *PATHS), max_depth=4, losses=tuple(LOSS_NAMES)):
    """``deep_net``'s arguments: Network's keyword arguments and the seed of b̄, γ, β and the
    running statistics."""
    K = draw(st.integers(2, max_depth))
    sizes = [draw(st.integers(1, 8))]
    for _ in range(K - 1):  # hidden widths: the input's again half the time (a skip may go there)
        sizes.append(sizes[-1] if draw(st.booleans()) else draw(st.integers(1, 12)))
    sizes.append(draw(st.integers(1, 4)))
    loss = draw(st.sampled_from(losses))
    hidden = [draw(st.sampled_from(activations)) for _ in range(K - 1)]
    out = _losses.get(loss).link or draw(st.sampled_from([a for a in activations if ACTIVATIONS[a].from_output]))
    norm = [draw(st.sampled_from(NORMS)) for _ in range(K - 1)]
    dropout = [draw(st.sampled_from(RATES)) for _ in range(K - 1)]
    residual = [sizes[k] == sizes[k + 1] and draw(st.booleans()) for k in range(K - 1)]
    if not any(norm) and not any(dropout) and not any(residual):
        norm[draw(st.integers(0, K - 2))] = draw(st.sampled_from(["layer", "batch"]))
    event(f"norm {sorted(map(str, set(norm)))}, dropout {any(dropout)}, residual {any(residual)}")
    kwargs = dict(sizes=sizes, activations=[*hidden, out], loss=loss, norm=norm, dropout=dropout,
                  residual=residual, dtype=draw(st.sampled_from(dtypes)), seed=draw(st.integers(0, 2**16)),
                  kernel_path=draw(st.sampled_from(paths)))
    return kwargs, draw(st.integers(0, 2**16))


def deep_net(spec, **changes):
    """The network of a ``deep_specs`` draw (``changes`` replacing some of its arguments)."""
    kwargs, seed = spec
    net = Network(**{**kwargs, **changes})
    rng = np.random.default_rng(seed)
    randomize_biases(net, rng)
    randomize_norms(net, rng)
    net.set_running_stats([None if m is None else rng.normal(scale=0.3, size=m.shape) for m in net.running_means],
                          [None if v is None else rng.uniform(0.5, 2, v.shape) for v in net.running_vars])
    return net


def deep_nets(**kwargs):
    """Networks whose hidden layers draw norm, dropout and skips (``deep_specs``)."""
    return deep_specs(**kwargs).map(deep_net)


def tol(net):
    return {"float32": 1e-4, "float64": 1e-10}[net.dtype.name]


def has_batch_norm(net):
    return "batch" in net.norm


@examples(60)
@given(data=st.data())
def test_deep_inference_is_shaped_finite_and_leaves_the_state_alone(data):
    """predict, loss, gradients, loss_and_gradient and backprop, in eval and training mode:
    shapes, finite values on moderate data, backprop's pieces where the options put them (masks
    only in training, for the layers with dropout), the modes' losses agree with one another,
    modes differ only through dropout and batch norm, rows are independent in eval, and no call
    changes θ or the running statistics."""
    net = data.draw(deep_nets())
    X, Y = data.draw(xy(net, specials=False, rows=st.integers(1, 16)))
    before = net.snapshot()
    N, K = len(X), net.n_layers
    P = net.predict(X)
    assert P.shape == (N, net.sizes[-1]) and P.dtype == net.dtype and all_finite(P)
    np.testing.assert_allclose(net.predict(X[:1]), P[:1], rtol=tol(net), atol=tol(net))
    results = {}
    for training in (False, True):
        bp = net.backprop(X, Y, training=training)
        loss, grad = net.loss_and_gradient(X, Y, training=training)
        dW, db = net.gradients(X, Y, training=training)
        assert all_finite(grad, *dW, *db, *backprop_arrays(bp)) and grad.shape == (net.n_params,)
        Ws, bs = net.unpack(grad)
        for a, b in zip(dW + db, Ws + bs):
            np.testing.assert_allclose(a, b, rtol=tol(net), atol=tol(net) * max(1.0, np.max(np.abs(grad))))
        assert net.loss(X, Y, training=training) == pytest.approx(loss, rel=tol(net), abs=tol(net))
        assert bp.loss == pytest.approx(loss, rel=tol(net), abs=tol(net))
        assert sorted(bp.mask) == ([k for k in range(1, K) if net.dropout[k - 1] > 0] if training else [])
        assert sorted(bp.xhat) == sorted(bp.g) == sorted(bp.dgamma) == [k for k in range(1, K) if net.norm[k - 1]]
        for k in range(1, K):
            assert bp.x[k].shape == bp.zhat[k].shape == (N, net.sizes[k])
        if not training:
            np.testing.assert_allclose(bp.x[K], P, rtol=tol(net), atol=tol(net))
        results[training] = (loss, grad)
    if not has_batch_norm(net) and not any(net.dropout):  # the modes differ only there
        assert results[True][0] == results[False][0]
        assert_identical(results[True][1], results[False][1])
    assert_identical(net.snapshot(), before)


@examples(40)
@given(data=st.data())
def test_deep_gradients_match_central_differences_in_both_modes(data):
    """float64 nets of smooth ψ: entries of W, b̄, γ and β of loss_and_gradient (eval, or training
    with the next epoch's fixed masks and the batch's statistics) agree with
    (L(θ + εe_i) − L(θ − εe_i)) / 2ε of ``loss`` in the same mode."""
    net = data.draw(deep_nets(dtypes=("float64",), activations=tuple(SMOOTH_HIDDEN)))
    X, Y = data.draw(xy(net, specials=False, rows=st.integers(1, 6)))
    training = data.draw(st.booleans())
    loss, grad = net.loss_and_gradient(X, Y, training=training)
    theta = net.parameters
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    eps = 1e-6
    for i in rng.choice(net.n_params, size=min(12, net.n_params), replace=False):
        values = []
        for step in (eps, -eps):
            t = theta.copy()
            t[i] += step
            net.set_parameters(t)
            values.append(net.loss(X, Y, training=training))
        fd = (values[0] - values[1]) / (2 * eps)
        np.testing.assert_allclose(grad[i], fd, rtol=1e-5, atol=1e-7 * max(1.0, abs(loss)),
                                   err_msg=f"entry {i}, training={training}, path {net.kernel_path}")
    net.set_parameters(theta)


@examples(60)
@given(data=st.data())
def test_deep_fit_agrees_across_paths_and_threads_and_not_with_run_length(data):
    """As for plain nets: runs of one batch per kernel call give one call per epoch's θ,
    running statistics, losses and step count bit for bit (a run that starts mid-epoch keys
    its masks by epoch position), and every path and thread count gives loops on one thread's
    to rounding. Batch norm with batches of one row is refused, changing nothing."""
    spec = data.draw(deep_specs(dtypes=("float64",)))
    net = deep_net(spec)
    X, Y = data.draw(xy(net, specials=False, rows=st.integers(1, 40)))
    kwargs = data.draw(fits(len(X), lrs=st.just(1e-3)))
    if has_batch_norm(net) and min(kwargs["batch_size"], len(X)) == 1:
        before = net.snapshot()
        with pytest.raises(ValueError, match="batch_size"):
            net.fit(X, Y, **kwargs)
        assert_identical(net.snapshot(), before)
        return
    how = data.draw(st.sampled_from(["rows", "columns"]))
    results = []
    for path, threads, runs in ((None, kwargs["threads"], "epoch"), (None, kwargs["threads"], "batch"),
                                ("loops", 1, "epoch")):
        # the same net (θ, running statistics, dropout's key) on another kernel path
        copy = pickle.loads(pickle.dumps(net)) if path is None else deep_net(spec, kernel_path=path)
        args = dict(kwargs, threads=threads, optimizer=pickle.loads(pickle.dumps(kwargs["optimizer"])))
        with forced_split(how), run_length(runs):
            history = copy.fit(X, Y, **args)
        assert copy.epochs_trained == kwargs["epochs"]
        results.append((copy.snapshot(), history["loss"], copy.optimizer.t))
    (state, losses, t), (state_runs, losses_runs, t_runs), (state_loops, _, _) = results
    assert_identical(state_runs, state)
    assert losses_runs == losses and t_runs == t
    # (atol: b̄^[k] of a layer with batch norm has a gradient of exactly 0, which each path
    # computes as its own rounding noise, up to ~1e-13 behind 1/σ ≤ 316; Adam divides that by
    # √v̂ + 1e-8 and steps b̄^[k] by up to ~lr · 3e-6 a batch: 5.8e-9 apart after one epoch of
    # batches of two rows in the example that showed it, [1,2,2,2,2] with batch norm on layer 1)
    np.testing.assert_allclose(state, state_loops, rtol=1e-7, atol=5e-8)


@examples(40)
@given(data=st.data())
def test_deep_fit_ends_finite_or_rolls_back_theta_and_running_statistics(data):
    """Whatever the lr: fit ends with finite θ and running statistics, or raises DivergedError
    with both (``snapshot``) bit-identical to the end of the last finite epoch."""
    net = data.draw(deep_nets())
    X, Y = data.draw(xy(net, specials=False, rows=st.integers(2, 24)))
    kwargs = data.draw(fits(len(X), lrs=st.sampled_from([1e-3, 10.0, 1e4])))
    kwargs["batch_size"] = max(2, kwargs["batch_size"])
    snapshots = [net.snapshot()]
    kwargs["callbacks"] = [lambda net, epoch, logs: snapshots.append(net.snapshot())]
    try:
        with np.errstate(all="ignore"):
            net.fit(X, Y, **kwargs)
    except DivergedError as e:
        event(f"diverged in epoch {e.epoch}")
        assert e.epoch == len(snapshots)
        assert_identical(net.snapshot(), snapshots[-1])
        return
    event("finished")
    assert all_finite(net.snapshot())
    assert_identical(net.snapshot(), snapshots[-1])


@examples(30)
@given(data=st.data())
def test_deep_nets_round_trip_through_pickle_and_resume_alike(data):
    """A pickled copy (also taken after some training) has the options, θ, running statistics,
    epochs_trained and dropout_seed, predicts the same and trains on exactly as the net does."""
    net = data.draw(deep_nets(paths=("auto",)))
    X, Y = data.draw(xy(net, specials=False, rows=st.integers(2, 12)))
    if data.draw(st.booleans()):
        with contextlib.suppress(DivergedError):
            net.fit(X, Y, epochs=data.draw(st.integers(1, 2)), batch_size=2,
                    optimizer=data.draw(st.sampled_from(OPTIMIZER_MAKERS))(1e-3))
    back = pickle.loads(pickle.dumps(net))
    assert_deep_alike(back, net, X)


def assert_deep_alike(back, net, X):
    assert (back.sizes, back.activations, back.loss_name, back.dtype) == (
        net.sizes, net.activations, net.loss_name, net.dtype)
    assert (back.norm, back.dropout, back.residual) == (net.norm, net.dropout, net.residual)
    assert (back.epochs_trained, back.dropout_seed) == (net.epochs_trained, net.dropout_seed)
    assert_identical(back.snapshot(), net.snapshot())
    assert_identical(back.predict(X), net.predict(X))
    assert_resume_alike(back, net)


@examples(30)
@given(data=st.data())
def test_deep_nets_round_trip_through_save_and_load(data, tmp_path_factory):
    """load(save(net)) of a deep net: the options, θ, running statistics, epochs_trained,
    dropout_seed, predictions and further training, bit for bit."""
    net = data.draw(deep_nets(paths=("auto",)))
    X, Y = data.draw(xy(net, specials=False, rows=st.integers(2, 12)))
    if data.draw(st.booleans()):
        with contextlib.suppress(DivergedError):
            net.fit(X, Y, epochs=data.draw(st.integers(1, 2)), batch_size=2,
                    optimizer=data.draw(st.sampled_from(OPTIMIZER_MAKERS))(1e-3))
    path = tmp_path_factory.mktemp("deep") / "net.npz"
    net.save(path)
    assert_deep_alike(Network.load(path), net, X)
