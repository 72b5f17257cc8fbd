"""float32 GEMM speed of the BLAS fastnn's kernels call (SciPy's OpenBLAS, through the same
``sgemm`` that ``numba_xxgemm`` reaches) against Intel's MKL (``pip install mkl``), on this CPU:
issue 22's table of which GEMM library to use per CPU.

    python scripts/gemm_libs.py [--threads 1,2] [--repeats 7] [--shapes default|M,K,N;...]

Each library runs in a process of its own (``--worker``), so their thread pools and
allocators never meet; the processes take turns shape by shape (A B, then B A) with a pause
before each timing. Both are called through their Fortran ``sgemm`` by ctypes, C = A·B with
A M×K and B K×N row-major (the call a layer's forward product makes), best of ``--repeats``.
MKL runs twice: as it comes, and with ``MKL_CBWR=AUTO,STRICT`` (conditional numerical
reproducibility: the same bits on every run and thread count of one CPU). Prints GFLOP/s per
shape, library and thread count, and MKL's ratio to OpenBLAS.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import subprocess
import sys
import time

# (M, K, N): square, an mnist layer (B=128, 784 → 512), a large layer (B=256, 2048 → 2048), and
# the small and medium nets' products, where a call's overhead counts
SHAPES = [(2048, 2048, 2048), (128, 784, 512), (256, 2048, 2048), (64, 256, 256), (32, 64, 64), (32, 32, 32)]
LIBS = ("openblas", "mkl", "mkl-cnr")


def _sgemm(lib: str):
    """The library's Fortran sgemm as a ctypes function."""
    if lib == "openblas":
        import scipy.linalg.cython_blas as cb

        capsule = cb.__pyx_capi__["sgemm"]
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        name = ctypes.pythonapi.PyCapsule_GetName
        name.restype, name.argtypes = ctypes.c_char_p, [ctypes.py_object]
        addr = get(capsule, name(capsule))
        proto = ctypes.CFUNCTYPE(None, *[ctypes.c_void_p] * 13)
        return proto(addr)
    paths = sorted(glob.glob(os.path.join(sys.prefix, "lib", "libmkl_rt.so*")))
    if not paths:
        raise SystemExit("MKL is not installed: pip install mkl")
    fn = ctypes.CDLL(paths[0]).sgemm_
    fn.restype, fn.argtypes = None, [ctypes.c_void_p] * 13
    return fn


def worker(lib: str, threads: int) -> None:
    """Time the shapes named on stdin, one JSON line each: {"shape", "gflops"}."""
    import numpy as np

    sgemm = _sgemm(lib)
    for line in sys.stdin:
        M, K, N, repeats = json.loads(line)
        rng = np.random.default_rng(0)
        A, B = rng.standard_normal((M, K), dtype=np.float32), rng.standard_normal((K, N), dtype=np.float32)
        C = np.empty((M, N), np.float32)
        # row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: sgemm('N', 'N', N, M, K, 1, B, N, A, K, 0, C, N)
        c = ctypes.c_char
        i = ctypes.c_int
        one, zero = ctypes.c_float(1.0), ctypes.c_float(0.0)
        args = [ctypes.byref(c(b"N")), ctypes.byref(c(b"N")), ctypes.byref(i(N)), ctypes.byref(i(M)),
                ctypes.byref(i(K)), ctypes.byref(one), B.ctypes.data, ctypes.byref(i(N)), A.ctypes.data,
                ctypes.byref(i(K)), ctypes.byref(zero), C.ctypes.data, ctypes.byref(i(N))]
        sgemm(*args)
        assert np.allclose(C, A @ B, rtol=1e-3, atol=1e-3 * np.sqrt(K)), "wrong product"
        calls = max(1, int(2e8 / (2 * M * K * N)))  # about 0.2 GFLOP per timing
        best = float("inf")
        for _ in range(repeats):
            time.sleep(0.1)
            t = time.perf_counter()
            for _ in range(calls):
                sgemm(*args)
            best = min(best, (time.perf_counter() - t) / calls)
        print(json.dumps({"shape": [M, K, N], "gflops": 2 * M * K * N / best / 1e9}), flush=True)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--shapes", default="default", help='"M,K,N;M,K,N" (default: the issue\'s and the grid\'s)')
    ap.add_argument("--libs", default=",".join(LIBS), help="which of " + ",".join(LIBS))
    ap.add_argument("--worker", nargs=2, metavar=("LIB", "THREADS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return {}
    shapes = (SHAPES if args.shapes == "default"
              else [tuple(int(v) for v in s.split(",")) for s in args.shapes.split(";")])
    libs = tuple(args.libs.split(","))
    if not set(libs) <= set(LIBS):
        ap.error(f"--libs: choose from {','.join(LIBS)}")
    out: dict = {}
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"CPU: {cpu}; best of {args.repeats}; GFLOP/s of C = A·B, float32, A M×K, B K×N")
    for threads in (int(t) for t in args.threads.split(",")):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                   OMP_NUM_THREADS=str(threads))
        procs = {}
        for lib in libs:
            e = dict(env, MKL_CBWR="AUTO,STRICT") if lib == "mkl-cnr" else env
            procs[lib] = subprocess.Popen([sys.executable, __file__, "--worker", lib, str(threads)], env=e,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            for n, shape in enumerate(shapes):
                order = libs if n % 2 == 0 else libs[::-1]
                for lib in order:  # one at a time: the others wait on stdin
                    p = procs[lib]
                    p.stdin.write(json.dumps([*shape, args.repeats]) + "\n")
                    p.stdin.flush()
                    line = p.stdout.readline()
                    if not line:
                        raise SystemExit(f"{lib} worker failed (exit {p.wait()})")
                    out[(lib, threads, shape)] = json.loads(line)["gflops"]
        finally:
            for p in procs.values():
                p.stdin.close()
                p.wait()
        print(f"\n{threads} thread(s):")
        ratios = [lib for lib in libs if lib != "openblas"] if "openblas" in libs else []
        print(f"{'M×K×N':>16} " + " ".join(f"{lib:>9}" for lib in libs)
              + "".join(f"  {lib + '/openblas':>17}" for lib in ratios))
        for shape in shapes:
            g = {lib: out[(lib, threads, shape)] for lib in libs}
            print(f"{'×'.join(map(str, shape)):>16} " + " ".join(f"{g[lib]:>9.1f}" for lib in libs)
                  + "".join(f"  {g[lib] / g['openblas']:>16.2f}×" for lib in ratios))
    return out


if __name__ == "__main__":
    main()
