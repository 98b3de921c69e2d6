"""Evaluation and benchmarks (``eidetica bench``)."""
