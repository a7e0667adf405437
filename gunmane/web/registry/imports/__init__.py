"""Imports into the ledger: one pipeline for ledger files and national data (道路メンテナンス年報, xROAD).

* records — the life of an ImportRecord, once for every import: create, run (here or in a thread of this
            process), progress, the result kept, imports interrupted by a stopped process marked failed;
* bulk    — writing many rows at once in the import's transaction (TableWriter, IN lists, change records).
"""
