"""Fixtures shared by the test modules.

``make_net`` builds the networks of the path, loss and optimizer tests. ``split``,
``predict_blocks``, ``cores``, ``run_length`` and ``thread_counts`` set the engine's knobs (the
context managers at the end of tests/helpers.py, which list every engine setting tests change).
"""
import contextlib
import os
import sys

import numpy as np
import pytest

# `import naive` from the test modules, whatever --import-mode is configured.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The suite trains dozens of kinds of net in each process: the generic kernels compile once for
# all of them, where each kind would compile a specialised variant of its own (the default, which
# tests/test_variants.py checks against the generic kernels). FASTNN_KERNELS=specialized runs
# the suite on the variants.
os.environ.setdefault("FASTNN_KERNELS", "generic")

import helpers
from fastnn import Network


def pytest_configure(config):
    # An array copy forced by a non-contiguous operand in a kernel fails the suite.
    config.addinivalue_line(
        "filterwarnings", "error::numba.core.errors.NumbaPerformanceWarning"
    )


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def make_net(rng):
    """``make_net(sizes, activations=None, *, loss="mse", path="auto", dtype="float64",
    biases=rng)``: a ``Network`` (seed 1) on the kernel path ``path`` (``kernel_path``), with
    nonzero biases b̄^[k] ~ N(0, 0.3²) drawn from ``biases`` (the test's ``rng`` by default), so
    every term of the gradient is exercised."""

    def make(sizes, activations=None, *, loss="mse", path="auto", dtype="float64", biases=rng):
        net = Network(sizes, activations, loss=loss, dtype=dtype, seed=1, kernel_path=path)
        helpers.randomize_biases(net, biases)
        return net

    return make


@pytest.fixture(params=["rows", "columns"])
def split(request):
    """Force fit's threaded split: the batch by rows, or every product by columns of W^[k]."""
    with helpers.forced_split(request.param):
        yield request.param


@pytest.fixture
def _knobs():
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def cores(_knobs):
    """``cores(n)``: the engine sees n usable cores until the test ends."""
    return lambda n: _knobs.enter_context(helpers.usable_cores(n))


@pytest.fixture
def predict_blocks(_knobs):
    """``predict_blocks(cores, min_rows=None)``: from then on predict splits its rows into
    blocks for that many threads, however few rows (``helpers.predict_blocks``)."""
    return lambda cores, min_rows=None: _knobs.enter_context(helpers.predict_blocks(cores, min_rows))


@pytest.fixture
def run_length(_knobs):
    """``run_length("batch" | "epoch")``: from then on fit runs one batch, or one whole epoch,
    per kernel call (``helpers.run_length``); a later call replaces an earlier one."""
    return lambda how: _knobs.enter_context(helpers.run_length(how))


@pytest.fixture
def thread_counts(_knobs):
    """``thread_counts(pick)``: from then on each run of a threaded fit uses ``pick()`` threads
    (``helpers.thread_counts``)."""
    return lambda pick: _knobs.enter_context(helpers.thread_counts(pick))
