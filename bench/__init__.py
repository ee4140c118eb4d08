"""Benchmarks: each prints its figures and a ratio against a bare baseline from the same run.

Run from the repository root, e.g. ``.venv/bin/python -m bench.accrual --subscribers 100000``.
"""
