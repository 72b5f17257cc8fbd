"""One core kept busy, as on a shared machine, and the order of timed runs under conditions.

``Spinner`` runs a separate process that spins (``while True: pass``, issue 13's load) while it
is on. It dies with the benchmark: ``with Spinner() as s`` kills it on any exit (Ctrl-C and
exceptions included); if the benchmark itself is killed, the kernel sends the spinner SIGKILL
(prctl PR_SET_PDEATHSIG, Linux), and failing that the spinner sees its parent gone
(``os.getppid()``, checked every 10^6 iterations, ~20 ms) and exits.
"""
from __future__ import annotations

import os
import subprocess
import sys

CONDITIONS = ("quiet", "busy")
SPIN = """\
import ctypes, os, signal, sys
parent = int(sys.argv[1])
try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the parent
except (OSError, AttributeError):
    pass
if os.getppid() != parent:  # the parent died before prctl
    sys.exit()
print("spinning", flush=True)
while True:  # while True: pass, with a look at the parent every 10^6 iterations
    for _ in range(1000000):
        pass
    if os.getppid() != parent:
        break
"""
LABEL = 'one core kept busy by another process (python -c "while True: pass")'


class Spinner:
    """A process that keeps one core busy while ``on``; ``set(on)`` starts or kills it."""

    def __init__(self):
        self.proc = None

    @property
    def on(self):
        return self.proc is not None

    def set(self, on):
        if on and self.proc is None:
            self.proc = subprocess.Popen([sys.executable, "-c", SPIN, str(os.getpid())],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
            self.proc.stdout.readline()  # it spins from here on
        elif not on and self.proc is not None:
            self.proc.kill()  # the process this object started, by its own handle
            self.proc.wait()
            self.proc.stdout.close()
            self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.set(False)


def conditions(busy, compare):
    """The conditions a run measures: ("quiet",), ("busy",) or both (``compare``)."""
    return CONDITIONS if compare else ("busy",) if busy else ("quiet",)


def interleaved(rounds, conds, items, spinner):
    """(round, condition, item) in the order the timed runs go: each round runs every condition
    (their order rotated by round; the spinner on under "busy"), and under each condition every
    item once (rotated by round). Consecutive rounds share the condition at their boundary, so
    the spinner starts and stops once per round at most."""
    for r in range(rounds):
        k = r % len(conds)
        for cond in conds[k:] + conds[:k]:
            spinner.set(cond == "busy")
            j = r % max(len(items), 1)
            for item in items[j:] + items[:j]:
                yield r, cond, item
