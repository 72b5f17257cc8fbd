"""Training speed per loss × optimizer: one epoch of ``Network.fit`` for every entry of
``fastnn.LOSSES`` and ``fastnn.OPTIMIZERS`` (plus SGD with momentum 0.9), on a small and a
medium net."""
import functools
import inspect

from .common import LR, Network, fastnn, fresh_net, loss_targets, mlp_sizes, require

LOSSES = list(getattr(fastnn, "LOSSES", None) or ["mse", "cross_entropy", "binary_cross_entropy"])
OPTIMIZERS = list(getattr(fastnn, "OPTIMIZERS", None) or ["sgd", "adam", "adamw", "rmsprop"])
OPTIMIZERS.insert(OPTIMIZERS.index("sgd") + 1 if "sgd" in OPTIMIZERS else 0, "momentum")
NETS = {"small": mlp_sizes(2, 32), "medium": mlp_sizes(2, 256)}


def optimizer(name):
    """A new optimizer object with lr = LR: ``fastnn.OPTIMIZERS[name]``, or for "momentum"
    ``fastnn.SGD(momentum=0.9)``. NotImplementedError (asv: skipped) if the commit lacks it."""
    table = getattr(fastnn, "OPTIMIZERS", None)
    if not table or "optimizer" not in inspect.signature(Network.fit).parameters:
        raise NotImplementedError("fit has no optimizer argument at this commit")
    if name == "momentum":
        return table["sgd"](lr=LR, momentum=0.9)
    if name not in table:
        raise NotImplementedError(f"no optimizer {name!r} at this commit")
    return table[name](lr=LR)


@functools.cache
def warm_fit(loss, opt, net):
    """Compile, or load from Numba's cache, what fit reaches for this loss and optimizer, on a
    tiny net; then two batches on the timed net, whose first fit pays ~15 ms more (first BLAS
    calls at its widths, first touch of its buffers)."""
    for sizes, rows, batch in ((mlp_sizes(2, 8), 8, 4), (NETS[net], 64, 32)):
        X, T = loss_targets(loss, rows, "float32")
        fresh_net(sizes, "float32", loss).fit(X, T, epochs=1, batch_size=batch,
                                              optimizer=optimizer(opt), seed=0)


class LossOptimizerEpoch:
    """One epoch over 1024 float32 rows at batch 32, shuffled, from the same seeded weights
    and a new optimizer object on every call (so the timed fit includes allocating the
    optimizer's state, two or three parameter-sized buffers at most). Targets: ``mse`` the
    regression Y, ``cross_entropy`` int labels, ``binary_cross_entropy`` a 0/1 matrix."""

    params = [LOSSES, OPTIMIZERS, list(NETS)]
    param_names = ["loss", "optimizer", "net"]
    number = 1  # setup (which resets the weights and the optimizer) runs before every epoch

    def setup(self, loss, opt, net):
        require("fit")
        if loss not in (getattr(fastnn, "LOSSES", None) or {}):
            raise NotImplementedError(f"no loss {loss!r} at this commit")
        warm_fit(loss, opt, net)
        self.X, self.T = loss_targets(loss, 1024, "float32")
        self.net = fresh_net(NETS[net], "float32", loss)
        self.opt = optimizer(opt)

    def time_fit_epoch(self, loss, opt, net):
        self.net.fit(self.X, self.T, epochs=1, batch_size=32, optimizer=self.opt, seed=0)
