"""precision="bf16": fit's GEMMs with bf16 operands and float32 accumulation (Intel MKL), float32
master weights, state, loss and elementwise steps.

References: PyTorch's float32 → bfloat16 cast (round to nearest even); float64 products of the
bf16-rounded operands; the seed's backpropagation in NumPy with the operands each product reads
rounded to bf16; and float32 fits of the same seeds (digits accuracy, friedman1 loss). Tests that
run bf16 products skip, naming the reason, on a CPU without AVX512_BF16/AMX-BF16 (or, outside
CI, without MKL); in CI a CPU with bf16 and no MKL fails them.
"""
import numpy as np
import pytest

import fastnn
from fastnn import Network, _blas
from fastnn._jit import jit
from helpers import needs_bf16, require


def bf16(a):
    """float32 → bf16 → float32 by round to nearest even, in NumPy (a reference to the cast)."""
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint32) << 16
    return r.view(np.float32)


def test_the_cast_rounds_to_nearest_even_as_pytorch():
    torch = require("torch")
    rng = np.random.default_rng(0)
    x = np.concatenate([
        (rng.standard_normal(5000) * 10.0 ** rng.integers(-30, 30, 5000)).astype(np.float32),
        # ties (the low 16 bits exactly 0x8000) both ways, the largest float32, ±Inf, NaN, ±0, subnormals
        np.array([0x3F808000, 0x3F818000, 0xBF808000, 0x7F7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000,
                  0x00000000, 0x80000000, 0x00000001, 0x0000FFFF], np.uint32).view(np.float32)])
    out = np.empty(x.size, np.uint16)
    _blas.to_bf16(x, 0, x.size, x.size, 1, out, 0)
    ref = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    nan = np.isnan(x)
    np.testing.assert_array_equal(out[~nan], ref[~nan])
    assert np.isnan((out[nan].astype(np.uint32) << 16).view(np.float32)).all()


def test_the_cast_packs_a_strided_block():
    """A column-major (rows × cols) block at an offset with leading dimension ld, packed."""
    src = np.arange(60, dtype=np.float32) + np.float32(0.1)
    out = np.zeros(3 + 4 * 5, np.uint16)
    _blas.to_bf16(src, 7, 10, 4, 5, out, 3)  # 5 columns of 4 from offset 7, stride 10
    want = bf16(src[7:57].reshape(5, 10)[:, :4]).reshape(-1)
    got = (out[3:].astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_array_equal(got, want)
    assert not out[:3].any()


@jit
def _mm(kp, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    z = np.uint64(0)
    return _blas._mm(kp, ta, tb, m, n, k, alpha, a, z, lda, b, z, ldb, beta, c, z, ldc, False, False)


def _installed():
    """The bf16 GEMM libraries that load here (both, where ``fastnn[bf16]`` is installed)."""
    found = []
    for name in _blas.BF16_LIBRARIES:
        try:
            found.append(_blas._load(name))
        except OSError:
            pass
    return found


@needs_bf16
@pytest.mark.parametrize("ta, tb, m, n, k", [("n", "n", 37, 29, 53), ("t", "n", 64, 33, 300),
                                             ("n", "t", 5, 130, 17), ("t", "t", 128, 64, 784)])
@pytest.mark.parametrize("lib", [0, 1], ids=_blas.BF16_LIBRARIES)
def test_a_bf16_gemm_is_within_bf16_rounding_of_float32(lib, ta, tb, m, n, k):
    if lib not in _installed():
        pytest.skip(f"{_blas.BF16_LIBRARIES[lib]} is not installed")
    rng = np.random.default_rng(1)
    # column-major op(A) (m × k) and op(B) (k × n), stored transposed when asked: as NumPy arrays
    # in row-major order, a column-major (r × c) matrix is the (c, r) array
    A = rng.standard_normal((k, m) if ta == "n" else (m, k), dtype=np.float32)
    B = rng.standard_normal((n, k) if tb == "n" else (k, n), dtype=np.float32)
    opA = A.T if ta == "n" else A  # (m, k)
    opB = B.T if tb == "n" else B  # (k, n)
    C0 = rng.standard_normal((n, m), dtype=np.float32)  # column-major m × n
    alpha, beta = np.float32(-0.75), np.float32(1.0)
    C = C0.copy()
    kp = (np.int64(2), np.empty(1, np.uint16), np.empty(m * k, np.uint16), np.empty(k * n, np.uint16), np.int64(lib))
    assert _mm(kp, ord(ta), ord(tb), m, n, k, alpha, A.reshape(-1), A.shape[1], B.reshape(-1), B.shape[1], beta,
               C.reshape(-1), m) == 0
    got = C.T.astype(np.float64)  # (m, n)
    scale = np.abs(opA).astype(np.float64) @ np.abs(opB).astype(np.float64) * abs(alpha)  # Σ|a||b|
    exact_bf16 = alpha * (bf16(opA).astype(np.float64) @ bf16(opB).astype(np.float64)) + C0.T
    exact = alpha * (opA.astype(np.float64) @ opB.astype(np.float64)) + C0.T
    # the operands rounded to bf16, the sum kept in float32: float32 accumulation error only
    assert (np.abs(got - exact_bf16) <= 1e-5 * (scale + np.abs(C0.T)) + 1e-6).all()
    # against the float32 product: within the operands' rounding, 2^-8 relative each
    assert (np.abs(got - exact) <= 2.0 ** -7 * scale + 1e-5 * np.abs(C0.T) + 1e-6).all()
    assert np.abs(got - exact).max() > 0  # (bf16 did round: this is not the float32 product)


def _reference_step(Ws, bs, X, Y, lr, rnd):
    """One SGD step of the seed's net (ReLU inner layers, identity output, L = ½‖y − x̄^[K]‖²,
    mean over the batch) in float64, with ``rnd`` applied to each operand a product reads."""
    xs, zs = [X.astype(np.float64)], []
    for k, (W, b) in enumerate(zip(Ws, bs)):
        z = rnd(xs[-1]) @ rnd(W).T + b
        zs.append(z)
        xs.append(np.maximum(z, 0) if k < len(Ws) - 1 else z)
    phi = xs[-1] - Y  # each row's φ^[K]; the step takes lr/B of their sum (as the kernels do)
    new = []
    for k in range(len(Ws) - 1, -1, -1):
        gW, gb = rnd(phi).T @ rnd(xs[k]), phi.sum(0)
        if k > 0:
            phi = (rnd(phi) @ rnd(Ws[k])) * (zs[k - 1] > 0)
        new.append((Ws[k] - lr / len(X) * gW, bs[k] - lr / len(X) * gb))
    return new[::-1]


def _cast(a):
    return bf16(np.asarray(a, np.float32)).astype(np.float64)


@needs_bf16
@pytest.mark.parametrize("sizes, threads", [([48, 96, 64, 3], 1), ([48, 96, 64, 3], 2), ([24, 512, 8, 2], 2)])
def test_one_bf16_step_rounds_the_operands_each_product_reads(sizes, threads):
    """The forward product reads bf16(W^[k]), bf16(x̄^[k-1]); φ^[k-1] reads bf16(φ^[k]),
    bf16(W^[k]); ∂L/∂W^[k] reads bf16(φ^[k]), bf16(x̄^[k-1]); all else float32. Row split
    ([48, 96, 64, 3] at 2 threads) and column split ([24, 512, 8, 2]: wider than the batch)."""
    rng = np.random.default_rng(2)
    B = 40
    X = rng.standard_normal((B, sizes[0])).astype(np.float32)
    Y = rng.standard_normal((B, sizes[-1])).astype(np.float32)
    net = Network(sizes, seed=3, kernel_path="blas", precision="bf16")
    Ws, bs = [W.astype(np.float64) for W in net.weights], [b.astype(np.float64) for b in net.biases]
    net.fit(X, Y, epochs=1, batch_size=B, lr=0.05, shuffle=False, threads=threads)
    want = _reference_step(Ws, bs, X, Y, 0.05, _cast)
    f32 = _reference_step(Ws, bs, X, Y, 0.05, lambda a: a)
    for k, ((W, b), (W32, _)) in enumerate(zip(want, f32)):
        gap = np.abs(W - W32).max()  # how far float32's step lies from bf16's
        assert gap > 1e-6, k
        assert np.abs(net.weights[k] - W).max() < 0.05 * gap, k
        assert np.abs(net.biases[k] - b).max() < 1e-5, k


@needs_bf16
def test_bf16_fits_repeat_bit_for_bit_and_agree_across_thread_counts():
    """A seeded fit repeats bit for bit at a given thread count; one and two threads agree to
    float32 rounding (MKL's bf16 GEMM may sum a row in another order when the block's shape
    changes: the row split hands each thread half the rows)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((600, 32)).astype(np.float32)
    Y = np.tanh(X[:, :4]).astype(np.float32)
    thetas = []
    for threads in (1, 1, 2, 2):
        net = Network([32, 256, 128, 4], seed=5, precision="bf16")
        net.fit(X, Y, epochs=2, batch_size=64, optimizer="adam", lr=1e-3, threads=threads, seed=6)
        thetas.append(net.parameters.copy())
    np.testing.assert_array_equal(thetas[0], thetas[1])
    np.testing.assert_array_equal(thetas[2], thetas[3])
    np.testing.assert_allclose(thetas[2], thetas[0], rtol=1e-4, atol=1e-6)


@needs_bf16
def test_digits_accuracy_in_bf16_is_float32s_within_0_005():
    datasets = pytest.importorskip("sklearn.datasets")
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = datasets.load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = model_selection.train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    scores = {}
    for precision in ("float32", "bf16"):
        clf = fastnn.MLPClassifier((256, 128), max_iter=40, batch_size=64, random_state=0, precision=precision)
        scores[precision] = clf.fit(Xtr, ytr).score(Xte, yte)
    assert scores["float32"] > 0.95
    assert abs(scores["bf16"] - scores["float32"]) <= 0.005, scores


@needs_bf16
def test_friedman1_final_loss_in_bf16_is_float32s_within_a_few_percent():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.make_friedman1(n_samples=3000, noise=0.5, random_state=0)
    X, Y = X.astype(np.float32), (y / y.std()).astype(np.float32).reshape(-1, 1)
    losses = {}
    for precision in ("float32", "bf16"):
        net = Network([10, 128, 128, 1], seed=0, precision=precision)
        net.fit(X, Y, epochs=40, batch_size=64, optimizer="adam", lr=1e-3, seed=1)
        losses[precision] = net.loss(X, Y)
    assert losses["float32"] < 0.05  # (the signal is learnt: the noise alone is ≈ 0.02)
    assert abs(losses["bf16"] / losses["float32"] - 1) < 0.05, losses


# ---------------------------------------------------------------------------------- refusals
def test_precision_is_refused_by_name_and_for_float64():
    with pytest.raises(ValueError, match="precision must be 'float32' or 'bf16'"):
        Network([2, 3, 1], precision="fp8")
    with pytest.raises(ValueError, match=r"needs dtype='float32'.*float64"):
        Network([2, 3, 1], dtype="float64", precision="bf16")


def test_a_cpu_without_bf16_is_refused_saying_so_and_the_net_stays_as_it_was(monkeypatch):
    import llvmlite.binding as ll

    net = Network([2, 3, 1], seed=0)
    monkeypatch.setattr(ll, "get_host_cpu_features", lambda: {"avx512f": True, "avx512bf16": False})
    with pytest.raises(ValueError, match=r"precision='bf16' cannot run here: this CPU .* neither AVX512_BF16 nor "
                                         r"AMX-BF16.*precision='float32'"):
        net.precision = "bf16"
    assert net.precision == "float32"
    with pytest.raises(ValueError, match="AVX512_BF16"):
        fastnn.MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, precision="bf16").fit(np.zeros((8, 2)), np.zeros(8))


def test_no_bf16_library_is_refused_naming_the_install(monkeypatch):
    import llvmlite.binding as ll

    def missing(name):
        raise OSError(f"{name} was not found")

    monkeypatch.setattr(ll, "get_host_cpu_features", lambda: {"avx512bf16": True})
    monkeypatch.setattr(_blas, "_load", missing)
    with pytest.raises(ValueError, match=r"cannot run here: no bf16 GEMM library was found: oneDNN "
                                         r"\(onednn-cpu-gomp\) or Intel MKL \(mkl\) is needed; "
                                         r"pip install \"fastnn\[bf16\]\""):
        Network([2, 3, 1], precision="bf16")


def test_a_library_search_reports_what_it_looked_for(monkeypatch):
    monkeypatch.setattr(_blas, "_mkl_paths", lambda: ["/nowhere/libmkl_rt.so.2"])
    monkeypatch.setattr(_blas, "_mkl", _blas._mkl.__wrapped__)  # (not the MKL loaded already)
    with pytest.raises(OSError, match=r"Intel MKL with cblas_gemm_bf16bf16f32 was not found: pip install "
                                      r"\"fastnn\[bf16\]\""):
        _blas._symbols.__wrapped__("mkl")


def test_the_library_is_chosen_by_the_cpus_table_or_the_override(monkeypatch):
    monkeypatch.delenv("FASTNN_BF16_GEMM", raising=False)
    monkeypatch.setattr(_blas, "_cpu_features", lambda: {"avx512bf16": True, "amx-bf16": True})
    assert _blas.bf16_order() == ("mkl", "onednn")  # AMX: MKL's tiles
    monkeypatch.setattr(_blas, "_cpu_features", lambda: {"avx512bf16": True})
    assert _blas.bf16_order() == ("onednn", "mkl")  # AVX512_BF16 alone (AMD Zen 4): oneDNN
    monkeypatch.setenv("FASTNN_BF16_GEMM", "MKL")
    assert _blas.bf16_order() == ("mkl",)
    monkeypatch.setenv("FASTNN_BF16_GEMM", "openblas")
    with pytest.raises(ValueError, match=r"FASTNN_BF16_GEMM must be one of \['onednn', 'mkl'\], got 'openblas'"):
        _blas.bf16_order()


@needs_bf16
def test_both_libraries_train_the_same_net_to_float32_rounding(monkeypatch):
    """oneDNN and MKL round the same operands and sum in float32: one step agrees to float32
    rounding, far closer than bf16 is to float32."""
    if len(_installed()) < 2:
        pytest.skip("needs both bf16 libraries (fastnn[bf16])")
    rng = np.random.default_rng(7)
    X = rng.standard_normal((64, 40)).astype(np.float32)
    Y = rng.standard_normal((64, 3)).astype(np.float32)
    thetas = {}
    for name in ("onednn", "mkl", None):
        monkeypatch.setenv("FASTNN_BF16_GEMM", name or "onednn")
        net = Network([40, 128, 96, 3], seed=1, precision="bf16" if name else "float32")
        net.fit(X, Y, epochs=1, batch_size=64, lr=0.05, shuffle=False, threads=1)
        thetas[name] = net.parameters - Network([40, 128, 96, 3], seed=1).parameters
    libs_gap = np.abs(thetas["onednn"] - thetas["mkl"]).max()
    f32_gap = np.abs(thetas["onednn"] - thetas[None]).max()
    assert libs_gap < 0.05 * f32_gap


def test_lbfgs_refuses_bf16():
    reg = fastnn.MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", precision="bf16")
    with pytest.raises(ValueError, match=r"precision='bf16'.*L-BFGS.*solver='adam'"):
        reg.fit(np.zeros((8, 2)), np.zeros(8))


def test_a_pickled_net_keeps_its_precision_and_a_saved_one_starts_in_float32(tmp_path, monkeypatch):
    """A pickle (what a Dask worker receives) carries the setting; the model file does not."""
    import pickle

    import llvmlite.binding as ll

    monkeypatch.setattr(ll, "get_host_cpu_features", lambda: {"avx512bf16": True})
    monkeypatch.setattr(_blas, "bf16_library", lambda: "onednn")  # (the check passes anywhere)
    net = Network([4, 8, 1], seed=0, precision="bf16")
    assert pickle.loads(pickle.dumps(net)).precision == "bf16"
    net.save(tmp_path / "m.npz")
    assert Network.load(tmp_path / "m.npz").precision == "float32"
