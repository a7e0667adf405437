"""Scale-out: the national districting sweep (issue #14 §4) as tasks on a Dask cluster.

``national`` builds the task list (prefecture × D), runs it on a ``distributed.Client`` — a LocalCluster of
worker processes by default, or an existing scheduler — and assembles the answer per prefecture and per
municipality. Tasks are pure functions of plain data (picklable tuples and numbers); the points are gathered by
the caller (the CLI or the web layer) from the ledger or the reference data. May import engine and io; not web,
cli or Django (an import-linter contract).
"""
