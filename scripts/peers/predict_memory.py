"""Memory of one fastnn prediction on many rows, in a fresh process (bench_inference.py).

The kernels are compiled first on a small net of the same depth, so the measured call is the
network's first: it allocates its per-thread block of batch buffers (at most 1024 rows of every
layer) and the output. Measured around that one call: peak RSS above the RSS before it (Linux
VmHWM after resetting it through /proc/self/clear_refs; ``ru_maxrss`` growth as a cross-check,
which only counts what rises above the process's earlier peak) and the tracemalloc peak (NumPy
and Python allocations).
"""
import os

from .common import REPO, fmt_bytes, indent, run_python, thread_env

CHILD = r"""
import json, resource, sys, tracemalloc
sys.path.insert(0, %(scripts)r)
import numpy as np
from peers.inference import fastnn_net

SIZES, N, HOW = %(sizes)r, %(n)d, %(how)r

def status(key):
    with open("/proc/self/status") as f:
        return next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith(key + ":"))

def call(net):
    return (net.predict if HOW == "predict" else net.predictor())

small = [SIZES[0]] + [4] * (len(SIZES) - 2) + [SIZES[-1]]  # same depth: same compiled kernels
call(fastnn_net(small))(np.zeros((3, SIZES[0]), np.float32))
net = fastnn_net(SIZES)
f = call(net)
X = np.random.default_rng(0).random((N, SIZES[0]), dtype=np.float32)
tracemalloc.start()
with open("/proc/self/clear_refs", "w") as fh:  # reset VmHWM to the current RSS
    fh.write("5")
rss0, ru0 = status("VmRSS"), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out = f(X)
hwm, ru1 = status("VmHWM"), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print("@@" + json.dumps(dict(rss_peak=hwm - rss0, ru_maxrss_growth=ru1 - ru0,
                             traced_peak=tracemalloc.get_traced_memory()[1],
                             out_bytes=out.nbytes, x_bytes=X.nbytes)))
"""


def run_predict_memory(sizes, n, threads, log):
    """{how: measurements} of net.predict and net.predictor() on n rows, each in a new process."""
    buffers = min(n, 1024) * sum(sizes[1:]) * 4  # predict's block: 1024 rows of every layer
    log(f"\n## memory: one call on N = {n} rows of `{sizes}` (float32), each in a fresh process; "
        f"output {fmt_bytes(n * sizes[-1] * 4)}, batch-buffer block {fmt_bytes(buffers)} "
        f"[min(N,1024)*sum(sizes[1:])*4]")
    out = {}
    for how in ("predict", "predictor"):
        code = CHILD % {"scripts": os.path.join(REPO, "scripts"), "sizes": sizes, "n": n,
                        "how": how}
        m, err = run_python(code, dict(os.environ, **thread_env(threads)), timeout=900)
        if m is None:
            out[how] = {"error": err}
            log(f"  {how}: FAILED\n" + indent("\n".join(err.splitlines()[-5:])))
            continue
        m["bound"] = m["out_bytes"] + buffers
        out[how] = m
        log(f"  {how:9s}: peak RSS +{fmt_bytes(m['rss_peak'])} (ru_maxrss +"
            f"{fmt_bytes(m['ru_maxrss_growth'])}), tracemalloc peak "
            f"{fmt_bytes(m['traced_peak'])}; output + buffer block = {fmt_bytes(m['bound'])}; "
            f"peak RSS / that = {m['rss_peak'] / m['bound']:.2f}  (X itself: "
            f"{fmt_bytes(m['x_bytes'])}, not counted)")
    return out
