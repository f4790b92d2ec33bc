"""Benchmarks of the delivery engine: `make bench-send`, `make bench-dispatch` (docs/benchmarks.md)."""
