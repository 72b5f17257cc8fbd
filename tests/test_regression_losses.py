"""MLPRegressor's losses beyond the squared error (issue 20): Poisson as scikit-learn's, and the
absolute error, Huber and quantile losses scikit-learn's MLP lacks, judged on held-out data by
what each loss promises (the Network-level kernels are checked in test_losses.py)."""
import numpy as np
import pytest
from sklearn.metrics import mean_poisson_deviance, mean_squared_error
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from fastnn import MLPRegressor, Network, losses


def _heteroscedastic(n, seed):
    """y = sin(2 x0) + x1 + noise whose spread grows with |x2|: the quantiles are not parallel."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, size=(n, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + (0.2 + 0.6 * np.abs(X[:, 2])) * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("loss,q", [("quantile", 0.1), ("quantile", 0.9), ("absolute_error", 0.5)])
def test_a_quantile_model_leaves_q_of_held_out_targets_below(loss, q):
    X, y = _heteroscedastic(6000, 0)
    # the pinball loss's gradient keeps its size at the optimum, so a constant-rate optimizer
    # ends within about one step of it: large batches and a small rate (over seeds 0-3 and
    # q = 0.1, 0.5, 0.9 these settings land within 0.018 of q; 200-row batches at 0.003, 0.044)
    reg = MLPRegressor(loss, hidden_layer_sizes=(32, 32), quantile=q, learning_rate_init=0.001,
                       batch_size=500, max_iter=100, n_iter_no_change=np.inf,
                       random_state=0).fit(X[:3000], y[:3000])
    below = float(np.mean(y[3000:] < reg.predict(X[3000:])))
    assert abs(below - q) <= 0.03, f"{below:.3f} of the held-out targets below the q = {q} model"
    assert reg.network_.loss_name == loss and reg.out_activation_ == "identity"


def test_poisson_deviance_is_as_good_as_scikit_learns():
    """Counts with a log-linear mean: held-out mean Poisson deviance within 1% of scikit-learn's
    MLPRegressor(loss="poisson") at the same settings, or lower."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 4))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.4 * X[:, 1] + 0.3 * np.sin(2 * X[:, 2]))).astype(float)
    kw = dict(loss="poisson", hidden_layer_sizes=(16,), max_iter=100, random_state=0)
    ours = MLPRegressor(**kw).fit(X[:2000], y[:2000])
    theirs = SkMLPRegressor(**kw).fit(X[:2000], y[:2000])
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    mu = ours.predict(X[2000:])
    assert (mu > 0).all()
    d_ours = mean_poisson_deviance(y[2000:], mu)
    d_theirs = mean_poisson_deviance(y[2000:], theirs.predict(X[2000:]))
    assert d_ours <= 1.01 * d_theirs, (d_ours, d_theirs)
    # the reported loss is scikit-learn's: half the mean deviance (plus the alpha penalty)
    half = mean_poisson_deviance(y[:2000], ours.predict(X[:2000])) / 2
    assert ours.loss_ == pytest.approx(half + ours._penalty(ours.network_, 2000), rel=0.05)


def test_huber_shrugs_off_outliers_that_pull_the_squared_error():
    """10% of the training targets shifted by +20: Huber's fit stays near the clean function,
    the squared error's does not (test error on clean targets, same seed and settings)."""
    X, y = _heteroscedastic(4000, 2)
    rng = np.random.default_rng(3)
    dirty = y[:2000].copy()
    dirty[rng.random(2000) < 0.1] += 20.0
    kw = dict(hidden_layer_sizes=(32,), learning_rate_init=0.003, max_iter=60, random_state=0)
    errors = {}
    for loss in ("huber", "squared_error"):
        reg = MLPRegressor(loss, huber_epsilon=0.5, **kw).fit(X[:2000], dirty)
        errors[loss] = mean_squared_error(y[2000:], reg.predict(X[2000:]))
    assert reg.network_.loss_param is None
    assert errors["huber"] < 0.5 * errors["squared_error"], errors
    assert MLPRegressor("huber", huber_epsilon=0.5, max_iter=1).fit(X[:50], y[:50]).network_.loss_param == 0.5


def test_loss_is_the_first_positional_parameter_and_is_checked():
    X, y = _heteroscedastic(40, 4)
    assert MLPRegressor("poisson").loss == "poisson"
    assert MLPRegressor((8,)).hidden_layer_sizes == (100,)  # as scikit-learn 1.9: (8,) is the loss
    for bad, match in (({"loss": "hinge"}, "'loss' parameter"), ({"loss": "huber", "huber_epsilon": 0.0},
                       "'huber_epsilon' parameter"), ({"loss": "quantile", "quantile": 1.0}, "'quantile' parameter")):
        with pytest.raises(ValueError, match=match):
            MLPRegressor(**bad, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match=r"loss='poisson' needs counts or rates y >= 0"):
        MLPRegressor("poisson", max_iter=1).fit(X, y - 10)
    reg = MLPRegressor("huber", max_iter=2, warm_start=True, random_state=0).fit(np.abs(X), np.abs(y))
    reg.set_params(huber_epsilon=1.0)
    with pytest.raises(ValueError, match=r"loss_param changed from 0.1 to 1.0"):
        reg.fit(np.abs(X), np.abs(y))
    reg.set_params(loss="poisson")
    with pytest.raises(ValueError, match=r"loss_name changed from huber to poisson"):
        reg.fit(np.abs(X), np.abs(y))


def test_the_regressor_trains_the_networks_loss():
    """The same network and epochs through Network.fit: the estimator adds nothing to the loss."""
    X, y = _heteroscedastic(200, 5)
    reg = MLPRegressor("quantile", quantile=0.7, hidden_layer_sizes=(8,), solver="sgd", alpha=0.0,
                       momentum=0.0, max_iter=3, shuffle=False, n_iter_no_change=np.inf, batch_size=50,
                       learning_rate_init=0.05, random_state=0)
    with pytest.warns(Warning):
        reg.fit(X, y)
    net = Network([3, 8, 1], ["relu", "identity"], loss=losses.quantile(0.7), dtype="float64", seed=0)
    reg0 = MLPRegressor("quantile", quantile=0.7, hidden_layer_sizes=(8,), random_state=0)  # reg's first θ
    reg0._init_network(X, y[:, None], [8], reg0._layer_options([3, 8, 1]))
    net.set_parameters(reg0.network_.parameters)
    net.fit(X, y, epochs=3, batch_size=50, lr=0.05, shuffle=False)
    np.testing.assert_allclose(reg.network_.parameters, net.parameters, rtol=1e-12, atol=1e-14)
