"""The contenders of scripts/bench_peers.py and bench_inference.py (see worker.py for the
protocol, training.py for the training contenders)."""
