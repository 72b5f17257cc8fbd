"""JAX: a train step under jax.jit, called in a Python loop over batches (jax-jit, the carry
donated), and the whole epoch under one jax.jit with lax.scan over the batches (jax-scan).

Regression: loss 0.5*mean(sum((y - yhat)**2, 1)), the SGD step p - LR*g written out.
Classification: optax.softmax_cross_entropy_with_integer_labels(...).mean(), and
optax.adam(LR, b1=0.9, b2=0.999, eps=1e-8) or optax.sgd(LR, momentum=0.9, nesterov=False).

Layer points (issue 19), written functionally in the same step: per hidden layer z = x W^T + b,
then layer norm (per row over the n_k units) or batch norm (per unit over the batch), both
(z - μ) / sqrt(σ² + 1e-5) γ + β with the biased σ², then ReLU, then dropout (a Bernoulli(1 - p)
mask from jax.random, kept values scaled by 1/(1 - p)), then the skip where the layer has one.
Batch norm's running statistics are updated as PyTorch does (momentum 0.1, the unbiased
variance) and ride in the carry beside the parameters, the optimizer state and the dropout key;
the key is split once per step and once per layer.  The key is ``jax.random.key(0)``: its
generator is JAX's default (threefry), or whatever JAX_DEFAULT_PRNG_IMPL names (e.g. rbg).
A point with dropout is checked on a twin step without dropout (the libraries' masks differ).
"""
import time

import numpy as np

from .common import ADAM, BN_MOMENTUM, EPS, LR, MOMENTUM, make_data, make_init


class _JaxBase:
    def __init__(self, threads):
        import warnings

        warnings.filterwarnings("ignore", message=".*donat.*")
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.version = jax.__version__

    def _build(self, point, dropout=None):
        """The initial carry (params, optimizer state[, (running stats, key)]) and
        step(carry, x, y) -> (carry, loss).  ``dropout`` overrides a layer point's rate."""
        jax, jnp = self.jax, self.jnp
        tx = None
        if point.classify or point.opt != "sgd":
            import optax
        if point.opt != "sgd":
            tx = (optax.adam(LR, b1=ADAM["b1"], b2=ADAM["b2"], eps=ADAM["eps"])
                  if point.opt == "adam" else optax.sgd(LR, momentum=MOMENTUM, nesterov=False))

        def loss_of(out, y):
            if point.classify:
                return optax.softmax_cross_entropy_with_integer_labels(out, y).mean()
            return 0.5 * jnp.mean(jnp.sum((y - out) ** 2, axis=1))

        def loss_fn(params, x, y):
            for W, b in params[:-1]:
                x = jax.nn.relu(x @ W.T + b)
            W, b = params[-1]
            return loss_of(x @ W.T + b, y)

        def update(params, state, g):
            if tx is None:
                return jax.tree_util.tree_map(lambda p, gp: p - LR * gp, params, g), state
            updates, state = tx.update(g, state, params)
            return optax.apply_updates(params, updates), state

        def step(carry, x, y):
            params, state = carry
            loss, g = jax.value_and_grad(loss_fn)(params, x, y)
            params, state = update(params, state, g)
            return (params, state), loss

        Ws, bs = make_init(point.sizes)
        params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in zip(Ws, bs)]
        if not point.layers:
            return (params, () if tx is None else tx.init(params)), step

        p = point.dropout if dropout is None else dropout
        skips, norm, hidden = point.skips(), point.norm, point.sizes[1:-1]
        # hidden layer k: (W, b) or, with a norm, (W, b, γ, β); the output layer (W, b)
        if norm:
            params = [(W, b, jnp.ones(n, jnp.float32), jnp.zeros(n, jnp.float32))
                      for (W, b), n in zip(params, hidden)] + params[-1:]
        stats = ([(jnp.zeros(n, jnp.float32), jnp.ones(n, jnp.float32)) for n in hidden]
                 if norm == "batch" else [])

        def forward(params, stats, x, key):
            """The training-mode output and batch norm's updated running statistics."""
            new_stats = []
            keys = jax.random.split(key, len(hidden)) if p else None
            for k, layer in enumerate(params[:-1]):
                z = x @ layer[0].T + layer[1]
                if norm:
                    axis = 1 if norm == "layer" else 0
                    mu = jnp.mean(z, axis=axis, keepdims=True)
                    var = jnp.mean(jnp.square(z - mu), axis=axis, keepdims=True)
                    z = (z - mu) * jax.lax.rsqrt(var + EPS) * layer[2] + layer[3]
                    if norm == "batch":
                        B = x.shape[0]
                        m, v = stats[k]
                        new_stats.append(((1 - BN_MOMENTUM) * m + BN_MOMENTUM * mu[0],
                                          (1 - BN_MOMENTUM) * v + BN_MOMENTUM * var[0] * (B / (B - 1))))
                a = jax.nn.relu(z)
                if p:
                    keep = jax.random.bernoulli(keys[k], 1.0 - p, a.shape)
                    a = jnp.where(keep, a * (1.0 / (1.0 - p)), 0.0)
                x = x + a if skips[k] else a
            W, b = params[-1]
            return x @ W.T + b, jax.lax.stop_gradient(new_stats)

        def layers_loss(params, stats, x, y, key):
            out, new_stats = forward(params, stats, x, key)
            return loss_of(out, y), new_stats

        def layers_step(carry, x, y):
            params, state, (stats, key) = carry
            key, sub = jax.random.split(key)
            (loss, stats), g = jax.value_and_grad(layers_loss, has_aux=True)(params, stats, x, y, sub)
            params, state = update(params, state, g)
            return (params, state, (stats, key)), loss

        carry = (params, () if tx is None else tx.init(params), (stats, jax.random.key(0)))
        return carry, layers_step

    def _data(self, point):
        X, Y = make_data(point)
        return X, (Y.astype(np.int32) if point.classify else Y)  # JAX's default int is int32

    def _export(self):
        """The check's pairs, in common.init_pairs' order."""
        self.jax.block_until_ready(self.carry[:2])
        params = self.carry[0]
        pairs = [(np.array(layer[0]), np.array(layer[1])) for layer in params]
        pairs += [(np.array(layer[2]), np.array(layer[3])) for layer in params if len(layer) == 4]
        if len(self.carry) == 3:
            pairs += [(np.array(m), np.array(v)) for m, v in self.carry[2][0]]
        return pairs


class JaxJitContender(_JaxBase):
    def setup(self, point, nc):
        self.X, self.Y = self._data(point)
        self.batches = []  # device arrays, one pair per batch, made on demand (not timed)
        self.batch = point.batch
        out = None
        if point.dropout:  # the check: a twin without dropout
            self.carry, step = self._build(point, dropout=0.0)
            self.step = self.jax.jit(step, donate_argnums=0)
            self.epoch(nc)
            out = self._export()
        self.carry, step = self._build(point)
        self.step = self.jax.jit(step, donate_argnums=0)
        self.epoch(nc)
        return self._export() if out is None else out

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

        def build(**kw):
            self.carry, step = self._build(point, **kw)

            def run_epoch(carry, Xb, Yb):
                return jax.lax.scan(lambda c, xy: step(c, xy[0], xy[1]), carry, (Xb, Yb))

            self.run_epoch = jax.jit(run_epoch, donate_argnums=0)

        # check run on the first nc samples (its own compile for that shape; with dropout, on a
        # twin without it) ...
        build(**({"dropout": 0.0} if point.dropout else {}))
        self.carry, _ = self.run_epoch(self.carry, self.Xb[:nc // B], self.Yb[:nc // B])
        out = self._export()
        if point.dropout:
            build()
        self.epoch(self.n)  # ... and the warm-up that compiles the full-epoch shape
        return out

    def epoch(self, ns):  # always the full epoch: a shorter one would need another compile
        t = time.perf_counter()
        carry, losses = self.run_epoch(self.carry, self.Xb, self.Yb)
        self.jax.block_until_ready((carry, losses))
        dt = time.perf_counter() - t
        self.carry = carry
        return dt, self.n
