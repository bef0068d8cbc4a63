"""Benchmarks: `python -m bench` (or `make bench`) runs them all; results go to docs/benchmarks.md.

They live outside the test suite on purpose: they take minutes and their numbers depend on the
machine. Every figure is a median of repeated runs, never a single time.
"""
