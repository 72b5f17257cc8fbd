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


@pytest.fixture(params=["rows", "columns"])
def split(request, monkeypatch):
    """Force fit's threaded split: the batch by rows, or every product by columns of W^[k]."""
    from fastnn import _parallel

    monkeypatch.setattr(_parallel, "COLUMNS_MIN_LAYER_WORK", 0 if request.param == "columns" else 1 << 62)
    return request.param
