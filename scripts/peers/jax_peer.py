"""JAX: a train step under jax.jit, called in a Python loop over batches (jax-jit, the carry
donated), and the whole epoch under one jax.jit with lax.scan over the batches (jax-scan).

Regression: loss 0.5*mean(sum((y - yhat)**2, 1)), the SGD step p - LR*g written out.
Classification: optax.softmax_cross_entropy_with_integer_labels(...).mean(), and
optax.adam(LR, b1=0.9, b2=0.999, eps=1e-8) or optax.sgd(LR, momentum=0.9, nesterov=False).
"""
import time

import numpy as np

from .common import ADAM, LR, MOMENTUM, make_data, make_init


class _JaxBase:
    def __init__(self, threads):
        import warnings

        warnings.filterwarnings("ignore", message=".*donat.*")
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.version = jax.__version__

    def _build(self, point):
        """The initial carry (params, optimizer state) and step(carry, x, y) -> (carry, loss)."""
        jax, jnp = self.jax, self.jnp
        tx = None
        if point.classify or point.opt != "sgd":
            import optax
        if point.opt != "sgd":
            tx = (optax.adam(LR, b1=ADAM["b1"], b2=ADAM["b2"], eps=ADAM["eps"])
                  if point.opt == "adam" else optax.sgd(LR, momentum=MOMENTUM, nesterov=False))

        def loss_fn(params, x, y):
            for W, b in params[:-1]:
                x = jax.nn.relu(x @ W.T + b)
            W, b = params[-1]
            out = x @ W.T + b
            if point.classify:
                return optax.softmax_cross_entropy_with_integer_labels(out, y).mean()
            return 0.5 * jnp.mean(jnp.sum((y - out) ** 2, axis=1))

        def step(carry, x, y):
            params, state = carry
            loss, g = jax.value_and_grad(loss_fn)(params, x, y)
            if tx is None:
                params = jax.tree_util.tree_map(lambda p, gp: p - LR * gp, params, g)
            else:
                updates, state = tx.update(g, state, params)
                params = optax.apply_updates(params, updates)
            return (params, state), loss

        Ws, bs = make_init(point.sizes)
        params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in zip(Ws, bs)]
        return (params, () if tx is None else tx.init(params)), step

    def _data(self, point):
        X, Y = make_data(point)
        return X, (Y.astype(np.int32) if point.classify else Y)  # JAX's default int is int32

    def _export(self):
        self.jax.block_until_ready(self.carry)
        return [(np.array(W), np.array(b)) for W, b in self.carry[0]]


class JaxJitContender(_JaxBase):
    def setup(self, point, nc):
        self.X, self.Y = self._data(point)
        self.batches = []  # device arrays, one pair per batch, made on demand (not timed)
        self.carry, step = self._build(point)
        self.step = self.jax.jit(step, donate_argnums=0)
        self.batch = point.batch
        self.epoch(nc)
        return self._export()

    def epoch(self, ns):
        step, carry, B = self.step, self.carry, self.batch
        nb = min(ns, len(self.X)) // B
        while len(self.batches) < nb:
            i = len(self.batches) * B
            self.batches.append((self.jax.device_put(self.X[i:i + B]),
                                 self.jax.device_put(self.Y[i:i + B])))
        batches = self.batches[:nb]
        t = time.perf_counter()
        for xb, yb in batches:
            carry, _ = step(carry, xb, yb)
        self.jax.block_until_ready(carry)
        dt = time.perf_counter() - t
        self.carry = carry
        return dt, len(batches) * B


class JaxScanContender(_JaxBase):
    def setup(self, point, nc):
        jax = self.jax
        X, Y = self._data(point)
        nb, B = point.n // point.batch, point.batch
        self.n = point.n
        self.Xb = jax.device_put(X.reshape(nb, B, -1))
        self.Yb = jax.device_put(Y.reshape(nb, B, *Y.shape[1:]))
        self.carry, step = self._build(point)

        def run_epoch(carry, Xb, Yb):
            return jax.lax.scan(lambda c, xy: step(c, xy[0], xy[1]), carry, (Xb, Yb))

        self.run_epoch = jax.jit(run_epoch, donate_argnums=0)
        # check run on the first nc samples (its own compile for that shape) ...
        self.carry, _ = self.run_epoch(self.carry, self.Xb[:nc // B], self.Yb[:nc // B])
        out = self._export()
        self.epoch(self.n)  # ... and the warm-up that compiles the full-epoch shape
        return out

    def epoch(self, ns):  # always the full epoch: a shorter one would need another compile
        t = time.perf_counter()
        carry, losses = self.run_epoch(self.carry, self.Xb, self.Yb)
        self.jax.block_until_ready((carry, losses))
        dt = time.perf_counter() - t
        self.carry = carry
        return dt, self.n
