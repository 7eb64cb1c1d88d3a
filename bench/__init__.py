"""Benchmarks of Box Office (not timed tests): `make bench` writes bench/results.json."""
