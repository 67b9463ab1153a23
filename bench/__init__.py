"""Benchmarks of issue 8, each against a baseline run beside it: ``python -m bench``."""
