"""scikit-learn's own tests for its MLP, run against fastnn's MLPClassifier and MLPRegressor.

The installed scikit-learn's ``sklearn/neural_network/tests/test_mlp.py`` is copied with its
import of the estimators pointed at fastnn, and run by pytest in a subprocess. The same by hand:

    python -m pytest tests/test_sklearn_mlp_suite.py -q

Every test of that file must pass except those listed in ``NOT_YET``, each with its reason.
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fastnn

# What fails today, and why (issue 20 tracks each): scikit-learn's private attributes, or a
# feature fastnn's estimators do not have yet.
NOT_YET = {
    "test_fit": "assigns to coefs_ and calls the private _forward_pass",
    "test_gradient": "calls the private _forward_pass / _backprop",
    "test_learning_rate_warmstart": "reads the private _optimizer.learning_rate",
    "test_adaptive_learning_rate": "reads the private _optimizer.learning_rate",
}
# scikit-learn's conftest.py gives its tests this fixture: SKLEARN_TESTS_GLOBAL_RANDOM_SEED, 42
# by default ("all" runs 0 to 99); the copy gets the same
_CONFTEST = '''import os

import pytest

_SEEDS = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", "42")
if _SEEDS == "all":
    _SEEDS = "0-99"
_FIRST, _, _LAST = _SEEDS.partition("-")


@pytest.fixture(params=range(int(_FIRST), int(_LAST or _FIRST) + 1))
def global_random_seed(request):
    return request.param
'''
_IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"


def test_scikit_learns_mlp_tests_pass_against_fastnn(tmp_path):
    spec = importlib.util.find_spec("sklearn.neural_network.tests.test_mlp")
    if spec is None or spec.origin is None:  # a scikit-learn installed without its tests
        pytest.skip("this scikit-learn was installed without sklearn/neural_network/tests")
    source = Path(spec.origin).read_text()
    assert source.count(_IMPORT) == 1, "scikit-learn's test file imports its MLP differently now"
    copy = tmp_path / "test_sklearn_mlp.py"
    copy.write_text(source.replace(_IMPORT, "from fastnn import MLPClassifier, MLPRegressor"))
    (tmp_path / "conftest.py").write_text(_CONFTEST)
    deselect = [arg for name in NOT_YET for arg in ("--deselect", f"{copy.name}::{name}")]
    # the fastnn this process imports, whether installed or not
    path = os.pathsep.join([str(Path(fastnn.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W",
                          "ignore::DeprecationWarning", copy.name, *deselect],
                         capture_output=True, text=True, cwd=tmp_path, timeout=900,
                         env={**os.environ, "PYTHONPATH": path})
    tail = run.stdout[-3000:]
    assert run.returncode == 0, tail
    passed = int(re.search(r"(\d+) passed", tail).group(1))
    assert passed >= 55, tail  # (59 tests in scikit-learn 1.9, 4 of them in NOT_YET)
