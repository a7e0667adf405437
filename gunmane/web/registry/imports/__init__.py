"""Imports into the ledger: one pipeline for ledger files and national data (道路メンテナンス年報, xROAD).

* records  — the life of an ImportRecord, once for every import: create, run (here or in a thread of this
             process), progress, the result kept, imports interrupted by a stopped process marked failed;
* bulk     — writing many rows at once in the import's transaction (TableWriter, IN lists, change records);
* ledger   — the ledger importer (facilities, inspections, measures files): LedgerImporter, ImportReport;
* national — the national-data importer: NationalImporter, QualityReport.

The issues an import reports are gunmane.io.issues.Issue, made by the io readers and by the importers.
"""
