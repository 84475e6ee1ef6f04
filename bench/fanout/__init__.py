"""Room fan-out benchmark (issue 6): ``python -m bench.fanout --help``; docs/benchmarks.md."""
