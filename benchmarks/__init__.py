"""Benchmarks (run as scripts: `python benchmarks/import_ledger.py`)."""
