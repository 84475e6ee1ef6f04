"""Benchmarks for Hearth: screening cost (screening_bench.py) and room fan-out (fanout/)."""
