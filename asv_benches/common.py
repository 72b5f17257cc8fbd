"""Helpers shared by the bench_*.py files: the guarded import, cached data and networks, warm-up.

Each benchmark's setup() starts with ``require(...)``, so a commit that predates a feature (or the
package itself) shows the benchmark as skipped (n/a) rather than failed.
"""
import functools

import numpy as np

try:
    import fastnn
    from fastnn import Network
except ImportError:  # commits before the package existed
    fastnn = Network = None

N_IN, N_OUT = 32, 4  # features and targets of the synthetic regression problem
LR = 1e-3  # SGD step of the timing benchmarks: small enough that no grid point diverges


def require(*methods):
    """Raise NotImplementedError (asv: skipped) unless fastnn imports and has these methods."""
    if Network is None:
        raise NotImplementedError("fastnn is not importable at this commit")
    for name in methods:
        if not hasattr(Network, name):
            raise NotImplementedError(f"Network.{name} does not exist at this commit")


@functools.cache
def regression_data(n_samples, dtype, n_in=N_IN, n_out=N_OUT):
    """(X, Y): X uniform in [-1, 1]^n_in, Y a kinked piecewise-linear map of X plus noise.

    Deterministic in its arguments (the same map A for every n_samples) and cached per process:
    callers share the arrays and must not modify them.
    """
    A = np.random.default_rng([n_in, n_out]).standard_normal((n_in, n_out)) / np.sqrt(n_in)
    rng = np.random.default_rng(n_samples)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, n_in))
    Z = X @ A
    Y = np.abs(Z + 0.5) - 2.0 * np.maximum(Z - 0.2, 0.0) + 0.3
    Y += 0.02 * rng.standard_normal(Y.shape)
    return X.astype(dtype, copy=False), Y.astype(dtype, copy=False)


def mlp_sizes(depth, width, n_in=N_IN, n_out=N_OUT):
    """[n_0, n_1, ..., n_K] for ``depth`` hidden layers of ``width`` units."""
    return [n_in] + [width] * depth + [n_out]


@functools.cache
def loss_targets(loss, n_samples, dtype, n_in=N_IN, n_out=N_OUT):
    """(X, T) for ``loss``: regression_data's X, and for T its Y ("mse"), int labels (N,) =
    argmax of Y ("cross_entropy") or the 0/1 matrix Y > median of its column (otherwise)."""
    X, Y = regression_data(n_samples, dtype, n_in, n_out)
    if loss == "mse":
        return X, Y
    if loss == "cross_entropy":
        return X, np.argmax(Y, axis=1)
    return X, (Y > np.median(Y, axis=0)).astype(dtype)


@functools.cache
def _seeded_net(sizes, dtype, loss=None):
    """The network and a function that puts its initial parameters back."""
    kw = {} if loss is None else {"loss": loss}  # commits before losses: no loss argument
    net = Network(list(sizes), dtype=dtype, seed=0, **kw)
    if hasattr(net, "set_parameters"):
        theta0 = net.parameters
        return net, lambda: net.set_parameters(theta0)
    W0, b0 = [W.copy() for W in net.weights], [b.copy() for b in net.biases]

    def reset():  # commits before the parameter API: through the weights/biases views
        for W, b, W_init, b_init in zip(net.weights, net.biases, W0, b0):
            W[...], b[...] = W_init, b_init

    return net, reset


def fresh_net(sizes, dtype, loss=None):
    """A Network(sizes, dtype, seed=0[, loss]) holding its initial weights, whatever earlier calls did.

    Built once per process, then reset in place (``set_parameters``), so a setup() that runs
    before every timed fit stays cheap even for 4M parameters.
    """
    net, reset = _seeded_net(tuple(sizes), dtype, loss)
    reset()
    return net


@functools.cache
def warm_jit(dtype):
    """Compile, or load from Numba's cache, every kernel the benchmarks reach, on tiny shapes."""
    X, Y = regression_data(8, dtype)
    net = Network(mlp_sizes(2, 8), dtype=dtype, seed=0)
    for batch in (1, 4):
        net.fit(X, Y, epochs=1, batch_size=batch, lr=LR, seed=0)
    net.predict(X)
    net.gradients(X, Y)


if Network is not None:
    # asv's forkserver imports the suite once and forks a process per benchmark: warming here
    # lets each one inherit the compiled kernels instead of reloading them from disk (~1 s).
    # Failures are left to the benchmarks' own setup(), which calls warm_jit again.
    for _dtype in ("float32", "float64"):
        try:
            warm_jit(_dtype)
        except Exception:
            pass
