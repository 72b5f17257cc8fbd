"""scripts/gemm_libs.py calls each BLAS's sgemm correctly (the worker checks its product against
NumPy's before timing) and prints a rate per shape; MKL's rows only where MKL is installed."""
import glob
import os
import sys
from pathlib import Path

import pytest

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
