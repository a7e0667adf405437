"""Maintenance of a gunmane installation: backup and restore (バックアップと復元) of the database and kept files.

``archive`` is the file format (no Django), ``database`` the vendor-specific dump and restore, ``service``
the two operations that the CLI calls. See docs/backup.md.
"""
