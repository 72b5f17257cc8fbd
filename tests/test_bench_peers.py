"""scripts/bench_peers.py's layers workload (issue 19): the peers build the same nets as fastnn.

Each contender of a layer point (fastnn, PyTorch, JAX) trains a small twin of the point (the
same options, loss and optimizer; tiny widths) on the same data from the same parameters, and
its parameters, γ, β and batch norm's running statistics after four batches must agree with
fastnn's: a layer order, skip, norm or running-statistics update that differs between the
contenders moves them by O(1), float32 rounding by ~1e-6. Nothing is timed.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import needs_bf16, require

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import bench_peers
from peers.common import LAYERS, init_pairs
from peers.fastnn_peer import FastnnContender

# relative difference of the updates after 4 batches (measured: ~1e-5; a missing skip: > 1e-2)
TOL = 1e-4


def tiny(point):
    """The point with widths 6 -> 8, 8, 8 -> 3 (1 for regression), batch 4, 16 samples."""
    return point._replace(sizes=[6, 8, 8, 8, 3 if point.classify else 1], batch=4, n=16)


POINTS = {p.name: tiny(p) for p in LAYERS}


def check_pairs(point, contender):
    """The contender's check pairs against fastnn's, both after the first 4 batches."""
    ours = FastnnContender(threads=1).setup(point, point.n)
    theirs = contender.setup(point, point.n)
    assert [a.shape for pair in theirs for a in pair] == [a.shape for pair in ours for a in pair]
    assert bench_peers.rel_diff(theirs, ours, init_pairs(point)) < TOL
    return ours


@pytest.mark.parametrize("name", sorted(POINTS))
def test_torch_builds_the_same_net(name):
    torch = require("torch")
    from peers.torch_peer import TorchContender

    point = POINTS[name]
    ours = check_pairs(point, contender := TorchContender(torch.get_num_threads()))
    if point.norm == "batch":  # the running statistics moved, and are compared above
        assert not np.allclose(ours[-1][0], 0.0)
    # the timed model (after the check's twin) has the point's dropout and is in train mode
    drops = [m for m in contender.model.modules() if isinstance(m, torch.nn.Dropout)]
    assert [m.p for m in drops] == ([point.dropout] * 3 if point.dropout else [])
    assert contender.model.training
    skips = [m for m in contender.model.modules() if type(m).__name__ == "Residual"]
    assert len(skips) == sum(point.skips()) == (2 if point.residual else 0)


def test_the_check_sees_a_missing_skip(monkeypatch):
    """A PyTorch net without its skips fails the check (so the check can fail)."""
    torch = require("torch")
    from peers import torch_peer

    monkeypatch.setattr(torch_peer, "residual_module", lambda nn: lambda block: block)
    point = POINTS["resnet-ln"]
    ours = FastnnContender(threads=1).setup(point, point.n)
    theirs = torch_peer.TorchContender(torch.get_num_threads()).setup(point, point.n)
    assert bench_peers.rel_diff(theirs, ours, init_pairs(point)) > 1e-2


def test_batch_norm_check_leaves_out_hidden_biases_and_running_means():
    point = POINTS["resnet-bn"]
    init = init_pairs(point)
    assert [b is None for _, b in init[:4]] == [True, True, True, False]
    assert all(m is None and v is not None for m, v in init[-3:])
    assert all(b is not None for _, b in init_pairs(POINTS["resnet-ln"]))


@pytest.mark.parametrize("name", sorted(POINTS))
def test_jax_builds_the_same_net(name):
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    from peers.jax_peer import JaxJitContender, JaxScanContender

    for cls in (JaxJitContender, JaxScanContender):
        check_pairs(POINTS[name], cls(1))


def test_jax_dropout_masks_act_in_the_timed_step():
    """The timed JAX step of a dropout point differs from its twin without dropout."""
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    from peers.jax_peer import JaxJitContender

    point = POINTS["dropout"]
    c = JaxJitContender(1)
    twin = c.setup(point, point.n)
    timed = c._export()  # the timed net after its own warm-up on the same samples
    assert bench_peers.rel_diff(timed, twin, init_pairs(point)) > 1e-3


def test_fastnn_timed_net_has_the_options():
    point = POINTS["resnet-bn"]
    c = FastnnContender(threads=1)
    c.setup(point, point.n)
    assert c.net.norm == ["batch"] * 3
    assert c.net.dropout == [point.dropout] * 3
    assert c.net.residual == [False, True, True]


def test_fastnn_plain_trains_the_net_without_the_options():
    point = POINTS["resnet-ln"]
    c = FastnnContender(threads=1, plain=True)
    assert c.setup(point, point.n) is None
    assert c.net.norm == [None] * 3 and c.net.dropout == [0.0] * 3 and not any(c.net.residual)
    assert c.net.sizes == point.sizes


def test_layers_workload_options():
    args = bench_peers.parse_args(["--workload", "layers", "--peers", "all"])
    assert [p.name for p in args.grids["layers"]] == [p.name for p in LAYERS]
    assert not args.grids["regress"] and not args.grids["classify"]
    names = bench_peers.contender_names("layers", args)
    assert names[:2] == ["fastnn", "fastnn-plain"]
    assert not {"numpy", "sklearn", "gemm-floor", "stream", "fastnn-sgd"} & set(names)
    args = bench_peers.parse_args(["--only", "resnet-bn,small", "--busy"])
    assert [p.name for p in args.grids["layers"]] == ["resnet-bn"]
    assert [p.name for p in args.grids["regress"]] == ["small"]
    assert "fastnn-1t" in bench_peers.contender_names("layers", args) or args.threads == 1
    assert bench_peers.short_sizes([16] + [64] * 32 + [1]) == "[16]+[64]*32+[1]"
    assert bench_peers.short_sizes([784, 512, 256, 10]) == "[784,512,256,10]"


# ------------------------------------------------------------ the "% peak" column (issue 22)
def test_epoch_flops_counts_each_product_of_the_forward_and_backward_pass():
    from peers.peak import epoch_flops

    sizes, n = [5, 7, 3, 2], 11
    forward = sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))  # x̄^[k-1] → W^[k] x̄^[k-1]
    grads = forward  # ∂L/∂W^[k] = φ^[k] x̄^[k-1]ᵀ
    phis = sum(2 * a * b for a, b in zip(sizes[1:-1], sizes[2:]))  # φ^[k-1] from W^[k]ᵀ φ^[k], k ≥ 2
    assert epoch_flops(sizes, n) == n * (forward + grads + phis)


def test_the_fma_kernel_computes_its_recurrence_and_reports_a_rate():
    from peers import peak

    fma = peak._kernel(64)
    x, y = np.float32(0.5), np.float32(0.25)
    acc = np.arange(64, dtype=np.float64) * 1e-3
    for _ in range(7):
        acc = acc * 0.5 + 0.25
    assert fma(7, x, y) == pytest.approx(acc.sum(), rel=1e-5)
    assert peak.peak_gflops(1, seconds=0.01, repeats=1) > 0.1


def test_the_summary_gives_each_contender_its_share_of_the_peak(monkeypatch):
    from peers.peak import epoch_flops

    monkeypatch.setattr(bench_peers, "PEAK", {1: 100.0, 2: 200.0, "threads": 2})
    sizes = [8, 32, 32, 1]
    per_sample = epoch_flops(sizes, 1)
    res = {"n": 64, "batch": 32, "sizes": sizes, "contenders": {
        "fastnn": {"t": 1.0, "samples_per_s": 20e9 / per_sample},  # 20 GFLOP/s: 10% of 200
        "torch-1t": {"t": 2.0, "samples_per_s": 10e9 / per_sample}}}
    bench_peers.summarize(res)
    assert res["peak_fraction"]["fastnn"] == pytest.approx(0.10)
    assert res["best_peer"] == "torch-1t" and bench_peers.peak_cell(res) == "10% / 5%"


# ------------------------------------------------------------ the bf16 table (issue 23)
def test_the_bf16_workload_is_its_own_table_against_pytorchs_autocast():
    from peers.common import BF16

    args = bench_peers.parse_args(["--workload", "bf16", "--peers", "all"])
    assert [p.name for p in args.grids["bf16"]] == [p.name for p in BF16]
    assert all(p.precision == "bf16" for p in BF16)
    names = bench_peers.contender_names("bf16", args)
    assert names[:2] == ["fastnn", "fastnn-f32"]
    assert names[2:] and all(n.startswith("torch-") for n in names[2:])
    assert len(names[2:]) == (2 if args.threads > 1 else 1)  # torch-1t and torch-<n>t
    assert not bench_peers.parse_args([]).grids["bf16"]  # "all": the float32 tables only


def test_fastnn_f32_trains_a_bf16_point_in_float32():
    from peers.common import BF16

    point = BF16[0]._replace(sizes=[6, 8, 3], batch=4, n=16)
    c = FastnnContender(threads=1, precision="float32")
    assert len(c.setup(point, point.n)) == 2  # (its check shows how far float32 is from bf16)
    assert c.net.precision == "float32"


@needs_bf16
def test_torch_autocast_and_fastnn_bf16_take_the_same_steps_to_bf16_rounding():
    """PyTorch's autocast and fastnn's bf16 fit of a bf16 point agree to bf16 rounding (both
    round W and x̄ for each product), and both stay within a few 1e-2 of the float32 fit."""
    torch = require("torch")
    from peers.common import BF16
    from peers.torch_peer import TorchContender

    point = BF16[0]._replace(sizes=[64, 128, 96, 10], batch=32, n=128)
    ours = FastnnContender(threads=1).setup(point, point.n)
    theirs = TorchContender(torch.get_num_threads()).setup(point, point.n)
    f32 = FastnnContender(threads=1).setup(point._replace(precision="float32"), point.n)
    init = init_pairs(point)
    assert bench_peers.rel_diff(theirs, ours, init) < bench_peers.BF16_MISMATCH
    assert 1e-5 < bench_peers.rel_diff(ours, f32, init) < bench_peers.BF16_MISMATCH
