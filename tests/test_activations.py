"""The activation table's scalar ψ and ψ' against PyTorch and finite differences, in float64 and
float32, and the generated ``_dispatch.mul_dpsi_z`` (φ ⊙ ψ'(z̄)) against a NumPy loop."""
import numpy as np
import pytest

from fastnn import ACTIVATIONS, _dispatch
from helpers import require

NEW = ["gelu", "silu", "elu", "selu"]  # issue 19's activations, checked against torch.nn.functional
OLD = [name for name in ACTIVATIONS if name not in NEW]
# A grid over the curved part (kept off z = 0, where relu, leaky_relu and selu have kinks), z = 0
# itself, and large |z| up to where float32 still holds ψ (selu's λz).
SMOOTH_GRID = np.concatenate([-np.geomspace(1e-3, 40, 60), np.geomspace(1e-3, 40, 60)])
BIG = [-1e30, -1e10, -1e4, -800.0, -100.0, 100.0, 800.0, 1e4, 1e10, 1e30]
GRID = np.sort(np.concatenate([SMOOTH_GRID, [0.0], BIG]))


def scalar(fn, z, dtype=np.float64):
    """fn applied to each entry of z as a scalar of dtype, as float64 results."""
    return np.array([fn(dtype(v)) for v in np.asarray(z, dtype=dtype)], dtype=np.float64)


def torch_reference(torch, name, z):
    """(ψ(z), ψ'(z)) of torch.nn.functional's activation, float64, ψ' by autograd."""
    F = torch.nn.functional
    fn = {"gelu": lambda t: F.gelu(t, approximate="none"), "silu": F.silu,
          "elu": lambda t: F.elu(t, alpha=1.0), "selu": F.selu}[name]
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    y.backward(torch.ones_like(y))
    return y.detach().numpy(), t.grad.numpy()


@pytest.fixture(scope="module")
def torch():
    return require("torch")


@pytest.mark.parametrize("name", NEW)
def test_new_activations_match_torch_in_float64(name, torch):
    a = ACTIVATIONS[name]
    want_psi, want_dpsi = torch_reference(torch, name, GRID)
    psi, dpsi_z = scalar(a.psi, GRID), scalar(a.dpsi_z, GRID)
    assert np.isfinite(psi).all() and np.isfinite(dpsi_z).all()
    # atol: torch's gelu is ½ z (1 + erf(z/√2)), whose cancellation for z ≪ 0 costs it ~|z|·1e-16;
    # fastnn's uses erfc (no cancellation)
    np.testing.assert_allclose(psi, want_psi, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(dpsi_z, want_dpsi, rtol=1e-13, atol=1e-14)
    if a.from_output:
        np.testing.assert_allclose(scalar(a.dpsi, psi), want_dpsi, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_dpsi_z_matches_central_differences(name):
    a = ACTIVATIONS[name]
    z = SMOOTH_GRID
    h = 1e-6 * np.maximum(1.0, np.abs(z))
    fd = (scalar(a.psi, z + h) - scalar(a.psi, z - h)) / (2 * h)
    np.testing.assert_allclose(scalar(a.dpsi_z, z), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", OLD)
def test_dpsi_z_of_the_older_activations_matches_their_dpsi_from_the_output(name):
    a = ACTIVATIONS[name]
    assert a.from_output
    dpsi_z = scalar(a.dpsi_z, GRID)
    assert np.isfinite(dpsi_z).all()
    # atol: from x, sigmoid's x (1 − x) and tanh's 1 − x² cancel for large |z|; from z they do not
    np.testing.assert_allclose(dpsi_z, scalar(a.dpsi, scalar(a.psi, GRID)), rtol=1e-12, atol=1e-15)


# relu's and softplus's ψ compute `z * 0` with an integer 0, which Numba types as float64: their
# float32 versions return float64 (the same value; ``act`` stores it back into float32).
RETURNS_FLOAT64 = {"relu", "softplus"}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_float32_tracks_float64(name):
    """Each scalar keeps float32 arguments in float32 (of z's type) and stays close to float64."""
    a = ACTIVATIONS[name]
    z = GRID.astype(np.float32)  # the same points in both dtypes
    for fn in (a.psi, a.dpsi_z):
        got, want = scalar(fn, z, np.float32), scalar(fn, z)
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)
        if hasattr(fn, "nopython_signatures") and not (fn is a.psi and name in RETURNS_FLOAT64):
            assert [str(s.return_type) for s in fn.nopython_signatures if str(s.args[0]) == "float32"] \
                == ["float32"]
    if a.from_output:
        x32, x64 = scalar(a.psi, z, np.float32), scalar(a.psi, z)
        np.testing.assert_allclose(scalar(a.dpsi, x32, np.float32), scalar(a.dpsi, x64), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_gelu_and_silu_have_no_derivative_from_the_output(name):
    a = ACTIVATIONS[name]
    assert not a.from_output
    with pytest.raises(ValueError, match="dpsi_z"):
        a.dpsi(0.5)
    buf = np.ones(4)
    with pytest.raises(ValueError, match=f"{name}.*mul_dpsi_z"):
        _dispatch.mul_dpsi(buf, buf, 0, 4, a.code)


def test_every_other_activation_has_its_derivative_from_the_output():
    assert {name for name, a in ACTIVATIONS.items() if not a.from_output} == {"gelu", "silu"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alias", [None, "zb", "src"])
def test_mul_dpsi_z_is_a_loop_of_src_times_dpsi_z(dtype, alias):
    """dst[i] = src[i] · ψ'(zb[i]) for o ≤ i < o + m, nothing else written, for every code; dst
    may be zb or src."""
    rng = np.random.default_rng(0)
    n, o, m = 9, 2, 5
    for a in ACTIVATIONS.values():
        zb = rng.normal(scale=3.0, size=n).astype(dtype)
        src = rng.normal(size=n).astype(dtype)
        want = np.full(n, 7.0, dtype=dtype) if alias is None else {"zb": zb, "src": src}[alias].copy()
        for i in range(o, o + m):  # the NumPy loop
            want[i] = src[i] * a.dpsi_z(zb[i])
        dst = {None: np.full(n, 7.0, dtype=dtype), "zb": zb, "src": src}[alias]
        _dispatch.mul_dpsi_z(dst, src, zb, o, m, a.code)
        assert dst.dtype == dtype
        np.testing.assert_allclose(dst, want, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0,
                                   err_msg=a.name)


def test_mul_dpsi_z_refuses_an_unknown_code():
    buf = np.ones(4)
    with pytest.raises(ValueError, match="unknown activation code"):
        _dispatch.mul_dpsi_z(buf, buf, buf, 0, 4, len(ACTIVATIONS))
