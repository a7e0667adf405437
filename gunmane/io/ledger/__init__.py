"""The facility ledger (施設台帳) files: schema, table reading, import, export, template, inspection pairs."""
