"""net.predictor(): the checked-once fast path gives predict's answers."""
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from fastnn import LOSSES, Network


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predictor_equals_predict(rng, loss, dtype):
    net = Network([5, 16, 3], loss=loss, dtype=dtype, seed=0)
    f = net.predictor()
    for n in (1, 7, 2500):  # one row, a few, and more than one block of rows
        X = rng.uniform(-2, 2, (n, 5)).astype(dtype)
        np.testing.assert_array_equal(f(X), net.predict(X))
        out = np.full((n, 3), np.nan, dtype)
        assert f(X, out) is out
        np.testing.assert_array_equal(out, net.predict(X))


def test_predictor_is_frozen_threadsafe_and_picklable(rng):
    net = Network([4, 32, 2], seed=0)
    X = rng.uniform(-1, 1, (300, 4)).astype(np.float32)
    f = net.predictor()
    before = net.predict(X)
    net.fit(X, rng.normal(size=(300, 2)), epochs=2, lr=0.1)
    np.testing.assert_array_equal(f(X), before)  # the weights it was made with
    assert not np.array_equal(net.predictor()(X), before)
    with ThreadPoolExecutor(4) as pool:
        assert all(np.array_equal(r, before) for r in pool.map(lambda _: f(X), range(40)))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(f))(X), before)


@pytest.mark.parametrize("bad", [
    np.zeros((3, 4), np.float64),  # another dtype
    np.zeros((3, 5), np.float32),  # n_0 wrong
    np.zeros((4, 3), np.float32).T,  # Fortran order
    np.zeros(4, np.float32),  # 1-D
    np.zeros((0, 4), np.float32),  # empty
    [[0.0] * 4],  # a list
])
def test_predictor_refuses_what_it_does_not_check(bad):
    f = Network([4, 8, 1], seed=0).predictor()
    with pytest.raises(ValueError, match="X: a predictor takes"):
        f(bad)


def test_predictor_refuses_a_wrong_out():
    f = Network([4, 8, 1], seed=0).predictor()
    X = np.zeros((3, 4), np.float32)
    for out in (np.zeros((3, 2), np.float32), np.zeros((3, 1), np.float64), np.zeros((3, 2), np.float32)[:, :1]):
        with pytest.raises(ValueError, match="out:"):
            f(X, out)
