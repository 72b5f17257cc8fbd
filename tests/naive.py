"""Plain-NumPy float64 reference for fastnn, written from the seed's formulas only.

Notation (seed): x^[k] = psi^[k](z^[k]), z^[k] = W^[k] x^[k-1] + b^[k], L = 1/2 ||y - x^[K]||^2,
phi^[K] = -(y - x^[K]) * psi^[K]'(z^[K]), phi^[k] = (W^[k+1])^T phi^[k+1] * psi^[k]'(z^[k]),
dL/dW^[k] = phi^[k] (x^[k-1])^T, dL/db^[k] = phi^[k].

Losses: "mse" is the seed's; "cross_entropy" is -sum y log softmax(z^[K]) with a softmax output,
"binary_cross_entropy" sum softplus(z) - y z with sigmoid outputs, "poisson" half the Poisson
deviance with x^[K] = exp(z^[K]). For those three phi^[K] = x^[K] - y. "absolute_error" |y - x|,
"huber" (threshold epsilon on the residual) and "quantile" (pinball loss of q) take any psi^[K].

Everything here works one sample at a time with column vectors, exactly as the seed writes it,
and averages over samples at the end.  Lists Ws / bs are 0-based (Ws[k-1] is W^[k]); the returned
z / x / phi dicts are keyed by the seed's 1-based layer number (x[0] is the input).
"""
import math

import numpy as np

LEAKY_SLOPE = 0.01
SELU_LAMBDA = 1.0507009873554804934193349852946  # PyTorch's nn.SELU constants
SELU_ALPHA = 1.6732632423543772848170429916717
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


# name -> (psi, psi')
ACTIVATIONS = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z: np.where(z > 0, 1.0, 0.0)),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "leaky_relu": (
        lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
        lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE),
    ),
    "softplus": (lambda z: np.logaddexp(0.0, z), _sigmoid),
    # exact GELU z Phi(z), Phi the standard normal CDF; psi' = Phi(z) + z exp(-z^2/2) / sqrt(2 pi)
    "gelu": (lambda z: 0.5 * z * (1.0 + _erf(z / np.sqrt(2.0))),
             lambda z: 0.5 * (1.0 + _erf(z / np.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)),
    "silu": (lambda z: z * _sigmoid(z), lambda z: _sigmoid(z) * (1.0 + z * (1.0 - _sigmoid(z)))),
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
            lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))),
    "selu": (lambda z: SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0))),
             lambda z: SELU_LAMBDA * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))),
}
NAMES = sorted(ACTIVATIONS)


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _logsumexp(z):
    return z.max() + np.log(np.sum(np.exp(z - z.max())))


ACTIVATIONS["softmax"] = (_softmax, None)  # only as the output of cross_entropy
ACTIVATIONS["exp"] = (np.exp, None)  # only as the output of poisson (its log link)


def _huber(r, eps):
    a = np.abs(r)
    return np.where(a <= eps, 0.5 * r * r, eps * a - 0.5 * eps * eps)


def _half_poisson_deviance(x, y):
    ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    return float(np.sum(ylogy - y * np.log(x) - y + x))


# name -> per-sample loss of (z^[K], x^[K], y, p), column vectors; p is the loss's parameter
# (Huber's epsilon, the quantile q; DEFAULTS when not given)
LOSSES = {
    "mse": lambda z, x, y, p: 0.5 * float(np.sum((y - x) ** 2)),
    "cross_entropy": lambda z, x, y, p: -float(np.sum(y * (z - _logsumexp(z)))),
    "binary_cross_entropy": lambda z, x, y, p: float(np.sum(np.logaddexp(0.0, z) - y * z)),
    "poisson": lambda z, x, y, p: _half_poisson_deviance(x, y),
    "absolute_error": lambda z, x, y, p: float(np.sum(np.abs(y - x))),
    "huber": lambda z, x, y, p: float(np.sum(_huber(x - y, p))),
    "quantile": lambda z, x, y, p: float(np.sum(np.maximum(p * (y - x), (p - 1) * (y - x)))),
}
DEFAULTS = {"huber": 0.1, "quantile": 0.5}  # SGDRegressor's epsilon; the median
# dL/dx^[K] of the losses without a link (phi^[K] = that * psi^[K]'(z^[K])); the others use
# their canonical link, phi^[K] = x^[K] - y
D_LOSS = {
    "mse": lambda x, y, p: x - y,
    "absolute_error": lambda x, y, p: np.sign(x - y),
    "huber": lambda x, y, p: np.clip(x - y, -p, p),
    "quantile": lambda x, y, p: np.where(y > x, -p, np.where(y < x, 1 - p, 0.0)),
}


def psi(name, z):
    return ACTIVATIONS[name][0](np.asarray(z, dtype=np.float64))


def dpsi(name, z):
    return ACTIVATIONS[name][1](np.asarray(z, dtype=np.float64))


def _as64(Ws, bs):
    return [np.array(W, dtype=np.float64) for W in Ws], [np.array(b, dtype=np.float64) for b in bs]


def forward_sample(Ws, bs, acts, x0):
    """One sample (column vector x0 of n_0 entries) -> (z, x) dicts of column vectors."""
    Ws, bs = _as64(Ws, bs)
    x = {0: np.asarray(x0, dtype=np.float64).reshape(-1, 1)}
    z = {}
    for k in range(1, len(Ws) + 1):
        z[k] = Ws[k - 1] @ x[k - 1] + bs[k - 1].reshape(-1, 1)
        x[k] = psi(acts[k - 1], z[k])
    return z, x


def backprop_sample(Ws, bs, acts, x0, y, loss="mse"):
    """One sample -> (loss, z, x, phi, dW, db) with the seed's recurrence (column vectors).
    ``loss``: a name of LOSSES, or (name, parameter)."""
    Ws, bs = _as64(Ws, bs)
    K = len(Ws)
    z, x = forward_sample(Ws, bs, acts, x0)
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    loss, p = loss if isinstance(loss, tuple) else (loss, DEFAULTS.get(loss))
    value = LOSSES[loss](z[K], x[K], y, p)
    if loss in D_LOSS:
        phi = {K: D_LOSS[loss](x[K], y, p) * dpsi(acts[K - 1], z[K])}
    else:  # the canonical link: psi' cancels
        phi = {K: x[K] - y}
    for k in range(K - 1, 0, -1):
        phi[k] = (Ws[k].T @ phi[k + 1]) * dpsi(acts[k - 1], z[k])
    dW = {k: phi[k] @ x[k - 1].T for k in range(1, K + 1)}
    db = {k: phi[k].ravel() for k in range(1, K + 1)}
    return value, z, x, phi, dW, db


def _rows(X, Y, n_out):
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(len(X), n_out)
    return X, Y


def predict(Ws, bs, acts, X):
    X = np.asarray(X, dtype=np.float64)
    out = [forward_sample(Ws, bs, acts, xi)[1][len(Ws)].ravel() for xi in X]
    return np.array(out).reshape(len(X), np.shape(Ws[-1])[0])


def loss(Ws, bs, acts, X, Y, loss="mse"):
    """Mean over samples of the loss (1/2 ||y - x^[K]||^2 by default)."""
    X, Y = _rows(X, Y, np.shape(Ws[-1])[0])
    return float(np.mean([backprop_sample(Ws, bs, acts, xi, yi, loss)[0] for xi, yi in zip(X, Y)]))


def backprop(Ws, bs, acts, X, Y, loss="mse"):
    """Batch version: dict with loss, z/x/phi as (N, n_k) arrays, dW/db averaged over samples.

    Keys of z, x, phi, dW, db are the seed's 1-based layer numbers.
    """
    X, Y = _rows(X, Y, np.shape(Ws[-1])[0])
    K = len(Ws)
    per = [backprop_sample(Ws, bs, acts, xi, yi, loss) for xi, yi in zip(X, Y)]
    N = len(per)
    out = {"loss": sum(p[0] for p in per) / N}
    for j, name in ((1, "z"), (2, "x"), (3, "phi")):
        keys = per[0][j].keys()
        out[name] = {k: np.stack([p[j][k].ravel() for p in per]) for k in keys}
    out["dW"] = {k: sum(p[4][k] for p in per) / N for k in range(1, K + 1)}
    out["db"] = {k: sum(p[5][k] for p in per) / N for k in range(1, K + 1)}
    return out


def gradients(Ws, bs, acts, X, Y, loss="mse"):
    """(dW, db) as 0-based lists shaped like Ws / bs, gradient of loss()."""
    bp = backprop(Ws, bs, acts, X, Y, loss)
    K = len(Ws)
    return [bp["dW"][k] for k in range(1, K + 1)], [bp["db"][k] for k in range(1, K + 1)]
