"""The GEMM libraries: scripts/gemm_libs.py calls each BLAS's sgemm correctly (the worker checks its
product against NumPy's before timing) and prints a rate per shape, MKL's rows only where MKL is
installed; the kernels run right on either library fastnn._blas chooses from (below)."""
import glob
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import naive
from fastnn import Network, _blas
from helpers import forced_split, set_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import gemm_libs

HAVE_MKL = bool(glob.glob(os.path.join(sys.prefix, "lib", "libmkl_rt.so*")))


@pytest.mark.parametrize("libs", ["openblas", pytest.param("openblas,mkl,mkl-cnr", marks=pytest.mark.skipif(
    not HAVE_MKL, reason="MKL not installed (pip install mkl)"))])
def test_each_library_multiplies_right_and_gets_a_rate(libs, capsys):
    out = gemm_libs.main(["--libs", libs, "--shapes", "17,33,9;32,32,32", "--threads", "1", "--repeats", "1"])
    assert set(out) == {(lib, 1, s) for lib in libs.split(",") for s in [(17, 33, 9), (32, 32, 32)]}
    assert all(v > 0 for v in out.values())
    assert "17×33×9" in capsys.readouterr().out


def test_unknown_library_is_refused():
    with pytest.raises(SystemExit):
        gemm_libs.main(["--libs", "atlas"])


def test_the_bf16_libraries_multiply_right_and_get_a_rate(capsys):
    """--bf16: each installed bf16 GEMM's product checked against NumPy's, then timed."""
    from fastnn import _blas

    libs = ["openblas"] + [f"{n}-bf16" for n, paths in (("mkl", _blas._mkl_paths()), ("onednn", _blas._onednn_paths()))
                           if paths]
    if len(libs) == 1:
        pytest.skip("no bf16 GEMM library installed (fastnn[bf16])")
    out = gemm_libs.main(["--libs", ",".join(libs), "--shapes", "17,33,9;32,32,32", "--threads", "1",
                          "--repeats", "1"])
    assert set(out) == {(lib, 1, s) for lib in libs for s in [(17, 33, 9), (32, 32, 32)]}
    assert all(v > 0 for v in out.values())


# ---------------------------------------------------------------- the kernels' GEMM library
# fastnn._blas chooses OpenBLAS or MKL per CPU (its table) and the whole suite runs on that
# choice; the tests below run a subset of kernel work on each library (the other one too, through
# use_gemm), against a float64 NumPy reference and against each other.


def _needs(lib):
    """MKL's cases skip where MKL is missing, except in CI (.ci/run installs it): there they fail."""
    missing = "mkl" in lib and not HAVE_MKL
    return pytest.mark.skipif(missing and not os.environ.get("CI"), reason="MKL not installed (fastnn[mkl])")


LIBS = [pytest.param(lib, marks=_needs(lib)) for lib in _blas.GEMM_LIBRARIES]


@contextmanager
def gemm(lib):
    before = _blas.use_gemm(lib)
    try:
        yield
    finally:
        _blas.use_gemm(before)


def _net(sizes, acts, rng, dtype=np.float32):
    net = Network(sizes, activations=acts, seed=3, dtype=dtype)
    Ws = [rng.normal(0, 0.5, W.shape) for W in net.weights]
    bs = [rng.normal(0, 0.3, b.shape) for b in net.biases]
    set_params(net, Ws, bs)
    return net


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_library_gives_the_reference_predictions_and_gradients(lib, dtype, rng):
    """predict and the batch gradient (the products of φ^[k] and x̄^[k−1]) against NumPy in float64."""
    sizes, acts = [7, 40, 33, 3], ["tanh", "relu", "identity"]
    net = _net(sizes, acts, rng, dtype)
    X, Y = rng.normal(size=(50, 7)), rng.normal(size=(50, 3))
    tol = 2e-4 if dtype == np.float32 else 1e-10
    with gemm(lib):
        P = net.predict(X)
        dW, db = net.gradients(X, Y)
    Ws, bs = net.weights, net.biases
    np.testing.assert_allclose(P, naive.predict(Ws, bs, acts, X), rtol=tol, atol=tol)
    rW, rb = naive.gradients(Ws, bs, acts, X, Y)
    for a, b in zip(dW + db, rW + rb):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("how", ["serial", "rows", "columns"])
def test_each_library_takes_the_reference_sgd_step(lib, how, rng):
    """One epoch of one full batch is one SGD step, W ← W − lr·∂L/∂W, whether the step runs on one
    thread or split by rows or by columns over two."""
    sizes, acts = [6, 48, 40, 2], ["relu", "tanh", "identity"]
    net = _net(sizes, acts, rng)
    X, Y = rng.normal(size=(64, 6)), rng.normal(size=(64, 2))
    Ws, bs = [W.copy() for W in net.weights], [b.copy() for b in net.biases]  # (net.weights: views of θ)
    rW, rb = naive.gradients(Ws, bs, acts, X, Y)
    lr = 0.05
    split = forced_split("rows" if how == "serial" else how)
    with gemm(lib), split:
        net.fit(X, Y, epochs=1, batch_size=64, lr=lr, shuffle=False, threads=1 if how == "serial" else 2)
    for a, W, g in zip(net.weights + net.biases, Ws + bs, rW + rb):
        np.testing.assert_allclose(a, W - lr * g, rtol=1e-4, atol=2e-5)


@pytest.mark.skipif(not HAVE_MKL and not os.environ.get("CI"), reason="MKL not installed (fastnn[mkl])")
def test_the_libraries_agree_to_rounding_and_mkl_repeats_bit_for_bit(rng):
    """Ten epochs of minibatch Adam on either library: the same fit to float32 rounding (they sum the
    k terms of a product in other orders); MKL (reproducibility mode on) gives the same bits twice."""
    X, Y = rng.normal(size=(512, 8)).astype(np.float32), rng.normal(size=(512, 1)).astype(np.float32)
    out = {}
    for lib in ("openblas", "mkl", "mkl"):
        net = Network([8, 64, 64, 1], seed=0)
        with gemm(lib):
            net.fit(X, Y, epochs=10, batch_size=32, optimizer="adam", lr=1e-3, seed=1)
        out.setdefault(lib, []).append(net.parameters)
    np.testing.assert_array_equal(out["mkl"][0], out["mkl"][1])
    gap = np.abs(out["mkl"][0] - out["openblas"][0]).max()
    assert 0 < gap < 1e-3 * np.abs(out["openblas"][0]).max()  # (0: MKL never ran)


def test_the_library_per_cpu_and_the_override(monkeypatch):
    monkeypatch.delenv("FASTNN_GEMM", raising=False)
    for vendor, avx512, want in (("GenuineIntel", True, ("mkl", "openblas")), ("GenuineIntel", False, ("openblas",)),
                                 ("AuthenticAMD", True, ("openblas+mkl", "openblas")),
                                 ("AuthenticAMD", False, ("openblas",)), ("", False, ("openblas",))):
        monkeypatch.setattr(_blas, "_cpu_vendor", lambda v=vendor: v)
        monkeypatch.setattr(_blas, "_cpu_features", lambda a=avx512: {"avx512f": a})
        assert _blas.gemm_order() == want
    monkeypatch.setenv("FASTNN_GEMM", "MKL")
    assert _blas.gemm_order() == ("mkl", "openblas")  # (OpenBLAS where MKL is missing)
    monkeypatch.setenv("FASTNN_GEMM", "openblas+mkl")
    assert _blas.gemm_order() == ("openblas+mkl", "openblas")
    monkeypatch.setenv("FASTNN_GEMM", "openblas")
    assert _blas.gemm_order() == ("openblas",)
    monkeypatch.setenv("FASTNN_GEMM", "atlas")
    with pytest.raises(ValueError, match="FASTNN_GEMM must be one of"):
        _blas.gemm_order()
    with pytest.raises(ValueError, match="GEMM library must be one of"):
        _blas.use_gemm("atlas")


def test_only_big_forward_products_read_the_cells_second_pair(rng):
    """The kernels' GEMM reads the cell's second (sgemm, dgemm) pair, MKL's under "openblas+mkl",
    for a forward product ("t", "n") of at least TN_MIN units and TN_MIN rows, the first pair
    for every other product: a recording sgemm in the second pair sees exactly those calls (and
    passes them on to OpenBLAS, so the answers stay right)."""
    import ctypes

    real = _blas._gemm_functions("openblas")[0]
    fty = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 13)
    forward = fty(real)
    seen = []

    def record(ta, tb, m, n, k, *rest):
        read = [ctypes.cast(p, ctypes.POINTER(t)).contents.value for p, t in
                ((ta, ctypes.c_char), (tb, ctypes.c_char), (m, ctypes.c_int), (n, ctypes.c_int), (k, ctypes.c_int))]
        seen.append((read[0].decode(), read[1].decode(), *read[2:]))
        forward(ta, tb, m, n, k, *rest)

    recorder = fty(record)
    saved = list(_blas._CELL)
    _blas._CELL[2] = ctypes.cast(recorder, ctypes.c_void_p).value
    n_units = _blas.TN_MIN
    try:
        for sizes, rows, want in (([64, n_units + 8], 48, [("t", "n", n_units + 8, 48, 64)]),
                                  ([64, n_units + 8], _blas.TN_MIN - 1, []), ([64, 8], 48, []),
                                  ([64, n_units, 3], 40, [("t", "n", n_units, 40, 64)])):
            net = Network(sizes, activations="identity", seed=0)
            X, Y = rng.normal(size=(rows, sizes[0])), rng.normal(size=(rows, sizes[-1]))
            del seen[:]
            P = net.predict(X)
            assert seen == want, sizes
            ref = naive.predict(net.weights, net.biases, ["identity"] * (len(sizes) - 1), X)
            np.testing.assert_allclose(P, ref, rtol=2e-4, atol=2e-4)
            del seen[:]
            net.gradients(X, Y)  # forward again, then ∂L/∂W ("n", "t") and φ ("n", "n"): first pair
            assert seen == want, sizes
    finally:
        for i, f in enumerate(saved):
            _blas._CELL[i] = f


@pytest.mark.skipif(not HAVE_MKL and not os.environ.get("CI"), reason="MKL not installed (fastnn[mkl])")
def test_the_mixed_choice_fills_the_cell_with_openblas_then_mkl():
    before = _blas.use_gemm("openblas+mkl")
    try:
        assert list(_blas._CELL) == [*_blas._gemm_functions("openblas"), *_blas._gemm_functions("mkl")]
        assert _blas.gemm_library() == "openblas+mkl"
        _blas.use_gemm("openblas")
        assert list(_blas._CELL) == [*_blas._gemm_functions("openblas")] * 2
    finally:
        _blas.use_gemm(before)


def test_a_missing_mkl_falls_back_to_openblas(monkeypatch):
    monkeypatch.setenv("FASTNN_GEMM", "mkl")
    real = _blas._gemm_functions

    def no_mkl(name):
        if name == "mkl":
            raise OSError("Intel MKL was not found")
        return real(name)

    before = _blas.gemm_library()
    monkeypatch.setattr(_blas, "_gemm_functions", no_mkl)
    try:
        _blas._init_gemm()
        assert _blas.gemm_library() == "openblas"
        with pytest.raises(OSError, match="MKL"):
            _blas.use_gemm("mkl")
    finally:
        monkeypatch.undo()
        _blas.use_gemm(before)


@pytest.mark.skipif(not HAVE_MKL and not os.environ.get("CI"), reason="MKL not installed (fastnn[mkl])")
def test_the_override_at_import_runs_cached_kernels_on_mkl(tmp_path):
    """A fresh process with FASTNN_GEMM=mkl: the kernels (from this session's Numba cache) read the cell
    at load and fit on MKL, to the in-process MKL fit's bits."""
    code = ("import numpy as np, fastnn\n"
            "X = np.linspace(-1, 1, 96, dtype=np.float32).reshape(32, 3)\n"
            "net = fastnn.Network([3, 16, 1], seed=0)\n"
            "net.fit(X, X[:, :1] ** 2, epochs=3, batch_size=8, shuffle=False)\n"
            f"print(fastnn.gemm_library()); np.save({str(tmp_path / 'theta.npy')!r}, net.parameters)\n")
    env = {**os.environ, "FASTNN_GEMM": "mkl"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["mkl"]
    X = np.linspace(-1, 1, 96, dtype=np.float32).reshape(32, 3)
    net = Network([3, 16, 1], seed=0)
    with gemm("mkl"):
        net.fit(X, X[:, :1] ** 2, epochs=3, batch_size=8, shuffle=False)
    np.testing.assert_array_equal(np.load(tmp_path / "theta.npy"), net.parameters)
