"""What a scikit-learn user relies on in fastnn.MLPRegressor / MLPClassifier, checked against
scikit-learn itself (its MLP, Ridge, LogisticRegression, model selection) or NumPy.

Small data and few epochs throughout: the whole file runs in a few seconds once the kernels
are cached."""
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
import joblib
import sklearn.neural_network as sk
from sklearn.base import clone
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastnn import MLPClassifier, MLPRegressor, Network

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# The parameters both libraries take; scikit-learn's MLPRegressor has `loss` first, so keywords.
SMALL = dict(hidden_layer_sizes=(8,), random_state=0)


def scaled(X):
    return StandardScaler().fit_transform(X)


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(200, 8, random_state=0)
    return scaled(X), y


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(240, 8, n_informative=5, n_classes=3, random_state=0)
    return scaled(X), y


@pytest.fixture(scope="module")
def multilabel():
    X, Y = make_multilabel_classification(150, 6, n_classes=3, random_state=0)
    return scaled(X.astype(float)), Y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(200, 6, n_targets=2, noise=5, random_state=0)
    return scaled(X), y / y.std(axis=0)


def targets(kind, data):
    """(X, y) of one target kind: binary and string labels, multiclass, multi-label."""
    X, y = data[kind if kind != "strings" else "binary"]
    if kind == "strings":
        y = np.array(["spam", "ham"])[y]  # classes_ sorted: ["ham", "spam"]
    return X, y


@pytest.fixture(scope="module")
def data(binary, multiclass, multilabel, regression):
    return {"binary": binary, "multiclass": multiclass, "multilabel": multilabel, "regression": regression}


# ---------------------------------------------------------------- model selection, clone
def test_grid_search_over_a_pipeline_agrees_with_cross_val_score(binary):
    X, y = binary
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=30, random_state=0))
    grid = {"mlpclassifier__alpha": [1e-4, 3.0], "mlpclassifier__hidden_layer_sizes": [(2,), (16,)]}
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    means = search.cv_results_["mean_test_score"]
    assert len(means) == 4 and len(set(means)) > 1  # the parameters reach the estimator
    assert search.best_score_ == means.max()
    best = clone(pipe).set_params(**search.best_params_)
    assert np.mean(cross_val_score(best, X, y, cv=cv)) == pytest.approx(search.best_score_, abs=1e-12)
    fitted = search.best_estimator_[-1]
    assert fitted.alpha == search.best_params_["mlpclassifier__alpha"]
    assert fitted.coefs_[0].shape == (8, search.best_params_["mlpclassifier__hidden_layer_sizes"][0])


def test_clone_is_unfitted_with_the_same_params_and_fit_returns_self(binary):
    X, y = binary
    est = MLPClassifier(hidden_layer_sizes=(5, 3), alpha=0.1, max_iter=5, random_state=0, dtype="float64")
    assert est.fit(X, y) is est
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "network_")
    np.testing.assert_array_equal(twin.fit(X, y).predict_proba(X), est.predict_proba(X))


# ---------------------------------------------------------------- targets and outputs
@pytest.mark.parametrize("y_shape", ["1d", "2 columns", "1 column"])
def test_regressor_prediction_shape_follows_y_as_in_sklearn(regression, y_shape):
    X, Y = regression
    y = {"1d": Y[:, 0], "2 columns": Y, "1 column": Y[:, :1]}[y_shape]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataConversionWarning)
        ours = MLPRegressor(max_iter=2, **SMALL).fit(X, y)
        theirs = sk.MLPRegressor(max_iter=2, **SMALL).fit(X, y)
    conversions = [w for w in caught if issubclass(w.category, DataConversionWarning)]
    assert len(conversions) == (2 if y_shape == "1 column" else 0)  # one each, as scikit-learn
    want = Y.shape if y_shape == "2 columns" else (len(X),)
    assert ours.predict(X).shape == theirs.predict(X).shape == want
    assert ours.n_outputs_ == theirs.n_outputs_ and ours.out_activation_ == theirs.out_activation_ == "identity"


@pytest.mark.parametrize("kind", ["binary", "strings", "multiclass", "multilabel"])
def test_classifier_targets_like_sklearn(data, kind):
    X, y = targets(kind, data)
    ours = MLPClassifier(max_iter=100, learning_rate_init=0.02, **SMALL).fit(X, y)
    theirs = sk.MLPClassifier(max_iter=3, **SMALL).fit(X, y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.out_activation_ == theirs.out_activation_ == ("softmax" if kind == "multiclass" else "logistic")
    assert ours.n_outputs_ == theirs.n_outputs_
    pred, proba = ours.predict(X), ours.predict_proba(X)
    assert pred.shape == theirs.predict(X).shape and pred.dtype == theirs.predict(X).dtype
    assert proba.shape == theirs.predict_proba(X).shape
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(ours.predict_log_proba(X), np.log(proba), rtol=1e-12)
    if kind == "multilabel":  # one independent sigmoid per label
        np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    else:
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_array_equal(pred, ours.classes_[proba.argmax(axis=1)])
    assert ours.score(X, y) > (0.5 if kind == "multilabel" else 0.8)  # multi-label: subset accuracy


# ---------------------------------------------------------------- fitted attributes
@pytest.mark.parametrize("Est, kind", [(MLPRegressor, "regression"), (MLPClassifier, "multiclass")])
def test_fitted_attributes_have_sklearns_shapes(data, Est, kind):
    X, y = data[kind]
    params = dict(hidden_layer_sizes=(7, 5), max_iter=6, random_state=0)
    ours = Est(**params).fit(X, y)
    theirs = getattr(sk, Est.__name__)(**params).fit(X, y)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    for name in ("n_layers_", "n_outputs_", "n_features_in_", "n_iter_", "t_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.t_ == ours.n_iter_ * len(X)
    assert len(ours.loss_curve_) == ours.n_iter_ and ours.loss_ == ours.loss_curve_[-1]
    assert ours.best_loss_ == min(ours.loss_curve_)
    assert isinstance(ours.network_, Network) and ours.network_.sizes == [X.shape[1], 7, 5, ours.n_outputs_]
    for c, b, W, bb in zip(ours.coefs_, ours.intercepts_, ours.network_.weights, ours.network_.biases):
        np.testing.assert_array_equal(c, W.T)  # coefs_[k-1] is (W^[k])ᵀ
        np.testing.assert_array_equal(b, bb)


def sklearn_twin(ours, X, y):
    """scikit-learn's MLP of the same architecture, fitted briefly, then given our weights."""
    theirs = getattr(sk, type(ours).__name__)(hidden_layer_sizes=ours.hidden_layer_sizes,
                                              activation=ours.activation, max_iter=1, random_state=0)
    theirs.fit(X, y)
    theirs.coefs_ = [np.array(c) for c in ours.coefs_]
    theirs.intercepts_ = [np.array(b) for b in ours.intercepts_]
    return theirs


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass", "multilabel"])
def test_forward_pass_equals_sklearns_with_the_same_weights(data, kind, activation):
    X, y = data[kind]
    Est = MLPRegressor if kind == "regression" else MLPClassifier
    ours = Est(hidden_layer_sizes=(9, 4), activation=activation, max_iter=5, random_state=0).fit(X, y)
    assert ours.network_.dtype == np.float64
    theirs = sklearn_twin(ours, X, y)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-10, atol=1e-10)
    if Est is MLPClassifier:
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-10, atol=1e-12)


# Adam differs from scikit-learn's only in where eps sits (PyTorch's formula: eps is added to
# √v̂, scikit-learn adds it to √v), which moves the weights by ~1e-6 over these 20 epochs.
STEP_CASES = {
    "sgd": (dict(solver="sgd", momentum=0.0), 1e-10),
    "sgd+momentum": (dict(solver="sgd", momentum=0.9, nesterovs_momentum=False), 1e-10),
    "sgd+nesterov": (dict(solver="sgd", momentum=0.9), 1e-10),
    "adam": (dict(solver="adam", learning_rate_init=0.01), 1e-4),
}


@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("case", sorted(STEP_CASES))
@pytest.mark.parametrize("kind", ["regression", "multiclass"])
def test_training_steps_equal_sklearns_from_the_same_weights(data, kind, case, alpha):
    """Both start from the same random weights (a warm start after one epoch), then train 20
    epochs in order (no shuffling, and no stopping) with batches that divide N: the weights
    follow scikit-learn's, and so does loss_curve_. Two outputs for the regressor:
    scikit-learn reports the squared error averaged over outputs, but steps on its sum."""
    X, y = data[kind]
    X, y = X[:180], y[:180]
    extra, atol = STEP_CASES[case]
    params = dict(hidden_layer_sizes=(6,), alpha=alpha, batch_size=30, shuffle=False,
                  warm_start=True, random_state=0, n_iter_no_change=100, **extra)
    Est = MLPRegressor if kind == "regression" else MLPClassifier
    ours = Est(max_iter=1, **params).fit(X, y)
    theirs = getattr(sk, Est.__name__)(max_iter=1, **params).fit(X, y)
    rng = np.random.default_rng(1)
    for k, (c, b) in enumerate(zip(theirs.coefs_, theirs.intercepts_)):
        W, v = rng.normal(0, 0.5, c.shape), rng.normal(0, 0.1, b.shape)
        ours.coefs_[k][...], ours.intercepts_[k][...] = W, v  # views into network_'s θ
        theirs.coefs_[k], theirs.intercepts_[k] = W.copy(), v.copy()
    for est in (ours, theirs):  # a warm start: each starts a fresh optimizer
        est.set_params(max_iter=20).fit(X, y)
    for mine, ref in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, ref, rtol=0, atol=atol)
    assert ours.n_iter_ == theirs.n_iter_ == 20  # this fit's epochs
    assert len(ours.loss_curve_) == len(theirs.loss_curve_) == 21
    if alpha == 0:  # with alpha, scikit-learn adds the penalty of each batch's starting
        # weights, fastnn that of the epoch's end: only the weights compare closely then
        np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:],
                                   rtol=1e-10 if case != "adam" else 1e-5)


# ---------------------------------------------------------------- stopping
@pytest.mark.parametrize("Est, kind", [(MLPClassifier, "multiclass"), (MLPRegressor, "regression")])
def test_early_stopping_keeps_the_best_validation_epoch(data, Est, kind):
    X, y = data[kind]
    y = y[:, 0] if y.ndim == 2 else y
    params = dict(hidden_layer_sizes=(32,), learning_rate_init=0.03, early_stopping=True,
                  validation_fraction=0.25, n_iter_no_change=5, random_state=0, max_iter=200)
    full = Est(**params).fit(X, y)
    scores = full.validation_scores_
    assert isinstance(scores, list) and len(scores) == full.n_iter_ == len(full.loss_curve_)
    assert full.best_validation_score_ == max(scores) and full.best_loss_ is None
    best_epoch = int(np.argmax(scores)) + 1  # the first epoch with the best score
    assert full.n_iter_ > best_epoch  # it trained past the best one...
    # ...and came back to it: a run stopped right at that epoch ends with the same weights.
    short = Est(**dict(params, max_iter=best_epoch)).fit(X, y)
    assert short.validation_scores_ == scores[:best_epoch]
    for a, b in zip(full.coefs_ + full.intercepts_, short.coefs_ + short.intercepts_):
        np.testing.assert_array_equal(a, b)

    plain = Est(**dict(params, early_stopping=False, max_iter=5)).fit(X, y)
    ref = getattr(sk, Est.__name__)(**dict(params, early_stopping=False, max_iter=5)).fit(X, y)
    assert plain.validation_scores_ is None is ref.validation_scores_
    assert plain.best_validation_score_ is None is ref.best_validation_score_


def test_convergence_warning_at_max_iter_and_none_when_tol_stops(binary):
    X, y = binary
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(2\\)"):
        MLPClassifier(max_iter=2, **SMALL).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs"):
        MLPClassifier(solver="lbfgs", max_iter=2, **SMALL).fit(X, y)
    params = dict(tol=1e3, n_iter_no_change=3, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = MLPClassifier(**params).fit(X, y)
        theirs = sk.MLPClassifier(**params).fit(X, y)
    # The first epoch only sets best_loss_; then n_iter_no_change + 1 epochs without a gain.
    assert ours.n_iter_ == theirs.n_iter_ == params["n_iter_no_change"] + 2


# ---------------------------------------------------------------- partial_fit, warm_start
def test_partial_fit_is_one_epoch_per_call(multiclass):
    X, y = multiclass
    with pytest.raises(ValueError, match="classes"):
        MLPClassifier(**SMALL).partial_fit(X, y)
    est = MLPClassifier(**SMALL)
    first = y < 2  # the first chunk holds two of the three classes
    est.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert (est.n_iter_, est.t_, len(est.loss_curve_)) == (1, first.sum(), 1)
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    assert est.predict_proba(X).shape == (len(X), 3)
    for i in range(2, 5):
        est.partial_fit(X, y)
        assert (est.n_iter_, est.t_, len(est.loss_curve_)) == (i, first.sum() + (i - 1) * len(X), i)
    # k calls on the same data are k epochs of one fit
    stepped = MLPClassifier(**SMALL)
    for _ in range(4):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
    whole = MLPClassifier(max_iter=4, **SMALL).fit(X, y)
    for a, b in zip(stepped.coefs_, whole.coefs_):
        np.testing.assert_array_equal(a, b)


def test_partial_fit_adaptive_learning_rate_follows_sklearn(binary):
    """learning_rate="adaptive" divides the lr by 5 after n_iter_no_change + 1 calls that do
    not lower the loss by tol; the count carries over from call to call, as in scikit-learn."""
    X, y = binary
    params = dict(solver="sgd", learning_rate="adaptive", tol=1e3, n_iter_no_change=2, **SMALL)
    ours, theirs = MLPClassifier(**params), sk.MLPClassifier(**params)
    lrs = []
    for _ in range(8):
        ours.partial_fit(X, y, classes=[0, 1])
        theirs.partial_fit(X, y, classes=[0, 1])
        lrs.append((ours.network_.optimizer.lr, theirs._optimizer.learning_rate))
    np.testing.assert_allclose(*zip(*lrs), rtol=1e-12)
    assert lrs[-1][0] < params.get("learning_rate_init", 1e-3) / 4


def test_warm_start_continues_from_the_last_weights(binary):
    X, y = binary
    params = dict(learning_rate_init=0.01, **SMALL)
    est = MLPClassifier(max_iter=10, warm_start=True, **params).fit(X, y)
    curve = list(est.loss_curve_)
    with pytest.warns(ConvergenceWarning):  # each warm-started fit that ends at max_iter says so
        est.fit(X, y)
    # as scikit-learn (#16812): n_iter_ counts this fit's epochs, loss_curve_ all of them
    assert est.n_iter_ == 10 and len(est.loss_curve_) == 20 and est.loss_curve_[:10] == curve
    # the second fit starts where the first ended, not from new random weights
    assert abs(est.loss_curve_[10] - curve[-1]) < 0.2 * (curve[0] - curve[-1])
    # and with a fresh optimizer, as scikit-learn's: plain SGD has no state to lose, so there
    # 10 + 10 warm-started epochs are one 20-epoch fit, bit for bit
    sgd = dict(params, solver="sgd", momentum=0.0)
    two = MLPClassifier(max_iter=10, warm_start=True, **sgd).fit(X, y)
    two.fit(X, y)
    whole = MLPClassifier(max_iter=20, **sgd).fit(X, y)
    np.testing.assert_array_equal(two.coefs_[0], whole.coefs_[0])
    adam_whole = MLPClassifier(max_iter=20, **params).fit(X, y)  # Adam's moments restart: not equal
    assert not np.array_equal(est.coefs_[0], adam_whole.coefs_[0])
    cold = MLPClassifier(max_iter=10, **params).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 10 and cold.loss_curve_ == curve  # without warm_start: from scratch
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        est.set_params(hidden_layer_sizes=(4,)).fit(X, y)


# ---------------------------------------------------------------- solvers
SOLVERS = [
    dict(solver="sgd", learning_rate="constant", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.2),
    dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05),
    dict(solver="sgd", momentum=0.0, learning_rate_init=0.1),
    dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.05),
    dict(solver="adam", learning_rate_init=0.01),
    dict(solver="lbfgs"),
]


@pytest.mark.parametrize("params", SOLVERS, ids=lambda p: "-".join(str(v) for v in p.values()))
def test_every_solver_learns_an_easy_problem(binary, regression, params):
    X, y = binary
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0, **params).fit(X, y)
    assert np.isfinite(clf.loss_) and clf.score(X, y) > 0.9
    X, y = regression
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, random_state=0, **params).fit(X, y)
    assert np.isfinite(reg.loss_) and reg.score(X, y) > 0.8


@pytest.mark.filterwarnings("error::DeprecationWarning")  # SciPy's, for an option it dropped
@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_without_hidden_layers_is_ridge_and_logistic_regression(regression, multiclass, weighted):
    """No hidden layer and an L2 penalty make the problems convex: the minimiser of
    ½ mean (y − Xw − b)² + ½ alpha ‖w‖²/n is Ridge(alpha)'s, and that of the mean log-loss
    + ½ alpha ‖W‖²/n is LogisticRegression(C=1/alpha)'s (sample weights: n = Σ w)."""
    alpha, exact = 3.0, dict(hidden_layer_sizes=(), solver="lbfgs", tol=1e-12, max_iter=5000, random_state=0)
    X, Y = regression
    rng = np.random.default_rng(0)
    w = rng.uniform(0.2, 3, len(X)) if weighted else None
    ours = MLPRegressor(alpha=alpha, **exact).fit(X, Y[:, 0], sample_weight=w)
    ridge = Ridge(alpha=alpha).fit(X, Y[:, 0], sample_weight=w)
    np.testing.assert_allclose(ours.coefs_[0].ravel(), ridge.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercepts_[0], ridge.intercept_, atol=1e-5)
    # loss_ as scikit-learn reports it: the data loss plus ½·alpha·‖W‖²/n, on NumPy's side
    r = (Y[:, 0] - ours.predict(X)) ** 2
    penalty = 0.5 * alpha * np.sum(ours.coefs_[0] ** 2) / (len(X) if w is None else w.sum())
    assert ours.loss_ == pytest.approx(0.5 * np.average(r, weights=w) + penalty, rel=1e-9)

    X, y = multiclass
    w = rng.uniform(0.2, 3, len(X)) if weighted else None
    ours = MLPClassifier(alpha=alpha, **exact).fit(X, y, sample_weight=w)
    logreg = LogisticRegression(C=1 / alpha, tol=1e-12, max_iter=5000).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.predict_proba(X), logreg.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("norm", [None, "layer"])  # alpha penalises W^[k], not γ^[k] or β^[k]
def test_multi_output_loss_is_averaged_over_outputs_as_sklearn_reports_it(regression, norm):
    X, Y = regression
    alpha = 0.1
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", alpha=alpha, max_iter=50, random_state=0,
                       norm=norm).fit(X, Y)
    penalty = 0.5 * alpha * sum(np.sum(c ** 2) for c in est.coefs_) / len(X)
    assert est.loss_ == pytest.approx(0.5 * np.mean((Y - est.predict(X)) ** 2) + penalty, rel=1e-9)


# ---------------------------------------------------------------- sample_weight
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("Est, kind", [(MLPRegressor, "regression"), (MLPClassifier, "multiclass")])
def test_sample_weight_zero_drops_rows_and_integers_repeat_them(data, Est, kind, solver):
    X, y = data[kind]
    X, y = X[:90], (y[:90, 0] if y.ndim == 2 else y[:90])
    params = dict(hidden_layer_sizes=(8,), solver=solver, alpha=0.5, batch_size=1000,
                  max_iter=30, learning_rate_init=0.01, random_state=0)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # batch_size > n is clipped, with a warning
        for w, (Xe, ye) in [
            (np.where(np.arange(90) % 3 == 0, 0.0, 1.0), (X[np.arange(90) % 3 != 0], y[np.arange(90) % 3 != 0])),
            (w_int := rng.integers(1, 4, 90), (np.repeat(X, w_int, axis=0), np.repeat(y, w_int, axis=0))),
        ]:
            weighted = Est(**params).fit(X, y, sample_weight=w)
            explicit = Est(**params).fit(Xe, ye)
            np.testing.assert_allclose(weighted.predict(X) if Est is MLPRegressor else weighted.predict_proba(X),
                                       explicit.predict(X) if Est is MLPRegressor else explicit.predict_proba(X),
                                       rtol=1e-6, atol=1e-9)
            assert weighted.loss_ == pytest.approx(explicit.loss_, rel=1e-6)  # penalty / Σ w too


# ---------------------------------------------------------------- DataFrames, dtypes
def test_dataframe_feature_names_as_sklearn(binary):
    pd = pytest.importorskip("pandas")
    X, y = binary
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    ours = MLPClassifier(max_iter=3, **SMALL).fit(df, y)
    theirs = sk.MLPClassifier(max_iter=3, **SMALL).fit(df, y)
    np.testing.assert_array_equal(ours.feature_names_in_, df.columns)
    np.testing.assert_array_equal(ours.network_.feature_names_in_, df.columns)
    with warnings.catch_warnings():  # the fitted columns: no warning (scikit-learn checked them)
        warnings.simplefilter("error")
        P = ours.predict_proba(df)
        ours.predict(df)
    with pytest.warns(UserWarning, match="X does not have valid feature names") as caught:
        np.testing.assert_array_equal(P, ours.predict_proba(X))
    assert len(caught) == 1  # scikit-learn's, not a second from the network
    shuffled = df[df.columns[::-1]]
    for est in (ours, theirs):
        with pytest.raises(ValueError, match="feature names should match"):
            est.predict(shuffled)


@pytest.mark.parametrize("X_dtype, dtype, want", [
    (np.float32, None, np.float32), (np.float64, None, np.float64), (np.float64, "float32", np.float32),
    (np.int64, None, np.float64)])
def test_dtype_follows_X_unless_forced(regression, X_dtype, dtype, want):
    X, Y = regression
    X = (X * 10).astype(X_dtype)
    est = MLPRegressor(max_iter=2, dtype=dtype, **SMALL).fit(X, Y)
    assert est.network_.dtype == want and est.coefs_[0].dtype == want and est.predict(X).dtype == want


# ---------------------------------------------------------------- bad parameters
@pytest.mark.parametrize("params, name", [
    (dict(solver="foo"), "solver"), (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(4, -2)), "hidden_layer_sizes"), (dict(alpha=-1), "alpha"),
    (dict(max_iter=0), "max_iter"), (dict(learning_rate="fast"), "learning_rate"),
    (dict(batch_size=0), "batch_size"), (dict(momentum=1.5), "momentum"),
    (dict(validation_fraction=1.0), "validation_fraction"), (dict(activation="swish"), "activation"),
    (dict(dtype="float16"), "dtype"), (dict(n_jobs=0), "n_jobs"),
    (dict(norm="group"), "norm"), (dict(norm=["layer", "batch"]), "norm"), (dict(dropout=1.0), "dropout"),
    (dict(dropout=[0.1, 0.2]), "dropout"), (dict(residual=True), "residual"),
    (dict(hidden_layer_sizes=(8, 4), residual=[True, True]), "residual"),
    (dict(hidden_layer_sizes=(8, 8), residual=[True, 1]), "residual")])
def test_bad_parameters_raise_valueerror_naming_them(binary, params, name):
    X, y = binary
    with pytest.raises(ValueError, match=name):
        MLPClassifier(**params).fit(X, y)
    if name not in ("dtype", "n_jobs", "norm", "dropout", "residual"):  # scikit-learn refuses the same values
        with pytest.raises(ValueError, match=name):
            sk.MLPClassifier(**params).fit(X, y)


# ---------------------------------------------------------------- persistence
@pytest.mark.parametrize("norm", [None, "batch"])
def test_joblib_mmap_and_pickle_round_trips_predict_the_same(regression, tmp_path, norm):
    X, Y = regression
    est = MLPRegressor(max_iter=5, norm=norm, **SMALL).fit(X, Y)
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    before = path.read_bytes()
    mapped = joblib.load(path, mmap_mode="r")
    assert all(isinstance(W, np.memmap) and not W.flags.writeable for W in mapped.network_.weights)
    np.testing.assert_array_equal(mapped.predict(X), est.predict(X))
    mapped.partial_fit(X, Y)  # trains on a copy of its own; the file is never written
    assert mapped.n_iter_ == est.n_iter_ + 1 and path.read_bytes() == before
    assert not np.array_equal(mapped.predict(X), est.predict(X))
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict(X), est.predict(X))
    copy.coefs_[0][0, 0] += 1.0  # coefs_ still views the copy's own θ
    assert copy.network_.weights[0][0, 0] == est.coefs_[0][0, 0] + 1.0


@pytest.mark.parametrize("activation, factor", [("relu", 6.0), ("logistic", 2.0)])
def test_init_sklearn_draws_sklearns_glorot_uniform_weights_and_biases(regression, activation, factor):
    X, y = regression
    est = MLPRegressor(hidden_layer_sizes=(40,), activation=activation, init="sklearn", max_iter=1,
                       learning_rate_init=1e-12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)  # one step of lr 1e-12: the weights are still the initial ones
    for W, b in zip(est.coefs_, est.intercepts_):
        bound = np.sqrt(factor / sum(W.shape))
        assert np.abs(W).max() <= bound and np.abs(W).max() > 0.9 * bound
        assert np.abs(b).max() <= bound and np.abs(b).max() > 0.5 * bound  # b̄ drawn too, not 0
    # the default, drawn first from random_state in scikit-learn's order: its very weights
    assert MLPRegressor().init == "sklearn"
    theirs = sk.MLPRegressor(hidden_layer_sizes=(40,), activation=activation, max_iter=1, learning_rate_init=1e-12,
                             random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
    for mine, ref in zip(est.coefs_ + est.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-9)
    auto = MLPRegressor(hidden_layer_sizes=(40,), init="auto", max_iter=1, learning_rate_init=1e-12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        auto.fit(X, y)
    assert np.all(np.abs(auto.intercepts_[0]) < 1e-9)  # the Network's own init: b̄ = 0


@pytest.mark.parametrize("n_jobs, want", [(-1, 2), (-2, 1), (None, None), (1, 1)])
def test_n_jobs_counts_like_joblib(regression, monkeypatch, cores, n_jobs, want):
    """n_jobs becomes Network.fit's ``threads``: -1 every usable core, -2 all but one."""
    from fastnn import Network

    cores(2)
    fit, asked = Network.fit, []

    def spy(net, *args, **kwargs):
        asked.append(kwargs["threads"])
        return fit(net, *args, **kwargs)

    monkeypatch.setattr(Network, "fit", spy)
    MLPRegressor(n_jobs=n_jobs, max_iter=1, **SMALL).fit(*regression)
    assert asked == [want]


def test_n_jobs_zero_is_refused(regression):
    with pytest.raises(ValueError, match="n_jobs"):
        MLPRegressor(n_jobs=0).fit(*regression)


def test_partial_fit_refuses_early_stopping_as_sklearn_does(regression):
    X, y = regression
    with pytest.raises(ValueError, match="early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(X, y)
    with pytest.raises(ValueError, match="early_stopping"):
        sk.MLPRegressor(early_stopping=True).partial_fit(X, y)


# ---------------------------------------------------------------- deep-net options (issue 19)
DEEP = {
    "batch norm": dict(norm="batch"),
    "layer norm": dict(norm="layer"),
    "dropout": dict(dropout=0.1),
    "residual": dict(residual=True),
    "per layer": dict(norm=["layer", "batch"], dropout=[0.1, 0.0], residual=[False, True]),
    "gelu": dict(activation="gelu", norm="layer"),
    "silu": dict(activation="silu", dropout=0.1),
    "elu": dict(activation="elu", residual=True),
    "selu": dict(activation="selu", norm="batch"),
}


@pytest.mark.parametrize("case", sorted(DEEP))
def test_deep_net_options_reach_the_network_and_learn_an_easy_problem(binary, regression, case):
    options = DEEP[case]
    params = dict(hidden_layer_sizes=(16, 16), max_iter=100, learning_rate_init=0.01, random_state=0, **options)
    X, y = binary
    clf = MLPClassifier(**params).fit(X, y)
    assert np.isfinite(clf.loss_) and clf.score(X, y) > 0.9
    X, y = regression
    reg = MLPRegressor(**params).fit(X, y)
    assert np.isfinite(reg.loss_) and reg.score(X, y) > 0.8
    layers = {k: v for k, v in options.items() if k != "activation"}
    want = Network(reg.network_.sizes, **layers)  # the Network these options make
    for est in (clf, reg):
        net = est.network_
        assert (net.norm, net.dropout, net.residual) == (want.norm, want.dropout, want.residual)
        assert net.activations[:-1] == [options.get("activation", "relu")] * 2
        assert est.get_params()["norm"] is options.get("norm")  # stored as given


def test_defaults_leave_the_network_plain(regression):
    est = MLPRegressor(max_iter=2, **SMALL)
    assert {k: est.get_params()[k] for k in ("norm", "dropout", "residual")} == \
        dict(norm=None, dropout=0.0, residual=False)
    net = est.fit(*regression).network_
    assert (net.norm, net.dropout, net.residual) == ([None], [0.0], [False])
    assert net.n_params == sum(c.size for c in est.coefs_) + sum(b.size for b in est.intercepts_)


def test_clone_and_set_params_carry_the_deep_net_options(binary):
    X, y = binary
    est = MLPClassifier(hidden_layer_sizes=(6, 6), activation="elu", norm=["layer", "batch"], dropout=[0.2, 0.0],
                        residual=[False, True], max_iter=5, random_state=0, dtype="float64")
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    # a seeded fit is reproducible, dropout's masks included
    np.testing.assert_array_equal(twin.fit(X, y).predict_proba(X), est.fit(X, y).predict_proba(X))
    assert est.network_.dropout == [0.2, 0.0] and est.network_.residual == [False, True]
    plain = clone(est).set_params(norm=None, dropout=0.0, residual=False)
    assert plain.get_params()["norm"] is None
    net = plain.fit(X, y).network_
    assert (net.norm, net.dropout, net.residual) == ([None, None], [0.0, 0.0], [False, False])
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
                          {"norm": [None, "layer"], "dropout": [0.0, 0.2]}, cv=2, scoring="neg_log_loss").fit(X, y)
    assert len(set(search.cv_results_["mean_test_score"])) == 4  # each option reaches the network


def test_warm_start_refuses_changed_deep_net_options(regression):
    X, y = regression
    est = MLPRegressor(max_iter=2, warm_start=True, norm="layer", **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="norm changed"):
        est.set_params(norm="batch").fit(X, y)
    with pytest.raises(ValueError, match="dropout changed"):
        est.set_params(norm="layer", dropout=0.1).fit(X, y)


@pytest.mark.parametrize("dropout", [0.1, [0.0, 0.3]])
def test_lbfgs_refuses_dropout(regression, dropout):
    with pytest.raises(ValueError, match=r"dropout=.*use solver='adam' or 'sgd'"):
        MLPRegressor(hidden_layer_sizes=(4, 4), solver="lbfgs", dropout=dropout).fit(*regression)


def test_batch_norm_on_one_sample_says_so_as_sklearn_expects(regression):
    X, y = regression
    with pytest.raises(ValueError, match="1 sample"):
        MLPRegressor(norm="batch", **SMALL).fit(X[:1], y[:1])


def bn_forward(est, X, stats=None):
    """NumPy: z̄^[k] of each hidden layer and the output of a batch-norm net with ReLU hidden
    layers, normalizing with X's own statistics (the biased variance, as in training) or with
    ``stats`` [(μ, σ²)] (inference)."""
    net, x, zs = est.network_, X, []
    for k, (W, b) in enumerate(zip(net.weights, net.biases)):
        z = x @ W.T + b
        if k == len(net.weights) - 1:
            return zs, z
        zs.append(z)
        mu, var = (z.mean(axis=0), z.var(axis=0)) if stats is None else stats[k]
        x = np.maximum(net.norm_scales[k] * (z - mu) / np.sqrt(var + 1e-5) + net.norm_shifts[k], 0)
    raise AssertionError("unreachable")


@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_sets_batch_norm_running_statistics_once_from_all_of_X(regression, weighted):
    """Every evaluation of L-BFGS normalizes with the full batch's statistics and leaves the
    running ones alone; they are set once at the end: X's mean and unbiased variance of each
    z̄^[k] under the final weights (a momentum blend of the evaluations would differ). Integer
    weights act as repeated rows."""
    X, y = regression
    X, y = X[:120] + 2.0, y[:120, 0]  # off-centre, so the means are not ~0
    w = np.random.default_rng(0).integers(1, 4, len(X)) if weighted else None
    est = MLPRegressor(hidden_layer_sizes=(6, 5), solver="lbfgs", norm="batch", max_iter=30, random_state=0,
                       dtype="float64").fit(X, y, sample_weight=w)
    net = est.network_
    Xr, yr = (X, y) if w is None else (np.repeat(X, w, axis=0), np.repeat(y, w))
    zs, out = bn_forward(est, Xr)
    for z, mean, var in zip(zs, net.running_means, net.running_vars):
        np.testing.assert_allclose(mean, z.mean(axis=0), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(var, z.var(axis=0, ddof=1), rtol=1e-10)
    # what L-BFGS minimised: the loss with the full batch's statistics, + ½·alpha·‖W‖²/n
    penalty = 0.5 * est.alpha * sum(np.sum(c ** 2) for c in est.coefs_) / len(Xr)
    assert est.loss_ == pytest.approx(0.5 * np.mean((yr - out[:, 0]) ** 2) + penalty, rel=1e-9)
    # predict normalizes with them
    _, out = bn_forward(est, X, list(zip(net.running_means, net.running_vars)))
    np.testing.assert_allclose(est.predict(X), out[:, 0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("Est, kind", [(MLPRegressor, "regression"), (MLPClassifier, "multiclass")])
def test_early_stopping_restores_the_best_epochs_running_statistics(data, Est, kind):
    """As test_early_stopping_keeps_the_best_validation_epoch, with batch norm: the restored
    state is the best epoch's θ and running statistics (``snapshot``), those a run stopped
    there ends with."""
    X, y = data[kind]
    y = y[:, 0] if y.ndim == 2 else y
    params = dict(hidden_layer_sizes=(16,), learning_rate_init=0.03, early_stopping=True, norm="batch",
                  validation_fraction=0.25, n_iter_no_change=5, random_state=0, max_iter=200)
    full = Est(**params).fit(X, y)
    best_epoch = int(np.argmax(full.validation_scores_)) + 1
    assert full.n_iter_ > best_epoch  # it trained past the best epoch, moving the statistics
    short = Est(**dict(params, max_iter=best_epoch)).fit(X, y)
    np.testing.assert_array_equal(full.network_.snapshot(), short.network_.snapshot())
    for a, b in zip(full.network_.running_vars, short.network_.running_vars):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- class_weight
@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0}])
def test_class_weight_equals_the_matching_sample_weight(class_weight):
    """class_weight is compute_sample_weight(class_weight, y) as sample weights, bit for bit
    (and times the caller's own sample weights)."""
    from sklearn.utils.class_weight import compute_sample_weight

    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    y = (X[:, 0] + 0.8 * rng.standard_normal(120) > 0.7).astype(int)  # imbalanced: about 1 in 4
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    a = MLPClassifier(class_weight=class_weight, **params).fit(X, y)
    b = MLPClassifier(**params).fit(X, y, sample_weight=compute_sample_weight(class_weight, y))
    plain = MLPClassifier(**params).fit(X, y)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a.coefs_[0], plain.coefs_[0])
    sw = rng.uniform(0.5, 2.0, 120)
    c = MLPClassifier(class_weight=class_weight, **params).fit(X, y, sample_weight=sw)
    d = MLPClassifier(**params).fit(X, y, sample_weight=sw * compute_sample_weight(class_weight, y))
    np.testing.assert_array_equal(c.coefs_[0], d.coefs_[0])


def test_class_weight_balanced_raises_the_minority_recall_and_partial_fit_takes_a_dict():
    from sklearn.metrics import recall_score

    rng = np.random.default_rng(1)
    X = rng.standard_normal((600, 4))
    y = (X[:, 0] + 0.5 * rng.standard_normal(600) > 1.3).astype(int)  # about 1 in 10
    params = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    plain = MLPClassifier(**params).fit(X, y)
    balanced = MLPClassifier(class_weight="balanced", **params).fit(X, y)
    assert recall_score(y, balanced.predict(X)) > recall_score(y, plain.predict(X))
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported by partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    MLPClassifier(class_weight={1: 5.0}, hidden_layer_sizes=(4,)).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="class_weight"):
        MLPClassifier(class_weight="heavy").fit(X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_clip_norm_clips_the_estimators_steps(solver):
    """clip_norm reaches the optimizer: the fit equals Network.fit from the same initial θ with
    the optimizer object the estimator builds, clip_norm included, and differs from no clip."""
    import fastnn

    X, y = make_regression(n_samples=60, n_features=4, noise=5.0, random_state=0)
    kw = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=3, batch_size=20, shuffle=False,
              learning_rate_init=0.01, n_iter_no_change=np.inf, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clipped = MLPRegressor(clip_norm=1.0, **kw).fit(X, y)
        free = MLPRegressor(**kw).fit(X, y)
    assert clipped.network_.optimizer.clip_norm == 1.0 and free.network_.optimizer.clip_norm is None
    start = MLPRegressor(**kw)
    start._init_network(X, y[:, None], [8], start._layer_options([4, 8, 1]))
    opt = start._make_optimizer(20.0, 60)
    opt.clip_norm = 1.0
    assert isinstance(opt, fastnn.Adam if solver == "adam" else fastnn.SGD)
    start.network_.fit(X, y, epochs=3, batch_size=20, optimizer=opt, shuffle=False)
    np.testing.assert_array_equal(clipped.network_.parameters, start.network_.parameters)
    assert not np.allclose(clipped.network_.parameters, free.network_.parameters)
    with pytest.raises(ValueError, match=r"clip_norm=1.0 clips the stochastic solvers' batch gradients"):
        MLPRegressor(solver="lbfgs", clip_norm=1.0).fit(X, y)
    with pytest.raises(ValueError, match="'clip_norm' parameter"):
        MLPClassifier(clip_norm=0.0).fit(X, y > 0)


def test_scoring_drives_validation_scores_and_early_stopping():
    """scoring: a callable sees the held-out rows with the original labels; validation_scores_
    are its values; the best epoch's weights are restored; a flat score stops after
    n_iter_no_change + 1 epochs; names and "loss" work; a bad name is named."""
    from sklearn.metrics import mean_absolute_error

    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    labels = np.array(["no", "yes"])[y]
    seen = []

    def scorer(est, Xv, yv):
        score = float(np.mean(est.predict(Xv) == yv)) + 0.01 * len(seen)  # a rising score
        seen.append((Xv, yv, score))
        return score

    clf = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=12, random_state=0,
                        scoring=scorer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, labels)
    assert len(seen) == clf.n_iter_ == 12 and set(seen[0][1]) <= {"no", "yes"} and len(seen[0][1]) == 20
    assert clf.validation_scores_ == [score for _, _, score in seen]
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    best = int(np.argmax(clf.validation_scores_))  # the restored epoch's weights score it again
    assert np.mean(clf.predict(seen[0][0]) == seen[0][1]) + 0.01 * best == pytest.approx(clf.best_validation_score_)

    flat = MLPRegressor(hidden_layer_sizes=(8,), early_stopping=True, max_iter=50, n_iter_no_change=3,
                        random_state=0, scoring=lambda est, Xv, yv: 1.0).fit(X, y * 1.0)
    # scikit-learn's rule: stop once more than n_iter_no_change epochs in a row did not improve
    assert flat.n_iter_ == 5 and flat.validation_scores_ == [1.0] * 5

    reg = MLPRegressor(hidden_layer_sizes=(8,), early_stopping=True, max_iter=30, random_state=0,
                       scoring="neg_mean_absolute_error").fit(X, y * 1.0)
    assert all(v <= 0 for v in reg.validation_scores_)
    _, Xv, _, yv = train_test_split_like(reg, X, y * 1.0)
    assert reg.best_validation_score_ == pytest.approx(-mean_absolute_error(yv, reg.predict(Xv)), rel=1e-12)
    lossy = MLPRegressor(hidden_layer_sizes=(8,), early_stopping=True, max_iter=5, random_state=0,
                         scoring="loss")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lossy.fit(X, y * 1.0)
    _, Xv, _, yv = train_test_split_like(lossy, X, y * 1.0)
    assert lossy.best_validation_score_ == pytest.approx(-lossy.network_.loss(Xv, yv), rel=1e-9)
    with pytest.raises(ValueError, match=r"scoring='accuracy_typo' is not a scorer: .*get_scorer_names"):
        MLPClassifier(early_stopping=True, scoring="accuracy_typo").fit(X, labels)


def train_test_split_like(est, X, y):
    """The estimator's own early-stopping split (train_test_split with its drawn seed)."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, random_state=est._rng_split, test_size=est.validation_fraction)


def test_the_quality_and_speed_script_runs(capsys):
    """scripts/bench_sklearn.py --quick: the closing table's script, smoke-tested."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "bench_sklearn.py"
    spec = importlib.util.spec_from_file_location("bench_sklearn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.main(["--quick"])
    out = capsys.readouterr().out
    assert [r[0] for r in rows] == ["digits", "classification"] and all(r[2] > 0 for r in rows)
    assert "| digits | 300 × 64 | accuracy |" in out and "smallest speed-up" in out
