"""Small helpers shared by the test modules."""
import numpy as np

import fastnn
from fastnn import _kernels as K

ACTIVATION_NAMES = sorted(fastnn.ACTIVATIONS)  # from the table: a new entry is tested by every test
# Every kernel path, by the name tests force it with (``net._path = PATHS[name]``).
PATHS = {"loops": K.LOOPS, "blas": K.BLAS, "unrolled": K.UNROLLED, "generic": K.GENERIC}


def random_xy(rng, n_samples, n_in, n_out, dtype=np.float64):
    X = rng.uniform(-1.0, 1.0, size=(n_samples, n_in)).astype(dtype)
    Y = rng.normal(size=(n_samples, n_out)).astype(dtype)
    return X, Y


def params(net):
    """Independent copies of the network's weights and biases (0-based lists)."""
    return [np.array(W, copy=True) for W in net.weights], [np.array(b, copy=True) for b in net.biases]


def assert_params_equal(net, saved):
    Ws, bs = saved
    assert len(net.weights) == len(Ws) and len(net.biases) == len(bs)
    for W_now, W_then in zip(net.weights, Ws):
        np.testing.assert_array_equal(W_now, W_then)
    for b_now, b_then in zip(net.biases, bs):
        np.testing.assert_array_equal(b_now, b_then)


def set_params(net, Ws, bs):
    for k, (W, b) in enumerate(zip(Ws, bs)):
        net.weights[k][...] = W
        net.biases[k][...] = b


def randomize_biases(net, rng, scale=0.3):
    for b in net.biases:
        b[...] = rng.normal(scale=scale, size=b.shape)


def central_difference(net, arr, i, X, Y, eps=1e-6):
    """(L(θ + eps·e_i) − L(θ − eps·e_i)) / 2eps for entry i of one of net's weight/bias views."""
    orig = arr[i]
    arr[i] = orig + eps
    lp = net.loss(X, Y)
    arr[i] = orig - eps
    lm = net.loss(X, Y)
    arr[i] = orig
    return (lp - lm) / (2 * eps)
