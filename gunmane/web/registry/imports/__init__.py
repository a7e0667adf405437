"""Imports into the ledger: one pipeline for ledger files and national data (道路メンテナンス年報, xROAD).

* bulk — writing many rows at once in the import's transaction (TableWriter, IN lists, change records).
"""
