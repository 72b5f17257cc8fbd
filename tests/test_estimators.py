"""fastnn.MLPRegressor / MLPClassifier as scikit-learn estimators: the full check suite, and
agreement with scikit-learn's own MLP on the same data and parameters."""
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastnn import MLPClassifier, MLPRegressor

# Every check scikit-learn lists for these estimators runs, with no expected failures. It
# skips three itself: check_array_api_input twice (it runs only with SCIPY_ARRAY_API=1, and
# neither estimator claims array-API support) and the classifier's decision_function check
# (it has none, like scikit-learn's MLPClassifier). max_iter=50, half of what scikit-learn
# checks its own MLP with; everything else is the default (adam, (100,), init="sklearn", dtype
# following X).
CHECKED = [MLPRegressor(max_iter=50), MLPClassifier(max_iter=50)]


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# The deep-net options (issue 19) through the same suite: every option and two of the new
# activations, over two estimators. Expected failures, each for its reason:
DEEP = [MLPRegressor(max_iter=100, hidden_layer_sizes=(16, 16), norm="layer", residual=True, activation="gelu"),
        MLPClassifier(max_iter=100, hidden_layer_sizes=(16, 16), norm="batch", dropout=0.1, activation="silu")]
DROPOUT_WEIGHTS = ("dropout's masks are keyed by a row's position in the epoch: a row of weight 2 is "
                   "not two rows, each with a mask of its own")


def deep_expected_failures(estimator):
    if not estimator.dropout:
        return {}
    return {"check_sample_weight_equivalence_on_dense_data": DROPOUT_WEIGHTS,
            "check_sample_weight_equivalence_on_sparse_data": DROPOUT_WEIGHTS}


@parametrize_with_checks(DEEP, expected_failed_checks=deep_expected_failures)
def test_sklearn_compatible_with_the_deep_net_options(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- quality next to scikit-learn
# The datasets, splits and parameters of ``bench_peers.py --estimators`` (one definition in
# scripts/peers/estimators.py): both libraries with the same parameters and seeds.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from peers import estimators as quality  # noqa: E402

SEEDS = range(3)


@pytest.mark.parametrize("name", sorted(quality.DATASETS))
def test_test_score_within_001_of_sklearn_or_above(name):
    import sklearn.neural_network as sk

    import fastnn

    Xtr, Xte, ytr, yte = quality.load(name)
    scores = {}
    for lib in (fastnn, sk):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores[lib.__name__] = np.mean([quality.make(lib, name, s).fit(Xtr, ytr).score(Xte, yte)
                                            for s in SEEDS])
    ours, theirs = scores["fastnn"], scores[sk.__name__]
    assert ours >= theirs - 0.01, f"{name}: fastnn {ours:.4f} vs scikit-learn {theirs:.4f}"


@pytest.mark.parametrize("max_iter", [20, 50, 200])
def test_the_defaults_converge_as_scikit_learns(max_iter):
    """Training R² at scikit-learn's defaults on the data of its estimator checks' regression
    test (``make_regression`` as they call it; X and y standardized), where the Network's own He
    init had reached -1.14 / 0.15 / 0.86."""
    import sklearn.neural_network as sk
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=200, n_features=10, n_informative=1, bias=5.0, noise=20, random_state=42)
    X, y = (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()
    scores = []
    for Est in (MLPRegressor, sk.MLPRegressor):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores.append(Est(max_iter=max_iter, random_state=0).fit(X, y).score(X, y))
    assert scores[0] >= scores[1] - 0.01, scores


def test_raw_digits_with_the_defaults():
    Xtr, Xte, ytr, yte = quality.load("digits")
    for seed in SEEDS:
        assert MLPClassifier(random_state=seed).fit(Xtr, ytr).score(Xte, yte) >= 0.93
