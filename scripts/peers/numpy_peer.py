"""NumPy: hand-written forward/backward and optimizer step, every buffer preallocated, every
operation into an out= array; the per-batch work allocates nothing.  The reference of the
"diff vs numpy" check.

Per batch: z^[k] = x^[k-1] W^T + b, ReLU in place; phi^[K] = yhat - y (MSE) or
softmax(z^[K]) - onehot(y) (CE); dW = phi^T x_prev and db = sum(phi) (sums over the batch);
dX = phi W before W is updated; then each layer steps right away with g = dW / B:
  sgd       theta -= lr*g
  momentum  v = mu*v + g; theta -= lr*v
  adam      m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
            theta -= lr/(1-b1^t) * m / (sqrt(v/(1-b2^t)) + eps)   (torch's and optax's form)

scikit-learn puts eps outside the bias correction, theta -= lr*sqrt(1-b2^t)/(1-b1^t) * m /
(sqrt(v) + eps), which changes the steps of parameters whose gradients are ~1e-7 or less: on
Adam points the check's reference is a dict, with a second run in sklearn's form for sklearn
(measured after 4 batches of mnist-adam: 1.1e-2 from the torch form, 5e-7 from its own).
"""
import time

import numpy as np

from .common import ADAM, LR, MOMENTUM, make_data, make_init, one_hot


class NumpyContender:
    def __init__(self, threads, sklearn_eps=False):
        self.version = np.__version__
        self.sklearn_eps = sklearn_eps

    def setup(self, point, nc):
        ref = self._setup(point, nc)
        if point.opt != "adam":
            return ref
        return {"*": ref, "sklearn": NumpyContender(0, sklearn_eps=True)._setup(point, nc)}

    def _setup(self, point, nc):
        sizes, B = point.sizes, point.batch
        self.X, Y = make_data(point)
        self.Y = one_hot(Y, sizes[-1]) if point.classify else Y
        self.W, self.b = make_init(sizes)
        K = self.K = len(sizes) - 1
        self.B, self.n, self.classify, self.opt = B, point.n, point.classify, point.opt
        self.z = [None] + [np.empty((B, sizes[k]), np.float32) for k in range(1, K + 1)]
        self.mask = [None] + [np.empty((B, sizes[k]), np.float32) for k in range(1, K)]
        self.g = [None] + [np.empty((B, sizes[k]), np.float32) for k in range(1, K)]
        self.rowbuf = np.empty((B, 1), np.float32)  # softmax's row max and row sum
        self.dW = [np.empty_like(W) for W in self.W]
        self.db = [np.empty_like(b) for b in self.b]
        # optimizer state, per parameter array in the order W^[1], b^[1], W^[2], ...
        params = [p for Wb in zip(self.W, self.b) for p in Wb]
        n_state = {"sgd": 0, "momentum": 1, "adam": 3}[point.opt]  # momentum: v; adam: m, v, tmp
        self.state = [[np.zeros_like(p) for _ in range(n_state)] for p in params]
        self.t = 0
        self.epoch(nc)
        return [(W.copy(), b.copy()) for W, b in zip(self.W, self.b)]

    def _step(self, p, g, state):
        """One optimizer step of parameter array p; g is the batch's gradient SUM (clobbered)."""
        B, opt = self.B, self.opt
        if opt == "sgd":
            np.multiply(g, LR / B, out=g)
            np.subtract(p, g, out=p)
        elif opt == "momentum":
            (v,) = state
            np.multiply(v, MOMENTUM, out=v)
            v += np.multiply(g, 1 / B, out=g)
            np.subtract(p, np.multiply(v, LR, out=g), out=p)
        else:
            m, v, tmp = state
            b1, b2 = ADAM["b1"], ADAM["b2"]
            np.multiply(g, 1 / B, out=g)
            np.multiply(m, b1, out=m)
            m += np.multiply(g, 1 - b1, out=tmp)
            np.multiply(v, b2, out=v)
            v += np.multiply(np.multiply(g, g, out=tmp), 1 - b2, out=tmp)
            c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
            if self.sklearn_eps:
                np.sqrt(v, out=tmp)
            else:
                np.sqrt(np.multiply(v, 1 / c2, out=tmp), out=tmp)
            tmp += ADAM["eps"]
            np.divide(m, tmp, out=tmp)
            lr = LR * c2 ** 0.5 / c1 if self.sklearn_eps else LR / c1
            np.subtract(p, np.multiply(tmp, lr, out=tmp), out=p)

    def epoch(self, ns):
        K, B, W, b, z, mask, g, dW, db = (self.K, self.B, self.W, self.b, self.z, self.mask,
                                          self.g, self.dW, self.db)
        X, Y, rowbuf, state, classify = self.X, self.Y, self.rowbuf, self.state, self.classify
        matmul, maximum, greater, multiply, subtract = (np.matmul, np.maximum, np.greater,
                                                        np.multiply, np.subtract)
        ns = min(ns, self.n)
        t = time.perf_counter()
        for i in range(0, ns, B):
            self.t += 1
            xs = [X[i:i + B]]
            for k in range(1, K + 1):  # forward: z = x W^T + b; x = relu(z) (in place)
                matmul(xs[k - 1], W[k - 1].T, out=z[k])
                z[k] += b[k - 1]
                if k < K:
                    maximum(z[k], 0.0, out=z[k])
                xs.append(z[k])
            if classify:  # z^[K] <- softmax(z^[K]), in place
                subtract(z[K], np.max(z[K], axis=1, keepdims=True, out=rowbuf), out=z[K])
                np.exp(z[K], out=z[K])
                np.divide(z[K], np.sum(z[K], axis=1, keepdims=True, out=rowbuf), out=z[K])
            phi = subtract(z[K], Y[i:i + B], out=z[K])  # dL/dz^[K] per sample = yhat - y
            for k in range(K, 0, -1):
                matmul(phi.T, xs[k - 1], out=dW[k - 1])
                phi.sum(axis=0, out=db[k - 1])
                if k > 1:  # dX = phi W (before W is updated), then * relu'(z)
                    matmul(phi, W[k - 1], out=g[k - 1])
                    greater(xs[k - 1], 0.0, out=mask[k - 1])
                    multiply(g[k - 1], mask[k - 1], out=g[k - 1])
                self._step(W[k - 1], dW[k - 1], state[2 * k - 2])
                self._step(b[k - 1], db[k - 1], state[2 * k - 1])
                if k > 1:
                    phi = g[k - 1]
        return time.perf_counter() - t, ns
