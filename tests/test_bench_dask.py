"""scripts/bench_dask.py runs (small sizes, one section, on its own LocalCluster of two worker
processes) and prints the agreement it measures."""
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytest.importorskip("sklearn")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import bench_dask


def test_agreement_section_reports_lbfgs_within_1e_6_and_adam_bit_for_bit(capsys):
    bench_dask.main(["--sections", "agreement", "--quick"])
    out = capsys.readouterr().out
    rel = float(re.search(r"max \|θ_dist − θ_local\| / max \|θ_local\| = ([0-9.e+-]+)", out)[1])
    assert rel <= 1e-6
    assert "bit for bit equal to the local fit: True" in out


def test_unknown_section_is_refused():
    with pytest.raises(SystemExit):
        bench_dask.main(["--sections", "speed"])
