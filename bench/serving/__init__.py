"""Serving benchmarks: the online read paths, each against a bare peer measured in the same run."""
