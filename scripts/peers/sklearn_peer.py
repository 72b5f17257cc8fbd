"""scikit-learn: MLPRegressor / MLPClassifier(activation="relu", alpha=0, batch_size=B,
shuffle=False, learning_rate_init=LR, ...).partial_fit: one call = one epoch.

Regression: solver="sgd", momentum=0.  sklearn's reported loss is 0.5*mean over samples AND
outputs, i.e. ours divided by n_outputs, but its gradient (deltas = yhat - y, summed over the
batch, divided by the batch size) is exactly ours.  Classification: softmax output, log-loss,
solver="adam" (beta_1=0.9, beta_2=0.999, epsilon=1e-8; it folds the bias corrections into the
step, lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps), which moves eps by that factor) or
solver="sgd" with momentum=0.9, nesterovs_momentum=False (v = mu*v - lr*g; theta += v: the
same steps as ours).  Every batch it also adds alpha*W and computes sum(W**2) for the L2 term,
even with alpha=0.
"""
import time

from .common import ADAM, LR, MOMENTUM, make_data, make_init


class SklearnContender:
    def __init__(self, threads):
        import warnings

        import sklearn
        from sklearn import neural_network

        warnings.filterwarnings("ignore")
        self.nn = neural_network
        self.version = sklearn.__version__

    def setup(self, point, nc):
        sizes, B = point.sizes, point.batch
        self.X, Y = make_data(point)
        self.y = Y[:, 0] if Y.ndim == 2 and sizes[-1] == 1 else Y  # 1 column: raveled by sklearn
        kw = dict(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", alpha=0.0,
                  batch_size=B, learning_rate="constant", learning_rate_init=LR, shuffle=False,
                  early_stopping=False, random_state=0)
        if point.opt == "adam":
            kw.update(solver="adam", beta_1=ADAM["b1"], beta_2=ADAM["b2"], epsilon=ADAM["eps"])
        else:
            kw.update(solver="sgd", momentum=MOMENTUM if point.opt == "momentum" else 0.0,
                      nesterovs_momentum=False)
        if point.classify:
            m = self.nn.MLPClassifier(**kw)
            m.partial_fit(self.X[:B], self.y[:B], classes=list(range(sizes[-1])))
        else:
            m = self.nn.MLPRegressor(**kw)
            m.partial_fit(self.X[:B], self.y[:B])  # creates coefs_; then overwrite in place
        Ws, bs = make_init(sizes)
        for k in range(len(Ws)):
            m.coefs_[k][...] = Ws[k].T  # sklearn stores W^T, shape (n_in, n_out)
            m.intercepts_[k][...] = bs[k]
        del m._optimizer  # the next partial_fit starts a fresh one (no moments, t = 0)
        self.m = m
        self.epoch(nc)
        return [(c.T.copy(), i.copy()) for c, i in zip(m.coefs_, m.intercepts_)]

    def epoch(self, ns):
        X, y = (self.X, self.y) if ns >= len(self.X) else (self.X[:ns], self.y[:ns])
        t = time.perf_counter()
        self.m.partial_fit(X, y)
        return time.perf_counter() - t, len(X)
