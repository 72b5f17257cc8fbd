"""PyTorch: nn.Sequential of nn.Linear + nn.ReLU, the textbook loop (forward, loss, zero_grad,
backward, step), with 1 thread (torch-1t) and with --threads threads (torch-Nt).

Regression: loss 0.5*((y - yhat)**2).sum(1).mean(), torch.optim.SGD(lr).  Classification:
nn.CrossEntropyLoss() on the int64 labels, torch.optim.Adam(lr, betas=(0.9, 0.999), eps=1e-8)
or torch.optim.SGD(lr, momentum=0.9), both with fused=True: on CPU the fused kernels are the
fastest of the three implementations (torch 2.13, 2 cores, median of 7 interleaved epochs,
1 thread / 2 threads, ms):

                   fused          foreach        for-loop (the CPU default)
    small-adam     82.6 /  85.4   118.4 / 102.8  112.6 /  96.5   (8192 samples)
    medium-adam   235.9 / 177.9   296.7 / 234.8  301.4 / 257.9   (16384)
    mnist-adam    200.5 / 143.3   260.5 / 181.1  280.4 / 176.1   (8192)
    deep-momentum 147.1 / 164.2   163.9 / 179.8  167.7 / 185.6   (8192)

Plain SGD (regression) keeps the default implementation, as before.

bf16 points (issue 23): PyTorch's automatic mixed precision on the CPU, as its recipe writes
it: the forward pass and the loss under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (every
nn.Linear runs in bf16 from float32 master weights, which the optimizer steps in float32), the
loss taken on the float32 output, backward and step outside (no gradient scaler: bf16 has
float32's range).

Layer points (issue 19): each hidden layer is nn.Sequential(Linear, LayerNorm(n_k) or
BatchNorm1d(n_k) (eps 1e-5, momentum 0.1), ReLU, Dropout(p)), fastnn's order (post-norm), the
modules a point does not use left out; where the layer has a skip it is wrapped in ``Residual``
(x + block(x)).  The model is in train mode (model.train()) throughout, as in a training loop.
A point with dropout is checked on a twin model with no Dropout modules (the libraries' masks
differ); the timed model is then built afresh and warmed up on the same samples.
"""
import contextlib
import functools
import time

from .common import ADAM, BN_MOMENTUM, EPS, LR, MOMENTUM, make_data, make_init


@functools.cache
def residual_module(nn):
    """The residual block module: x + block(x), the identity skip around a hidden layer."""

    class Residual(nn.Module):
        def __init__(self, block):
            super().__init__()
            self.block = block

        def forward(self, x):
            return x + self.block(x)

    return Residual

OPTIMIZER_IMPL = {"adam": {"fused": True}, "momentum": {"fused": True}, "sgd": {}}


class TorchContender:
    def __init__(self, threads):
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        self.version = f"{torch.__version__} ({threads} thread{'s' if threads > 1 else ''})"

    def _linear(self, W, b):
        torch = self.torch
        lin = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        return lin

    def _layers_model(self, point, dropout):
        """The layer point's model: Linear → norm → ReLU → Dropout (→ skip) per hidden layer,
        Linear out.  Sets self.linears, self.norms (the norm modules) for the check."""
        nn = self.torch.nn
        Ws, bs = make_init(point.sizes)
        skips = point.skips()
        self.linears, self.norms, blocks = [], [], []
        for k, (W, b) in enumerate(zip(Ws, bs)):
            lin = self._linear(W, b)
            self.linears.append(lin)
            if k == len(Ws) - 1:
                blocks.append(lin)
                break
            body = [lin]
            if point.norm:
                n = W.shape[0]
                norm = (nn.LayerNorm(n, eps=EPS) if point.norm == "layer"
                        else nn.BatchNorm1d(n, eps=EPS, momentum=BN_MOMENTUM))
                self.norms.append(norm)
                body.append(norm)
            body.append(nn.ReLU())
            if dropout:
                body.append(nn.Dropout(dropout))
            block = nn.Sequential(*body)
            blocks.append(residual_module(nn)(block) if skips[k] else block)
        return nn.Sequential(*blocks)

    def _export(self):
        """The check's pairs, in common.init_pairs' order."""
        def np_(t):
            return t.detach().numpy().copy()

        pairs = [(np_(lin.weight), np_(lin.bias)) for lin in self.linears]
        pairs += [(np_(m.weight), np_(m.bias)) for m in self.norms]
        pairs += [(np_(m.running_mean), np_(m.running_var)) for m in self.norms
                  if isinstance(m, self.torch.nn.BatchNorm1d)]
        return pairs

    def setup(self, point, nc, impl=None):
        if point.layers:
            if point.dropout:  # the check: a twin without dropout
                self._setup(point, nc, impl, dropout=0.0)
                out = self._export()
            self._setup(point, nc, impl)
            return out if point.dropout else self._export()
        return self._setup(point, nc, impl)

    def _setup(self, point, nc, impl=None, dropout=None):
        torch, nn = self.torch, self.torch.nn
        X, Y = make_data(point)
        if point.layers:
            self.model = self._layers_model(point, point.dropout if dropout is None else dropout)
            self.model.train()
        else:
            layers = []
            for W, b in zip(*make_init(point.sizes)):
                layers += [self._linear(W, b), nn.ReLU()]
            self.model = nn.Sequential(*layers[:-1])
            self.linears, self.norms = layers[::2], []
        impl = OPTIMIZER_IMPL[point.opt] if impl is None else impl
        if point.opt == "adam":
            self.opt = torch.optim.Adam(self.model.parameters(), lr=LR,
                                        betas=(ADAM["b1"], ADAM["b2"]), eps=ADAM["eps"], **impl)
        else:
            mu = MOMENTUM if point.opt == "momentum" else 0.0
            self.opt = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=mu, **impl)
        if point.classify:
            self.loss = nn.CrossEntropyLoss()
        else:
            self.loss = lambda out, y: 0.5 * ((y - out) ** 2).sum(1).mean()
        self.X, self.Y = torch.from_numpy(X), torch.from_numpy(Y)
        self.n, self.batch = point.n, point.batch
        self.bf16 = point.precision == "bf16"
        self.epoch(nc)
        return self._export()

    def epoch(self, ns):
        model, opt, loss_fn, X, Y, B = self.model, self.opt, self.loss, self.X, self.Y, self.batch
        ns = min(ns, self.n)
        # bf16: the forward pass under autocast, the loss on its float32 output (float32: the
        # model's output is float32 already, and .float() returns it as it is)
        autocast = (functools.partial(self.torch.autocast, "cpu", dtype=self.torch.bfloat16) if self.bf16
                    else contextlib.nullcontext)
        t = time.perf_counter()
        for i in range(0, ns, B):
            with autocast():
                out = model(X[i:i + B])
            loss = loss_fn(out.float(), Y[i:i + B])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return time.perf_counter() - t, ns
