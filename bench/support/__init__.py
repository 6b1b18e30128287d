"""Support code of the benchmarks (not run by ``make bench``, which runs only bench/*.py)."""
