"""Memory of fastnn's fit, each measurement in a fresh process: tracemalloc (NumPy and Python
allocations; Numba-runtime ones are invisible to it), peak RSS, and what a second and a third
fit call retain (target: nothing per call, batch or epoch).

``run_memory`` checks the regression fit of `large` against a budget (weights + gradients +
batch buffers + data + 10%); ``run_optimizer_memory`` measures fit with Adam against fit with
plain SGD on a classification point: Adam should add exactly 3 parameter-sized buffers (grad,
m, v) and nothing per batch or epoch; ``run_layers_memory`` measures, for each point of the
layers workload, fit of the net with its options (norm, dropout, residual) against fit of the
same net without them, and counts the allocations of Numba's runtime (NRT, invisible to
tracemalloc) per batch in repeated fit calls: the options must allocate nothing per batch.
"""
import os

from .common import LR, REPO, fmt_bytes, fmt_num, indent, layer_kwargs, n_params, run_python, thread_env

CHILD = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, %(scripts)r)
import numpy as np
import fastnn
from peers.common import Point, make_data

def status():
    d = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                d[k] = int(v.split()[0]) * 1024
    return d

def reset_hwm():  # Linux: writing 5 to clear_refs resets the peak-RSS (VmHWM) mark
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

def maxrss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

POINT, NET_KW, FIT_KW = Point(*%(point)r), %(net_kw)r, %(fit_kw)r
try:  # allocations by Numba's runtime, which tracemalloc does not see
    from numba.core.runtime import _nrt_python, rtsys
    _nrt_python.memsys_enable_stats()
    def nrt_allocs():
        return rtsys.get_allocation_stats().alloc
except (ImportError, AttributeError):
    def nrt_allocs():
        return None
def fit(net, X, Y):
    net.fit(X, Y, epochs=1, batch_size=POINT.batch, shuffle=False, **FIT_KW)

# compile first on a tiny net of the same depth, activations, loss and dtype: Numba specializes
# on types, not widths, so the measured fit runs compiled code without adding the large buffers.
tiny = POINT._replace(sizes=[3] + [4] * (len(POINT.sizes) - 2) + [2], batch=4, n=8)
fastnn.Network(tiny.sizes, seed=0, **NET_KW).fit(*make_data(tiny), epochs=1, batch_size=4,
                                                 shuffle=False, **FIT_KW)

tracemalloc.start()
rss_base = status()["VmRSS"]
X, Y = make_data(POINT)
net = fastnn.Network(POINT.sizes, seed=0, **NET_KW)
traced_before = tracemalloc.get_traced_memory()[0]
tracemalloc.reset_peak()
ru0 = maxrss()
hwm_ok = reset_hwm()
rss_before = status()["VmRSS"]
fit(net, X, Y)
st = status()
traced_after, traced_peak = tracemalloc.get_traced_memory()
ru1 = maxrss()

def again():
    # raw snapshots, filtered only afterwards: the filtering's own allocations (fnmatch's regex
    # cache), the first snapshot's objects (allocated in tracemalloc.py) and this measuring
    # code's own objects (<string>) are not counted
    snap1 = tracemalloc.take_snapshot()
    cur1 = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    nrt0 = nrt_allocs()
    fit(net, X, Y)
    nrt1 = nrt_allocs()
    cur2, peak2 = tracemalloc.get_traced_memory()
    snap2 = tracemalloc.take_snapshot()
    flt = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<string>")]
    diff = snap2.filter_traces(flt).compare_to(snap1.filter_traces(flt), "lineno")
    grown = sum(d.size_diff for d in diff)
    top = [str(d) for d in sorted(diff, key=lambda d: -abs(d.size_diff))[:3] if d.size_diff]
    return grown, max(peak2 - cur1, 0), top, None if nrt0 is None else nrt1 - nrt0

grown, transient, top, nrt2 = again()   # second fit call
grown3, transient3, top3, nrt3 = again()  # third fit call

def nrt_of_fit(rows):
    before = nrt_allocs()
    fit(net, X[:rows], Y[:rows])
    return None if before is None else nrt_allocs() - before

# NRT allocations per batch: a fit over all N rows minus a fit over half of them, over the
# batches between, so that what a call allocates once (buffers, arrays handed to kernels)
# cancels.  NRT counts arrays allocated inside kernels and also one record per array handed
# from Python to a kernel: a kernel called from Python once per batch counts per batch.  Each
# count is the fewest of three calls: identical calls sometimes count ~20-40 more, irregularly,
# with or without the layer options (seen at 8 to 64 batches per call).
half = POINT.n // POINT.batch // 2 * POINT.batch
nrt_full = [nrt2, nrt3, nrt_of_fit(POINT.n)]
nrt_half = [nrt_of_fit(half) for _ in range(3)]
nrt_per_batch = (None if nrt2 is None or half == POINT.n else
                 (min(nrt_full) - min(nrt_half)) / ((POINT.n - half) // POINT.batch))
print("@@" + json.dumps(dict(
    rss_base=rss_base, rss_before=rss_before, hwm_after=st["VmHWM"] if hwm_ok else None,
    rss_after=st["VmRSS"], ru_maxrss_before=ru0, ru_maxrss_after=ru1,
    traced_before=traced_before, traced_peak=traced_peak, traced_after=traced_after,
    second_fit_retained=grown, second_fit_transient=transient, second_fit_top=top,
    third_fit_retained=grown3, third_fit_transient=transient3, third_fit_top=top3,
    second_fit_nrt_allocs=nrt2, third_fit_nrt_allocs=nrt3, batches=POINT.n // POINT.batch,
    full_fit_nrt_allocs=nrt_full, half_fit_nrt_allocs=nrt_half, nrt_allocs_per_batch=nrt_per_batch,
    x_bytes=X.nbytes + Y.nbytes, n_params=net.n_params)))
"""


def measure(point, threads, net_kw, fit_kw):
    """Run CHILD in a fresh process; its measurements, or {"error": stderr's tail}."""
    code = CHILD % {"scripts": os.path.join(REPO, "scripts"), "point": tuple(point),
                    "net_kw": dict(dtype="float32", **net_kw), "fit_kw": fit_kw}
    m, err = run_python(code, dict(os.environ, **thread_env(threads)), timeout=900)
    return {"error": "\n".join(err.splitlines()[-5:])} if m is None else m


def _log_refits(log, m, unit):
    for which in ("second", "third"):
        grown = m[f"{which}_fit_retained"]
        verdict = ("target 0 met" if grown == 0 else "~0: a few small Python objects, no arrays"
                   if abs(grown) < 1024 else "target 0 met: less retained than before (objects "
                   "of the previous call freed)" if grown < 0 else "target 0 NOT met")
        tr = m[f"{which}_fit_transient"]
        log(f"  {which} fit(epochs=1) call: retained growth (tracemalloc snapshot diff) "
            f"{fmt_bytes(grown)} ({verdict}); transient traced peak above its start "
            f"{fmt_bytes(tr)} (= {tr / unit:.2f} x the weights' bytes)")
        for line in m[f"{which}_fit_top"]:
            log(f"      {line}")


def run_memory(args, log, point):
    name, sizes, batch, n = point[:4]
    log(f"\n## memory: fastnn fit on `{name}` (sizes={sizes}, batch={batch}, N={n}) "
        "in a fresh process")
    if "fastnn" not in args.available:
        log("  skipped (fastnn not importable)")
        return {"skipped": "fastnn not importable"}
    m = measure(point, args.threads, {}, {"lr": LR})
    if "error" in m:
        log("  FAILED:\n" + indent(m["error"]))
        return m
    P = n_params(sizes)
    w = P * 4
    buffers = 3 * batch * sum(sizes[1:]) * 4
    data = m["x_bytes"]
    budget = 1.1 * (w + w + buffers + data)
    m.update(weights_bytes=w, grad_bytes=w, buffer_bytes=buffers, data_bytes=data,
             budget_bytes=budget)
    log(f"  budget = 1.1 * (weights {fmt_bytes(w)} [n_params*4 = {P}*4] + gradients {fmt_bytes(w)}"
        f" + batch buffers {fmt_bytes(buffers)} [3*batch*sum(sizes[1:])*4 = 3*{batch}*"
        f"{sum(sizes[1:])}*4] + data {fmt_bytes(data)} [X.nbytes+Y.nbytes]) = {fmt_bytes(budget)}")
    traced_total = m["traced_peak"]
    fit_extra = m["traced_peak"] - m["traced_before"]
    log(f"  tracemalloc peak during fit (data + net + fit temporaries): {fmt_bytes(traced_total)}"
        f"  = {traced_total / budget:.2f} of budget"
        f"   [fit added {fmt_bytes(fit_extra)} on top of data+net {fmt_bytes(m['traced_before'])}]")
    if m["hwm_after"] is not None:
        rss_peak = m["hwm_after"] - m["rss_base"]
        m["rss_peak_over_base"] = rss_peak
        log(f"  peak RSS during fit minus RSS before data/net were made: {fmt_bytes(rss_peak)}"
            f"  = {rss_peak / budget:.2f} of budget   (fit itself: +"
            f"{fmt_bytes(m['hwm_after'] - m['rss_before'])} over RSS at fit start; also counts "
            "Numba-runtime/C allocations that tracemalloc does not see)")
    log(f"  ru_maxrss delta across fit: {fmt_bytes(m['ru_maxrss_after'] - m['ru_maxrss_before'])}"
        f"  (high-water mark: only growth past the process's earlier peak shows)")
    _log_refits(log, m, w)
    log("  (the transient peak is what each fit call allocates and frees again, e.g. per-call "
        "buffers; tracemalloc sees NumPy/Python allocations, not Numba-runtime ones)")
    return m


def run_optimizer_memory(args, log, point):
    """tracemalloc peak of fit(optimizer=point.opt) minus that of fit(optimizer="sgd"), each
    in a fresh process, in units of n_params*4 bytes (target for Adam: 3, grad + m + v)."""
    name, sizes, batch, n = point[:4]
    log(f"\n## memory: fastnn fit with {point.opt} vs plain SGD on `{name}` (sizes={sizes}, "
        f"batch={batch}, N={n}, cross-entropy), each in a fresh process")
    if "fastnn" not in args.available:
        log("  skipped (fastnn not importable)")
        return {"skipped": "fastnn not importable"}
    unit = n_params(sizes) * 4
    net_kw = {"loss": "cross_entropy"}
    out = {}
    for opt in ("sgd", point.opt):
        out[opt] = m = measure(point, args.threads, net_kw, {"optimizer": opt, "lr": LR})
        if "error" in m:
            log(f"  fit({opt}) FAILED:\n" + indent(m["error"]))
            return out
        log(f"  fit({opt}): tracemalloc peak {fmt_bytes(m['traced_peak'])} (fit added "
            f"{fmt_bytes(m['traced_peak'] - m['traced_before'])} = "
            f"{(m['traced_peak'] - m['traced_before']) / unit:.2f} x n_params*4 on top of "
            f"data+net)")
    extra = (out[point.opt]["traced_peak"] - out["sgd"]["traced_peak"]) / unit
    out["extra_buffers"] = extra
    log(f"  peak(fit {point.opt}) - peak(fit sgd) = {extra:.2f} x n_params*4 "
        f"[{n_params(sizes)}*4 = {fmt_bytes(unit)}]"
        + ("   (target 3: grad, m, v)" if point.opt == "adam" else ""))
    _log_refits(log, out[point.opt], unit)
    return out


def run_layers_memory(args, log, points):
    """For each layer point: tracemalloc peak of fit on the net with its options minus that of
    fit on the same sizes without them (common.Point.plain), each in a fresh process, and the
    NRT allocations per batch of both (target 0)."""
    out = {}
    for point in points:
        name, sizes, batch, n = point[:4]
        hidden = sum(sizes[1:-1])
        unit = batch * hidden * 4  # one float32 value per hidden unit and batch row
        log(f"\n## memory: fastnn fit on `{name}` ({point.options}) vs the same net without "
            f"the options (sizes={sizes}, batch={batch}, N={n}, {point.label.split(',')[0]}), "
            "each in a fresh process")
        if "fastnn" not in args.available:
            log("  skipped (fastnn not importable)")
            return {"skipped": "fastnn not importable"}
        res = out[name] = {}
        for which, p in (("plain", point.plain()), ("options", point)):
            fit_kw = {"optimizer": p.opt, "lr": LR}
            res[which] = m = measure(p, args.threads, layer_kwargs(p), fit_kw)
            if "error" in m:
                log(f"  fit ({which}) FAILED:\n" + indent(m["error"]))
                break
            added = m["traced_peak"] - m["traced_before"]
            per_batch = m["nrt_allocs_per_batch"]
            log(f"  fit ({which}): tracemalloc peak {fmt_bytes(m['traced_peak'])} (fit added "
                f"{fmt_bytes(added)} on top of data+net); NRT allocations per batch "
                f"{fmt_num(per_batch)} (target 0; per fit call over N: "
                f"{m['full_fit_nrt_allocs']}, over N/2: {m['half_fit_nrt_allocs']}; "
                f"{m['batches']} batches per epoch)")
        else:
            plain, opt = res["plain"], res["options"]
            extra = opt["traced_peak"] - plain["traced_peak"]
            theta = (opt["n_params"] - plain["n_params"]) * 4
            res.update(extra_bytes=extra, extra_per_unit=extra / unit, extra_param_bytes=theta)
            log(f"  peak(fit {point.options}) - peak(fit plain) = {fmt_bytes(extra)} = "
                f"{extra / unit:.2f} x batch*sum(hidden widths)*4 [{batch}*{hidden}*4 = "
                f"{fmt_bytes(unit)}]; the norms' γ, β add {fmt_bytes(theta)} to θ")
            if per_batch is not None and per_batch >= 1:  # an allocation in every batch
                log(f"  <-- fit with {point.options} makes {per_batch:.2f} NRT allocations per "
                    "batch: arrays allocated inside kernels, or the NRT record Numba makes for "
                    "each array handed from Python to a kernel when a kernel is called per batch "
                    f"(plain: {fmt_num(res['plain']['nrt_allocs_per_batch'])})")
            _log_refits(log, opt, opt["n_params"] * 4)
    return out


def run_bf16_memory(args, log, point):
    """tracemalloc peak of fit(precision="bf16") minus that of the float32 fit of the same point,
    each in a fresh process, against what bf16 adds by design: θ in bf16 (2 bytes per parameter)
    and, per fit thread, two cast buffers of batch · max(sizes) bf16 values (a product's x̄^[k-1]
    or φ^[k] block)."""
    name, sizes, batch, n = point[:4]
    log(f"\n## memory: fastnn fit in bf16 vs float32 on `{name}` (sizes={sizes}, batch={batch}, "
        f"N={n}), each in a fresh process")
    if "fastnn" not in args.available:
        log("  skipped (fastnn not importable)")
        return {"skipped": "fastnn not importable"}
    out = {}
    for precision in ("float32", "bf16"):
        net_kw = {} if precision == "float32" else {"precision": precision}
        out[precision] = m = measure(point, args.threads, net_kw, {"lr": LR})
        if "error" in m:
            log(f"  fit ({precision}) FAILED:\n" + indent(m["error"]))
            return out
        log(f"  fit ({precision}): tracemalloc peak {fmt_bytes(m['traced_peak'])} (fit added "
            f"{fmt_bytes(m['traced_peak'] - m['traced_before'])} on top of data+net)")
    P = n_params(sizes)
    expected = 2 * P + args.threads * 2 * 2 * batch * max(sizes)
    extra = out["bf16"]["traced_peak"] - out["float32"]["traced_peak"]
    out.update(extra_bytes=extra, expected_bytes=expected)
    log(f"  peak(bf16) - peak(float32) = {fmt_bytes(extra)}; by design: θ in bf16 {fmt_bytes(2 * P)} "
        f"[{P}*2] + {args.threads} thread(s) x 2 cast buffers of {batch}*{max(sizes)} bf16 = "
        f"{fmt_bytes(expected)} (the activations and φ stay float32: no bf16 copy of them is kept)")
    return out
