"""Issue 19's hidden-layer options: one epoch of ``fit`` and one ``predict`` call on a net with
layer norm, batch norm, dropout, residual connections or all of these, beside the same net
without them, float32.

``scripts/bench_peers.py --workload layers`` times larger nets with these options against
PyTorch and JAX.
"""
import functools
import inspect

from .common import LR, Network, mlp_sizes, regression_data, require

SIZES = mlp_sizes(4, 64)  # [32, 64, 64, 64, 64, 4]: the first hidden layer has no skip
ROWS, BATCH = 1024, 32
OPTIONS = {  # Network keyword arguments per benchmarked variant
    "plain": {},
    "layer": {"norm": "layer"},
    "batch": {"norm": "batch"},
    "dropout": {"dropout": 0.1},
    "residual": {"residual": True},
    "all": {"norm": "layer", "dropout": 0.1, "residual": True},
}


def require_options():
    """NotImplementedError (asv: skipped) at commits whose Network has no norm/dropout/residual."""
    require("fit", "predict")
    if not {"norm", "dropout", "residual"} <= set(inspect.signature(Network).parameters):
        raise NotImplementedError("Network has no norm, dropout or residual at this commit")


@functools.cache
def _net(option):
    """The network of ``option``, trained for two batches (compiles or loads its kernels, sizes
    its buffers), and its state then (θ and batch norm's running statistics) to restore."""
    X, Y = regression_data(ROWS, "float32")
    net = Network(SIZES, dtype="float32", seed=0, **OPTIONS[option])
    net.fit(X[: 2 * BATCH], Y[: 2 * BATCH], epochs=1, batch_size=BATCH, lr=LR, seed=0)
    net.predict(X[:BATCH])
    return net, net.snapshot()


def net_for(option):
    """The network of ``option`` in the same state before every timed call."""
    net, state = _net(option)
    net.restore(state)
    return net


class LayersEpoch:
    """One epoch of SGD over 1024 rows at batch 32, shuffled (fit's default), from the same
    state every time; the options' cost = its time over the "plain" line's."""

    params = [list(OPTIONS)]
    param_names = ["option"]
    number = 1  # setup (which restores the state) runs before every timed epoch

    def setup(self, option):
        require_options()
        self.X, self.Y = regression_data(ROWS, "float32")
        self.net = net_for(option)

    def time_fit_epoch(self, option):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=BATCH, lr=LR, seed=0)

    def peakmem_fit_epoch(self, option):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=BATCH, lr=LR, seed=0)


class LayersPredict:
    """``predict`` on 10,000 rows in eval mode (no dropout; batch norm with its running
    statistics)."""

    params = [list(OPTIONS)]
    param_names = ["option"]

    def setup(self, option):
        require_options()
        self.X, _ = regression_data(10_000, "float32")
        self.net = net_for(option)

    def time_predict(self, option):
        self.net.predict(self.X)
