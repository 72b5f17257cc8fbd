"""What every contender shares: the grid points, data, initial parameters, thread caps, formatting.

A grid point is a ``Point``: the net (``sizes``, ReLU hidden layers, float32), the batch, the
number of samples N (a multiple of the batch, so there is no partial last batch), the loss and
the optimizer.  Regression points train ½‖y − ŷ‖² (identity output) with plain SGD;
classification points train softmax cross-entropy, −Σ y log softmax(z), with Adam or SGD with
momentum.  Every loss is the mean over the batch, every update uses lr = LR.

The points of the ``layers`` workload (issue 19) add, in every hidden layer k, a normalization
(``norm``: "layer" as torch's nn.LayerNorm(n_k), "batch" as nn.BatchNorm1d(n_k); eps 1e-5,
batch norm's momentum 0.1, γ = 1 and β = 0 at the start), dropout with rate ``dropout`` (training
only) and, with ``residual``, the identity skip wherever n_k = n_{k-1} (not the first hidden
layer of a net whose input width differs).  The order inside a hidden layer is fastnn's:
Linear → norm → ReLU → dropout → skip (post-norm); the output layer stays Linear (→ softmax in
the loss).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import NamedTuple

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LR = 1e-3
ADAM = dict(b1=0.9, b2=0.999, eps=1e-8)  # Adam's betas and eps, as every peer spells them
MOMENTUM = 0.9  # heavy ball, dampening 0, not Nesterov: v <- mu*v + g; theta <- theta - lr*v


class Point(NamedTuple):
    name: str
    sizes: list
    batch: int
    n: int
    loss: str = "mse"  # "mse" (1/2||y - yhat||^2) or "ce" (softmax cross-entropy)
    opt: str = "sgd"  # "sgd", "momentum" or "adam"
    norm: str | None = None  # None, "layer" or "batch", in every hidden layer
    dropout: float = 0.0  # dropout rate of every hidden layer (training only)
    residual: bool = False  # identity skips wherever a hidden layer's width equals its input's
    precision: str = "float32"  # "bf16": mixed precision (issue 23), a table of its own

    @property
    def classify(self):
        return self.loss == "ce"

    @property
    def layers(self):
        """True if the net has any of issue 19's options (norm, dropout, residual)."""
        return bool(self.norm or self.dropout or self.residual)

    @property
    def workload(self):
        if self.precision == "bf16":
            return "bf16"
        return "layers" if self.layers else "classify" if self.classify else "regress"

    @property
    def options(self):
        """The options as a short label, e.g. "LN+drop0.1+res" ("plain" without any)."""
        parts = ([{"layer": "LN", "batch": "BN"}[self.norm]] if self.norm else []) + (
            [f"drop{self.dropout:g}"] if self.dropout else []) + (["res"] if self.residual else [])
        return "+".join(parts) or "plain"

    @property
    def label(self):
        return f"{'CE' if self.classify else 'MSE'}+{self.opt}" + (
            f", {self.options}" if self.layers else "")

    def skips(self):
        """Per hidden layer k = 1..K-1: whether it has the identity skip."""
        s = self.sizes
        return [self.residual and s[k] == s[k - 1] for k in range(1, len(s) - 1)]

    def plain(self):
        """The same point without the layer options (the memory baseline)."""
        return self._replace(name=self.name + "-plain", norm=None, dropout=0.0, residual=False)


# N aims at fastnn epochs of ~10-500 ms on 2 cores.  Peers that would need far longer (PyTorch
# at batch 1 manages ~1e3-1e4 samples/s) are timed on a prefix of the epoch (bench_point);
# `large` uses 2048 rather than 8192 samples to keep the default run near 10 minutes.
REGRESS = [
    Point("seed-b1", [2, 2, 1], 1, 262144),
    Point("seed-b32", [2, 2, 1], 32, 1048576),
    Point("small", [8, 32, 32, 1], 32, 65536),
    Point("medium", [64, 256, 256, 10], 64, 16384),
    Point("mnist", [784, 512, 256, 10], 128, 8192),
    Point("deep", [16] + [64] * 8 + [1], 32, 32768),
    Point("large", [784, 2048, 2048, 10], 256, 2048),
]
CLASSIFY = [
    Point("small-adam", [8, 32, 32, 4], 32, 65536, "ce", "adam"),
    Point("medium-adam", [64, 256, 256, 10], 64, 16384, "ce", "adam"),
    Point("mnist-adam", [784, 512, 256, 10], 128, 8192, "ce", "adam"),
    Point("deep-momentum", [16] + [64] * 8 + [4], 32, 32768, "ce", "momentum"),
]
# Issue 19's deep-net workloads.  `dropout` is mnist-adam's data, loss and optimizer on a wider
# net; `resnet-*` are the residual MLPs of tabular deep learning (8 hidden layers of 256; the
# first maps 64 -> 256 and has no skip); `deep-res-ln` is `deep`'s regression problem (MSE) 32
# hidden layers deep, with skips and layer norm, trained with Adam: with plain SGD at lr 1e-3 it
# diverges in every library (the skips add up 31 non-negative ReLU outputs, so the first loss
# is ~230; PyTorch's loss is 3e13 after 4 batches, fastnn stops with a DivergedError).
LAYERS = [
    Point("dropout", [784, 512, 512, 512, 10], 128, 8192, "ce", "adam", dropout=0.1),
    Point("resnet-ln", [64] + [256] * 8 + [10], 128, 8192, "ce", "adam", "layer", 0.1, True),
    Point("resnet-bn", [64] + [256] * 8 + [10], 128, 8192, "ce", "adam", "batch", 0.1, True),
    Point("deep-res-ln", [16] + [64] * 32 + [1], 32, 16384, "mse", "adam", "layer", 0.0, True),
]
# Issue 23's mixed precision: bf16 products with float32 master weights, against PyTorch's bf16
# autocast (torch_peer.py), with fastnn's float32 epoch beside it (fastnn-f32, not a peer). The
# issue's points (mnist, large: MSE + SGD, as it measured them), mnist with CE + Adam, and two
# wider nets, where the products are nearly all of the work.
BF16 = [
    Point("mnist-bf16", [784, 512, 256, 10], 128, 8192, precision="bf16"),
    Point("mnist-adam-bf16", [784, 512, 256, 10], 128, 8192, "ce", "adam", precision="bf16"),
    Point("large-bf16", [784, 2048, 2048, 10], 256, 2048, precision="bf16"),
    Point("wide-bf16", [1024, 4096, 4096, 10], 256, 1024, precision="bf16"),
    Point("tall-bf16", [256] + [1024] * 4 + [10], 512, 4096, precision="bf16"),
]
# The plain grid: what bench_ab.py A/Bs across checkouts (some predate the layer options).
WORKLOADS = {"regress": REGRESS, "classify": CLASSIFY}
ALL_WORKLOADS = {**WORKLOADS, "layers": LAYERS, "bf16": BF16}
EPS = 1e-5  # layer and batch norm's eps, as torch's defaults
BN_MOMENTUM = 0.1  # running <- (1 - m) running + m batch statistic (variance: unbiased)


def machine_line():
    """The CPU's model name and the GEMM library fastnn's products run on here (fastnn's table
    per CPU, or FASTNN_GEMM): every figure a run prints belongs to both."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    from fastnn import gemm_library

    return f"CPU: {model}; fastnn's GEMM library: {gemm_library()}"


def make_data(point):
    """Deterministic float32 inputs and targets, the same in every process: (X, Y) for a
    regression point, (X, labels) for a classification point, labels (N,) int64 in
    [0, n_K) = argmax of a fixed random linear map of X."""
    import numpy as np

    sizes, n = point.sizes, point.n
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    if not point.classify:
        return X, rng.standard_normal((n, sizes[-1]), dtype=np.float32)
    A = np.random.default_rng(3).standard_normal((sizes[0], sizes[-1]), dtype=np.float32)
    return X, np.argmax(X @ A, axis=1).astype(np.int64)


def one_hot(labels, n_classes):
    import numpy as np

    return np.eye(n_classes, dtype=np.float32)[labels]


def make_init(sizes):
    """Common initial parameters: He-normal for ReLU layers, Glorot-normal for the output."""
    import numpy as np

    rng = np.random.default_rng(1)
    Ws, bs = [], []
    K = len(sizes) - 1
    for k in range(1, K + 1):
        fan_in, fan_out = sizes[k - 1], sizes[k]
        std = np.sqrt(2.0 / fan_in) if k < K else np.sqrt(2.0 / (fan_in + fan_out))
        Ws.append((rng.standard_normal((fan_out, fan_in)) * std).astype(np.float32))
        bs.append(np.zeros(fan_out, np.float32))
    return Ws, bs


def init_pairs(point):
    """The parameters and state a contender's check returns, at their initial values, as pairs:
    (W^[k], b^[k]) for k = 1..K (make_init), then (γ^[k], β^[k]) = (1, 0) for every normalized
    hidden layer, then (running mean, running variance) = (0, 1) for every batch-norm layer.

    None marks an array the check leaves out: under batch norm, the hidden biases b^[k] (batch
    norm subtracts them again, so their gradient is 0 up to float32 rounding, and Adam turns
    that rounding noise into steps of up to lr: after 4 batches every library's b^[k] differs
    from every other's by O(1) relative) and so the running means, which carry them."""
    import numpy as np

    pairs = list(zip(*make_init(point.sizes)))
    hidden = point.sizes[1:-1]
    if point.norm == "batch":
        pairs = [(W, None) for W, _ in pairs[:-1]] + pairs[-1:]
    if point.norm:
        pairs += [(np.ones(n, np.float32), np.zeros(n, np.float32)) for n in hidden]
    if point.norm == "batch":
        pairs += [(None, np.ones(n, np.float32)) for n in hidden]
    return pairs


def layer_kwargs(point, dropout=None):
    """fastnn.Network's keyword arguments for the point's loss and layer options (``dropout``
    overrides the point's rate; only options that are set are passed, so that a checkout that
    predates them still builds the plain points)."""
    kw = {"loss": "cross_entropy"} if point.classify else {}
    dropout = point.dropout if dropout is None else dropout
    if point.norm:
        kw["norm"] = point.norm
    if dropout:
        kw["dropout"] = dropout
    if point.residual:
        kw["residual"] = True
    return kw


def fastnn_net(sizes, **kwargs):
    """A float32 ``fastnn.Network(sizes, **kwargs)`` holding the parameters of make_init (and
    its own initial γ = 1, β = 0 where a layer has a norm)."""
    import numpy as np

    import fastnn

    net = fastnn.Network(sizes, dtype="float32", seed=0, **kwargs)
    if not hasattr(net, "set_parameters"):  # a checkout before the parameter API (bench_ab.py)
        for W, b, W0, b0 in zip(net.weights, net.biases, *make_init(sizes)):
            W[...], b[...] = W0, b0
        return net
    theta = np.array(net.parameters, np.float32)  # a copy, with the norms' γ and β
    for W, b, W0, b0 in zip(*net.unpack(theta), *make_init(sizes)):
        W[...], b[...] = W0, b0
    net.set_parameters(theta)
    return net


def torch_threads(name):
    """3 for the contender name "torch-3t", else None."""
    if name.startswith("torch-") and name.endswith("t") and name[6:-1].isdigit():
        return int(name[6:-1])
    return None


def n_params(sizes):
    return sum(sizes[k] * sizes[k - 1] + sizes[k] for k in range(1, len(sizes)))


def thread_env(threads):
    """Environment that caps every thread pool at `threads` (set BEFORE numpy/torch/jax load)."""
    env = {var: str(threads) for var in (
        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "FASTNN_NUM_THREADS")}
    env["JAX_PLATFORMS"] = "cpu"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    if threads < (os.cpu_count() or 1):
        flags = os.environ.get("XLA_FLAGS", "")
        extra = f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={threads}"
        env["XLA_FLAGS"] = (flags + " " + extra).strip()
    return env


def run_python(code, env, timeout):
    """Run ``python -c code`` in the repository; (the JSON it printed after "@@", "") if it
    succeeded, else (None, its stderr)."""
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        return None, p.stderr.strip() or "?"
    return next(json.loads(ln[2:]) for ln in p.stdout.splitlines() if ln.startswith("@@")), ""


def fmt_rate(x):
    if x is None:
        return "n/a"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


def fmt_bytes(b):
    if b is None:
        return "n/a"
    sign = "-" if b < 0 else ""
    b = abs(b)
    for unit, div in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= div:
            return f"{sign}{b / div:.2f} {unit}"
    return f"{sign}{b:.0f} B"


def fmt_num(x, spec=".2f", suffix=""):
    return "n/a" if x is None else f"{x:{spec}}{suffix}"


def indent(s, pre="    "):
    return "\n".join(pre + line for line in str(s).rstrip().splitlines())
