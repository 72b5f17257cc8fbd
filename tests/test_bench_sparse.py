"""scripts/bench_sparse.py runs (--quick) and its data is what it says; nothing is timed here."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import bench_sparse


def test_the_data_is_a_sparse_tf_idf_set():
    Xtr, Xte, ytr, yte = bench_sparse.make_data(500, 4000, 0.01, 4)
    assert Xtr.format == "csr" and Xtr.dtype == np.float32
    assert Xtr.shape == (400, 4000) and Xte.shape == (100, 4000) and len(ytr) == 400 and len(yte) == 100
    assert 0.004 < Xtr.nnz / (400 * 4000) < 0.012  # ~1% asked, less after repeated terms merge
    np.testing.assert_allclose(np.sqrt(Xtr.multiply(Xtr).sum(axis=1)).A1, 1, rtol=1e-5)  # L2 rows
    assert set(np.unique(ytr)) == {0, 1, 2, 3}


def test_quick_run_reports_every_contender(capsys):
    summary = bench_sparse.main(["--quick", "--peers", "fastnn,sklearn", "--threads", "1"])
    assert sorted(summary) == ["fastnn-1t", "sklearn-1t"]
    for r in summary.values():
        assert r["time"] > 0 and 0 <= r["accuracy"] <= 1
    out = capsys.readouterr().out
    assert "| fastnn-1t |" in out and "1.00x" in out
