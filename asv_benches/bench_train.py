"""Training speed: one epoch of ``Network.fit`` over depth × width × batch × dtype."""
import inspect

import numpy as np

from .common import LR, Network, fresh_net, mlp_sizes, regression_data, require, warm_jit


class TrainEpoch:
    """One epoch of minibatch SGD with shuffling, from the same seeded weights on every call.

    The data set has N rows, chosen from the parameters alone so that every epoch stays short:
    about 2^27 multiply-adds per epoch (2^23 for batch 1, which runs matrix-vector products),
    rounded down to a power of two and kept within [max(batch, 16), 2048]. Times are per epoch
    of that N, so compare one grid point across commits, not grid points with each other.
    """

    params = [[1, 2, 4, 8, 16], [16, 128, 512], [1, 32, 256], ["float32", "float64"]]
    param_names = ["depth", "width", "batch", "dtype"]
    number = 1  # setup (which resets the weights) runs before every timed epoch

    def setup(self, depth, width, batch, dtype):
        require("fit")
        warm_jit(dtype)
        sizes = mlp_sizes(depth, width)
        macs = sum(a * b for a, b in zip(sizes, sizes[1:]))  # per sample, forward pass
        work = 2**23 if batch == 1 else 2**27
        n = 2 ** int(np.log2(max(work // macs, 1)))
        self.X, self.Y = regression_data(min(2048, max(n, batch, 16)), dtype)
        self.net = fresh_net(sizes, dtype)

    def time_fit_epoch(self, depth, width, batch, dtype):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=batch, lr=LR, seed=0)


class ThreadedTrainEpoch:
    """One epoch of ``fit(threads=2)``: the batch split by rows ([16]+[64]*8+[1] at B = 32) and
    every product split by columns ([784, 512, 256, 10] at B = 128; "columns-wide":
    [784, 2048, 2048, 10] at B = 256, the grid's point furthest behind JAX), shuffled, float32.

    The rest of the suite runs single-threaded; this tracks the threaded kernels, whose
    speed also depends on how busy the machine's second core is (compare ratios, not times).
    """

    params = [["rows", "columns", "columns-wide"]]
    param_names = ["split"]
    number = 1

    def setup(self, split):
        require("fit")
        if "threads" not in inspect.signature(Network.fit).parameters:
            raise NotImplementedError("fit has no threads argument at this commit")
        warm_jit("float32")
        sizes, self.batch = {"rows": ([16] + [64] * 8 + [1], 32), "columns": ([784, 512, 256, 10], 128),
                             "columns-wide": ([784, 2048, 2048, 10], 256)}[split]
        self.X, self.Y = regression_data(2048, "float32", n_in=sizes[0], n_out=sizes[-1])
        self.net = fresh_net(sizes, "float32")
        self.net.fit(self.X[:256], self.Y[:256], epochs=1, batch_size=self.batch, lr=LR, threads=2)
        self.net = fresh_net(sizes, "float32")

    def time_fit_epoch(self, split):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=self.batch, lr=LR, seed=0, threads=2)


class ShortCalls:
    """One call on one row (N = 1), float32: the fixed cost of ``fit(epochs=1, batch_size=1)``
    and of ``predict`` (issue 13's targets: fit <= 10 µs, predict <= 5 µs), on the seed net
    [2,2,1] (the unrolled path) and on [8,32,32,1]. The weights move from call to call; a
    call's cost does not depend on them. ``scripts/bench_peers.py --short-calls`` times the same
    calls beside a PyTorch and a JAX step.
    """

    params = [["seed", "small"]]
    param_names = ["net"]

    def setup(self, net):
        require("fit", "predict")
        warm_jit("float32")
        sizes = {"seed": [2, 2, 1], "small": [8, 32, 32, 1]}[net]
        self.X, self.Y = regression_data(1, "float32", n_in=sizes[0], n_out=sizes[-1])
        self.net = fresh_net(sizes, "float32")
        self.net.fit(self.X, self.Y, epochs=1, batch_size=1, lr=LR)  # compiles or loads its path
        self.net.predict(self.X)

    def time_fit_one_row(self, net):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=1, lr=LR)

    def time_predict_one_row(self, net):
        self.net.predict(self.X)


class MixedPrecisionEpoch:
    """One epoch of ``Network(precision=...)`` on [784, 2048, 2048, 10] at B = 256 (issue 23's
    `large`), 512 rows, shuffled, one thread: bf16 products against the float32 epoch. Skipped
    where bf16 cannot run (no AVX512_BF16/AMX-BF16, no bf16 library) or at commits before it."""

    params = [["float32", "bf16"]]
    param_names = ["precision"]
    number = 1

    def setup(self, precision):
        require("fit")
        if "precision" not in inspect.signature(Network.__init__).parameters:
            raise NotImplementedError("Network has no precision argument at this commit")
        import fastnn

        if precision == "bf16" and fastnn.bf16_missing():
            raise NotImplementedError(fastnn.bf16_missing())
        warm_jit("float32")
        sizes = [784, 2048, 2048, 10]
        self.X, self.Y = regression_data(512, "float32", n_in=sizes[0], n_out=sizes[-1])
        self.net = fresh_net(sizes, "float32")
        self.net.precision = precision
        self.net.fit(self.X[:256], self.Y[:256], epochs=1, batch_size=256, lr=LR, threads=1)  # (compiles)

    def time_fit_epoch(self, precision):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=256, lr=LR, seed=0, threads=1)


class GemmLibraryEpoch:
    """One epoch of mnist's net [784, 512, 256, 10] at B = 128, 1,024 rows, one thread, on each
    GEMM library the kernels can call (issue 22: SciPy's OpenBLAS or Intel MKL, chosen per CPU;
    ``fastnn.gemm_library()``). Skipped where MKL is missing or at commits before the choice."""

    params = [["openblas", "mkl"]]
    param_names = ["library"]
    number = 1

    def setup(self, library):
        require("fit")
        from fastnn import _blas

        if not hasattr(_blas, "use_gemm"):
            raise NotImplementedError("no GEMM library choice at this commit")
        try:
            self.before = _blas.use_gemm(library)
        except OSError as e:
            raise NotImplementedError(str(e)) from None
        warm_jit("float32")
        sizes = [784, 512, 256, 10]
        self.X, self.Y = regression_data(1024, "float32", n_in=sizes[0], n_out=sizes[-1])
        self.net = fresh_net(sizes, "float32")
        self.net.fit(self.X[:128], self.Y[:128], epochs=1, batch_size=128, lr=LR, threads=1)  # (compiles)

    def teardown(self, library):
        from fastnn import _blas

        if hasattr(self, "before"):
            _blas.use_gemm(self.before)

    def time_fit_epoch(self, library):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=128, lr=LR, seed=0, threads=1)

