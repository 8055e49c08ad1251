"""Scale and speed benchmark: ``python -m bench.run`` (see bench/RESULTS.md)."""
