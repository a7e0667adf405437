"""Reference data shipped in gunmane/data with its provenance: municipalities, vocabularies, cases, cost tables."""
