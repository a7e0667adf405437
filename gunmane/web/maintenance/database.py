"""The database side of backup and restore: a consistent snapshot, its facts, and putting it back.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the live database in one step under a
read lock, so the copy is consistent while the web app keeps running (WAL lets writers carry on); restore
uses the same API in the other direction, which replaces the target's pages atomically and is safe with
its WAL files, unlike copying a file over an open database.

PostgreSQL: ``pg_dump --format=custom`` with the connection settings of Django's DATABASES (the password
through PGPASSWORD, never on a command line). pg_dump runs on a snapshot exported from our own
REPEATABLE READ transaction, so the row counts, the migration state and the portable JSON in the manifest
describe exactly the rows in the dump.

Portable JSON (``dumpdata``/``loaddata``) is the second format, for moving between SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management import call_command
from django.db import connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.db.utils import load_backend

if TYPE_CHECKING:
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper

from gunmane.web.maintenance import exactjson
from gunmane.web.maintenance.archive import BackupError

SNAPSHOT_ALIAS = "gunmane_backup_snapshot"
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PG_TOOL_TIMEOUT = 6 * 3600  # seconds; a hung tool must not hang a nightly job forever


def vendor_name(vendor: str) -> str:
    return VENDOR_NAMES.get(vendor, vendor)


def vendor(using: str) -> str:
    v = str(connections[using].vendor)
    if v not in VENDOR_NAMES:
        raise BackupError("unsupported_database",
                          f"データベース {v} のバックアップには対応していません（SQLite と PostgreSQL のみ）。",
                          f"Backing up a {v} database is not supported (SQLite and PostgreSQL only).")
    return v


# -- facts about a database -------------------------------------------------------------------------------
def _tables(using: str) -> list[str]:
    conn = connections[using]
    with conn.cursor() as cur:
        return [t for t in conn.introspection.table_names(cur) if not t.startswith("sqlite_")]


def table_counts(using: str) -> dict[str, int]:
    """Rows in every table of the database (Django's and any other), by table name."""
    conn = connections[using]
    counts: dict[str, int] = {}
    tables = _tables(using)
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT COUNT(*) FROM {conn.ops.quote_name(table)}")
            counts[table] = int(cur.fetchone()[0])
    return counts


def migration_state(using: str) -> dict[str, list[str]]:
    """Applied migrations per app, as recorded in django_migrations (empty for an empty database)."""
    applied = MigrationRecorder(connections[using]).applied_migrations()
    state: dict[str, list[str]] = {}
    for app, name in sorted(applied):
        state.setdefault(app, []).append(name)
    return state


def latest_migrations(state: dict[str, list[str]]) -> dict[str, str]:
    """The last applied migration per app (names are numbered, so the greatest name is the latest)."""
    return {app: max(names) for app, names in state.items() if names}


@dataclass(frozen=True)
class MigrationComparison:
    """How an archive's migration state relates to the migrations this gunmane ships."""

    unknown: tuple[str, ...]   # applied in the archive, unknown to this code: the archive is newer
    pending: tuple[str, ...]   # known to this code, not applied in the archive: the archive is older

    @property
    def newer(self) -> bool:
        return bool(self.unknown)

    @property
    def older(self) -> bool:
        return bool(self.pending) and not self.unknown


def compare_migrations(state: dict[str, list[str]]) -> MigrationComparison:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes = set(loader.graph.nodes)
    known = set(nodes)
    applied = {(app, name) for app, names in state.items() for name in names}
    for key, migration in loader.replacements.items():
        known.add(key)
        known.update(migration.replaces)
        if set(migration.replaces) <= applied:
            applied.add(key)  # a squashed migration counts as applied when everything it replaces is
    unknown = sorted(applied - known)
    pending = sorted(nodes - applied)
    return MigrationComparison(tuple(f"{a}.{n}" for a, n in unknown), tuple(f"{a}.{n}" for a, n in pending))


def file_references(using: str) -> list[str]:
    """Names stored in every FileField (ImportRecord.file, GeneratedDocument.file, …), relative to MEDIA_ROOT."""
    tables = set(_tables(using))
    names: set[str] = set()
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        if not fields or model._meta.db_table not in tables:
            continue
        for row in model._base_manager.using(using).values_list(*fields):
            names.update(v for v in row if v)
    return sorted(names)


def user_data_rows(using: str) -> dict[str, int]:
    """Tables that hold data, for the "non-empty" rule: any row in gunmane's own apps' tables or in auth users.

    Django's bookkeeping (content types, permissions, migrations, sessions) is not counted: it exists in any
    migrated database and says nothing about whose data is there.
    """
    tables = set(_tables(using))
    user_model = get_user_model()
    candidates = [m for m in apps.get_models(include_auto_created=True)
                  if m._meta.app_config.name.startswith("gunmane.")]
    candidates.append(user_model)
    found: dict[str, int] = {}
    for model in candidates:
        table = model._meta.db_table
        if table in tables and table not in found and model._base_manager.using(using).exists():
            found[table] = model._base_manager.using(using).count()
    return found


# -- snapshot ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of the database in ``dump``; ``alias`` reads the same rows (for the manifest)."""

    alias: str
    dump: Path
    dump_format: str
    tool: str
    server_version: str


def _refuse_in_transaction(using: str) -> None:
    if connections[using].in_atomic_block:
        raise BackupError("in_transaction",
                          "トランザクションの中ではバックアップできません（確定していない変更が含まれるため）。",
                          "Cannot back up inside a transaction (uncommitted changes would be included).",
                          invalid=False)


@contextlib.contextmanager
def temporary_connection(alias: str, settings_dict: dict[str, Any]) -> Iterator[str]:
    """A connection under ``alias`` for this thread only, not added to DATABASES: nothing else (a request's
    close_old_connections, a test runner) sees it, and it is closed and removed when the block ends."""
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    connections[alias] = wrapper
    try:
        yield alias
    finally:
        wrapper.close()
        with contextlib.suppress(AttributeError):
            del connections[alias]


@contextlib.contextmanager
def snapshot(using: str, workdir: Path) -> Iterator[Snapshot]:
    """Copy the database into ``workdir`` consistently and yield an alias that reads that very copy."""
    _refuse_in_transaction(using)
    if vendor(using) == "sqlite":
        with _sqlite_snapshot(using, workdir) as snap:
            yield snap
    else:
        with _postgresql_snapshot(using, workdir) as snap:
            yield snap


@contextlib.contextmanager
def _sqlite_snapshot(using: str, workdir: Path) -> Iterator[Snapshot]:
    conn = connections[using]
    conn.ensure_connection()
    dump = workdir / "gunmane.sqlite3"
    target = sqlite3.connect(dump)
    try:
        conn.connection.backup(target)  # pages=-1: one step, one read snapshot
        target.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file, no -wal beside it
        check = target.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        target.close()
    if check != "ok":
        raise BackupError("database_damaged",
                          f"データベースの検査（quick_check）でエラーが見つかりました: {check}",
                          f"The database failed SQLite's quick_check: {check}", invalid=False)
    settings_dict = copy.deepcopy(conn.settings_dict)
    settings_dict.update(NAME=str(dump), OPTIONS={"timeout": 30}, TEST={"NAME": str(dump)})
    with temporary_connection(SNAPSHOT_ALIAS, settings_dict) as alias:
        yield Snapshot(alias, dump, "sqlite3", "sqlite3 online backup API", sqlite3.sqlite_version)


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: GUNMANE_PG_BINDIR, else PATH, else the newest /usr/lib/postgresql/*/bin."""
    if bindir := os.environ.get("GUNMANE_PG_BINDIR"):
        candidate = Path(bindir) / name
        if candidate.is_file():
            return str(candidate)
    if found := shutil.which(name):
        return found
    debian = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                    key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parts[-3].split(".")])
    if debian:
        return str(debian[-1])
    raise BackupError("pg_tool_missing",
                      f"{name} が見つかりません。PostgreSQL のクライアント（Debian・Ubuntu では postgresql-client）を"
                      "入れるか、GUNMANE_PG_BINDIR にそのフォルダを指定してください。",
                      f"{name} not found: install the PostgreSQL client tools or set GUNMANE_PG_BINDIR.",
                      invalid=False)


_PG_OPTION_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                  "sslkey": "PGSSLKEY", "passfile": "PGPASSFILE", "service": "PGSERVICE", "options": "PGOPTIONS",
                  "connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME",
                  "target_session_attrs": "PGTARGETSESSIONATTRS"}


def pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq environment for the tools, from Django's DATABASES entry; the password goes in PGPASSWORD only."""
    env = dict(os.environ)
    for key, var in (("NAME", "PGDATABASE"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD"), ("HOST", "PGHOST"),
                     ("PORT", "PGPORT")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    for key, var in _PG_OPTION_ENV.items():
        if (settings_dict.get("OPTIONS") or {}).get(key) is not None:
            env[var] = str(settings_dict["OPTIONS"][key])
    return env


def _run_pg(args: list[str], env: dict[str, str], what_ja: str, what_en: str) -> str:
    try:
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=PG_TOOL_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError("pg_tool_failed", f"{what_ja}に失敗しました: {exc}", f"{what_en} failed: {exc}",
                          invalid=False) from exc
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-5:]
        raise BackupError("pg_tool_failed", f"{what_ja}に失敗しました: {' / '.join(detail)}",
                          f"{what_en} failed: {' / '.join(detail)}", invalid=False)
    return proc.stdout


@contextlib.contextmanager
def _postgresql_snapshot(using: str, workdir: Path) -> Iterator[Snapshot]:
    conn = connections[using]
    conn.ensure_connection()
    dump = workdir / "gunmane.pgdump"
    tool = pg_tool("pg_dump")
    env = pg_env(conn.settings_dict)
    version = _run_pg([tool, "--version"], env, "pg_dump の確認", "pg_dump --version").strip()
    with transaction.atomic(using=using):
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot_id = cur.fetchone()[0]
        _run_pg([tool, "--format=custom", "--no-password", f"--snapshot={snapshot_id}", f"--file={dump}"], env,
                "pg_dump（データベースの書き出し）", "pg_dump")
        server = ".".join(str(x) for x in divmod(cast("PostgresWrapper", conn).pg_version, 10000))
        yield Snapshot(using, dump, "pg_dump-custom", version, server)


def dump_portable(alias: str, path: Path) -> None:
    """Every row of every model as Django JSON (base managers, so nothing a custom manager hides is lost;
    microseconds kept, see exactjson)."""
    if exactjson.FORMAT not in serializers.get_serializer_formats():
        serializers.register_serializer(exactjson.FORMAT, exactjson.__name__)
    call_command("dumpdata", format=exactjson.FORMAT, use_base_manager=True, database=alias, output=str(path),
                 verbosity=0, stdout=io.StringIO())


# -- restore ----------------------------------------------------------------------------------------------
def restore_sqlite(using: str, dump: Path) -> None:
    """Replace the target's content with ``dump`` through the backup API: page by page inside SQLite's own
    locking and journal, never a file copied over an open database and its -wal file."""
    conn = connections[using]
    conn.close()
    conn.ensure_connection()
    # Out of WAL for the copy when we are alone on the database: the backup API refuses a WAL target whose
    # page size differs from the source's. (Django's next connection turns WAL back on.)
    conn.connection.execute("PRAGMA journal_mode=DELETE")
    source = sqlite3.connect(dump)
    try:
        source.backup(conn.connection)
    finally:
        source.close()
        conn.close()


def check_pg_dump(dump: Path, using: str) -> None:
    """Before anything is dropped: can this pg_restore read the dump (format version, not damaged)?"""
    _run_pg([pg_tool("pg_restore"), "--list", str(dump)], pg_env(connections[using].settings_dict),
            "ダンプの確認（pg_restore --list）", "pg_restore --list")


def restore_postgresql(using: str, dump: Path) -> None:
    """Drop the target's tables (it is empty, or --force was given), then pg_restore in one transaction."""
    conn = connections[using]
    check_pg_dump(dump, using)
    tables = _tables(using)
    if tables:
        with transaction.atomic(using=using), conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS " + ", ".join(conn.ops.quote_name(t) for t in tables) + " CASCADE")
    _run_pg([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
             "--no-password", f"--dbname={conn.settings_dict['NAME']}", str(dump)],
            pg_env(conn.settings_dict), "pg_restore（データベースの復元）", "pg_restore")
    conn.close()


@contextlib.contextmanager
def _raw_save_signals_muted() -> Iterator[None]:
    """loaddata saves with raw=True, and by Django's contract receivers ignore raw saves; some do not
    (registry.signals bumps the data version on every save), which would change rows while they are being
    restored. So no save receivers run while the portable JSON is loaded."""
    saved = []
    for signal in (pre_save, post_save, m2m_changed):
        with signal.lock:
            saved.append((signal, signal.receivers))
            signal.receivers = []
            signal.sender_receivers_cache.clear()
    try:
        yield
    finally:
        for signal, receivers in saved:
            with signal.lock:
                signal.receivers = receivers
                signal.sender_receivers_cache.clear()


def restore_portable(using: str, data: Path) -> None:
    """Cross-vendor: migrate the target to this code's schema, empty it, load every row with its pk."""
    out = io.StringIO()
    call_command("migrate", database=using, interactive=False, verbosity=0, stdout=out)
    # post_migrate filled content types and permissions; the archive's own rows (same pks) replace them.
    call_command("flush", database=using, interactive=False, inhibit_post_migrate=True, verbosity=0, stdout=out)
    with _raw_save_signals_muted():
        call_command("loaddata", str(data), database=using, verbosity=0, stdout=out)
    ContentType.objects.clear_cache()


def migrate_if_needed(using: str) -> list[str]:
    """Apply this code's pending migrations (an archive from an older gunmane); the applied ones, as app.name."""
    conn = connections[using]
    executor = MigrationExecutor(conn)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return []
    call_command("migrate", database=using, interactive=False, verbosity=0, stdout=io.StringIO())
    return [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]
