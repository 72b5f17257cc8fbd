"""fastnn.export: the ONNX model in ONNX Runtime, and the torch module, against Network.predict.

``python -m pytest tests/test_export.py -s -k agreement_table`` prints the ONNX Runtime
agreement figures as a Markdown table.
"""
import functools
import itertools
import json
import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from fastnn import ACTIVATIONS, Network, __version__
from fastnn.export import GELU_OPSET, LAYER_NORM_OPSET, MIN_OPSET, OPSET, to_onnx, to_torch
from helpers import require

from_torch = Network.from_torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx.reference import ReferenceEvaluator  # noqa: E402  (after the importorskip)
from onnx.reference.op_run import OpRun  # noqa: E402

# Tolerances: |y_onnx − y_fastnn| ≤ RTOL·|y| + ATOL·max(1, max |y| of the row).
# float32: two correct forward passes differ by a few ulp per layer (GEMM summation order;
# MLAS's rational approximations of sigmoid, tanh and exp against libm), ~1e-7 relative each,
# so 1e-5 relative leaves room for depth 4 and 16-wide sums. An output near 0 (a saturated
# sigmoid, 2e-9 at z = −20, which MLAS returns as 0; a sum that cancels) keeps only an absolute
# accuracy of a few ulp of the row's largest values: 1e-6 × that magnitude (at least 1).
# float64: the same reasoning with ulp 2.2e-16 instead of 1.2e-7.
TOL = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-13)}  # (RTOL, ATOL)

OUTPUTS = ("mse", "cross_entropy", "binary_cross_entropy")
DEPTHS = (1, 2, 3, 4)
DTYPES = ("float32", "float64")
N0, WIDTH = 5, 16
N_OUT = {"mse": 2, "cross_entropy": 3, "binary_cross_entropy": 2}


def make_net(loss, act, depth, dtype, seed=0, **options):
    """A net with ψ = act on every hidden layer, and on the output too for mse (identity after
    gelu and silu, which fastnn has on hidden layers only); random b̄ and, for the layers with
    norm, random γ, β and running statistics (not PyTorch's initial 1, 0, 0, 1, which would
    hide a swap). ``options``: Network's norm, dropout, residual."""
    sizes = [N0] + [WIDTH] * (depth - 1) + [N_OUT[loss]]
    out = act if ACTIVATIONS[act].from_output else "identity"
    acts = [act] * (depth - 1) + [out] if loss == "mse" else act
    net = Network(sizes, acts, loss=loss, dtype=dtype, seed=seed, **options)
    rng = np.random.default_rng(seed)
    for b in net.biases:
        b[:] = rng.normal(0, 0.5, b.shape)
    for gamma, beta in zip(net.norm_scales, net.norm_shifts):
        if gamma is not None:
            gamma[:], beta[:] = rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.5, beta.shape)
    batch = [n == "batch" for n in net.norm]
    net.set_running_stats([rng.normal(0, 1, n) if b else None for n, b in zip(sizes[1:-1], batch)],
                          [rng.uniform(0.5, 4, n) if b else None for n, b in zip(sizes[1:-1], batch)])
    return net


def all_pairs(axes):
    """Cases (dicts) that hold every pair of values of every two axes at least once: greedy,
    each new case starting from the first pair not yet held and taking, axis by axis, the value
    that holds the most new pairs. Deterministic."""
    names = list(axes)
    sizes = [len(axes[n]) for n in names]
    todo = {(i, a, j, b) for i, j in itertools.combinations(range(len(names)), 2)
            for a in range(sizes[i]) for b in range(sizes[j])}
    cases = []
    while todo:
        i, a, j, b = min(todo)
        pick = {i: a, j: b}
        for m in range(len(names)):
            if m not in pick:
                pick[m] = max(range(sizes[m]), key=lambda v, m=m: sum(
                    (min(n, m), pick[n] if n < m else v, max(n, m), v if n < m else pick[n]) in todo for n in pick))
        todo -= {(i, pick[i], j, pick[j]) for i, j in itertools.combinations(range(len(names)), 2)}
        cases.append({n: axes[n][pick[m]] for m, n in enumerate(names)})
    return cases


def test_all_pairs_holds_every_pair():
    axes = {"a": [1, 2, 3], "b": "xy", "c": [True, False], "d": [0, 1, 2, 3]}
    cases = all_pairs(axes)
    for p, q in itertools.combinations(axes, 2):
        assert {(c[p], c[q]) for c in cases} == set(itertools.product(axes[p], axes[q]))
    assert len(cases) < math.prod(len(v) for v in axes.values()) / 2


def inputs(dtype, seed=0):
    """{name: X}: 1000 random rows, a single row, and edge rows (zeros, ±50, ±1e4, mixed signs)."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(8, N0))
    edges = np.vstack([np.zeros((1, N0)), np.full((1, N0), 50.0), np.full((1, N0), -50.0),
                       np.full((1, N0), 1e4), np.full((1, N0), -1e4), 50 * signs, 1e4 * signs,
                       rng.normal(0, 50, (8, N0))])
    return {"random": rng.normal(0, 3, (1000, N0)).astype(dtype),
            "one_row": rng.normal(0, 3, (1, N0)).astype(dtype),
            "edges": edges.astype(dtype)}


def compare(got, want, dtype, scale=None):
    """(max |Δ|, max |Δ|/|y| over |y| ≥ 1e-3, share of the tolerance used: ≤ 1 passes).
    ``scale``: each row's magnitude for the absolute tolerance (default: its largest output)."""
    rtol, atol = TOL[dtype]
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    d = np.abs(got - want)
    if scale is None:
        scale = np.abs(want).max(axis=1, keepdims=True)
    scale = np.maximum(1, scale)
    big = np.abs(want) >= 1e-3
    rel = (d[big] / np.abs(want[big])).max(initial=0)
    return d.max(), rel, (d / (rtol * np.abs(want) + atol * scale)).max()


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a thread pool per session costs more than these tiny runs
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


_erf = np.vectorize(math.erf, otypes=[np.float64])


class Erf(OpRun):  # (the reference evaluator finds new_ops by class name)
    """Erf in float64 (onnx's reference Erf rounds through float32)."""

    op_domain = ""

    def _run(self, x):
        return (_erf(x).astype(x.dtype),)


class Gelu(OpRun):
    """Gelu (opset 20, approximate="none") in float64: ½ x (1 + erf(x/√2))."""

    op_domain = ""

    def _run(self, x, approximate="none"):
        assert approximate == "none"
        return ((0.5 * x * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype),)


def runner(path, net):
    """X → the model's output: ONNX Runtime's; for a float64 net with gelu, which ONNX Runtime
    cannot run (it has Erf and Gelu in float32 only), onnx's reference evaluator with a float64
    erf (math.erf)."""
    if net.dtype == np.float64 and "gelu" in net.activations:
        evaluator = ReferenceEvaluator(str(path), new_ops=[Erf, Gelu])

        def run(X):
            with np.errstate(over="ignore", invalid="ignore"):  # its Sigmoid computes both branches
                return evaluator.run(None, {"x": X})[0]
        return run
    s = session(path)
    return lambda X: s.run(["y"], {"x": X})[0]


def _magnitude(net, X):
    """Each row's largest |x̄^[k]| over every layer: a float32 output that cancels hidden values
    of 1e4 ("edges" inputs, deep nets) carries their rounding, in fastnn and ONNX Runtime alike."""
    bp = net.backprop(X, np.full((len(X), net.sizes[-1]), 1 / net.sizes[-1], net.dtype))  # (any targets)
    return np.max([np.abs(x).max(axis=1) for x in bp.x.values()], axis=0)[:, None]


@functools.cache
def agreement(loss, act, depth, dtype, folder, opset=OPSET, norm=None, dropout=0.0, residual=False):
    """Max (|Δ|, relative Δ, tolerance used) of ONNX Runtime against predict, over all inputs."""
    net = make_net(loss, act, depth, dtype, norm=norm, dropout=dropout, residual=residual)
    path = os.path.join(folder, f"{loss}-{act}-{depth}-{dtype}-{opset}-{norm}-{dropout}-{residual}.onnx")
    to_onnx(net, path, opset=opset)
    run = runner(path, net)
    results = [compare(run(X), net.predict(X), dtype, _magnitude(net, X)) for X in inputs(dtype).values()]
    return tuple(np.max(results, axis=0))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return str(tmp_path_factory.mktemp("onnx"))


CASES = list(itertools.product(OUTPUTS, ACTIVATIONS, DEPTHS, DTYPES))


@pytest.mark.parametrize("loss,act,depth,dtype", CASES)
def test_onnx_runtime_agrees_with_predict(loss, act, depth, dtype, folder):
    worst, rel, used = agreement(loss, act, depth, dtype, folder)
    rtol, atol = TOL[dtype]
    assert used <= 1, f"max |Δ| {worst:.3g}, max rel {rel:.3g}: over rtol {rtol:g} + atol {atol:g}·scale"


# The hidden layers' options, all pairs of: norm, dropout, skip, ψ, dtype, opset and the output
# (a net [5, 16, 16, 16, n_K]: skips on layers 2 and 3; "mixed" is batch, none, layer norm).
NORMS = {"none": None, "layer": "layer", "batch": "batch", "mixed": ("batch", None, "layer")}
OPTION_CASES = all_pairs({"norm": list(NORMS), "dropout": [0.0, 0.2], "residual": [False, True],
                          "act": list(ACTIVATIONS), "dtype": list(DTYPES), "opset": [OPSET, GELU_OPSET],
                          "loss": list(OUTPUTS)})


def _case_id(c):
    return "-".join(str(v) for v in c.values())


@pytest.mark.parametrize("case", OPTION_CASES, ids=_case_id)
def test_onnx_runtime_agrees_with_predict_with_norm_dropout_and_skips(case, folder):
    c = dict(case)
    c["norm"] = NORMS[c["norm"]]
    worst, rel, used = agreement(c.pop("loss"), c.pop("act"), 4, c.pop("dtype"), folder, **c)
    assert used <= 1, f"max |Δ| {worst:.3g}, max rel {rel:.3g}"


def test_onnx_graph_of_a_hidden_layer_with_every_step(tmp_path):
    """Gemm → LayerNormalization / BatchNormalization (inference form, the running statistics)
    → ψ → Add of the layer's input; dropout left out; γ, β, μ, σ² stored as the net holds them."""
    net = make_net("mse", "silu", 4, "float32", norm=["layer", "batch", None], dropout=0.3, residual=True)
    to_onnx(net, tmp_path / "net.onnx", opset=GELU_OPSET)
    model = onnx.load(tmp_path / "net.onnx")
    ops = [n.op_type for n in model.graph.node]
    assert ops == ["Gemm", "LayerNormalization", "Sigmoid", "Mul",
                   "Gemm", "BatchNormalization", "Sigmoid", "Mul", "Add",
                   "Gemm", "Sigmoid", "Mul", "Add", "Gemm"]
    layer_norm, batch_norm = (next(n for n in model.graph.node if n.op_type == op)
                              for op in ("LayerNormalization", "BatchNormalization"))
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in layer_norm.attribute}
    assert attrs["axis"] == -1 and np.float32(attrs["epsilon"]) == np.float32(1e-5)
    assert list(batch_norm.input[1:]) == ["gamma2", "beta2", "mean2", "var2"]
    stored = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    np.testing.assert_array_equal(stored["gamma1"], net.norm_scales[0])
    np.testing.assert_array_equal(stored["beta2"], net.norm_shifts[1])
    np.testing.assert_array_equal(stored["mean2"], net.running_means[1])
    np.testing.assert_array_equal(stored["var2"], net.running_vars[1])
    adds = [n for n in model.graph.node if n.op_type == "Add"]
    assert [n.input[0] for n in adds] == ["x1", "x2"]  # x̄^[k-1] + a^[k]
    meta = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert (meta["norm"], meta["dropout"], meta["residual"]) == (net.norm, net.dropout, net.residual)
    assert "Dropout" not in ops and "norm=['layer', 'batch', None]" in model.doc_string


@pytest.mark.parametrize("act, opset, ops", [
    ("gelu", OPSET, ["Mul", "Erf", "Add", "Mul", "Mul"]), ("gelu", GELU_OPSET, ["Gelu"]),
    ("elu", OPSET, ["Elu"]), ("selu", OPSET, ["Selu"]), ("silu", OPSET, ["Sigmoid", "Mul"])])
def test_onnx_forms_of_the_new_activations(act, opset, ops, tmp_path):
    net = make_net("binary_cross_entropy", act, 2, "float32")
    to_onnx(net, tmp_path / "net.onnx", opset=opset)
    assert [n.op_type for n in onnx.load(tmp_path / "net.onnx").graph.node] == ["Gemm", *ops, "Gemm", "Sigmoid"]


def test_onnx_float64_forms_keep_float64_constants(tmp_path):
    """In float64 ONNX's float32 attributes would cost precision: elu and selu are elementwise
    ops with float64 constants, layer norm its elementwise steps with a float64 ε, and batch
    norm's variance input carries the gap between 1e-5 and float32(1e-5)."""
    net = make_net("mse", "selu", 3, "float64", norm=["layer", "batch"])
    to_onnx(net, tmp_path / "net.onnx")
    model = onnx.load(tmp_path / "net.onnx")
    ops = {n.op_type for n in model.graph.node}
    assert not ops & {"Selu", "LayerNormalization"} and "BatchNormalization" in ops
    stored = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    assert stored["eps1"] == 1e-5 and stored["eps1"].dtype == np.float64
    gap = 1e-5 - float(np.float32(1e-5))
    np.testing.assert_allclose(stored["var2"] - net.running_vars[1], gap, rtol=1e-3)
    assert all(v.dtype == np.float64 for k, v in stored.items() if not k.startswith("last_axis"))


def test_onnx_runtime_has_no_float64_erf_and_says_so(tmp_path):
    """What the docs say: ONNX Runtime cannot run a float64 net with gelu (no float64 Erf or
    Gelu kernel); the reference evaluator with a float64 erf agrees with predict (above). If
    this fails, ONNX Runtime gained the kernels: update to_onnx's docstring and the guide."""
    net = make_net("mse", "gelu", 2, "float64")
    to_onnx(net, tmp_path / "net.onnx")
    with pytest.raises(Exception, match="NOT_IMPLEMENTED"):
        session(tmp_path / "net.onnx")


def test_onnx_layer_norm_needs_opset_17(tmp_path):
    net = make_net("mse", "relu", 3, "float32", norm=[None, "layer"])
    with pytest.raises(ValueError, match=r"layer 2's layer norm.*opset 17"):
        to_onnx(net, tmp_path / "net.onnx", opset=LAYER_NORM_OPSET - 1)
    to_onnx(make_net("mse", "relu", 3, "float32", norm="batch"), tmp_path / "bn.onnx", opset=MIN_OPSET)
    assert os.listdir(tmp_path) == ["bn.onnx"]


def test_agreement_table(folder):
    """Prints the max |Δ| and max relative Δ (outputs ≥ 1e-3) per output, hidden ψ and depth."""
    lines = ["| output | hidden ψ | dtype | " + " | ".join(f"depth {d}: max abs Δ / max rel Δ" for d in DEPTHS) + " |",
             "|---|---|---|" + "---|" * len(DEPTHS)]
    for loss in OUTPUTS:
        output = {"mse": "ψ (mse)", "cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}[loss]
        for act in ACTIVATIONS:
            for dtype in DTYPES:
                cells = []
                for depth in DEPTHS:
                    worst, rel, used = agreement(loss, act, depth, dtype, folder)
                    assert used <= 1
                    cells.append(f"{worst:.1e} / {rel:.1e}")
                lines.append(f"| {output} | {act} | {dtype} | " + " | ".join(cells) + " |")
    print("\nONNX Runtime against Network.predict; tolerances rtol/atol: "
          + ", ".join(f"{d} {r:g}/{a:g}" for d, (r, a) in TOL.items()) + "\n" + "\n".join(lines))


# ------------------------------------------------------------------------------- the ONNX file
def test_onnx_model_names_opset_metadata_and_dynamic_batch(tmp_path):
    net = make_net("cross_entropy", "tanh", 3, "float32")
    net.feature_names_in_ = np.array([f"f{i}" for i in range(N0)], dtype=object)
    path = tmp_path / "net.onnx"
    to_onnx(net, path, input_name="features", output_name="probs")
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]
    assert f"opset {OPSET}" in model.doc_string
    (x,), (y,) = model.graph.input, model.graph.output
    assert (x.name, y.name) == ("features", "probs")
    for value, n in ((x, N0), (y, 3)):
        t = value.type.tensor_type
        assert t.elem_type == onnx.TensorProto.FLOAT
        assert [(d.dim_param, d.dim_value) for d in t.shape.dim] == [("N", 0), ("", n)]
    meta = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert meta == {"fastnn_version": __version__, "opset": OPSET, "sizes": net.sizes,
                    "activations": ["tanh", "tanh", "softmax"], "loss": "cross_entropy",
                    "dtype": "float32", "feature_names": [f"f{i}" for i in range(N0)],
                    "norm": [None, None], "dropout": [0.0, 0.0], "residual": [False, False]}
    s = session(path)
    assert [i.name for i in s.get_inputs()] == ["features"] and [o.name for o in s.get_outputs()] == ["probs"]
    X = inputs("float32")["random"]
    for rows in (1, 1000):  # one session, two batch sizes
        assert compare(s.run(None, {"features": X[:rows]})[0], net.predict(X[:rows]), "float32")[2] <= 1


def test_onnx_float64_and_no_feature_names(tmp_path):
    net = make_net("mse", "softplus", 2, "float64")
    to_onnx(net, tmp_path / "net.onnx")
    model = onnx.load(tmp_path / "net.onnx")
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert all(i.data_type == onnx.TensorProto.DOUBLE for i in model.graph.initializer)
    assert "feature_names" not in {p.key for p in model.metadata_props}
    # W^[k] stored as fastnn holds it, n_k × n_{k-1}, and read by Gemm with transB=1
    W1 = next(i for i in model.graph.initializer if i.name == "W1")
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(W1), net.weights[0])


@pytest.mark.parametrize("opset", [MIN_OPSET, OPSET])
def test_onnx_opset(opset, tmp_path):
    net = make_net("binary_cross_entropy", "leaky_relu", 2, "float32")
    to_onnx(net, tmp_path / "net.onnx", opset=opset)
    assert onnx.load(tmp_path / "net.onnx").opset_import[0].version == opset
    X = inputs("float32")["edges"]
    assert compare(session(tmp_path / "net.onnx").run(None, {"x": X})[0], net.predict(X), "float32")[2] <= 1


@pytest.mark.parametrize("kw,match", [({"opset": MIN_OPSET - 1}, "opset"), ({"opset": "17"}, "opset"),
                                      ({"opset": 10_000}, "opset"), ({"input_name": ""}, "input_name"),
                                      ({"input_name": "y"}, "differ"), ({"input_name": "W1"}, "W1"),
                                      ({"output_name": "x1"}, "x1"), ({"output_name": "z1"}, "z1")])
def test_onnx_bad_arguments(kw, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        to_onnx(make_net("mse", "relu", 3, "float32"), tmp_path / "net.onnx", **kw)
    assert os.listdir(tmp_path) == []


def test_onnx_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "net.onnx"
    path.write_bytes(b"old")
    to_onnx(make_net("mse", "relu", 2, "float32"), path)
    onnx.checker.check_model(onnx.load(path))
    assert os.listdir(tmp_path) == ["net.onnx"]


# ------------------------------------------------------------------------------------- torch
@pytest.fixture(scope="module")
def torch():
    torch = require("torch")
    torch.manual_seed(0)
    return torch


TORCH_CASES = list(itertools.product(OUTPUTS, ACTIVATIONS, DTYPES))


@pytest.mark.parametrize("loss,act,dtype", TORCH_CASES)
def test_to_torch_agrees_with_predict_and_round_trips(loss, act, dtype, torch):
    net = make_net(loss, act, 3, dtype)
    module = to_torch(net)
    for X in inputs(dtype).values():
        with torch.no_grad():
            got = module(torch.from_numpy(X)).numpy()
        assert got.dtype == net.dtype
        assert compare(got, net.predict(X), dtype)[2] <= 1
    # A trailing Sigmoid reads as mse with a sigmoid output unless loss= says otherwise.
    back = from_torch(module, loss="binary_cross_entropy" if loss == "binary_cross_entropy" else None)
    assert (back.sizes, back.activations, back.loss_name, back.dtype) == (
        net.sizes, net.activations, net.loss_name, net.dtype)
    for a, b in zip(back.weights + back.biases, net.weights + net.biases):
        assert a.tobytes() == b.tobytes()  # bit-identical θ


def _modules(torch):
    nn = torch.nn
    return {
        "conv": (nn.Sequential(nn.Linear(3, 4), nn.Conv1d(1, 1, 1)), r"module \[1\] Conv1d"),
        "slope": (nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1)),
                  r"module \[1\] LeakyReLU\(negative_slope=0.2\).*0.01"),
        "beta": (nn.Sequential(nn.Linear(3, 4), nn.Softplus(beta=2)), r"module \[1\] Softplus"),
        "threshold": (nn.Sequential(nn.Linear(3, 4), nn.Softplus(threshold=1)), r"module \[1\] Softplus"),
        "elu": (nn.Sequential(nn.Linear(3, 4), nn.ELU(alpha=0.5), nn.Linear(4, 1)), r"module \[1\] ELU.*alpha=0.5"),
        "two": (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh()), r"module \[2\] Tanh.*another"),
        "first": (nn.Sequential(nn.ReLU(), nn.Linear(3, 4)), r"module \[0\] ReLU.*before"),
        "hidden softmax": (nn.Sequential(nn.Linear(3, 4), nn.Softmax(-1), nn.Linear(4, 1)), "Softmax in layer 1"),
        "softmax dim": (nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0)), r"module \[1\] Softmax"),
        "log softmax": (nn.Sequential(nn.Linear(3, 4), nn.LogSoftmax(-1)), r"module \[1\] LogSoftmax"),
        "nested": (nn.Sequential(nn.Sequential(nn.Linear(3, 4))), r"module \[0\] Sequential"),
        "empty": (nn.Sequential(nn.Identity()), "no Linear"),
        "not sequential": (nn.Linear(3, 4), "Sequential"),
        "float16": (nn.Sequential(nn.Linear(3, 4).half()), "float16.*dtype"),
    }


def _deep_modules(torch):
    """Modules with norm, dropout and skips that a Network cannot hold: (module, message)."""
    from fastnn.export import Residual

    nn = torch.nn
    L = nn.Linear
    return {
        "norm first": (nn.Sequential(nn.BatchNorm1d(3), L(3, 4)), r"module \[0\] BatchNorm1d.*before the first Linear"),
        "dropout first": (nn.Sequential(nn.Dropout(0.1), L(3, 4)), r"module \[0\] Dropout.*before the first Linear"),
        "dropout before act": (nn.Sequential(L(3, 4), nn.Dropout(0.1), nn.ReLU(), L(4, 1)),
                               r"module \[2\] ReLU\(\) comes after its Dropout \(module \[1\].*Linear → norm"),
        "norm after act": (nn.Sequential(L(3, 4), nn.ReLU(), nn.LayerNorm(4), L(4, 1)),
                           r"module \[2\] LayerNorm.*after its activation"),
        "norm after dropout": (nn.Sequential(L(3, 4), nn.Dropout(0.1), nn.BatchNorm1d(4), L(4, 1)),
                               r"module \[2\] BatchNorm1d.*after its Dropout"),
        "two norms": (nn.Sequential(L(3, 4), nn.LayerNorm(4), nn.BatchNorm1d(4), L(4, 1)),
                      r"module \[2\] BatchNorm1d.*after its norm"),
        "two dropouts": (nn.Sequential(L(3, 4), nn.Dropout(0.1), nn.Dropout(0.2), L(4, 1)),
                         r"module \[2\] Dropout.*after its Dropout"),
        "layer norm eps": (nn.Sequential(L(3, 4), nn.LayerNorm(4, eps=1e-6), L(4, 1)),
                           r"module \[1\] LayerNorm.*eps=1e-06.*1e-05"),
        "batch norm eps": (nn.Sequential(L(3, 4), nn.BatchNorm1d(4, eps=1e-3), L(4, 1)),
                           r"module \[1\] BatchNorm1d.*eps=0.001"),
        "momentum": (nn.Sequential(L(3, 4), nn.BatchNorm1d(4, momentum=0.2), L(4, 1)),
                     r"module \[1\] BatchNorm1d.*momentum=0.2"),
        "cumulative": (nn.Sequential(L(3, 4), nn.BatchNorm1d(4, momentum=None), L(4, 1)), "momentum=None"),
        "no running stats": (nn.Sequential(L(3, 4), nn.BatchNorm1d(4, track_running_stats=False), L(4, 1)),
                             "track_running_stats"),
        "layer norm shape": (nn.Sequential(L(3, 4), nn.LayerNorm(5), L(4, 1)), r"shape \(5,\).*LayerNorm\(4\)"),
        "batch norm width": (nn.Sequential(L(3, 4), nn.BatchNorm1d(5), L(4, 1)), "5 features, but its Linear gives 4"),
        "p = 1": (nn.Sequential(L(3, 4), nn.Dropout(1.0), L(4, 1)), r"module \[1\] Dropout.*\[0, 1\)"),
        "output norm": (nn.Sequential(L(3, 4), nn.ReLU(), L(4, 2), nn.LayerNorm(2)),
                        r"module \[3\] LayerNorm.*output layer has no norm"),
        "output dropout": (nn.Sequential(L(3, 4), nn.ReLU(), L(4, 2), nn.Dropout(0.2)),
                           r"module \[3\] Dropout.*output layer has no dropout"),
        "output skip": (nn.Sequential(L(3, 4), Residual(nn.Sequential(L(4, 4)))),
                        r"module \[1\] Residual.*output layer.*no skip"),
        "skip widths": (nn.Sequential(Residual(nn.Sequential(L(3, 4))), L(4, 1)), r"module \[0\] Residual.*3 → 4"),
        "skip of two": (nn.Sequential(L(3, 4), Residual(nn.Sequential(L(4, 4), nn.ReLU(), L(4, 4))), L(4, 1)),
                        r"module \[1\] Residual.*holds 2 Linear"),
        "skip block": (nn.Sequential(L(3, 4), Residual(L(4, 4)), L(4, 1)), r"module \[1\] Residual.*nn.Sequential"),
        "after skip": (nn.Sequential(L(3, 4), Residual(nn.Sequential(L(4, 4))), nn.ReLU(), L(4, 1)),
                       r"module \[2\] ReLU.*follows a Residual"),
        "nested skip": (nn.Sequential(L(3, 4), Residual(nn.Sequential(Residual(nn.Sequential(L(4, 4))))), L(4, 1)),
                        r"module \[1\]\.block\[0\] Residual.*not supported"),
        "skip act order": (nn.Sequential(L(3, 4), Residual(nn.Sequential(L(4, 4), nn.Dropout(0.1), nn.Tanh())),
                                         L(4, 1)), r"module \[1\]\.block\[2\] Tanh.*after its Dropout"),
        "gelu output": (nn.Sequential(L(3, 4), nn.ReLU(), L(4, 1), nn.GELU()),
                        r"module \[3\] GELU.*hidden layers only"),
        "silu output": (nn.Sequential(L(3, 1), nn.SiLU()), r"module \[1\] SiLU.*hidden layers only"),
        "gelu tanh": (nn.Sequential(L(3, 4), nn.GELU(approximate="tanh"), L(4, 1)), "approximate='tanh'"),
    }


@pytest.mark.parametrize("case", ["conv", "slope", "beta", "threshold", "elu", "two", "first",
                                  "hidden softmax", "softmax dim", "log softmax", "nested", "empty",
                                  "not sequential", "float16"])
def test_from_torch_refuses_what_a_network_cannot_hold(case, torch):
    module, match = _modules(torch)[case]
    with pytest.raises(ValueError, match=match):
        from_torch(module)


DEEP_REFUSALS = ["norm first", "dropout first", "dropout before act", "norm after act", "norm after dropout",
                 "two norms", "two dropouts", "layer norm eps", "batch norm eps", "momentum", "cumulative",
                 "no running stats", "layer norm shape", "batch norm width", "p = 1", "output norm",
                 "output dropout", "output skip", "skip widths", "skip of two", "skip block", "after skip",
                 "nested skip", "skip act order", "gelu output", "silu output", "gelu tanh"]


@pytest.mark.parametrize("case", DEEP_REFUSALS)
def test_from_torch_refuses_other_orders_and_settings_naming_the_module(case, torch):
    module, match = _deep_modules(torch)[case]
    with pytest.raises(ValueError, match=match):
        from_torch(module)


def test_from_torch_loss_rules(torch):
    nn = torch.nn
    body = lambda *out: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), *out)  # noqa: E731
    read = lambda m, **kw: (lambda n: (n.loss_name, n.activations[-1]))(from_torch(m, **kw))  # noqa: E731
    assert read(body()) == ("mse", "identity")
    assert read(body(nn.Softmax(dim=1))) == ("cross_entropy", "softmax")
    assert read(body(nn.Sigmoid())) == ("mse", "sigmoid")
    assert read(body(nn.Sigmoid()), loss="binary_cross_entropy") == ("binary_cross_entropy", "sigmoid")
    assert read(body(), loss="cross_entropy") == ("cross_entropy", "softmax")  # logits
    assert read(body(), loss="binary_cross_entropy") == ("binary_cross_entropy", "sigmoid")
    with pytest.raises(ValueError, match=r"Softmax.*cross_entropy"):
        from_torch(body(nn.Softmax(-1)), loss="mse")
    with pytest.raises(ValueError, match=r"loss='cross_entropy'.*got relu"):
        from_torch(body(nn.ReLU()), loss="cross_entropy")
    with pytest.raises(ValueError, match="loss"):
        from_torch(body(), loss="hinge")


def test_from_torch_reads_dropout_skips_identity_reads_missing_bias_and_casts(torch):
    nn = torch.nn
    module = nn.Sequential(nn.Linear(3, 8, bias=False), nn.ReLU(), nn.Identity(), nn.Dropout(0.5),
                           nn.Linear(8, 8), nn.Linear(8, 2), nn.Dropout(0.0)).eval()
    net = from_torch(module, dtype="float64")
    assert (net.sizes, net.activations, net.dtype) == ([3, 8, 8, 2], ["relu", "identity", "identity"], np.float64)
    assert net.dropout == [0.5, 0.0] and net.norm == [None, None] and net.residual == [False, False]
    assert not net.biases[0].any()
    X = np.random.default_rng(0).normal(size=(50, 3))
    with torch.no_grad():
        want = module.double()(torch.from_numpy(X)).numpy()
    assert compare(net.predict(X), want, "float64")[2] <= 1


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_a_torch_trained_module_predicts_the_same_in_fastnn(loss, torch):
    nn = torch.nn
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 4)).astype(np.float32)
    y = (X[:, :1] * X[:, 1:2] + np.sin(X[:, 2:3])).astype(np.float32)
    module = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 32), nn.Softplus(), nn.Linear(32, 16),
                           nn.LeakyReLU(), nn.Linear(16, 3 if loss == "cross_entropy" else 1))
    if loss == "cross_entropy":  # logits, trained with nn.CrossEntropyLoss
        target, criterion = torch.from_numpy(np.digitize(y[:, 0], [-0.5, 0.5])), nn.CrossEntropyLoss()
    else:
        target, criterion = torch.from_numpy(y), nn.MSELoss()
    opt = torch.optim.Adam(module.parameters(), lr=1e-2)
    losses = []
    for _ in range(100):
        opt.zero_grad()
        out = criterion(module(torch.from_numpy(X)), target)
        out.backward()
        opt.step()
        losses.append(out.item())
    assert losses[-1] < 0.5 * losses[0]
    net = from_torch(module, loss=loss)
    with torch.no_grad():
        want = module(torch.from_numpy(X))
        want = (want.softmax(-1) if loss == "cross_entropy" else want).numpy()
    assert compare(net.predict(X), want, "float32")[2] <= 1


def test_network_and_estimator_methods_delegate(tmp_path):
    """Network.to_onnx/to_torch/from_torch and the estimators' to_onnx/to_torch."""
    import onnxruntime as ort
    from sklearn.datasets import make_classification

    from fastnn import MLPClassifier, Network

    X, y = make_classification(120, 6, n_classes=3, n_informative=4, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    clf.to_onnx(tmp_path / "clf.onnx")
    sess = ort.InferenceSession(str(tmp_path / "clf.onnx"), providers=["CPUExecutionProvider"])
    labels, probs = sess.run(None, {"x": X})
    np.testing.assert_allclose(probs, clf.predict_proba(X), rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(labels, clf.predict(X))
    net = clf.network_
    net.to_onnx(tmp_path / "net.onnx")
    assert (tmp_path / "net.onnx").stat().st_size > 0
    torch = require("torch")
    back = Network.from_torch(clf.to_torch())
    np.testing.assert_array_equal(back.parameters, net.parameters)
    with torch.inference_mode():
        np.testing.assert_allclose(net.to_torch()(torch.from_numpy(X)).numpy(), clf.predict_proba(X),
                                   rtol=1e-12, atol=1e-13)


# ------------------------------------------------------------- torch: norm, dropout and skips
TORCH_OPTION_CASES = all_pairs({"norm": list(NORMS), "dropout": [0.0, 0.2], "residual": [False, True],
                                "act": list(ACTIVATIONS), "dtype": list(DTYPES), "loss": list(OUTPUTS)})


def assert_close(got, want, dtype, scale=None):
    """The issue's tolerance per tensor, max|a − b| / max|b|: 1e-10 in float64, 1e-5 in float32;
    and the export tests' own, element by element (``scale``: as ``compare``'s, and then the
    tensor's magnitude too)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    big = np.abs(want).max() if scale is None else max(np.abs(want).max(), np.max(scale))
    assert np.abs(got - want).max() <= {"float64": 1e-10, "float32": 1e-5}[dtype] * big
    assert compare(got, want, dtype, scale)[2] <= 1


@pytest.mark.parametrize("case", TORCH_OPTION_CASES, ids=_case_id)
def test_to_torch_with_norm_dropout_and_skips_agrees_in_eval_mode_and_round_trips(case, torch):
    from fastnn.export import Residual

    c = dict(case)
    loss, act, dtype = c.pop("loss"), c.pop("act"), c.pop("dtype")
    net = make_net(loss, act, 4, dtype, norm=NORMS[c.pop("norm")], **c)
    module = to_torch(net)
    assert module.training  # as torch makes modules; eval() is what predict computes
    types = [type(m).__name__ for m in module]
    assert types.count("Residual") == sum(net.residual) and types.count("Linear") == 4 - sum(net.residual)
    blocks = [m for m in module if isinstance(m, Residual)]
    assert all(type(b.block[0]).__name__ == "Linear" for b in blocks)
    module.eval()
    for X in inputs(dtype).values():
        with torch.no_grad():
            got = module(torch.from_numpy(X)).numpy()
        assert got.dtype == net.dtype
        assert_close(got, net.predict(X), dtype, _magnitude(net, X))
    back = from_torch(module, loss="binary_cross_entropy" if loss == "binary_cross_entropy" else None)
    assert (back.sizes, back.activations, back.loss_name, back.dtype) == (
        net.sizes, net.activations, net.loss_name, net.dtype)
    assert (back.norm, back.dropout, back.residual) == (net.norm, net.dropout, net.residual)
    assert back.snapshot().tobytes() == net.snapshot().tobytes()  # θ, then the running statistics


def test_to_torch_modules_and_their_settings(torch):
    nn = torch.nn
    net = make_net("mse", "selu", 3, "float64", norm=["batch", "layer"], dropout=[0.25, 0.0], residual=[False, True])
    module = to_torch(net)
    linear, batch_norm, selu, dropout, block, out, out_selu = module
    assert [type(m) for m in (linear, selu, out, out_selu)] == [nn.Linear, nn.SELU, nn.Linear, nn.SELU]
    assert type(batch_norm) is nn.BatchNorm1d and (batch_norm.eps, batch_norm.momentum) == (1e-5, 0.1)
    assert batch_norm.running_mean.dtype == torch.float64 and batch_norm.track_running_stats
    np.testing.assert_array_equal(batch_norm.running_mean.numpy(), net.running_means[0])
    np.testing.assert_array_equal(batch_norm.running_var.numpy(), net.running_vars[0])
    np.testing.assert_array_equal(batch_norm.weight.detach().numpy(), net.norm_scales[0])
    np.testing.assert_array_equal(batch_norm.bias.detach().numpy(), net.norm_shifts[0])
    assert type(dropout) is nn.Dropout and dropout.p == 0.25
    assert [type(m) for m in block.block] == [nn.Linear, nn.LayerNorm, nn.SELU]  # no Dropout(0)
    layer_norm = block.block[1]
    assert layer_norm.eps == 1e-5 and tuple(layer_norm.normalized_shape) == (16,)
    np.testing.assert_array_equal(layer_norm.weight.detach().numpy(), net.norm_scales[1])


def test_a_hand_built_torch_module_with_every_layer_kind_round_trips(torch):
    """Trained a few steps in torch (batch norm's running statistics move), then read in eval
    mode: predict equals the module, and to_torch writes the same module back."""
    from fastnn.export import Residual

    nn = torch.nn
    torch.manual_seed(1)
    module = nn.Sequential(
        nn.Linear(5, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Dropout(0.1),
        Residual(nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8), nn.SiLU())),
        nn.Linear(8, 8), nn.ELU(),
        Residual(nn.Sequential(nn.Linear(8, 8), nn.SELU(), nn.Dropout(0.2))),
        Residual(nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.Tanh())),
        nn.Linear(8, 3)).double()
    X = np.random.default_rng(0).normal(size=(64, 5))
    opt = torch.optim.SGD(module.parameters(), lr=0.05)
    for _ in range(5):
        opt.zero_grad()
        module(torch.from_numpy(X)).square().mean().backward()
        opt.step()
    module.eval()
    net = Network.from_torch(module)
    assert net.sizes == [5, 8, 8, 8, 8, 8, 3]
    assert net.activations == ["gelu", "silu", "elu", "selu", "tanh", "identity"]
    assert net.norm == ["batch", "layer", None, None, "batch"]
    assert net.dropout == [0.1, 0.0, 0.0, 0.2, 0.0] and net.residual == [False, True, False, True, True]
    assert not np.array_equal(net.running_means[0], np.zeros(8))
    with torch.no_grad():
        want = module(torch.from_numpy(X)).numpy()
    assert_close(net.predict(X), want, "float64")
    again = to_torch(net)
    assert repr(again) == repr(module)
    theirs = {k: v for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}
    ours = {k: v for k, v in again.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert list(ours) == list(theirs)
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_from_torch_without_affine_parameters_reads_gamma_one_beta_zero(torch):
    nn = torch.nn
    module = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4, elementwise_affine=False), nn.ReLU(),
                           nn.Linear(4, 4), nn.BatchNorm1d(4, affine=False), nn.Linear(4, 1)).double().eval()
    net = Network.from_torch(module)
    assert net.norm == ["layer", "batch"]
    for gamma, beta in zip(net.norm_scales, net.norm_shifts):
        assert (gamma == 1).all() and (beta == 0).all()
    X = np.random.default_rng(0).normal(size=(20, 3))
    with torch.no_grad():
        assert_close(net.predict(X), module(torch.from_numpy(X)).numpy(), "float64")


def test_residual_is_fastnn_exports_and_pickles(torch):
    import fastnn.export
    from fastnn.export import Residual

    assert fastnn.export.Residual is Residual and Residual.__module__ == "fastnn.export"
    assert issubclass(Residual, torch.nn.Module)
    net = make_net("mse", "tanh", 3, "float32", norm="batch", residual=True)
    module = to_torch(net).eval()
    back = pickle.loads(pickle.dumps(module))
    X = torch.from_numpy(inputs("float32")["random"])
    with torch.no_grad():
        assert torch.equal(back(X), module(X))
    with pytest.raises(AttributeError, match="Residuals"):
        fastnn.export.Residuals  # noqa: B018


def test_fastnn_imports_and_exports_to_onnx_without_torch(tmp_path):
    """fastnn never imports torch on its own; without torch, Residual is an ImportError."""
    code = f"""
import sys
import fastnn, fastnn.export
assert "torch" not in sys.modules
sys.modules["torch"] = None  # torch absent
net = fastnn.Network([3, 4, 4, 1], norm="layer", residual=True, seed=0)
net.to_onnx({str(tmp_path / "net.onnx")!r})
try:
    fastnn.export.Residual
except ImportError:
    print("no torch")
"""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "no torch", p.stderr


def test_a_poisson_net_exports_its_exp_output(tmp_path, torch, rng):
    """loss="poisson": ONNX ends in Exp, to_torch in fastnn.export.Exp; both give predict's μ,
    and from_torch reads the Exp module (or logits with loss="poisson") back as the same net."""
    net = Network([4, 8, 2], "tanh", loss="poisson", dtype="float64", seed=0)
    X = rng.normal(size=(9, 4))
    to_onnx(net, tmp_path / "p.onnx")
    got = session(tmp_path / "p.onnx").run(["y"], {"x": X})[0]
    np.testing.assert_allclose(got, net.predict(X), rtol=1e-12)
    module = to_torch(net)
    assert type(module[-1]).__name__ == "Exp" and module[-1].__module__ == "fastnn.export"
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.from_numpy(X)).numpy(), net.predict(X), rtol=1e-12)
    back = from_torch(module)
    assert (back.loss_name, back.activations) == ("poisson", ["tanh", "exp"])
    np.testing.assert_array_equal(back.parameters, net.parameters)
    logits = from_torch(module[:-1], loss="poisson")
    np.testing.assert_allclose(logits.predict(X), net.predict(X), rtol=1e-12)
    with pytest.raises(ValueError, match=r"ends in Exp, which only loss='poisson' has"):
        from_torch(module, loss="mse")
    with pytest.raises(ValueError, match=r"Exp in layer 1; a Network has exp only on its output"):
        from_torch(torch.nn.Sequential(module[0], module[-1], torch.nn.Linear(8, 2, dtype=torch.float64)))


# ------------------------------------------------------------- estimators: labels, skl2onnx
def _session(model):
    import onnxruntime as ort

    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _classes_data(kind):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    return {"int": (X, y + 1), "str": (X, names[y]), "binary-str": (X[:100], names[y[:100]]),
            "binary-int": (X[:100], y[:100])}[kind]


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
@pytest.mark.parametrize("kind", ["int", "str", "binary-str", "binary-int"])
def test_classifier_onnx_has_label_and_probabilities_with_classes_in_metadata(kind, tmp_path):
    import onnx

    from fastnn import MLPClassifier

    X, y = _classes_data(kind)
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=10, random_state=0).fit(X, y)
    clf.to_onnx(tmp_path / "clf.onnx")
    model = onnx.load(tmp_path / "clf.onnx")
    labels, probs = _session(model).run(["label", "probabilities"], {"x": X})
    assert probs.shape == clf.predict_proba(X).shape == (len(X), len(clf.classes_))  # (N, 2) for binary
    np.testing.assert_allclose(probs, clf.predict_proba(X), rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(labels, clf.predict(X))
    meta = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert meta["classes"] == clf.classes_.tolist()
    # the Network keeps its single sigmoid output
    clf.network_.to_onnx(tmp_path / "net.onnx")
    (raw,) = _session(onnx.load(tmp_path / "net.onnx")).run(None, {"x": X})
    assert raw.shape == (len(X), clf.network_.sizes[-1])


def test_an_unfitted_estimator_is_refused(tmp_path):
    from fastnn import MLPClassifier
    from fastnn.export import to_onnx

    with pytest.raises(ValueError, match="not fitted yet"):
        to_onnx(MLPClassifier(), tmp_path / "x.onnx")


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
@pytest.mark.parametrize("kind", ["int", "str", "binary-str"])
def test_skl2onnx_converts_a_pipeline_as_it_converts_scikit_learns_mlp(kind):
    """Registered, fastnn's MLPClassifier in a Pipeline converts with the outputs skl2onnx gives
    scikit-learn's MLPClassifier (ZipMap by default, tensors with zipmap=False), and ONNX
    Runtime agrees with the pipeline's predict and predict_proba."""
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.neural_network import MLPClassifier as SkMLP
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fastnn import MLPClassifier
    from fastnn.estimators import register_skl2onnx

    register_skl2onnx()
    X, y = _classes_data(kind)
    X32 = X.astype(np.float32)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(6,), max_iter=10, random_state=0))
    pipe.fit(X, y)
    ref = make_pipeline(StandardScaler(), SkMLP(hidden_layer_sizes=(6,), max_iter=10, random_state=0)).fit(X, y)

    def outputs(model):
        return [(o.name, o.type.WhichOneof("value")) for o in model.graph.output]

    for options in (None, {"zipmap": False}):
        onx = skl2onnx.to_onnx(pipe, X32[:1], options=options)
        assert outputs(onx) == outputs(skl2onnx.to_onnx(ref, X32[:1], options=options))
        labels, probs = _session(onx).run(None, {"X": X32})
        np.testing.assert_array_equal(labels, pipe.predict(X))
        if options is None:  # a ZipMap: one {class: p} per row
            assert list(probs[0]) == pipe.classes_.tolist()
            probs = np.array([[row[c] for c in pipe.classes_] for row in probs])
        np.testing.assert_allclose(probs, pipe.predict_proba(X), rtol=1e-5, atol=1e-6)  # float32 input


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
def test_skl2onnx_converts_a_regressor_pipeline():
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from fastnn import MLPRegressor
    from fastnn.estimators import register_skl2onnx

    register_skl2onnx()
    X, _ = _classes_data("int")
    pipe = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(6,), max_iter=10, random_state=0))
    pipe.fit(X[:, :3], X[:, 3])
    (out,) = _session(skl2onnx.to_onnx(pipe, X[:1, :3].astype(np.float32))).run(
        None, {"X": X[:, :3].astype(np.float32)})
    np.testing.assert_allclose(out.ravel(), pipe.predict(X[:, :3]), rtol=1e-5, atol=1e-5)
