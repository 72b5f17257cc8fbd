import os
import sys

import numpy as np
import pytest

# `import naive` from the test modules, whatever --import-mode is configured.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_configure(config):
    # An array copy forced by a non-contiguous operand in a kernel fails the suite.
    config.addinivalue_line(
        "filterwarnings", "error::numba.core.errors.NumbaPerformanceWarning"
    )


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
