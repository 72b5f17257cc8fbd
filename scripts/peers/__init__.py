"""The contenders of scripts/bench_peers.py, one module each (see worker.py for the protocol)."""
