"""The specialised kernels (the default outside this suite, whose conftest sets
FASTNN_KERNELS=generic): each variant of ``_kernels`` is the same source with its dispatch cut
to one net's activation, loss and optimizer codes, so it must give the generic kernels' results
bit for bit, on every entry point. The configurations are a few all-pairs picks over losses,
optimizers, activations, layer options and thread splits: each compiles a variant of its own."""
import copy
import pickle
import threading

import numpy as np
import pytest

import fastnn
from fastnn import _codegen, _engine, _kernels

# (Network keywords, fit keywords, targets), few because each compiles a variant and its
# generic twin: plain SGD fused (no optimizer branch), AdamW, RMSprop with clipping, losses with
# and without a link, ψ' from x̄ and from z̄, each layer option (a variant compiles only its
# net's), one and two threads, sample weights
CASES = {
    "mse-sgd-relu": (dict(activations=["relu", "relu", "identity"]), dict(optimizer="sgd", lr=0.05), "real"),
    # (and the gradient and the predictor team, for the plain net)
    "ce-adamw-tanh-dropout-weights-threads": (
        dict(activations=["tanh", "elu", "softmax"], loss="cross_entropy", dropout=0.2),
        dict(optimizer="adamw", sample_weight=True, threads=2), "classes"),
    "poisson-rmsprop-clip-gelu-layer-batch-skip": (
        dict(activations=["gelu", "sigmoid", "exp"], loss="poisson", norm=["layer", "batch"], residual=True),
        dict(optimizer=fastnn.RMSprop(lr=0.01, weight_decay=1e-3, clip_norm=1.0)), "counts"),
}


def data(kind, rng):
    X = rng.standard_normal((160, 6)).astype(np.float32)
    if kind == "classes":
        Y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, len(X))]
    elif kind == "counts":
        Y = rng.poisson(1.0, (len(X), 1)).astype(np.float32)
    else:
        Y = np.sin(X[:, :1]) + 0.1 * X[:, 1:2]
    return X, Y


def train(monkeypatch, mode, net_kw, fit_kw, X, Y):
    """A net made and trained with FASTNN_KERNELS=mode, and what every entry point gives."""
    monkeypatch.setenv("FASTNN_KERNELS", mode)
    fit_kw = copy.deepcopy(fit_kw)  # (an optimizer object keeps its state: each net gets a fresh one)
    if fit_kw.pop("sample_weight", False):
        fit_kw["sample_weight"] = np.linspace(0.5, 2.0, len(X))
    net = fastnn.Network([6, 16, 16, Y.shape[1]], seed=3, kernel_path="generic", dtype="float32", **net_kw)
    # (kernel_path="generic": no unrolled epoch, which tiny nets run instead of the kernels)
    history = net.fit(X, Y, epochs=3, batch_size=16, **fit_kw)
    out = dict(theta=net.parameters.copy(), loss=np.array(history["loss"]), predict=net.predict(X),
               mean_loss=np.float64(net.loss(X, Y)))
    if not net_kw.get("norm") and not net_kw.get("dropout"):  # (each entry point compiles per variant)
        out["grad"] = net.loss_and_gradient(X, Y)[1]
        p = net.predictor(threads=2)
        out["predictor"], out["predictor_row"] = p(X), p(X[:1])
        p.close()
    monkeypatch.delenv("FASTNN_KERNELS")
    return net, out


@pytest.mark.parametrize("case", CASES)
def test_a_variant_gives_the_generic_kernels_bits(case, monkeypatch, rng):
    net_kw, fit_kw, kind = CASES[case]
    X, Y = data(kind, rng)
    generic, want = train(monkeypatch, "generic", net_kw, fit_kw, X, Y)
    special, got = train(monkeypatch, "specialized", net_kw, fit_kw, X, Y)
    assert generic._engine.k is _kernels
    assert special._engine.k is not _kernels and special._engine.k.__name__.startswith("fastnn_kernels_")
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_a_variant_holds_only_its_own_branches():
    relu, tanh = fastnn.activations.get("relu").code, fastnn.activations.get("tanh").code
    mse = fastnn.losses.get("mse").code
    adam = fastnn.optimizers.Adam.code
    split = "_act, _mul_dpsi, _mul_dpsi_z = act, mul_dpsi, mul_dpsi_z"
    src = _codegen.kernels_source({relu, tanh}, {mse}, {adam})
    dispatch = src.split(split)[0]  # (then _kernels' text)
    assert "adam_step" in dispatch and "tanh" in dispatch and "mse_delta" in dispatch
    for other in ("rmsprop_step", "sgd_step", "gelu", "sigmoid", "cross_entropy_delta", "huber_delta"):
        assert other not in dispatch, other
    fused = _codegen.kernels_source({relu}, {mse}, set()).split(split)[0]  # plain SGD: no optimizer step
    assert "_step" not in fused.replace("def opt_step", "") and "_prepare" not in fused.replace("def opt_prepare", "")
    flags = [line for line in _codegen.kernels_source({relu}, {mse}, set(), {"dropout"}).splitlines()
             if line.startswith("WITH_")]
    assert flags == ["WITH_LAYER_NORM = False; WITH_BATCH_NORM = False; WITH_DROPOUT = True; WITH_SKIP = False; "
                     "WITH_STEP = False",  # plain SGD: no step apart from the gradient GEMM
                     "WITH_NORM = WITH_LAYER_NORM or WITH_BATCH_NORM",
                     "WITH_EXTENDED = WITH_NORM or WITH_DROPOUT or WITH_SKIP  # any layer beyond the seed's Dense→ψ"]
    adam_flags = next(line for line in src.splitlines() if line.startswith("WITH_LAYER_NORM"))
    assert adam_flags.endswith("WITH_SKIP = True; WITH_STEP = True")  # (every layer option: the default)
    assert (_kernels.WITH_LAYER_NORM, _kernels.WITH_BATCH_NORM, _kernels.WITH_DROPOUT, _kernels.WITH_SKIP,
            _kernels.WITH_STEP, _kernels.WITH_EXTENDED) == (True,) * 6  # the generic kernels hold every option
    # the rest is _kernels' source, unchanged but for its imports: every function, line for line
    with open(_kernels.__file__, encoding="utf-8") as f:
        kernels = f.read()
    assert "from ." not in src and "from ._dispatch" in kernels
    start = kernels.index("\n@jit", kernels.index("MOMENTUM ="))
    assert kernels[start:kernels.index("\n_codegen.drop_stale_cache(")] in src


def test_variants_are_made_once_per_set_of_codes(monkeypatch):
    lay = fastnn.Network([2, 3, 1])._engine.lay
    monkeypatch.setenv("FASTNN_KERNELS", "specialized")
    made = []
    threads = [threading.Thread(target=lambda: made.append(_engine.kernels_for(lay, 0, _engine.FUSED)))
               for _ in range(4)]
    for t in threads:  # concurrent first uses: one module
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 4 and all(m is made[0] for m in made)
    assert _engine.kernels_for(lay.copy(), 0, _engine.FUSED) is made[0]
    assert _engine.kernels_for(lay, 0, fastnn.optimizers.Adam.code) is not made[0]
    normed = fastnn.Network([2, 3, 1], norm="layer")._engine.lay
    assert _engine.kernels_for(normed, 0, _engine.FUSED) not in (made[0], _kernels)
    monkeypatch.setenv("FASTNN_KERNELS", "generic")
    assert _engine.kernels_for(lay, 0, _engine.FUSED) is _kernels


def test_a_bad_kernel_mode_is_refused_with_its_fix(monkeypatch):
    monkeypatch.setenv("FASTNN_KERNELS", "fast")
    with pytest.raises(ValueError, match=r"FASTNN_KERNELS must be one of \['specialized', 'generic'\]"):
        fastnn.Network([2, 3, 1])


def test_a_specialised_net_pickles_and_keeps_its_results(monkeypatch, rng):
    monkeypatch.setenv("FASTNN_KERNELS", "specialized")
    X, Y = data("real", rng)
    net = fastnn.Network([6, 16, 16, 1], seed=3, kernel_path="generic", dtype="float32")
    net.fit(X, Y, epochs=1, batch_size=16, optimizer="adam")
    twin = pickle.loads(pickle.dumps(net))
    assert twin._engine.k is not _kernels
    np.testing.assert_array_equal(twin.predict(X), net.predict(X))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_an_unrolled_epoch_compiles_only_its_optimizer_and_gives_the_same_bits(optimizer, monkeypatch, rng):
    """Tiny nets run the generated straight-line epoch (``_unrolled``): in the specialised mode
    its own dispatch holds only the fit's optimizer (plain SGD's none), and the bits stay the
    generic epoch's (which imports ``_dispatch``, every optimizer)."""
    from fastnn import _unrolled

    X = rng.standard_normal((40, 2)).astype(np.float32)
    Y = (X[:, :1] * X[:, 1:]).astype(np.float32)
    got = {}
    for mode in ("generic", "specialized"):
        monkeypatch.setenv("FASTNN_KERNELS", mode)
        net = fastnn.Network([2, 3, 1], seed=1, dtype="float32")
        history = net.fit(X, Y, epochs=3, batch_size=8, optimizer=optimizer, lr=0.05)
        assert net._engine.unrolled_epoch(False, net._engine.k_opt) is not None  # (it ran unrolled)
        got[mode] = (net.parameters.copy(), np.array(history["loss"]), net.loss_and_gradient(X, Y)[1])
    for want, have in zip(got["generic"], got["specialized"]):
        np.testing.assert_array_equal(have, want)
    adam = fastnn.optimizers.Adam.code
    source = _unrolled._source([2, 3, 1], [0, 1], 0, False, opts={adam})
    assert "fastnn._dispatch" not in source and "adam_step" in source and "rmsprop_step" not in source
    fused = _unrolled._source([2, 3, 1], [0, 1], 0, False, opts=set())
    assert "opt_step(opt" not in fused and "opt_prepare(opt" not in fused
    assert "from fastnn._dispatch import opt_prepare, opt_step" in _unrolled._source([2, 3, 1], [0, 1], 0, False)
