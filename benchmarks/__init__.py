"""Speed and accuracy benchmarks of the derivative engines (never part of the test suite).

Run `python -m benchmarks --quick` (under a minute) or `python -m benchmarks` (the full run,
under ten minutes on a quiet machine); docs/benchmarks.md explains the suites.
"""
