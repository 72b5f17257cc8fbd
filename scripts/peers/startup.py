"""Start-up: wall time of a fresh `python -c` process that imports a library and trains one epoch
of `small` ([8,32,32,1], batch 32, N=4096), with fastnn's Numba cache warm and empty."""
import os
import shutil
import statistics
import tempfile
import time

from .common import run_python, thread_env

STARTUP_DATA = """
rng = np.random.default_rng(0)
X = rng.standard_normal((4096, 8), dtype=np.float32); Y = rng.standard_normal((4096, 1), dtype=np.float32)
"""
STARTUP_SNIPPETS = {
    "python+numpy": "import time; t0=time.perf_counter(); import numpy as np; t1=time.perf_counter()"
                    + STARTUP_DATA + "t2=time.perf_counter()",
    "fastnn": "import time; t0=time.perf_counter(); import fastnn, numpy as np; t1=time.perf_counter()"
              + STARTUP_DATA
              + "fastnn.Network([8,32,32,1]).fit(X, Y, epochs=1, batch_size=32, lr=1e-3, shuffle=False)\n"
              + "t2=time.perf_counter()",
    "torch": "import time; t0=time.perf_counter(); import torch, numpy as np; t1=time.perf_counter()\n"
             "torch.set_num_threads({threads})" + STARTUP_DATA + """
X, Y = torch.from_numpy(X), torch.from_numpy(Y)
m = torch.nn.Sequential(torch.nn.Linear(8,32), torch.nn.ReLU(), torch.nn.Linear(32,32), torch.nn.ReLU(),
                        torch.nn.Linear(32,1))
opt = torch.optim.SGD(m.parameters(), lr=1e-3)
for i in range(0, 4096, 32):
    loss = 0.5 * ((Y[i:i+32] - m(X[i:i+32])) ** 2).sum(1).mean()
    opt.zero_grad(); loss.backward(); opt.step()
t2=time.perf_counter()""",
    "jax-jit": "import time; t0=time.perf_counter(); import jax, jax.numpy as jnp, numpy as np\n"
               "t1=time.perf_counter()" + STARTUP_DATA + """
def loss_fn(p, x, y):
    for W, b in p[:-1]: x = jax.nn.relu(x @ W.T + b)
    W, b = p[-1]; return 0.5 * jnp.mean(jnp.sum((y - (x @ W.T + b)) ** 2, axis=1))
@jax.jit
def step(p, x, y):
    g = jax.grad(loss_fn)(p, x, y)
    return jax.tree_util.tree_map(lambda a, b: a - 1e-3 * b, p, g)
r = np.random.default_rng(1)
p = [(jnp.asarray(r.standard_normal((o, i), dtype=np.float32) * (2 / i) ** .5), jnp.zeros(o))
     for i, o in ((8, 32), (32, 32), (32, 1))]
for i in range(0, 4096, 32): p = step(p, X[i:i+32], Y[i:i+32])
jax.block_until_ready(p)
t2=time.perf_counter()""",
}


def run_startup(args, log):
    log("\n## start-up: fresh `python -c` process: import + one epoch of `small` "
        "([8,32,32,1], batch 32, N=4096); wall time incl. interpreter start")
    out = {}
    env_base = dict(os.environ)
    env_base.update(thread_env(args.threads))
    # Bytecode caching on for every library, in a fresh folder the warm-up run of each fills:
    # with PYTHONDONTWRITEBYTECODE=1 (set on some machines) a source checkout of fastnn would
    # compile its modules anew in every process while installed peers ship their .pyc files.
    pyc_dir = tempfile.mkdtemp(prefix="bench_pyc_")
    env_base.pop("PYTHONDONTWRITEBYTECODE", None)
    env_base["PYTHONPYCACHEPREFIX"] = pyc_dir
    snippets = {"python+numpy": STARTUP_SNIPPETS["python+numpy"]}
    if "fastnn" in args.available:
        snippets["fastnn"] = STARTUP_SNIPPETS["fastnn"]
    else:
        log("  fastnn: skipped (not importable)")
    if any(p.startswith("torch") for p in args.peer_list):
        # 1 thread: torch's faster setting for a net this small (2 threads only adds OpenMP
        # wake-ups, which are very slow on a loaded 2-core machine)
        snippets["torch (1 thread)"] = STARTUP_SNIPPETS["torch"].format(threads=1)
    if any(p.startswith("jax") for p in args.peer_list):
        snippets["jax-jit"] = STARTUP_SNIPPETS["jax-jit"]
    report = "\nimport json; print('@@' + json.dumps({'import': t1 - t0, 'work': t2 - t1}))"

    def once(code, env):
        t = time.perf_counter()
        inner, err = run_python(code + report, env, timeout=600)
        wall = time.perf_counter() - t
        if inner is None:
            tail = err.splitlines()[-1]
            return {"skipped" if "ModuleNotFoundError" in err or "ImportError" in err
                    else "error": tail}
        return {"wall": wall, **inner}

    def agg(runs):
        ok = [r for r in runs if "wall" in r]
        if not ok:
            return runs[0]
        med = statistics.median(r["wall"] for r in ok)
        best = min(ok, key=lambda r: abs(r["wall"] - med))
        return {"wall": med, "import": best["import"], "work": best["work"],
                "runs": [round(r["wall"], 3) for r in ok]}

    warm_dir = tempfile.mkdtemp(prefix="bench_numba_warm_")
    made = [warm_dir, pyc_dir]
    for lib, code in snippets.items():
        cases = [("warm", warm_dir)] + ([("cold", None)] if lib == "fastnn" else [])
        for case, _cache_dir in cases:
            runs = []
            if case == "warm":
                env = dict(env_base, NUMBA_CACHE_DIR=warm_dir)
                first = once(code, env)  # fills the Numba cache (and the OS file cache)
                if "wall" not in first:
                    runs = [first]
                else:
                    runs = [once(code, env) for _ in range(2)]
            else:
                made.append(tempfile.mkdtemp(prefix="bench_numba_cold_"))
                env = dict(env_base, NUMBA_CACHE_DIR=made[-1])
                runs.append(once(code, env))  # one run: a cold compile takes tens of seconds
            r = agg(runs)
            key = lib if lib != "fastnn" else f"fastnn ({case} Numba cache)"
            out[key] = r
            if "wall" in r:
                log(f"  {key:28s} wall {r['wall']:6.2f} s  (import {r['import']:.2f} s, "
                    f"data+epoch {r['work']:.2f} s; runs {r['runs']})")
            elif "skipped" in r:
                log(f"  {key:28s} skipped (not installed): {r['skipped']}")
            else:
                log(f"  {key:28s} FAILED: {r['error']}")
    for d in made:
        shutil.rmtree(d, ignore_errors=True)
    fast, jax = out.get("fastnn (warm Numba cache)", {}), out.get("jax-jit", {})
    if "wall" in fast and "wall" in jax:
        log(f"  fastnn warm / jax-jit: {fast['wall'] / jax['wall']:.2f}x (issue 13 target <= 0.5x; "
            f"cold target <= 5 s)")
    return out


if __name__ == "__main__":  # only the start-up part: cd scripts && python -m peers.startup
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--peers", default="torch,jax", help="comma-separated: torch, jax (or none)")
    a = ap.parse_args()
    a.peer_list = [p for p in a.peers.split(",") if p and p != "none"]
    a.available = {"fastnn"}
    run_startup(a, print)


