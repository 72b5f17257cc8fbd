"""fastnn: the call ``Network.fit`` itself is timed, including its input validation.

Regression: ``Network(sizes, dtype="float32", seed=0).fit(X, Y, epochs=1, batch_size=B, lr=LR,
shuffle=False)``.  Classification: ``Network(sizes, loss="cross_entropy", ...)`` fitted on the
int labels (one-hot float32 rows measured no faster) with ``optimizer=fastnn.Adam(lr=LR)`` or
``fastnn.SGD(lr=LR, momentum=0.9)``; the same optimizer object is passed to every fit, so its
state (Adam's moments and step count) carries on from round to round, as the peers' optimizers
do.  The ``fastnn-sgd`` contender is the same net with plain SGD (``optimizer="sgd"``): the
baseline of the opt/SGD ratio.  fastnn accumulates the epoch's loss (its history); the peers do
not, which costs fastnn a little.
bf16 points (issue 23): ``Network(..., precision="bf16")``; the ``fastnn-f32`` contender trains
the same point in float32 (the baseline of the bf16 speed-up, not a peer).
The ``fastnn-1t`` contender passes ``threads=1`` to fit (one thread; fit holds BLAS to one
thread too): the speed fastnn must never fall below on a loaded machine (issue 13).

Layer points (issue 19): ``Network(sizes, norm=..., dropout=..., residual=True, ...)`` with the
point's options (common.layer_kwargs), fitted as above.  Dropout's masks differ between
libraries, so a point with dropout is checked on a twin net with dropout 0 (trained on the
first nc samples, then dropped); the timed net with dropout then gets its own warm-up.  The
check returns the weights and biases, then γ, β of each normalized layer, then batch norm's
running means and variances (common.init_pairs' order).  The ``fastnn-plain`` contender trains
the same sizes, loss and optimizer without the options (the baseline of the options/plain
ratio: what the options cost fastnn).
"""
import time

import numpy as np

from .common import LR, MOMENTUM, fastnn_net, layer_kwargs, make_data


class FastnnContender:
    def __init__(self, threads, opt=None, fit_threads=None, plain=False, precision=None):
        import fastnn

        self.fastnn = fastnn
        self.opt = opt  # None: the point's optimizer
        self.plain = plain  # True: the layer point's net without its options
        self.precision = precision  # None: the point's
        self.threads = {} if fit_threads is None else {"threads": fit_threads}
        self.version = getattr(fastnn, "__version__", "?") + (
            f" (fit threads={fit_threads})" if fit_threads else "")

    def _optimizer(self, opt):
        if opt == "adam":
            return {"optimizer": self.fastnn.Adam(lr=LR)}  # defaults: betas 0.9/0.999, eps 1e-8
        if opt == "momentum":
            return {"optimizer": self.fastnn.SGD(lr=LR, momentum=MOMENTUM)}
        return {"optimizer": "sgd", "lr": LR}

    def setup(self, point, nc):
        if self.plain:
            self.plain = False
            try:
                self.setup(point.plain(), nc)
            finally:
                self.plain = True
            return None  # not the point's net: nothing to check against
        self.X, self.Y = make_data(point)
        self.batch = point.batch
        precision = self.precision or point.precision
        kw = {} if precision == "float32" else {"precision": precision}  # (checkouts before it)
        if point.layers:
            if point.dropout:  # the check: a twin without dropout
                self.net = fastnn_net(point.sizes, **layer_kwargs(point, 0.0))
                self.fit_kw = self._optimizer(self.opt or point.opt)
                self.epoch(nc)
                out = self._export()
            self.net = fastnn_net(point.sizes, **layer_kwargs(point))
            self.fit_kw = self._optimizer(self.opt or point.opt)  # a fresh optimizer state
            self.epoch(nc)
            return out if point.dropout else self._export()
        if point.classify:
            self.net = fastnn_net(point.sizes, loss="cross_entropy", **kw)
            self.fit_kw = self._optimizer(self.opt or point.opt)
        else:  # the call that works with every version of fit
            self.net = fastnn_net(point.sizes, **kw)
            self.fit_kw = {"lr": LR}
        self.epoch(nc)
        if self.opt not in (None, point.opt):
            return None  # not the point's optimizer: nothing to check against
        return [(np.array(W), np.array(b)) for W, b in zip(self.net.weights, self.net.biases)]

    def _export(self):
        """The check's pairs, in common.init_pairs' order."""
        net = self.net
        pairs = [(np.array(W), np.array(b)) for W, b in zip(net.weights, net.biases)]
        pairs += [(np.array(g), np.array(s)) for g, s in zip(net.norm_scales, net.norm_shifts)
                  if g is not None]
        if any(n == "batch" for n in net.norm):
            pairs += [(np.array(m), np.array(v)) for m, v in zip(net.running_means,
                                                                 net.running_vars)
                      if m is not None]
        return pairs

    def epoch(self, ns):
        X, Y = (self.X, self.Y) if ns >= len(self.X) else (self.X[:ns], self.Y[:ns])
        t = time.perf_counter()
        self.net.fit(X, Y, epochs=1, batch_size=self.batch, shuffle=False, **self.fit_kw,
                     **self.threads)
        return time.perf_counter() - t, len(X)
