"""scripts/bench_coldstart.py and scripts/compile_profile.py run; nothing is timed here."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import bench_coldstart
import compile_profile

ROOT = str(Path(__file__).resolve().parents[1])


@pytest.mark.parametrize("case", list(bench_coldstart.CASES))
def test_every_cold_start_case_trains_its_option(case):
    # The snippet each fresh process runs, here in this one (the kernels warm): its targets
    # suit its loss, and the net it builds has the option the case names.
    net_kw, fit_kw, kind = bench_coldstart.CASES[case]
    code = bench_coldstart.SNIPPET.format(checkout=ROOT, kind=kind, net_kw=net_kw, fit_kw=fit_kw)
    scope: dict = {}
    exec(compile(code, "<snippet>", "exec"), scope)
    net = scope["net"]
    assert net.epochs_trained == 1 and np.isfinite(net.parameters).all()
    if case.startswith("norm="):
        assert case.split("=")[1] in net.norm
    elif case in ("cross_entropy", "binary_cross_entropy", "poisson", "absolute_error", "huber", "quantile"):
        assert net.loss_name == case
    elif case == "dropout":
        assert any(net.dropout)
    elif case == "residual":
        assert any(net.residual)
    elif case != "default":
        assert net.optimizer.name == {"momentum": "sgd", "clip_norm": "adam"}.get(case, case)


def test_unknown_case_is_refused():
    with pytest.raises(SystemExit) as e:
        bench_coldstart.main(["--cases", "default,nope"])
    assert e.value.code == 2


def test_compile_profile_runs_every_step(capsys):
    steps = compile_profile.main(["--session", "--top", "3"])
    assert list(steps) == ["first fit", "adam", "2 threads, rows", "2 threads, columns", "predict",
                           "loss_and_gradient"]
    assert all(t > 0 for t in steps.values())
    assert "compiling in all" in capsys.readouterr().out
