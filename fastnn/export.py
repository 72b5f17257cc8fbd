"""A ``Network`` out to ONNX and PyTorch, and in from PyTorch.

Needs the optional extras: ``pip install "fastnn[onnx]"`` (onnx, onnxruntime) for ``to_onnx``,
torch for ``to_torch`` and ``from_torch``.

Both exports compute what ``Network.predict`` returns, layer by layer in the seed's notation,
x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]) for k = 1..K, with the output probabilities of a
cross-entropy loss (softmax for "cross_entropy", sigmoid for "binary_cross_entropy"). A hidden
layer's optional steps come in fastnn's order, Linear → norm → ψ → dropout → skip: layer or
batch norm (batch norm with its running statistics, as in inference), dropout (the identity at
inference; a torch ``Dropout`` module), and the identity skip x̄^[k] = x̄^[k-1] + d^[k]
(``Residual``, a torch module ``x + block(x)``, importable as ``fastnn.export.Residual`` once
torch is installed).

>>> import fastnn, onnxruntime, numpy as np
>>> from fastnn.export import to_onnx, to_torch
>>> net = fastnn.Network([4, 8, 3], loss="cross_entropy", seed=0)
>>> to_onnx(net, "/tmp/net.onnx")
>>> session = onnxruntime.InferenceSession("/tmp/net.onnx", providers=["CPUExecutionProvider"])
>>> X = np.ones((2, 4), np.float32)
>>> np.allclose(session.run(["y"], {"x": X})[0], net.predict(X), rtol=1e-5, atol=1e-6)
True
>>> to_torch(net)
Sequential(
  (0): Linear(in_features=4, out_features=8, bias=True)
  (1): ReLU()
  (2): Linear(in_features=8, out_features=3, bias=True)
  (3): Softmax(dim=-1)
)
>>> fastnn.Network.from_torch(to_torch(net)).activations
['relu', 'softmax']
>>> deep = fastnn.Network([4, 8, 8, 1], "gelu", norm="layer", dropout=0.1, residual=True, seed=0)
>>> to_torch(deep)
Sequential(
  (0): Linear(in_features=4, out_features=8, bias=True)
  (1): LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)
  (2): GELU(approximate='none')
  (3): Dropout(p=0.1, inplace=False)
  (4): Residual(
    (block): Sequential(
      (0): Linear(in_features=8, out_features=8, bias=True)
      (1): LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)
      (2): GELU(approximate='none')
      (3): Dropout(p=0.1, inplace=False)
    )
  )
  (5): Linear(in_features=8, out_features=1, bias=True)
)
"""
from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._io import atomic_write
from .activations import LEAKY_SLOPE, SELU_ALPHA, SELU_LAMBDA

if TYPE_CHECKING:
    import numpy.typing as npt
    import onnx
    from torch import nn

    from ._typing import FloatArray, PathLike
    from ._typing import NetworkLike as Network

# The opset to_onnx writes by default. Opset 17 (ONNX 1.12, 2022) is read by every ONNX Runtime
# since 1.12 and by the usual converters, and is the first with LayerNormalization; every other
# operator used here has had its present meaning since opset 13, the lowest accepted (Softmax
# normalises along one axis from opset 13 on). Opset 20 (ONNX 1.15, ONNX Runtime 1.17) adds
# Gelu, which below it is written with Erf.
OPSET = 17
"""The ONNX opset ``to_onnx`` writes by default."""
MIN_OPSET = 13
"""The lowest opset ``to_onnx`` accepts."""
LAYER_NORM_OPSET = 17
"""The lowest opset for a net with layer norm (ONNX's ``LayerNormalization``)."""
GELU_OPSET = 20
"""From this opset on gelu is one ``Gelu`` node; below it, ½ z (1 + Erf(z/√2))."""

NORM_EPS = 1e-5
"""ε of fastnn's layer and batch norm (PyTorch's default), written into every export."""
BATCH_NORM_MOMENTUM = 0.1
"""The momentum of fastnn's batch norm running statistics (PyTorch's default): ``to_torch``
writes it and ``from_torch`` requires it."""
_INV_SQRT2 = 0.7071067811865476  # 1/√2
# ONNX float attributes are float32: ε = 1e-5 as an attribute is float32(1e-5), 2.5e-13 less. A
# float64 BatchNormalization gets the gap added to its variance input, so that σ² + ε is exact.
_EPS_GAP = NORM_EPS - float(np.float32(NORM_EPS))

# torch's Softplus returns x itself above ``threshold``; log(1 + e^x) − x < e^-40 ≈ 4e-18 there,
# below the rounding of x in float64 (torch's default 20 leaves 2e-9, below float32's only).
SOFTPLUS_THRESHOLD = 40.0
"""The ``threshold`` of the ``nn.Softplus`` that ``to_torch`` writes."""
MIN_SOFTPLUS_THRESHOLD = 20.0  # from_torch: e^-20 ≈ 2e-9, under half an ulp of 20 in float32
"""The lowest ``nn.Softplus`` threshold ``from_torch`` reads as softplus."""


def _state(net: Network) -> tuple[FloatArray, list[FloatArray | None], list[FloatArray | None]]:
    """(θ, running means, running variances): copies read at once, as predict reads them (during
    another thread's fit, from that fit's snapshot, so an export never holds half an update),
    writable (torch.from_numpy wants that). The statistics are per hidden layer, None without
    batch norm; the snapshot holds them after θ, for each batch norm layer its mean then its
    variance."""
    store = net.snapshot().copy()
    theta, at = store[: net.n_params], net.n_params
    means: list[FloatArray | None] = []
    variances: list[FloatArray | None] = []
    for n, norm in zip(net.sizes[1:-1], net.norm):
        batch = norm == "batch"
        means.append(store[at : at + n] if batch else None)
        variances.append(store[at + n : at + 2 * n] if batch else None)
        at += 2 * n if batch else 0
    assert at == store.size
    return theta, means, variances


def _layers(theta: FloatArray, net: Network) -> list[tuple[FloatArray, FloatArray]]:
    """(W^[k], b̄^[k]) for k = 1..K, views of ``theta``."""
    Ws, bs = net.unpack(theta)
    return list(zip(Ws, bs))


# ------------------------------------------------------------------------------------ ONNX
def to_onnx(net: Any, path: PathLike, *, opset: int | None = None, input_name: str = "x",
            output_name: str | None = None, label_name: str = "label") -> None:
    """Write ``net`` as an ONNX model to ``path``: input ``input_name`` of shape (N, n_0),
    output ``output_name`` (default "y") of shape (N, n_K) equal to ``net.predict``; N is
    dynamic ("N").

    ``net`` may also be a fitted ``fastnn.MLPRegressor`` (the same graph, output "y" equal to
    its ``predict``) or ``fastnn.MLPClassifier``, whose file has scikit-learn's two outputs, as
    skl2onnx writes them with ``options={"zipmap": False}``: ``label_name`` ("label", shape
    (N,), int64 or string, equal to ``predict``) and ``output_name`` (default "probabilities",
    (N, C), equal to ``predict_proba``: [1 − p, p] for two classes), with ``classes`` in the
    metadata. A multi-label classifier has the network's output only (its p > 0.5 are the
    labels).

    Each layer k is a ``Gemm`` with transB=1 (initializers ``W{k}``, stored n_k × n_{k-1} as
    fastnn holds W^[k], and ``b{k}``), then for a hidden layer with norm
    ``LayerNormalization`` (axis −1, epsilon 1e-5; initializers ``gamma{k}``, ``beta{k}``) or
    ``BatchNormalization`` in inference form (epsilon 1e-5, with the running mean and variance
    ``mean{k}``, ``var{k}``), then ψ^[k], then for a layer with a skip ``Add`` of x̄^[k-1].
    Dropout is the identity at inference and is left out. ψ^[k] is: nothing for identity,
    ``Relu``, ``LeakyRelu`` (alpha = fastnn's slope, 0.01), ``Sigmoid``, ``Tanh``,
    ``Softplus``, ``Elu`` (alpha 1), ``Selu`` (PyTorch's alpha and gamma), gelu as ``Gelu``
    from opset 20 on and as ½ z (1 + ``Erf``(z/√2)) below it, silu as ``Mul``(z,
    ``Sigmoid``(z)), and ``Softmax`` (axis=-1) or ``Sigmoid`` on the output of a cross-entropy
    loss. Tensors are float32 or float64, as ``net.dtype``.

    In float64: ONNX float attributes are float32, and ONNX Runtime has some operators in
    float32 only, so leaky_relu is written as ``Max(z, Mul(z, 0.01))`` with a float64
    constant, softplus as ``Max(z, 0) + Log(1 + Exp(−|z|))`` (about 2e-16 from log(1 + e^z) in
    absolute terms, so 1e-13 relative on an output of 1e-3), elu and selu as
    λ ``Max``(z, 0) + λα (``Exp``(``Min``(z, 0)) − 1), layer norm as its elementwise steps
    (``ReduceMean``, ``Sub``, ``Mul``, ``Add`` of a float64 ε, ``Sqrt``, ``Div``), and batch norm's
    variance input is the running variance plus 1e-5 − float32(1e-5) (2.5e-13), so that with
    the attribute epsilon = float32(1e-5) the sum σ² + ε is the one fastnn uses. ONNX Runtime
    (1.32) has no float64 ``Erf`` or ``Gelu``: a float64 net with gelu gives a valid model that
    it cannot run (export the net in float32 for it).

    ``opset``: the ONNX operator set, ``OPSET`` (17) by default, at least ``MIN_OPSET`` (13),
    and at least ``LAYER_NORM_OPSET`` (17) for a net with layer norm; it is stated in the
    file's opset import, its doc_string and its metadata. The metadata (``metadata_props``)
    also holds the fastnn version, sizes, activations, loss, dtype, norm, dropout, residual and
    the feature names ``fit`` recorded, ``classes`` and ``preprocess`` (``Preprocess.to_dict()``),
    if any, each as JSON. The graph takes the network's own inputs: a net with a ``preprocess``
    wants them transformed (``net.preprocess.transform(X)``).

    The file is written atomically (a temporary file in the same folder, then renamed).

    Parameters
    ----------
    net : Network, MLPClassifier or MLPRegressor
        The network (or fitted estimator); its θ is read under the read guard, so a fit
        running in another thread is exported between two updates.
    path : str or os.PathLike
        The file to write.
    opset : int, optional
        The ONNX operator set, from ``MIN_OPSET`` to this onnx package's newest; None:
        ``OPSET``.
    input_name, output_name : str, default "x", and "y" ("probabilities" for a classifier)
        The names of the model's input and output; distinct, and none of the model's own
        tensor names (W1, b1, z1, x1, ...).
    label_name : str, default "label"
        A classifier's label output.

    Raises
    ------
    ImportError
        If onnx is not installed (``pip install "fastnn[onnx]"``).
    ValueError
        If ``opset`` or a name is invalid, or ``opset`` is below 17 for a net with layer norm.
    OSError
        If the file cannot be written.

    Examples
    --------
    >>> import fastnn
    >>> net = fastnn.Network([4, 8, 3], loss="cross_entropy", seed=0)
    >>> net.to_onnx("/tmp/net.onnx", opset=17)  # the same as fastnn.export.to_onnx(net, ...)
    """
    import onnx

    model = onnx_model(net, opset=opset, input_name=input_name, output_name=output_name,
                       label_name=label_name)
    onnx.checker.check_model(model)
    atomic_write(path, lambda f: f.write(model.SerializeToString()))


def onnx_model(net: Any, *, opset: int | None = None, input_name: str = "x", output_name: str | None = None,
               label_name: str = "label") -> onnx.ModelProto:
    """The ONNX model ``to_onnx`` writes (same arguments but the path), in memory.

    Parameters
    ----------
    net : Network, MLPClassifier or MLPRegressor
        As for ``to_onnx``.
    opset : int, optional
        As for ``to_onnx``.
    input_name, output_name, label_name : str
        As for ``to_onnx``.

    Returns
    -------
    onnx.ModelProto
    """
    network = getattr(net, "network_", None)
    if network is None and hasattr(net, "get_params"):
        raise ValueError(f"to_onnx: this {type(net).__name__} is not fitted yet; call fit first")
    if network is None:
        return _network_model(net, opset, input_name, "y" if output_name is None else output_name)
    classes = getattr(net, "classes_", None)
    if classes is None or getattr(net, "_multilabel", False):  # regressor, multi-label: the net's output
        return _network_model(network, opset, input_name, "y" if output_name is None else output_name)
    return _classifier_model(network, classes, opset, input_name,
                             "probabilities" if output_name is None else output_name, label_name)


def _classifier_model(net: Network, classes: Any, opset: int | None, input_name: str, output_name: str,
                      label_name: str) -> onnx.ModelProto:
    """The network's graph, then scikit-learn's classifier outputs: probabilities (N, C) and
    label = classes[argmax] (Gather on a constant of the labels)."""
    from onnx import TensorProto, helper, numpy_helper

    from .preprocess import class_labels

    labels = class_labels(classes)
    if labels is None or len(labels) < 2:
        raise ValueError(f"to_onnx: a classifier's ONNX labels are integers or strings, at least two; "
                         f"classes_ is {classes!r}")
    if label_name in (input_name, output_name) or not isinstance(label_name, str) or not label_name:
        raise ValueError(f"label_name must be a non-empty string other than the input and output names, "
                         f"got {label_name!r}")
    scores = f"{output_name}_net"  # the network's own output
    model = _network_model(net, opset, input_name, scores)
    g = model.graph
    elem = g.output[0].type.tensor_type.elem_type
    if net.sizes[-1] == 1:  # one sigmoid unit: [1 − p, p]
        g.initializer.append(numpy_helper.from_array(np.ones((1, 1), net.dtype), "one_out"))
        g.node.extend([helper.make_node("Sub", ["one_out", scores], ["q_out"], name="q_out"),
                       helper.make_node("Concat", ["q_out", scores], [output_name], name=output_name, axis=1)])
    else:
        g.node.append(helper.make_node("Identity", [scores], [output_name], name=output_name))
    text = labels.dtype.kind == "U"
    g.initializer.append(numpy_helper.from_array(labels.astype(object) if text else labels, "classes"))
    g.node.extend([helper.make_node("ArgMax", [output_name], ["class_index"], name="class_index", axis=1,
                                    keepdims=0),
                   helper.make_node("Gather", ["classes", "class_index"], [label_name], name=label_name, axis=0)])
    del g.output[:]
    g.output.extend([helper.make_tensor_value_info(label_name, TensorProto.STRING if text else TensorProto.INT64,
                                                   ["N"]),
                     helper.make_tensor_value_info(output_name, elem, ["N", len(labels)])])
    model.doc_string += f"; {label_name}, {output_name} = MLPClassifier.predict, predict_proba"
    props = {p.key: p.value for p in model.metadata_props}
    props["classes"] = json.dumps(labels.tolist())
    helper.set_model_props(model, props)
    return model


def _network_model(net: Network, opset: int | None, input_name: str, output_name: str) -> onnx.ModelProto:
    """``to_onnx``'s graph of a Network: input_name (N, n_0) → output_name (N, n_K)."""
    import onnx
    from onnx import helper, numpy_helper

    from . import __version__

    opset = OPSET if opset is None else opset
    newest = onnx.defs.onnx_opset_version()
    if (isinstance(opset, bool) or not isinstance(opset, (int, np.integer))
            or not MIN_OPSET <= opset <= newest):
        raise ValueError(f"opset must be an integer from {MIN_OPSET} to {newest} (this onnx "
                         f"package's newest), got {opset!r}")
    for name, value in (("input_name", input_name), ("output_name", output_name)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if input_name == output_name:
        raise ValueError(f"input_name and output_name must differ, both are {input_name!r}")

    if opset < LAYER_NORM_OPSET and "layer" in net.norm:
        k = net.norm.index("layer") + 1
        raise ValueError(f"opset {opset}: layer {k}'s layer norm is ONNX's LayerNormalization, which "
                         f"needs opset {LAYER_NORM_OPSET} or later; pass opset={LAYER_NORM_OPSET} (or None)")

    elem = helper.np_dtype_to_tensor_dtype(net.dtype)
    K = net.n_layers
    nodes, inits = [], []

    def tensor(value: FloatArray | None, name: str) -> str:  # an initializer
        assert value is not None
        inits.append(numpy_helper.from_array(value, name))
        return name

    theta, means, variances = _state(net)
    gammas, betas = net.unpack_norm(theta)
    x = input_name  # x̄^[k-1]
    for k, (W, b) in enumerate(_layers(theta, net), start=1):
        act = net.activations[k - 1]
        norm = net.norm[k - 1] if k < K else None
        skip = net.residual[k - 1] if k < K else False
        # The layer's tensors, in order: z̄^[k], ẑ^[k] (norm), a^[k] = ψ^[k](ẑ^[k]), x̄^[k] (skip);
        # the last one the layer computes is x̄^[k] itself.
        steps = ["z"] + (["zhat"] if norm else []) + (["a"] if act != "identity" else []) + (["x"] if skip else [])
        out = output_name if k == K else f"x{k}"
        t = {step: f"{step}{k}" for step in steps} | {steps[-1]: out}  # step: its tensor
        nodes.append(helper.make_node("Gemm", [x, tensor(W, f"W{k}"), tensor(b, f"b{k}")], [t["z"]],
                                      name=t["z"], transB=1))
        h = t["z"]
        if norm is not None:  # ẑ^[k] = γ ⊙ (z̄ − μ)/√(σ² + ε) + β
            gamma, beta = tensor(gammas[k - 1], f"gamma{k}"), tensor(betas[k - 1], f"beta{k}")
            var = variances[k - 1]
            if norm == "batch" and var is not None and net.dtype == np.float64:
                var = var + _EPS_GAP  # (ε is a float32 attribute: see the docstring)
            if norm == "batch":  # inference form: μ, σ² the running mean and variance
                nodes.append(helper.make_node(
                    "BatchNormalization", [h, gamma, beta, tensor(means[k - 1], f"mean{k}"), tensor(var, f"var{k}")],
                    [t["zhat"]], name=t["zhat"], epsilon=NORM_EPS))
            elif net.dtype == np.float32:  # μ, σ² over the row's n_k units
                nodes.append(helper.make_node("LayerNormalization", [h, gamma, beta], [t["zhat"]], name=t["zhat"],
                                              axis=-1, epsilon=NORM_EPS))
            else:
                _layer_norm(h, gamma, beta, t["zhat"], k, int(opset), nodes, inits)
            h = t["zhat"]
        if act != "identity":
            _activation(act, h, t["a"], k, net.dtype, int(opset), nodes, inits)
            h = t["a"]
        if skip:  # x̄^[k] = x̄^[k-1] + a^[k] (dropout is the identity at inference)
            nodes.append(helper.make_node("Add", [x, h], [out], name=out))
        x = out
    names = Counter([input_name] + [i.name for i in inits] + [o for n in nodes for o in n.output])
    if any(count > 1 for count in names.values()):
        raise ValueError(f"input_name {input_name!r}, output_name {output_name!r}: the model's own "
                         f"tensors are named W1, b1, z1, x1, ...; choose names that are not")

    graph = helper.make_graph(  # the batch axis is the symbolic dimension "N"
        nodes, "fastnn", [helper.make_tensor_value_info(input_name, elem, ["N", net.sizes[0]])],
        [helper.make_tensor_value_info(output_name, elem, ["N", net.sizes[-1]])], initializer=inits)
    opsets = [helper.make_opsetid("", int(opset))]
    model = helper.make_model(
        graph, opset_imports=opsets, producer_name="fastnn", producer_version=__version__,
        doc_string=(f"fastnn {__version__} Network(sizes={net.sizes}, activations={net.activations}, "
                    f"loss={net.loss_name!r}, " + "".join(
                        f"{key}={value!r}, " for key, value in (("norm", net.norm), ("dropout", net.dropout),
                                                                ("residual", net.residual)) if any(value))
                    + f"dtype={net.dtype.name!r}), ONNX opset {int(opset)}; "
                    f"{output_name} = Network.predict({input_name})"))
    model.ir_version = helper.find_min_ir_version_for(opsets)  # older runtimes read it too
    meta = {"fastnn_version": __version__, "opset": int(opset), "sizes": net.sizes,
            "activations": net.activations, "loss": net.loss_name, "dtype": net.dtype.name,
            "norm": net.norm, "dropout": net.dropout, "residual": net.residual}
    if net.feature_names_in_ is not None:
        meta["feature_names"] = [str(n) for n in net.feature_names_in_]
    if net.classes is not None:
        meta["classes"] = net.classes.tolist()
    if net.preprocess is not None:
        meta["preprocess"] = net.preprocess.to_dict()
    helper.set_model_props(model, {key: json.dumps(value) for key, value in meta.items()})
    return model


def _layer_norm(z: str, gamma: str, beta: str, x: str, k: int, opset: int, nodes: list[onnx.NodeProto],
                inits: list[onnx.TensorProto]) -> None:
    """Append float64 nodes computing x = γ ⊙ (z − μ)/√(σ² + ε) + β, μ and σ² the mean and the
    (biased) variance of each row, with ε a float64 constant."""
    from onnx import helper, numpy_helper

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> None:
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))

    def mean(inp: str, out: str) -> None:  # over the last axis; its axes an input from opset 18
        if opset >= 18:
            node("ReduceMean", [inp, f"last_axis{k}"], out, keepdims=1)
        else:
            node("ReduceMean", [inp], out, axes=[-1], keepdims=1)

    if opset >= 18:
        inits.append(numpy_helper.from_array(np.array([-1], np.int64), f"last_axis{k}"))
    inits.append(numpy_helper.from_array(np.asarray(NORM_EPS, np.float64), f"eps{k}"))
    mean(z, f"mu_z{k}")
    node("Sub", [z, f"mu_z{k}"], f"centered_z{k}")
    node("Mul", [f"centered_z{k}", f"centered_z{k}"], f"squared_z{k}")
    mean(f"squared_z{k}", f"var_z{k}")
    node("Add", [f"var_z{k}", f"eps{k}"], f"var_eps_z{k}")
    node("Sqrt", [f"var_eps_z{k}"], f"std_z{k}")
    node("Div", [f"centered_z{k}", f"std_z{k}"], f"xhat_z{k}")
    node("Mul", [f"xhat_z{k}", gamma], f"scaled_xhat_z{k}")
    node("Add", [f"scaled_xhat_z{k}", beta], x)


def _activation(act: str, z: str, x: str, k: int, dtype: npt.DTypeLike, opset: int, nodes: list[onnx.NodeProto],
                inits: list[onnx.TensorProto]) -> None:
    """Append the nodes computing x = ψ^[k](z); each node is named after its output tensor.
    Intermediate tensors are named ``<what>_z{k}``, constants ``<what>{k}``."""
    from onnx import helper, numpy_helper

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> None:
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))

    def const(name: str, value: float) -> str:  # a scalar of the net's dtype, written once per layer
        if not any(i.name == f"{name}{k}" for i in inits):
            inits.append(numpy_helper.from_array(np.asarray(value, dtype), f"{name}{k}"))
        return f"{name}{k}"

    ops = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp"}  # exp: poisson's link
    if act in ops:
        node(ops[act], [z], x)
    elif act == "softmax":
        node("Softmax", [z], x, axis=-1)
    elif act == "leaky_relu" and dtype == np.float32:
        node("LeakyRelu", [z], x, alpha=LEAKY_SLOPE)
    elif act == "leaky_relu":  # max(z, 0.01 z): z for z > 0, 0.01 z otherwise
        node("Mul", [z, const("slope", LEAKY_SLOPE)], f"slope_z{k}")
        node("Max", [z, f"slope_z{k}"], x)
    elif act == "softplus" and dtype == np.float32:
        node("Softplus", [z], x)
    elif act == "softplus":  # max(z, 0) + log(1 + e^-|z|), as fastnn computes it
        node("Abs", [z], f"abs_z{k}")
        node("Neg", [f"abs_z{k}"], f"neg_abs_z{k}")
        node("Exp", [f"neg_abs_z{k}"], f"exp_z{k}")
        node("Add", [f"exp_z{k}", const("one", 1)], f"one_exp_z{k}")
        node("Log", [f"one_exp_z{k}"], f"log_z{k}")
        node("Max", [z, const("zero", 0)], f"pos_z{k}")
        node("Add", [f"pos_z{k}", f"log_z{k}"], x)
    elif act == "silu":  # z σ(z)
        node("Sigmoid", [z], f"sigmoid_z{k}")
        node("Mul", [z, f"sigmoid_z{k}"], x)
    elif act == "gelu" and opset >= GELU_OPSET:
        node("Gelu", [z], x)  # approximate="none": the exact z Φ(z)
    elif act == "gelu":  # ½ z (1 + erf(z/√2))
        node("Mul", [z, const("inv_sqrt2_", _INV_SQRT2)], f"scaled_z{k}")
        node("Erf", [f"scaled_z{k}"], f"erf_z{k}")
        node("Add", [f"erf_z{k}", const("one", 1)], f"one_erf_z{k}")
        node("Mul", [z, f"one_erf_z{k}"], f"z_one_erf_z{k}")
        node("Mul", [f"z_one_erf_z{k}", const("half", 0.5)], x)
    elif act == "elu" and dtype == np.float32:
        node("Elu", [z], x, alpha=1.0)
    elif act == "selu" and dtype == np.float32:  # (α, λ as float32 attributes)
        node("Selu", [z], x, alpha=SELU_ALPHA, gamma=SELU_LAMBDA)
    elif act in ("elu", "selu"):  # λ max(z, 0) + λα (e^min(z, 0) − 1), λ = α = 1 for elu; exact for z > 0
        node("Max", [z, const("zero", 0)], f"pos_z{k}")
        node("Min", [z, const("zero", 0)], f"neg_z{k}")
        node("Exp", [f"neg_z{k}"], f"exp_z{k}")
        node("Sub", [f"exp_z{k}", const("one", 1)], f"expm1_z{k}")
        if act == "selu":
            node("Mul", [f"pos_z{k}", const("selu_lambda", SELU_LAMBDA)], f"scaled_pos_z{k}")
            node("Mul", [f"expm1_z{k}", const("selu_lambda_alpha", SELU_LAMBDA * SELU_ALPHA)], f"scaled_neg_z{k}")
            node("Add", [f"scaled_pos_z{k}", f"scaled_neg_z{k}"], x)
        else:
            node("Add", [f"pos_z{k}", f"expm1_z{k}"], x)
    else:
        raise ValueError(f"to_onnx: no ONNX form for activation {act!r} of layer {k}")


# ------------------------------------------------------------------------------------ torch
@functools.cache
def _residual_class() -> type[nn.Module]:
    """``Residual``, defined on first use: torch is imported only then."""
    from torch import nn

    class Residual(nn.Module):
        """``x + block(x)``: a hidden layer k with an identity skip, x̄^[k] = x̄^[k-1] + d^[k],
        as ``to_torch`` writes it and ``from_torch`` reads it (``fastnn.export.Residual``,
        importable when torch is installed).

        Parameters
        ----------
        block : torch.nn.Module
            The layer without its skip. ``from_torch`` reads an ``nn.Sequential`` of one square
            ``Linear`` (n → n), then optionally ``LayerNorm``/``BatchNorm1d``, an activation
            and ``Dropout``, in that order.
        """

        def __init__(self, block: nn.Module) -> None:
            super().__init__()
            self.block = block

        def forward(self, x: Any) -> Any:
            return x + self.block(x)

    Residual.__module__ = __name__  # pickles as fastnn.export.Residual
    Residual.__qualname__ = "Residual"
    return Residual


@functools.cache
def _exp_class() -> type[nn.Module]:
    """``Exp``, defined on first use: torch is imported only then."""
    from torch import nn

    class Exp(nn.Module):
        """``exp(x)``: the output of a net with loss="poisson", x̄^[K] = μ = exp(z̄^[K]), as
        ``to_torch`` writes it and ``from_torch`` reads it (``fastnn.export.Exp``, importable
        when torch is installed; torch has no activation module for it). Train the logits
        (the module without it) with ``nn.PoissonNLLLoss(log_input=True)``."""

        def forward(self, x: Any) -> Any:
            return x.exp()

    Exp.__module__ = __name__  # pickles as fastnn.export.Exp
    Exp.__qualname__ = "Exp"
    return Exp


def __getattr__(name: str) -> Any:
    """``fastnn.export.Residual`` and ``Exp``, made on first access, so that fastnn imports
    without torch."""
    if name == "Residual":
        return _residual_class()
    if name == "Exp":
        return _exp_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_torch(net: Network) -> nn.Sequential:
    """``net`` as a ``torch.nn.Sequential`` holding copies of its parameters, in ``net.dtype``.

    Layer k becomes ``Linear``, then for a hidden layer with norm ``LayerNorm(n_k, eps=1e-5)``
    or ``BatchNorm1d(n_k, eps=1e-5, momentum=0.1)`` (γ^[k], β^[k] and the running mean and
    variance copied), then ψ^[k], then ``Dropout(p)`` for a rate p > 0; a hidden layer with a
    skip is wrapped in ``fastnn.export.Residual`` (``x + block(x)``).

    ψ^[k] becomes: identity → nothing, ``ReLU``, ``LeakyReLU(0.01)``, ``Sigmoid``, ``Tanh``,
    ``Softplus(threshold=40)`` (torch's default 20 would differ from log(1 + e^x) by 2e-9 in
    float64), ``GELU()`` (exact, erf), ``SiLU``, ``ELU()`` (α = 1), ``SELU``. The output layer
    of a cross-entropy loss ends in ``Softmax(dim=-1)`` or ``Sigmoid``, since ``predict``
    returns probabilities; drop that module to train the result with ``nn.CrossEntropyLoss`` or
    ``nn.BCEWithLogitsLoss``.

    The module is returned as torch makes modules, in training mode: call ``module.eval()``
    before comparing it with ``predict`` when the net has dropout or batch norm (in training
    mode torch draws dropout masks and normalizes with the batch's statistics, as ``fit``
    does). Without them both modes compute ``predict``.

    Parameters
    ----------
    net : Network
        The network; its θ and running statistics are read under the read guard, as by
        ``to_onnx``.

    Returns
    -------
    torch.nn.Sequential
        The layers, with copies of the parameters (later changes to either side do not reach
        the other).

    Raises
    ------
    ImportError
        If torch is not installed.
    """
    import torch
    from torch import nn

    residual = _residual_class()
    modules: dict[str, Callable[[], nn.Module]] = {
        "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE), "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh, "softplus": lambda: nn.Softplus(threshold=SOFTPLUS_THRESHOLD),
        "softmax": lambda: nn.Softmax(dim=-1), "gelu": nn.GELU, "silu": nn.SiLU, "elu": nn.ELU,
        "selu": nn.SELU, "exp": _exp_class()}
    dtype = getattr(torch, net.dtype.name)
    theta, means, variances = _state(net)
    gammas, betas = net.unpack_norm(theta)
    K = net.n_layers

    def put(target: Any, value: FloatArray | None) -> None:
        assert value is not None
        target.copy_(torch.from_numpy(value))

    layers: list[nn.Module] = []
    for k, ((W, b), act) in enumerate(zip(_layers(theta, net), net.activations), start=1):
        n_out, n_in = W.shape
        hidden = k < K
        norm = net.norm[k - 1] if hidden else None
        linear = nn.Linear(n_in, n_out, dtype=dtype)
        block: list[nn.Module] = [linear]
        with torch.no_grad():
            put(linear.weight, W)
            put(linear.bias, b)
            if norm == "layer":
                layer_norm = nn.LayerNorm(n_out, eps=NORM_EPS, dtype=dtype)
                put(layer_norm.weight, gammas[k - 1])
                put(layer_norm.bias, betas[k - 1])
                block.append(layer_norm)
            elif norm == "batch":
                batch_norm = nn.BatchNorm1d(n_out, eps=NORM_EPS, momentum=BATCH_NORM_MOMENTUM, dtype=dtype)
                put(batch_norm.weight, gammas[k - 1])
                put(batch_norm.bias, betas[k - 1])
                put(batch_norm.running_mean, means[k - 1])
                put(batch_norm.running_var, variances[k - 1])
                block.append(batch_norm)
        if act != "identity":
            block.append(modules[act]())
        if hidden and net.dropout[k - 1] > 0:
            block.append(nn.Dropout(net.dropout[k - 1]))
        if hidden and net.residual[k - 1]:
            layers.append(residual(nn.Sequential(*block)))
        else:
            layers += block
    return nn.Sequential(*layers)


@dataclass
class _Layer:
    """One layer k as ``from_torch`` reads it: its Linear, then what follows it."""

    linear: nn.Linear
    where: str  # "module [i] ..." of the Linear (of the Residual for a layer with a skip)
    norm: nn.Module | None = None  # LayerNorm or BatchNorm1d
    norm_where: str = ""
    act: str = "identity"
    act_where: str = ""
    dropout: float = 0.0
    dropout_where: str = ""
    skip: bool = False
    step: int = 0  # what the layer has read so far: _LINEAR, _NORM, _ACT, _DROPOUT or _CLOSED


_LINEAR, _NORM, _ACT, _DROPOUT, _CLOSED = range(5)
_ORDER = "a Network's layer is Linear → norm → activation → Dropout (post-norm)"


def from_torch(module: nn.Sequential, *, loss: str | None = None, dtype: str | None = None) -> dict[str, Any]:
    """What ``Network.from_torch(module)`` builds: a dict of ``Network``'s arguments (sizes,
    activations, loss, dtype, parameters, norm, dropout, residual) and the running statistics
    (``running_stats``: the means and the variances, per hidden layer, None without batch
    norm), for the layers and weights of ``module``, a ``torch.nn.Sequential``.

    ``module`` holds layers, each a ``Linear`` followed, in this order, by at most one of each:

    - a norm (hidden layers): ``LayerNorm(n_k)`` with eps 1e-5, or ``BatchNorm1d(n_k)`` with
      eps 1e-5, momentum 0.1 and running statistics (``track_running_stats``); without affine
      parameters γ = 1, β = 0;
    - an activation: ``ReLU``, ``LeakyReLU`` with negative_slope 0.01 (fastnn's), ``Sigmoid``,
      ``Tanh``, ``Softplus`` with beta=1 and threshold ≥ 20 (torch's default; above it torch
      returns x, within 2e-9 of log(1 + e^x)), ``GELU`` (approximate="none"), ``SiLU``,
      ``ELU`` (alpha 1), ``SELU``; ``GELU`` and ``SiLU`` on hidden layers only; none: identity;
    - ``Dropout(p)`` (hidden layers; p in [0, 1); on the output layer only p = 0).

    A hidden layer with an identity skip is a ``fastnn.export.Residual`` whose ``block`` is an
    ``nn.Sequential`` of one such layer, with n_k = n_{k-1}. ``Identity`` modules are skipped
    anywhere. Anything else (another module, another order such as a norm before its Linear
    or a Dropout before the activation, two activations in a row, a norm or a skip on the
    output layer, another eps or momentum) raises ValueError naming the module and its position
    in ``module``.

    The loss, from the last activation and ``loss``:
    - ``Softmax(dim=-1)`` (or dim=1) → "cross_entropy" (loss None or "cross_entropy");
    - ``fastnn.export.Exp`` → "poisson" (loss None or "poisson"); no activation and
      loss="poisson": the last Linear gives log-means, as for ``nn.PoissonNLLLoss(log_input=True)``;
    - ``Sigmoid`` → "mse" with a sigmoid output, unless loss="binary_cross_entropy";
    - no activation and loss "cross_entropy" or "binary_cross_entropy": the last Linear gives
      logits, as for ``nn.CrossEntropyLoss`` / ``nn.BCEWithLogitsLoss``, and ``predict``
      returns their softmax / sigmoid probabilities;
    - any other case → "mse" with that output activation (loss None or "mse").

    ``dtype``: "float32" or "float64"; None takes the first Linear's weight dtype.
    The module is read as is, whether in train or eval mode.

    Parameters
    ----------
    module : torch.nn.Sequential
        The layers to read.
    loss : str, optional
        The Network's loss, as above; None chooses it from the last activation.
    dtype : {"float32", "float64"}, optional
        The Network's dtype; None: the first Linear's weight dtype.

    Returns
    -------
    dict
        ``Network``'s arguments: sizes, activations, loss, dtype, parameters (θ, a copy of the
        module's weights through float64, exactly), norm, dropout and residual; and
        ``running_stats``, the (means, variances) to pass to ``Network.set_running_stats``.

    Raises
    ------
    ImportError
        If torch is not installed.
    ValueError
        If ``module`` holds a module fastnn cannot represent, modules in another order, layers
        whose widths do not chain, or an activation that ``loss`` does not allow (the message
        names the module and its position).
    """
    from torch import nn

    if not isinstance(module, nn.Sequential):
        raise ValueError(f"from_torch: module must be a torch.nn.Sequential of Linear layers and "
                         f"activations, got {type(module).__name__}")
    residual = _residual_class()
    layers: list[_Layer] = []
    for i, m in enumerate(module):
        where = f"module [{i}] {_short(m)}"
        if not isinstance(m, residual):
            _read_module(m, where, layers)
            continue
        block = m.block
        if not isinstance(block, nn.Sequential):
            raise ValueError(f"from_torch: {where}: a Residual's block must be an nn.Sequential of one "
                             f"layer (Linear, then its norm, activation and Dropout)")
        if layers:
            layers[-1].step = _CLOSED
        first = len(layers)
        for j, inner in enumerate(block):
            _read_module(inner, f"module [{i}].block[{j}] {_short(inner)}", layers)
        if len(layers) != first + 1:
            raise ValueError(f"from_torch: {where}: a Residual wraps one layer (one Linear, then its norm, "
                             f"activation and Dropout); it holds {len(layers) - first} Linear layers")
        layer = layers[-1]
        n_in, n_out = layer.linear.in_features, layer.linear.out_features
        if n_in != n_out:
            raise ValueError(f"from_torch: {where}: a skip x̄^[k] = x̄^[k-1] + d^[k] needs a Linear that keeps "
                             f"the width (n_k = n_{{k-1}}), got {n_in} → {n_out}")
        layer.where, layer.skip, layer.step = where, True, _CLOSED
    if not layers:
        raise ValueError("from_torch: module has no Linear layer")
    last = layers[-1]
    if last.skip:
        raise ValueError(f"from_torch: {last.where} is the output layer; a Network's output layer "
                         f"(the last Linear) has no skip")
    if last.norm is not None:
        raise ValueError(f"from_torch: {last.norm_where} follows the last Linear; a Network's output layer "
                         f"has no norm")
    if last.dropout > 0:
        raise ValueError(f"from_torch: {last.dropout_where} follows the last Linear; a Network's output layer "
                         f"has no dropout (drop the module, or make it Dropout(0))")
    acts = [layer.act for layer in layers]
    if "softmax" in acts[:-1]:
        raise ValueError(f"from_torch: Softmax in layer {acts.index('softmax') + 1}; a Network has "
                         f"softmax only on its output, with loss='cross_entropy'")
    if "exp" in acts[:-1]:
        raise ValueError(f"from_torch: Exp in layer {acts.index('exp') + 1}; a Network has exp only "
                         f"on its output, with loss='poisson'")
    if acts[-1] in ("gelu", "silu"):
        raise ValueError(f"from_torch: {last.act_where} ends the last layer; fastnn has {acts[-1]} on "
                         f"hidden layers only (its derivative needs z̄, which the output layer does not keep)")

    out = acts[-1]
    links = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid", "poisson": "exp"}
    if loss is None:
        loss = {"softmax": "cross_entropy", "exp": "poisson"}.get(out, "mse")
    if loss in links:
        if out not in ("identity", links[loss]):
            raise ValueError(f"from_torch: loss={loss!r} needs the last Linear to end in "
                             f"{links[loss]} or in no activation (logits), got {out}")
        acts[-1] = links[loss]
    elif out in ("softmax", "exp"):
        raise ValueError(f"from_torch: the module ends in {'Softmax' if out == 'softmax' else 'Exp'}, which only "
                         f"loss={'cross_entropy' if out == 'softmax' else 'poisson'!r} has; got loss={loss!r}")

    if dtype is None:
        dtype = str(layers[0].linear.weight.dtype).removeprefix("torch.")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"from_torch: the module's weights are torch.{dtype}; convert it with "
                             f"module.float() or pass dtype='float32' or 'float64'")
    sizes = [layers[0].linear.in_features] + [layer.linear.out_features for layer in layers]
    for k, layer in enumerate(layers[1:], start=1):
        if layer.linear.in_features != sizes[k]:
            raise ValueError(f"from_torch: Linear layer {k + 1} ({layer.linear!r}) takes "
                             f"{layer.linear.in_features} inputs but layer {k} gives {sizes[k]}")

    def values(tensor: Any, n: int, default: float) -> npt.NDArray[np.float64]:
        """A parameter or buffer through float64 (exact for float32 and float64), or ``default``."""
        if tensor is None:
            return np.full(n, default)
        return np.asarray(tensor.detach().cpu().double().numpy(), np.float64).reshape(-1)

    # θ per layer: W^[k], b̄^[k], then γ^[k], β^[k] for a layer with norm
    parts: list[npt.NDArray[np.float64]] = []
    means: list[npt.NDArray[np.float64] | None] = []
    variances: list[npt.NDArray[np.float64] | None] = []
    for k, layer in enumerate(layers, start=1):
        n = layer.linear.out_features
        parts += [values(layer.linear.weight, 0, 0), values(layer.linear.bias, n, 0)]
        norm = layer.norm
        if norm is not None:
            parts += [values(norm.weight, n, 1), values(norm.bias, n, 0)]
        if k == len(layers):
            break
        batch = isinstance(norm, nn.BatchNorm1d)
        means.append(values(norm.running_mean, n, 0) if batch and norm is not None else None)
        variances.append(values(norm.running_var, n, 1) if batch and norm is not None else None)
        var = variances[-1]
        if var is not None and not (np.isfinite(var).all() and (var >= 0).all()):
            raise ValueError(f"from_torch: {layer.norm_where}: running_var must be finite and >= 0")
    hidden = layers[:-1]
    return {"sizes": sizes, "activations": acts, "loss": loss, "dtype": dtype,
            "parameters": np.concatenate(parts).astype(dtype),
            "norm": [None if layer.norm is None else "batch" if isinstance(layer.norm, nn.BatchNorm1d) else "layer"
                     for layer in hidden],
            "dropout": [layer.dropout for layer in hidden], "residual": [layer.skip for layer in hidden],
            "running_stats": (means, variances)}


def _short(m: nn.Module) -> str:
    """``repr(m)``, or for a container (several lines) its first line, as ``Residual(...)``."""
    text = repr(m)
    return text if "\n" not in text else f"{type(m).__name__}(...)"


def _read_module(m: nn.Module, where: str, layers: list[_Layer]) -> None:
    """Add module ``m`` to the layers read so far: a Linear starts one, a norm, an activation
    or a Dropout goes to the last one, in that order; ValueError naming ``where`` otherwise."""
    from torch import nn

    if type(m) is nn.Identity:
        return
    if type(m) is nn.Linear:
        layers.append(_Layer(m, where))
        return
    kind = _NORM if type(m) in (nn.LayerNorm, nn.BatchNorm1d) else _DROPOUT if type(m) is nn.Dropout else _ACT
    act = _torch_activation(m, where) if kind == _ACT else ""  # (refuses what fastnn does not know)
    if not layers or layers[-1].step == _CLOSED:
        what = "the first Linear" if not layers else "its Linear (it follows a Residual block, whose layer's " \
                                                     "modules go inside the block)"
        raise ValueError(f"from_torch: {where} comes before {what}; {_ORDER}")
    layer = layers[-1]
    if kind == _ACT and layer.step == _ACT:
        raise ValueError(f"from_torch: {where} follows another activation ({layer.act}) of the same "
                         f"layer; a Network has one activation per layer")
    if kind <= layer.step:
        got = {_NORM: f"its norm ({layer.norm_where})", _ACT: f"its activation ({layer.act_where})",
               _DROPOUT: f"its Dropout ({layer.dropout_where})"}[layer.step]
        raise ValueError(f"from_torch: {where} comes after {got}; {_ORDER}")
    layer.step = kind
    n = layer.linear.out_features
    if kind == _ACT:
        layer.act, layer.act_where = act, where
    elif kind == _DROPOUT:
        p = float(m.p)  # type: ignore[arg-type]
        if not 0 <= p < 1:
            raise ValueError(f"from_torch: {where}: a Network's dropout rate is in [0, 1), got p={p}")
        layer.dropout, layer.dropout_where = p, where
    else:
        layer.norm, layer.norm_where = m, where
        eps = float(m.eps)  # type: ignore[arg-type]
        if eps != NORM_EPS:
            raise ValueError(f"from_torch: {where}: eps={eps:g}, but fastnn's layer and batch norm have "
                             f"eps={NORM_EPS:g}")
        if type(m) is nn.LayerNorm:
            if tuple(m.normalized_shape) != (n,):
                raise ValueError(f"from_torch: {where}: normalizes over the shape {tuple(m.normalized_shape)}, "
                                 f"but a Network's layer norm normalizes the layer's {n} units: LayerNorm({n})")
        else:
            assert isinstance(m, nn.BatchNorm1d)
            if m.num_features != n:
                raise ValueError(f"from_torch: {where}: {m.num_features} features, but its Linear gives {n}")
            if m.momentum != BATCH_NORM_MOMENTUM:
                raise ValueError(f"from_torch: {where}: momentum={m.momentum}, but fastnn's batch norm moves its "
                                 f"running statistics with momentum={BATCH_NORM_MOMENTUM:g}")
            if not m.track_running_stats or m.running_mean is None or m.running_var is None:
                raise ValueError(f"from_torch: {where}: a Network's batch norm keeps running statistics "
                                 f"(track_running_stats=True)")


def _torch_activation(m: nn.Module, where: str) -> str:
    """fastnn's name for the torch activation module ``m``, or ValueError."""
    from torch import nn

    simple = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.SiLU: "silu", nn.SELU: "selu"}
    if type(m) in simple:
        return simple[type(m)]
    if type(m) is nn.LeakyReLU:
        if m.negative_slope != LEAKY_SLOPE:
            raise ValueError(f"from_torch: {where}: fastnn's leaky_relu has negative_slope "
                             f"{LEAKY_SLOPE}, got {m.negative_slope}")
        return "leaky_relu"
    if type(m) is nn.Softplus:
        if m.beta != 1 or not m.threshold >= MIN_SOFTPLUS_THRESHOLD:
            raise ValueError(f"from_torch: {where}: fastnn's softplus is log(1 + e^z), torch's "
                             f"Softplus with beta=1 and threshold >= {MIN_SOFTPLUS_THRESHOLD:g}")
        return "softplus"
    if type(m) is nn.GELU:
        if m.approximate != "none":
            raise ValueError(f"from_torch: {where}: fastnn's gelu is the exact z Φ(z), GELU() with "
                             f"approximate='none'; got approximate={m.approximate!r}")
        return "gelu"
    if type(m) is nn.ELU:
        if m.alpha != 1:
            raise ValueError(f"from_torch: {where}: fastnn's elu has alpha 1, got alpha={m.alpha}")
        return "elu"
    if type(m) is _exp_class():
        return "exp"
    if type(m) is nn.Softmax:
        if m.dim not in (-1, 1):
            raise ValueError(f"from_torch: {where}: a Network's softmax runs over each row's "
                             f"outputs, Softmax(dim=-1); got dim={m.dim}")
        return "softmax"
    raise ValueError(f"from_torch: {where} is not supported; a Network reads Linear, LayerNorm, BatchNorm1d, "
                     f"ReLU, LeakyReLU({LEAKY_SLOPE}), Sigmoid, Tanh, Softplus, GELU, SiLU, ELU, SELU, "
                     f"Softmax (last), fastnn.export.Exp (last), Dropout, Identity and fastnn.export.Residual")
