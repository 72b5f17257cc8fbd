"""A ``Network`` out to ONNX and PyTorch, and in from PyTorch.

Needs the optional extras: ``pip install "fastnn[onnx]"`` (onnx, onnxruntime) for ``to_onnx``,
torch for ``to_torch`` and ``from_torch``.

Both exports compute what ``Network.predict`` returns, layer by layer in the seed's notation,
x̄^[k] = ψ^[k](W^[k] x̄^[k-1] + b̄^[k]) for k = 1..K, with the output probabilities of a
cross-entropy loss (softmax for "cross_entropy", sigmoid for "binary_cross_entropy").

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
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ._io import atomic_write
from .activations import LEAKY_SLOPE

if TYPE_CHECKING:
    import numpy.typing as npt
    import onnx
    from torch import nn

    from ._typing import FloatArray, PathLike
    from ._typing import NetworkLike as Network

# The opset to_onnx writes by default. Opset 17 (ONNX 1.12, 2022) is read by every ONNX Runtime
# since 1.12 and by the usual converters; every operator used here has had its present meaning
# since opset 13, the lowest accepted (Softmax normalises along one axis from opset 13 on).
OPSET = 17
"""The ONNX opset ``to_onnx`` writes by default."""
MIN_OPSET = 13
"""The lowest opset ``to_onnx`` accepts."""

# torch's Softplus returns x itself above ``threshold``; log(1 + e^x) − x < e^-40 ≈ 4e-18 there,
# below the rounding of x in float64 (torch's default 20 leaves 2e-9, below float32's only).
SOFTPLUS_THRESHOLD = 40.0
"""The ``threshold`` of the ``nn.Softplus`` that ``to_torch`` writes."""
MIN_SOFTPLUS_THRESHOLD = 20.0  # from_torch: e^-20 ≈ 2e-9, under half an ulp of 20 in float32
"""The lowest ``nn.Softplus`` threshold ``from_torch`` reads as softplus."""


def _layers(net: Network) -> list[tuple[FloatArray, FloatArray]]:
    """Copies of (W^[k], b̄^[k]) for k = 1..K, read as predict reads θ: during another thread's
    fit, from that fit's snapshot, so an export never holds half an update."""
    Ws, bs = net.unpack(net.parameters.copy())  # writable: torch.from_numpy wants that
    return list(zip(Ws, bs))


# ------------------------------------------------------------------------------------ ONNX
def to_onnx(net: Network, path: PathLike, *, opset: int | None = None, input_name: str = "x",
            output_name: str = "y") -> None:
    """Write ``net`` as an ONNX model to ``path``: input ``input_name`` of shape (N, n_0),
    output ``output_name`` of shape (N, n_K) equal to ``net.predict``; N is dynamic ("N").

    Each layer k is a ``Gemm`` with transB=1 (initializers ``W{k}``, stored n_k × n_{k-1} as
    fastnn holds W^[k], and ``b{k}``) followed by ψ^[k]: nothing for identity, ``Relu``,
    ``LeakyRelu`` (alpha = fastnn's slope, 0.01), ``Sigmoid``, ``Tanh``, ``Softplus``, and
    ``Softmax`` (axis=-1) or ``Sigmoid`` on the output of a cross-entropy loss. Tensors are
    float32 or float64, as ``net.dtype``. ONNX float attributes are float32, so in float64
    leaky_relu is written as ``Max(z, Mul(z, 0.01))`` with a float64 constant, and softplus
    (which ONNX Runtime has only in float32) as ``Max(z, 0) + Log(1 + Exp(−|z|))``: about 2e-16
    from log(1 + e^z) in absolute terms, so 1e-13 relative on an output of 1e-3.

    ``opset``: the ONNX operator set, ``OPSET`` (17) by default, at least ``MIN_OPSET`` (13);
    it is stated in the file's opset import, its doc_string and its metadata. The metadata
    (``metadata_props``) also holds the fastnn version, sizes, activations, loss, dtype and
    the feature names ``fit`` recorded, if any, each as JSON.

    The file is written atomically (a temporary file in the same folder, then renamed).

    Parameters
    ----------
    net : Network
        The network; its θ is read under the read guard, so a fit running in another thread
        is exported between two updates.
    path : str or os.PathLike
        The file to write.
    opset : int, optional
        The ONNX operator set, from ``MIN_OPSET`` to this onnx package's newest; None:
        ``OPSET``.
    input_name, output_name : str, default "x", "y"
        The names of the model's input and output; distinct, and none of the model's own
        tensor names (W1, b1, z1, x1, ...).

    Raises
    ------
    ImportError
        If onnx is not installed (``pip install "fastnn[onnx]"``).
    ValueError
        If ``opset`` or a name is invalid.
    OSError
        If the file cannot be written.

    Examples
    --------
    >>> import fastnn
    >>> net = fastnn.Network([4, 8, 3], loss="cross_entropy", seed=0)
    >>> net.to_onnx("/tmp/net.onnx", opset=17)  # the same as fastnn.export.to_onnx(net, ...)
    """
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

    elem = helper.np_dtype_to_tensor_dtype(net.dtype)
    K = net.n_layers
    nodes, inits = [], []
    x = input_name  # x̄^[k-1]
    for k, (W, b) in enumerate(_layers(net), start=1):
        inits += [numpy_helper.from_array(W, f"W{k}"), numpy_helper.from_array(b, f"b{k}")]
        act = net.activations[k - 1]
        out = output_name if k == K else f"x{k}"  # x̄^[k]
        z = out if act == "identity" else f"z{k}"  # z̄^[k]
        nodes.append(helper.make_node("Gemm", [x, f"W{k}", f"b{k}"], [z], name=z, transB=1))
        if act != "identity":
            _activation(act, z, out, k, net.dtype, nodes, inits)
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
                    f"loss={net.loss_name!r}, dtype={net.dtype.name!r}), ONNX opset {int(opset)}; "
                    f"{output_name} = Network.predict({input_name})"))
    model.ir_version = helper.find_min_ir_version_for(opsets)  # older runtimes read it too
    meta = {"fastnn_version": __version__, "opset": int(opset), "sizes": net.sizes,
            "activations": net.activations, "loss": net.loss_name, "dtype": net.dtype.name}
    if net.feature_names_in_ is not None:
        meta["feature_names"] = [str(n) for n in net.feature_names_in_]
    helper.set_model_props(model, {key: json.dumps(value) for key, value in meta.items()})
    onnx.checker.check_model(model)
    atomic_write(path, lambda f: f.write(model.SerializeToString()))


def _activation(act: str, z: str, x: str, k: int, dtype: npt.DTypeLike, nodes: list[onnx.NodeProto],
                inits: list[onnx.TensorProto]) -> None:
    """Append the nodes computing x = ψ^[k](z); each node is named after its output tensor."""
    from onnx import helper, numpy_helper

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> None:
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))

    def const(name: str, value: float) -> str:  # a scalar of the net's dtype
        inits.append(numpy_helper.from_array(np.asarray(value, dtype), f"{name}{k}"))
        return f"{name}{k}"

    ops = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
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
    else:
        raise ValueError(f"to_onnx: no ONNX form for activation {act!r} of layer {k}")


# ------------------------------------------------------------------------------------ torch
def to_torch(net: Network) -> nn.Sequential:
    """``net`` as a ``torch.nn.Sequential`` of ``Linear`` and activation modules holding copies
    of W^[k] and b̄^[k], in ``net.dtype``; ``module(X)`` equals ``net.predict(X)``.

    ψ^[k] becomes: identity → nothing, ``ReLU``, ``LeakyReLU(0.01)``, ``Sigmoid``, ``Tanh``,
    ``Softplus(threshold=40)`` (torch's default 20 would differ from log(1 + e^x) by 2e-9 in
    float64). The output layer of a cross-entropy loss ends in ``Softmax(dim=-1)`` or
    ``Sigmoid``, since ``predict`` returns probabilities; drop that module to train the result
    with ``nn.CrossEntropyLoss`` or ``nn.BCEWithLogitsLoss``.

    Parameters
    ----------
    net : Network
        The network; its θ is read under the read guard, as by ``to_onnx``.

    Returns
    -------
    torch.nn.Sequential
        The layers, with copies of the weights (later changes to either side do not reach the
        other).

    Raises
    ------
    ImportError
        If torch is not installed.
    """
    import torch
    from torch import nn

    modules: dict[str, Callable[[], nn.Module]] = {
        "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE), "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh, "softplus": lambda: nn.Softplus(threshold=SOFTPLUS_THRESHOLD),
        "softmax": lambda: nn.Softmax(dim=-1)}
    dtype = getattr(torch, net.dtype.name)
    layers: list[nn.Module] = []
    for (W, b), act in zip(_layers(net), net.activations):
        n_out, n_in = W.shape
        linear = nn.Linear(n_in, n_out, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if act != "identity":
            layers.append(modules[act]())
    return nn.Sequential(*layers)


def from_torch(module: nn.Sequential, *, loss: str | None = None, dtype: str | None = None) -> dict[str, Any]:
    """What ``Network.from_torch(module)`` builds: a dict of ``Network``'s arguments (sizes,
    activations, loss, dtype, parameters) for the layers and weights of ``module``, a
    ``torch.nn.Sequential``.

    ``module`` holds ``Linear`` layers, each followed by at most one activation: ``ReLU``,
    ``LeakyReLU`` with negative_slope 0.01 (fastnn's), ``Sigmoid``, ``Tanh``, ``Softplus`` with
    beta=1 and threshold ≥ 20 (torch's default; above it torch returns x, within 2e-9 of
    log(1 + e^x)), ``Identity`` or none (identity). ``Dropout`` is accepted and skipped: it is
    the identity at inference, which is what a Network computes. Anything else (another module,
    two activations in a row, an activation before the first Linear) raises ValueError naming
    the module and its position in ``module``.

    The loss, from the last activation and ``loss``:
    - ``Softmax(dim=-1)`` (or dim=1) → "cross_entropy" (loss None or "cross_entropy");
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
        ``Network``'s arguments: sizes, activations, loss, dtype and parameters (θ, a copy of
        the module's weights through float64, exactly).

    Raises
    ------
    ImportError
        If torch is not installed.
    ValueError
        If ``module`` holds a module fastnn cannot represent, layers whose widths do not chain,
        or an activation that ``loss`` does not allow (the message names the module and its
        position).
    """
    from torch import nn

    if not isinstance(module, nn.Sequential):
        raise ValueError(f"from_torch: module must be a torch.nn.Sequential of Linear layers and "
                         f"activations, got {type(module).__name__}")
    linears, acts = [], []  # acts[k-1]: ψ^[k]
    for i, m in enumerate(module):
        where = f"module [{i}] {m!r}"
        if isinstance(m, (nn.Identity, nn.Dropout)):
            continue
        if type(m) is nn.Linear:
            linears.append(m)
            acts.append("identity")
            continue
        act = _torch_activation(m, where)
        if not linears:
            raise ValueError(f"from_torch: {where} comes before the first Linear; a Network applies "
                             f"an activation only after a Linear layer")
        if acts[-1] != "identity":
            raise ValueError(f"from_torch: {where} follows another activation ({acts[-1]}) of the same "
                             f"layer; a Network has one activation per layer")
        acts[-1] = act
    if not linears:
        raise ValueError("from_torch: module has no Linear layer")
    if "softmax" in acts[:-1]:
        raise ValueError(f"from_torch: Softmax in layer {acts.index('softmax') + 1}; a Network has "
                         f"softmax only on its output, with loss='cross_entropy'")

    out = acts[-1]
    links = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
    if loss is None:
        loss = "cross_entropy" if out == "softmax" else "mse"
    if loss in links:
        if out not in ("identity", links[loss]):
            raise ValueError(f"from_torch: loss={loss!r} needs the last Linear to end in "
                             f"{links[loss]} or in no activation (logits), got {out}")
        acts[-1] = links[loss]
    elif out == "softmax":
        raise ValueError(f"from_torch: the module ends in Softmax, which only loss='cross_entropy' "
                         f"has; got loss={loss!r}")

    if dtype is None:
        dtype = str(linears[0].weight.dtype).removeprefix("torch.")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"from_torch: the module's weights are torch.{dtype}; convert it with "
                             f"module.float() or pass dtype='float32' or 'float64'")
    sizes = [linears[0].in_features] + [m.out_features for m in linears]
    for k, m in enumerate(linears[1:], start=1):
        if m.in_features != sizes[k]:
            raise ValueError(f"from_torch: Linear layer {k + 1} ({m!r}) takes {m.in_features} "
                             f"inputs but layer {k} gives {sizes[k]}")
    parts = []  # θ: W^[1], b̄^[1], ..., through float64: exact for float32 and float64 weights
    for m in linears:
        parts.append(m.weight.detach().cpu().double().numpy().ravel())
        parts.append(np.zeros(m.out_features) if m.bias is None else m.bias.detach().cpu().double().numpy())
    return {"sizes": sizes, "activations": acts, "loss": loss, "dtype": dtype,
            "parameters": np.concatenate(parts).astype(dtype)}


def _torch_activation(m: nn.Module, where: str) -> str:
    """fastnn's name for the torch activation module ``m``, or ValueError."""
    from torch import nn

    simple = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
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
    if type(m) is nn.Softmax:
        if m.dim not in (-1, 1):
            raise ValueError(f"from_torch: {where}: a Network's softmax runs over each row's "
                             f"outputs, Softmax(dim=-1); got dim={m.dim}")
        return "softmax"
    raise ValueError(f"from_torch: {where} is not supported; a Network reads Linear, ReLU, "
                     f"LeakyReLU({LEAKY_SLOPE}), Sigmoid, Tanh, Softplus, Softmax (last), Identity "
                     f"and Dropout")
