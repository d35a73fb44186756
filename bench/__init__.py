"""Benchmarks and stress runs; run each from the repository as `python -m bench.NAME`."""
