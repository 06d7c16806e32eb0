"""Benchmarks of the running bot against the fakes: `python -m bench` (or `make bench`)."""
