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
"""
import time

from .common import ADAM, LR, MOMENTUM, make_data, make_init

OPTIMIZER_IMPL = {"adam": {"fused": True}, "momentum": {"fused": True}, "sgd": {}}


class TorchContender:
    def __init__(self, threads):
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        self.version = f"{torch.__version__} ({threads} thread{'s' if threads > 1 else ''})"

    def setup(self, point, nc, impl=None):
        torch, nn = self.torch, self.torch.nn
        X, Y = make_data(point)
        Ws, bs = make_init(point.sizes)
        layers = []
        for W, b in zip(Ws, bs):
            lin = nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            layers += [lin, nn.ReLU()]
        self.model = nn.Sequential(*layers[:-1])
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
        self.epoch(nc)
        return [(lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy())
                for lin in layers[::2]]

    def epoch(self, ns):
        model, opt, loss_fn, X, Y, B = self.model, self.opt, self.loss, self.X, self.Y, self.batch
        ns = min(ns, self.n)
        t = time.perf_counter()
        for i in range(0, ns, B):
            loss = loss_fn(model(X[i:i + B]), Y[i:i + B])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return time.perf_counter() - t, ns
