"""Network: the seed's 2-2-1 example by hand, shapes, dtypes, seeding, SGD steps, views, I/O."""
import re

import numpy as np
import pytest

import naive
from fastnn import DivergedError, Network
from helpers import assert_params_equal, params, random_xy, randomize_biases, set_params

# --- the seed's 2-2-1 network, written out with scalars --------------------------------------

def hand_221(p, x1, x2, y, psi1, psi2):
    """Loss and gradients of one sample, every line a scalar formula from the seed."""
    f1, d1 = naive.ACTIVATIONS[psi1]
    f2, d2 = naive.ACTIVATIONS[psi2]
    # layer 1
    z1_1 = p["w1_11"] * x1 + p["w1_12"] * x2 + p["b1_1"]
    z1_2 = p["w1_21"] * x1 + p["w1_22"] * x2 + p["b1_2"]
    x1_1 = f1(z1_1)
    x1_2 = f1(z1_2)
    # layer 2 (one neuron)
    z2 = p["w2_11"] * x1_1 + p["w2_12"] * x1_2 + p["b2"]
    x2_ = f2(z2)
    L = 0.5 * (y - x2_) ** 2
    # dL/dW^[2] = -(y - x^[2]) psi2'(z^[2]) (x^[1])^T ; dL/db^[2] = phi^[2]
    phi2 = -(y - x2_) * d2(z2)
    g = {"w2_11": phi2 * x1_1, "w2_12": phi2 * x1_2, "b2": phi2}
    # dL/dW^[1] = ((W^[2])^T phi^[2] * psi1'(z^[1])) (x^[0])^T  -- psi^[1]', not the appendix's psi^[2]'
    phi1_1 = p["w2_11"] * phi2 * d1(z1_1)
    phi1_2 = p["w2_12"] * phi2 * d1(z1_2)
    g.update(
        w1_11=phi1_1 * x1, w1_12=phi1_1 * x2, b1_1=phi1_1,
        w1_21=phi1_2 * x1, w1_22=phi1_2 * x2, b1_2=phi1_2,
    )
    return float(L), {k: float(v) for k, v in g.items()}, float(x2_)


PAIRS = [("sigmoid", "sigmoid"), ("tanh", "identity"), ("relu", "identity"),
         ("softplus", "tanh"), ("leaky_relu", "sigmoid")]
P0 = dict(w1_11=0.4, w1_12=-0.7, w1_21=0.9, w1_22=0.3, b1_1=0.1, b1_2=-0.2,
          w2_11=1.3, w2_12=-0.8, b2=0.05)
SAMPLES = [(0.5, -0.3, 0.8), (-0.9, 0.2, -0.4), (0.1, 0.7, 0.3)]


def _load_221(net, p):
    net.weights[0][...] = [[p["w1_11"], p["w1_12"]], [p["w1_21"], p["w1_22"]]]
    net.biases[0][...] = [p["b1_1"], p["b1_2"]]
    net.weights[1][...] = [[p["w2_11"], p["w2_12"]]]
    net.biases[1][...] = [p["b2"]]


def _as_221(dW, db):
    return dict(w1_11=dW[0][0, 0], w1_12=dW[0][0, 1], w1_21=dW[0][1, 0], w1_22=dW[0][1, 1],
                b1_1=db[0][0], b1_2=db[0][1], w2_11=dW[1][0, 0], w2_12=dW[1][0, 1], b2=db[1][0])


@pytest.mark.parametrize("psi1,psi2", PAIRS)
def test_hand_formulas_agree_with_finite_differences(psi1, psi2):
    # Settles the appendix's index slip independently of fastnn: psi^[1]' is right.
    x1, x2, y = SAMPLES[0]
    _L, g, _ = hand_221(P0, x1, x2, y, psi1, psi2)
    eps = 1e-6
    for name in P0:
        hi = dict(P0, **{name: P0[name] + eps})
        lo = dict(P0, **{name: P0[name] - eps})
        fd = (hand_221(hi, x1, x2, y, psi1, psi2)[0] - hand_221(lo, x1, x2, y, psi1, psi2)[0]) / (2 * eps)
        assert g[name] == pytest.approx(fd, rel=1e-6, abs=1e-9), name


def test_appendix_literal_slip_is_wrong():
    # Using psi^[2]' in the layer-1 rule (the appendix's slip) disagrees with the gradient.
    x1, x2, y = SAMPLES[0]
    f1, _d1 = naive.ACTIVATIONS["tanh"]
    _, g, x2_ = hand_221(P0, x1, x2, y, "tanh", "sigmoid")
    z1_1 = P0["w1_11"] * x1 + P0["w1_12"] * x2 + P0["b1_1"]
    z2 = P0["w2_11"] * f1(z1_1) + P0["w2_12"] * f1(P0["w1_21"] * x1 + P0["w1_22"] * x2 + P0["b1_2"]) + P0["b2"]
    phi2 = -(y - x2_) * naive.dpsi("sigmoid", z2)
    slip = P0["w2_11"] * phi2 * naive.dpsi("sigmoid", z2) * x1
    assert abs(slip - g["w1_11"]) > 1e-3


@pytest.mark.parametrize("psi1,psi2", PAIRS)
@pytest.mark.parametrize("n", [1, 3])
def test_221_network_matches_hand_formulas(psi1, psi2, n):
    net = Network([2, 2, 1], activations=[psi1, psi2], dtype="float64", seed=0)
    _load_221(net, P0)
    S = SAMPLES[:n]
    X = np.array([[a, b] for a, b, _ in S])
    Y = np.array([[c] for _, _, c in S])
    per = [hand_221(P0, a, b, c, psi1, psi2) for a, b, c in S]

    np.testing.assert_allclose(net.predict(X)[:, 0], [r[2] for r in per], rtol=1e-12)
    assert net.loss(X, Y) == pytest.approx(np.mean([r[0] for r in per]), rel=1e-12)
    got = _as_221(*net.gradients(X, Y))
    for name in P0:
        want = np.mean([r[1][name] for r in per])
        assert got[name] == pytest.approx(want, rel=1e-10, abs=1e-14), name


def test_seed_question_W3_of_4_7_7_7_2_is_7x7():
    net = Network([4, 7, 7, 7, 2])
    assert net.weights[2].shape == (7, 7)  # W^[3]


# --- shapes and attributes --------------------------------------------------------------------

def test_shapes_and_attributes():
    sizes = [4, 7, 6, 5, 2]
    net = Network(sizes)
    K = len(sizes) - 1
    assert net.sizes == sizes
    assert net.n_layers == K
    assert net.activations == ["relu"] * (K - 1) + ["identity"]
    assert [W.shape for W in net.weights] == [(sizes[k], sizes[k - 1]) for k in range(1, K + 1)]
    assert [b.shape for b in net.biases] == [(sizes[k],) for k in range(1, K + 1)]
    assert net.n_params == sum(sizes[k] * sizes[k - 1] + sizes[k] for k in range(1, K + 1))


def test_activation_argument_forms():
    assert Network([2, 3, 3, 1], activations="tanh").activations == ["tanh", "tanh", "identity"]
    acts = ["sigmoid", "softplus", "relu"]
    assert Network([2, 3, 3, 1], activations=acts).activations == acts
    assert Network([2, 1]).activations == ["identity"]


@pytest.mark.parametrize("N", [1, 5])
def test_predict_shape(N, rng):
    net = Network([3, 4, 2])
    X, _ = random_xy(rng, N, 3, 2)
    assert net.predict(X).shape == (N, 2)


def test_one_dimensional_targets_when_single_output(rng):
    net = Network([2, 5, 1], dtype="float64", seed=1)
    X, Y = random_xy(rng, 9, 2, 1)
    assert net.loss(X, Y[:, 0]) == net.loss(X, Y)
    g1, g2 = net.gradients(X, Y[:, 0]), net.gradients(X, Y)
    for a, b in zip(g1[0] + g1[1], g2[0] + g2[1]):
        np.testing.assert_array_equal(a, b)
    net2 = Network([2, 5, 1], dtype="float64", seed=1)
    net.fit(X, Y[:, 0], epochs=2, batch_size=4, shuffle=False)
    net2.fit(X, Y, epochs=2, batch_size=4, shuffle=False)
    np.testing.assert_array_equal(net.predict(X), net2.predict(X))


# --- dtype -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,other", [("float32", np.float64), ("float64", np.float32)])
def test_dtype_preserved(dtype, other, rng):
    # float32 is the default: construct it without the argument
    net = Network([3, 4, 2], dtype=dtype) if dtype == "float64" else Network([3, 4, 2])
    dt = np.dtype(dtype)
    assert net.dtype == dt
    assert all(W.dtype == dt for W in net.weights) and all(b.dtype == dt for b in net.biases)
    X, Y = random_xy(rng, 6, 3, 2, dtype=other)  # inputs in the other dtype are converted
    assert net.predict(X).dtype == dt
    dW, db = net.gradients(X, Y)
    assert all(g.dtype == dt for g in dW + db)
    assert isinstance(net.loss(X, Y), float)
    net.fit(X, Y, epochs=1, batch_size=3)
    assert all(W.dtype == dt for W in net.weights) and all(b.dtype == dt for b in net.biases)


# --- initialisation and seeding --------------------------------------------------------------

def _assert_same(a, b):
    assert_params_equal(b, params(a))


def _differ(a, b):
    return any(not np.array_equal(x, y) for x, y in zip(a.weights, b.weights))


def test_seeded_construction():
    sizes, acts = [3, 6, 4, 2], ["tanh", "relu", "identity"]
    _assert_same(Network(sizes, acts, seed=5), Network(sizes, acts, seed=5))
    assert _differ(Network(sizes, acts, seed=5), Network(sizes, acts, seed=6))


@pytest.mark.parametrize("act,var", [
    ("relu", lambda fi, fo: 2 / fi), ("leaky_relu", lambda fi, fo: 2 / fi),
    ("softplus", lambda fi, fo: 2 / fi), ("tanh", lambda fi, fo: 2 / (fi + fo)),
    ("sigmoid", lambda fi, fo: 2 / (fi + fo)), ("gelu", lambda fi, fo: 2 / fi),
    ("silu", lambda fi, fo: 2 / fi), ("elu", lambda fi, fo: 2 / fi),
    ("selu", lambda fi, fo: 1 / fi),
])
def test_initialisation_scale(act, var):
    # He: Var = 2/fan_in; Glorot (normal or uniform): Var = 2/(fan_in + fan_out); LeCun:
    # Var = 1/fan_in; biases 0.
    fi, fo = 300, 200
    net = Network([fi, fo, 1], activations=act, seed=0, dtype="float64")
    W = net.weights[0]
    assert W.std() == pytest.approx(np.sqrt(var(fi, fo)), rel=0.03)
    assert abs(W.mean()) < 0.05 * W.std()
    assert all(np.all(b == 0) for b in net.biases)


def test_seeded_fit_reproducible(rng):
    X, Y = random_xy(rng, 40, 3, 2)
    nets = [Network([3, 8, 2], seed=1) for _ in range(3)]
    h = [nets[0].fit(X, Y, epochs=3, batch_size=8, seed=11),
         nets[1].fit(X, Y, epochs=3, batch_size=8, seed=11),
         nets[2].fit(X, Y, epochs=3, batch_size=8, seed=12)]
    _assert_same(nets[0], nets[1])
    assert h[0]["loss"] == h[1]["loss"]
    assert _differ(nets[0], nets[2])  # a different shuffle gives different weights


# --- SGD steps ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_full_batch_step_is_w_minus_lr_grad(dtype, rng):
    net = Network([3, 5, 4, 2], activations=["tanh", "softplus", "identity"], dtype=dtype, seed=2)
    randomize_biases(net, rng)
    X, Y = random_xy(rng, 12, 3, 2, dtype=dtype)
    lr = 0.1
    Ws, bs = params(net)
    dW, db = (list(map(np.copy, g)) for g in net.gradients(X, Y))
    L0 = net.loss(X, Y)
    hist = net.fit(X, Y, epochs=1, batch_size=12, lr=lr, shuffle=False)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-15)
    for k in range(net.n_layers):
        np.testing.assert_allclose(net.weights[k], Ws[k] - lr * dW[k], **tol)
        np.testing.assert_allclose(net.biases[k], bs[k] - lr * db[k], **tol)
    assert len(hist["loss"]) == 1
    assert hist["loss"][0] == pytest.approx(L0, rel=tol["rtol"])  # loss taken before the update


@pytest.mark.parametrize("N,batch", [(10, 4), (7, 3), (5, 8), (12, 4), (4, 1)])
def test_minibatch_sgd_uses_last_partial_batch(N, batch, rng):
    acts = ["sigmoid", "identity"]
    net = Network([2, 4, 1], activations=acts, dtype="float64", seed=3)
    randomize_biases(net, rng)
    ref = Network([2, 4, 1], activations=acts, dtype="float64", seed=99)
    set_params(ref, *params(net))
    X, Y = random_xy(rng, N, 2, 1)
    lr, epochs = 0.2, 2

    batch_losses = []
    for _ in range(epochs):
        losses = []
        for s in range(0, N, batch):
            Xb, Yb = X[s:s + batch], Y[s:s + batch]
            losses.append((ref.loss(Xb, Yb), len(Xb)))
            dW, db = ref.gradients(Xb, Yb)
            for k in range(ref.n_layers):
                ref.weights[k][...] -= lr * dW[k]
                ref.biases[k][...] -= lr * db[k]
        batch_losses.append(losses)

    hist = net.fit(X, Y, epochs=epochs, batch_size=batch, lr=lr, shuffle=False)
    for k in range(net.n_layers):
        np.testing.assert_allclose(net.weights[k], ref.weights[k], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(net.biases[k], ref.biases[k], rtol=1e-12, atol=1e-15)
    assert len(hist["loss"]) == epochs and len(hist["time"]) == epochs
    for got, losses in zip(hist["loss"], batch_losses):
        per_batch = np.mean([loss for loss, _ in losses])
        per_sample = sum(loss * n for loss, n in losses) / N
        # "running mean over the epoch's batches": either weighting is accepted
        assert got == pytest.approx(per_batch, rel=1e-10) or got == pytest.approx(per_sample, rel=1e-10)
        if N % batch == 0 or batch >= N:
            assert got == pytest.approx(per_batch, rel=1e-10)


def test_history_has_one_loss_per_epoch(rng):
    net = Network([2, 6, 1], seed=0)
    X, Y = random_xy(rng, 30, 2, 1)
    Y = 0.5 * X[:, :1] - 0.2 * X[:, 1:]  # learnable
    hist = net.fit(X, Y, epochs=6, batch_size=5, lr=0.05)
    assert len(hist["loss"]) == 6 and len(hist["time"]) == 6
    assert all(np.isfinite(hist["loss"])) and all(t >= 0 for t in hist["time"])
    assert hist["loss"][-1] < hist["loss"][0]


# --- views ---------------------------------------------------------------------------------------

def test_weight_views_are_writable_and_used(rng):
    acts = ["relu", "tanh", "identity"]
    net = Network([3, 4, 4, 2], activations=acts, dtype="float64", seed=0)
    X, _ = random_xy(rng, 5, 3, 2)
    new_W = [rng.normal(size=W.shape) for W in net.weights]
    new_b = [rng.normal(size=b.shape) for b in net.biases]
    for k in range(net.n_layers):
        net.weights[k][...] = new_W[k]  # write through one access ...
        net.biases[k][:] = new_b[k]
    for k in range(net.n_layers):  # ... read through another
        np.testing.assert_array_equal(net.weights[k], new_W[k])
        np.testing.assert_array_equal(net.biases[k], new_b[k])
    np.testing.assert_allclose(net.predict(X), naive.predict(new_W, new_b, acts, X), rtol=1e-12)
    # a single element write changes predict
    net.weights[-1][...] = 0.0
    net.biases[-1][...] = [1.5, -2.0]
    np.testing.assert_array_equal(net.predict(X), np.tile([1.5, -2.0], (5, 1)))
    W = net.weights[0]
    W[0, 0] += 1.0
    assert net.weights[0][0, 0] == new_W[0][0, 0] + 1.0


# --- save / load -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trip(dtype, tmp_path, rng):
    acts = ["softplus", "leaky_relu", "sigmoid"]
    net = Network([3, 5, 4, 2], activations=acts, dtype=dtype, seed=4)
    X, Y = random_xy(rng, 9, 3, 2, dtype=dtype)
    net.fit(X, Y, epochs=2, batch_size=4)  # not the initial weights
    path = tmp_path / "model.npz"
    net.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temp file left behind

    back = Network.load(path)
    assert back.sizes == net.sizes and back.activations == acts and back.dtype == np.dtype(dtype)
    _assert_same(net, back)
    np.testing.assert_array_equal(back.predict(X), net.predict(X))

    with np.load(path, allow_pickle=False) as f:
        assert {"format_version", "sizes", "activations", "dtype", "params"} <= set(f.files)
        assert [int(s) for s in f["sizes"]] == [3, 5, 4, 2]
        assert [str(a) for a in f["activations"]] == acts
        assert f["params"].size == net.n_params

    net.save(str(path))  # str paths too, and overwriting
    _assert_same(net, Network.load(str(path)))


# --- summary -----------------------------------------------------------------------------------------

def test_summary_lists_shapes():
    sizes = [3, 5, 4, 2]
    net = Network(sizes, activations=["tanh", "relu", "sigmoid"])
    s = net.summary()
    assert str(net) == s
    for k in range(1, 4):
        W = rf"\(?\s*{sizes[k]}\s*[x×,]\s*{sizes[k - 1]}\s*\)?"
        assert re.search(W, s), f"W^[{k}] shape {sizes[k]}x{sizes[k - 1]} missing from:\n{s}"
    for name in ("tanh", "relu", "sigmoid"):
        assert name in s
    assert str(net.n_params) in s  # 3*5+5 + 5*4+4 + 4*2+2 = 54
    assert net.n_params == 54


def test_summary_shows_norm_dropout_and_skips_and_counts_gamma_beta():
    net = Network([3, 5, 5, 2], activations=["gelu", "selu", "identity"], norm=[None, "batch"],
                  dropout=[0.25, 0.0], residual=[False, True])
    lines = net.summary().splitlines()
    assert lines[1].split() == ["k", "W^[k]", "b^[k]", "psi^[k]", "norm", "dropout", "skip", "params"]
    rows = [line.split() for line in lines[3:6]]
    # k, W^[k] as "n x m" (3 fields), b^[k], psi^[k], norm, dropout, skip, params
    assert [r[5:] for r in rows] == [["gelu", "-", "0.25", "-", "20"],
                                     ["selu", "batch", "-", "yes", str(5 * 5 + 5 + 2 * 5)],
                                     ["identity", "-", "-", "-", "12"]]
    assert lines[-1] == f"total params: {net.n_params}" and net.n_params == 20 + 40 + 12
    plain = Network([3, 5, 5, 2]).summary().splitlines()
    assert "norm" not in plain[1] and len(plain[1].split()) == 5


def test_shuffled_adam_fit_resumed_from_a_file_equals_an_uninterrupted_one(tmp_path, rng):
    """The file carries θ, Adam's moments and step count, and the shuffling generator's state."""
    X, Y = rng.normal(size=(30, 3)), rng.integers(0, 4, size=30)
    whole = Network([3, 8, 4], loss="cross_entropy", seed=7)
    split = Network([3, 8, 4], loss="cross_entropy", seed=7)
    h = whole.fit(X, Y, epochs=4, batch_size=8, optimizer="adam")
    h1 = split.fit(X, Y, epochs=2, batch_size=8, optimizer="adam")
    split.save(tmp_path / "m.npz")
    back = Network.load(tmp_path / "m.npz")
    assert back.loss_name == "cross_entropy" and back.activations == ["relu", "softmax"]
    assert back.optimizer.t == 8 and back.optimizer.epoch == 2
    h2 = back.fit(X, Y, epochs=2, batch_size=8)
    np.testing.assert_array_equal(back.parameters, whole.parameters)
    np.testing.assert_array_equal(back.optimizer.state, whole.optimizer.state)
    assert h1["loss"] + h2["loss"] == h["loss"]


def test_format_1_files_still_load(tmp_path, rng):
    """What save wrote before losses and optimizers existed: an MSE net with no optimizer."""
    net = Network([2, 3, 1], ["tanh", "identity"], dtype="float64", seed=0)
    path = tmp_path / "v1.npz"
    np.savez(path, format_version=np.int64(1), sizes=np.array([2, 3, 1]),
             activations=np.array(["tanh", "identity"], dtype="U16"), dtype=np.asarray("float64"),
             params=net.parameters)
    back = Network.load(path)
    assert back.loss_name == "mse" and back.optimizer is None
    np.testing.assert_array_equal(back.parameters, net.parameters)
    X = rng.normal(size=(5, 2))
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


def test_divergence_under_adam_restores_theta_and_restarts_the_moments(rng):
    X = rng.normal(size=(40, 2)) * 1e3
    Y = rng.normal(size=(40, 1)) * 1e30
    net = Network([2, 4, 1], dtype="float32", seed=0)
    before = params(net)
    with pytest.raises(DivergedError, match="epoch 1"):
        net.fit(X, Y, epochs=3, optimizer="adam", lr=1e3)
    assert_params_equal(net, before)
    assert net.optimizer.t == 0 and not net.optimizer.state.any()


def test_the_dtype_is_fixed_and_setting_it_says_how_to_copy():
    """``net.dtype = ...`` used to replace the attribute alone (θ and the kernels stayed float32)."""
    net = Network([3, 5, 2], seed=0)
    before = net.parameters
    with pytest.raises(ValueError, match=r"dtype: a network's dtype is fixed .* parameters=net.parameters"):
        net.dtype = "float64"
    assert net.dtype == np.float32 and np.array_equal(net.parameters, before)
    copy = Network(net.sizes, activations=net.activations, loss=net.loss_name, dtype="float64",
                   parameters=net.parameters)
    assert copy.dtype == np.float64 and np.array_equal(copy.parameters, before.astype(np.float64))
    x = np.ones((2, 3))
    np.testing.assert_allclose(copy.predict(x), net.predict(x), rtol=1e-6)
