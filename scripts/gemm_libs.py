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

``--bf16`` (issue 23's table, which ``fastnn._blas`` chooses the bf16 library from): the bf16
GEMMs with float32 accumulation, MKL's ``cblas_gemm_bf16bf16f32`` (sequential at one thread:
its bf16 path ignores MKL_NUM_THREADS=1) and oneDNN's ``dnnl_gemm_bf16bf16f32`` (OMP_NUM_THREADS
threads), against OpenBLAS's float32 sgemm; the worker checks each product against NumPy's
float32 product of the same bf16 values.

    python scripts/gemm_libs.py --bf16 --threads 1
"""
from __future__ import annotations

import argparse
import ctypes
import functools
import glob
import json
import os
import subprocess
import sys
import time

# (M, K, N): square, an mnist layer (B=128, 784 → 512), a large layer (B=256, 2048 → 2048), and
# the small and medium nets' products, where a call's overhead counts
SHAPES = [(2048, 2048, 2048), (128, 784, 512), (256, 2048, 2048), (64, 256, 256), (32, 64, 64), (32, 32, 32)]
LIBS = ("openblas", "mkl", "mkl-cnr", "mkl-bf16", "onednn-bf16")
BF16_LIBS = ("openblas", "mkl-bf16", "onednn-bf16")  # --bf16: issue 23's table of bf16 GEMM libraries


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


def _bf16_gemm(lib: str):
    """A row-major C = A·B call with bf16 A, B (uint16 arrays) and float32 C: (call, its args
    for A, B, C and the shape)."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from fastnn import _blas

    name = lib.split("-")[0]
    paths = _blas._mkl_paths() if name == "mkl" else _blas._onednn_paths()
    if not paths:
        raise SystemExit(f"{name} is not installed: pip install \"fastnn[bf16]\"")
    dll = ctypes.CDLL(paths[0])
    i, i64, f, vp = ctypes.c_int, ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
    if name == "mkl":
        fn = dll.cblas_gemm_bf16bf16f32
        fn.restype, fn.argtypes = None, [i] * 6 + [f, vp, i, vp, i, f, vp, i]
        return lambda A, B, C, M, K, N: fn(101, 111, 111, M, N, K, 1.0, A.ctypes.data, K, B.ctypes.data, N, 0.0,
                                           C.ctypes.data, N)
    fn = dll.dnnl_gemm_bf16bf16f32
    fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_char] * 2 + [i64] * 3 + [f, vp, i64, vp, i64, f, vp, i64]
    return lambda A, B, C, M, K, N: fn(b"N", b"N", M, N, K, 1.0, A.ctypes.data, K, B.ctypes.data, N, 0.0,
                                       C.ctypes.data, N)


def _bf16_worker(lib: str) -> None:
    import numpy as np

    gemm = _bf16_gemm(lib)
    for line in sys.stdin:
        M, K, N, repeats = json.loads(line)
        rng = np.random.default_rng(0)
        A = (rng.standard_normal((M, K), dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
        B = (rng.standard_normal((K, N), dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
        C = np.empty((M, N), np.float32)
        gemm(A, B, C, M, K, N)
        ref = (A.astype(np.uint32) << 16).view(np.float32) @ (B.astype(np.uint32) << 16).view(np.float32)
        assert np.allclose(C, ref, rtol=1e-3, atol=1e-3 * np.sqrt(K)), "wrong product"
        _report((M, K, N), functools.partial(gemm, A, B, C, M, K, N), repeats)


def _report(shape: tuple[int, int, int], call, repeats: int) -> None:
    """Time ``call`` (one product of ``shape``), best of ``repeats`` timings of about 0.2 GFLOP
    each with a pause before each; print its JSON line."""
    M, K, N = shape
    calls = max(1, int(2e8 / (2 * M * K * N)))
    best = float("inf")
    for _ in range(repeats):
        time.sleep(0.1)
        t = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - t) / calls)
    print(json.dumps({"shape": [M, K, N], "gflops": 2 * M * K * N / best / 1e9}), flush=True)


def worker(lib: str, threads: int) -> None:
    """Time the shapes named on stdin, one JSON line each: {"shape", "gflops"}."""
    import numpy as np

    if lib.endswith("-bf16"):
        _bf16_worker(lib)
        return
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
        _report((M, K, N), functools.partial(sgemm, *args), repeats)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--shapes", default="default", help='"M,K,N;M,K,N" (default: the issue\'s and the grid\'s)')
    ap.add_argument("--libs", default="openblas,mkl,mkl-cnr", help="which of " + ",".join(LIBS))
    ap.add_argument("--bf16", action="store_true", help="the bf16 GEMMs (MKL's, oneDNN's) against "
                    "OpenBLAS's float32 sgemm: --libs " + ",".join(BF16_LIBS))
    ap.add_argument("--worker", nargs=2, metavar=("LIB", "THREADS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return {}
    shapes = (SHAPES if args.shapes == "default"
              else [tuple(int(v) for v in s.split(",")) for s in args.shapes.split(";")])
    libs = BF16_LIBS if args.bf16 else tuple(args.libs.split(","))
    if not set(libs) <= set(LIBS):
        ap.error(f"--libs: choose from {','.join(LIBS)}")
    out: dict = {}
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"CPU: {cpu}; best of {args.repeats}; GFLOP/s of C = A·B, A M×K, B K×N; float32, or bf16 A, B "
          "and float32 C (*-bf16)")
    for threads in (int(t) for t in args.threads.split(",")):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                   OMP_NUM_THREADS=str(threads))
        procs = {}
        for lib in libs:
            e = dict(env, MKL_CBWR="AUTO,STRICT") if lib == "mkl-cnr" else env
            if lib == "mkl-bf16" and threads == 1:  # (its bf16 GEMM ignores MKL_NUM_THREADS=1)
                e = dict(e, MKL_THREADING_LAYER="SEQUENTIAL")
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
