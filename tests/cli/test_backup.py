"""`gunmane backup` / `gunmane restore`: every table and every kept file comes back identical, on SQLite and on
PostgreSQL; damaged archives and non-empty targets are refused before anything changes.

The round trip restores into a *fresh* database (a second SQLite file, or a second database on the same
PostgreSQL server) under a temporary connection alias, and a fresh MEDIA_ROOT, then compares all rows of
every model of every installed app (auth, contenttypes, sessions and any history tables included).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

from gunmane.cli import main
from gunmane.web.maintenance.archive import CHECKSUMS, MANIFEST
from gunmane.web.maintenance.database import temporary_connection
from gunmane.web.maintenance.service import create_backup, restore_backup
from tests.fixtures import corrected_bridges_csv, write_cp932

pytestmark = pytest.mark.django_db(transaction=True)  # the backup reads committed data, as in production

BACKUP_KEYS = ["status", "archive", "archive_sha256", "archive_bytes", "format_version", "gunmane_version",
               "created_at", "database_vendor", "portable", "tables", "rows", "files", "file_bytes", "warnings",
               "errors"]
RESTORE_KEYS = ["status", "archive", "format_version", "gunmane_version", "created_at", "database_vendor",
                "target_vendor", "method", "migrated", "migrations_applied", "tables", "rows", "files", "warnings",
                "errors"]


# -- helpers ---------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def fresh_database(vendor: str, tmp_path: Path, alias: str = "restore_target") -> Iterator[str]:
    """A new, empty database under a temporary alias: a SQLite file, or a second PostgreSQL database."""
    base = copy.deepcopy(connection.settings_dict) if connection.vendor == vendor else None
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if vendor == "sqlite":
        path = tmp_path / f"{alias}.sqlite3"
        base = base or {"ENGINE": "django.db.backends.sqlite3", "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True,
                        "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "TIME_ZONE": None, "USER": "",
                        "PASSWORD": "", "HOST": "", "PORT": ""}
        base.update(NAME=str(path), TEST={"NAME": str(path)}, OPTIONS={"timeout": 30})
    else:
        import psycopg

        assert base is not None, "a PostgreSQL target needs the suite to run on PostgreSQL"
        server = dict(base)
        name = f"{server['NAME']}_{alias}"
        params = {k: server[s] for k, s in (("host", "HOST"), ("port", "PORT"), ("user", "USER"),
                                            ("password", "PASSWORD")) if server.get(s)}
        with psycopg.connect(dbname=server["NAME"], autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        base.update(NAME=name, TEST={"NAME": name})

        def drop() -> None:
            with psycopg.connect(dbname=server["NAME"], autocommit=True, **params) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        with temporary_connection(alias, base):
            yield alias
    finally:
        drop()


def all_rows(alias: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model (auto-created m2m tables too), ordered by pk."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f.attname for f in model._meta.concrete_fields]
        rows[model._meta.label] = list(model._base_manager.using(alias).order_by("pk").values_list(*fields))
    return rows


def applied(alias: str) -> set[tuple[str, str]]:
    return set(MigrationRecorder(connections[alias]).applied_migrations())


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_database(source: str, target: str) -> None:
    expected, actual = all_rows(source), all_rows(target)
    assert sorted(expected) == sorted(actual)
    for label, rows in expected.items():
        assert len(actual[label]) == len(rows), label
        assert actual[label] == rows, f"{label}: rows differ after restore"
    assert applied(source) == applied(target)


def assert_sequences_continue(alias: str) -> None:
    """New rows get fresh ids after a restore (PostgreSQL sequences were restored or reset)."""
    from django.contrib.auth import get_user_model

    users = get_user_model()._base_manager.db_manager(alias)
    last = users.order_by("-pk").values_list("pk", flat=True).first() or 0
    assert users.create(username="new-after-restore").pk > last


def rewrite(archive: Path, out: Path, *, manifest: Callable[[dict[str, Any]], None] | None = None,
            replace: dict[str, bytes] | None = None, resum: bool = True) -> Path:
    """A copy of ``archive`` with the manifest edited or members replaced; SHA256SUMS recomputed if ``resum``."""
    with zipfile.ZipFile(archive) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    if manifest:
        m = json.loads(members[MANIFEST])
        manifest(m)
        members[MANIFEST] = json.dumps(m, ensure_ascii=False).encode()
    members.update(replace or {})
    if resum:
        members[CHECKSUMS] = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                                     for name, data in members.items() if name != CHECKSUMS).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return out


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, Any]]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def populated(demo, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The demo region, plus a ledger imported through the importer (a kept upload file, with a Japanese name)
    and a generated group document (a kept generated file)."""
    from gunmane.web.groups.views import generate
    from gunmane.web.registry.models import ImportRecord

    path = write_cp932(tmp_path / "宇陀市_橋梁台帳.csv", corrected_bridges_csv())
    assert main(["import", "facilities", str(path), "--municipality", "292125", "--format", "json"]) == 0
    doc = generate(demo, "policy", "docx")
    record = ImportRecord.objects.get(original_name="宇陀市_橋梁台帳.csv")
    media = Path(settings.MEDIA_ROOT)
    assert (media / record.file.name).read_bytes() == path.read_bytes()
    assert (media / doc.file.name).is_file()
    return {"record": record, "document": doc}


@pytest.fixture
def small(users, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Reference data, the demo users and one kept import file: enough for the refusals, quick to back up."""
    path = write_cp932(tmp_path / "bridges.csv", corrected_bridges_csv())
    assert main(["import", "facilities", str(path), "--municipality", "292125", "--format", "json"]) == 0
    archive = tmp_path / "small.zip"
    result = create_backup(archive, portable=False)
    assert result.status == "ok", result.as_json()
    return archive


# -- round trips -----------------------------------------------------------------------------------------------
def _round_trip(populated: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vendor = connection.vendor
    archive = tmp_path / "gunmane-backup.zip"
    code, out = run_json(capsys, ["backup", str(archive), "--format", "json", "--quiet"])
    assert code == 0, out
    assert list(out) == BACKUP_KEYS
    assert (out["status"], out["database_vendor"], out["files"], out["portable"]) == ("ok", vendor, 2, True)
    assert out["warnings"] == [] and out["errors"] == []
    assert out["archive_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()

    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    assert manifest["database"]["vendor"] == vendor
    assert manifest["tables"]["registry_importrecord"] == 1
    assert manifest["tables"]["groups_generateddocument"] == 1
    assert manifest["migrations"]["latest"]["registry"] == max(n for a, n in applied("default") if a == "registry")
    kept = {f["path"]: f for f in manifest["files"]}
    record, doc = populated["record"], populated["document"]
    assert set(kept) == {record.file.name, doc.file.name}
    assert kept[record.file.name]["sha256"] == hashlib.sha256(Path(record.file.path).read_bytes()).hexdigest()

    media = tmp_path / "fresh-media"
    with fresh_database(vendor, tmp_path) as alias:
        result = restore_backup(archive, using=alias, media_root=media)
        assert result.status == "ok", result.as_json()
        assert (result.method, result.migrated) == ({"sqlite": "sqlite_backup", "postgresql": "pg_restore"}[vendor],
                                                    False)
        assert_same_database("default", alias)
        assert_sequences_continue(alias)
    assert files_under(media) == files_under(Path(settings.MEDIA_ROOT))
    assert set(files_under(media)) == {record.file.name, doc.file.name}


def test_round_trip_sqlite(populated, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        pytest.skip("SQLite の往復は SQLite での実行で確かめます（PostgreSQL では test_round_trip_postgresql）")
    _round_trip(populated, tmp_path, capsys)


@pytest.mark.postgres
def test_round_trip_postgresql(populated, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _round_trip(populated, tmp_path, capsys)


@pytest.mark.postgres
def test_cross_vendor_postgresql_to_sqlite_and_back(users, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The portable JSON moves a gunmane between vendors: PostgreSQL → SQLite → PostgreSQL, identical rows.

    (Without the 8,940 yearly statistics rows: loaddata saves row by row, and they add nothing here.)"""
    from gunmane.web.registry.models import MunicipalYearStats

    path = write_cp932(tmp_path / "bridges.csv", corrected_bridges_csv())
    assert main(["import", "facilities", str(path), "--municipality", "292125", "--format", "json"]) == 0
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {MunicipalYearStats._meta.db_table}")
    from_pg = tmp_path / "from-postgresql.zip"
    assert create_backup(from_pg).status == "ok"
    with fresh_database("sqlite", tmp_path, alias="as_sqlite") as lite:
        result = restore_backup(from_pg, using=lite, media_root=tmp_path / "m1")
        assert (result.status, result.method, result.target_vendor) == ("ok", "loaddata", "sqlite"), result.as_json()
        assert_same_database("default", lite)
        from_sqlite = tmp_path / "from-sqlite.zip"
        assert create_backup(from_sqlite, using=lite, media_root=tmp_path / "m1").status == "ok"
    with fresh_database("postgresql", tmp_path, alias="as_pg") as pg:
        result = restore_backup(from_sqlite, using=pg, media_root=tmp_path / "m2")
        assert (result.status, result.method) == ("ok", "loaddata"), result.as_json()
        assert_same_database("default", pg)
        assert_sequences_continue(pg)
    assert files_under(tmp_path / "m2") == files_under(Path(settings.MEDIA_ROOT))


def test_cli_restore_into_the_emptied_database(small: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The everyday case on the configured database: data lost (flushed), restored from last night's archive."""
    before = all_rows("default")
    media = Path(settings.MEDIA_ROOT)
    kept = files_under(media)
    call_command("flush", interactive=False, verbosity=0)
    for p in media.rglob("*"):
        if p.is_file():
            p.unlink()
    code, out = run_json(capsys, ["restore", str(small), "--format", "json", "--quiet"])
    assert code == 0, out
    assert list(out) == RESTORE_KEYS
    assert (out["status"], out["files"], out["errors"]) == ("ok", 1, [])
    assert all_rows("default") == before
    assert files_under(media) == kept


def test_older_archive_is_migrated_after_restore(tmp_path: Path) -> None:
    """An archive from an older gunmane (here: registry up to 0005, other apps not yet) is restored, then migrated."""
    vendor = connection.vendor
    with fresh_database(vendor, tmp_path, alias="old") as old:
        call_command("migrate", "registry", "0005", database=old, verbosity=0)
        archive = tmp_path / "old.zip"
        made = create_backup(archive, using=old, media_root=tmp_path / "none")
        assert made.status == "ok" and [w.code for w in made.warnings] == ["portable_skipped"]
    with fresh_database(vendor, tmp_path, alias="new") as new:
        result = restore_backup(archive, using=new, media_root=tmp_path / "media", dry_run=True)
        assert (result.status, result.warnings[0].code) == ("dry_run", "archive_older")
        result = restore_backup(archive, using=new, media_root=tmp_path / "media")
        assert result.status == "ok", result.as_json()
        assert result.migrated and "registry.0006_publish_ledger_figures" in result.migrations_applied
        assert result.warnings[0].code == "archive_older"
        assert applied(new) == applied("default")


# -- refusals: nothing changes ----------------------------------------------------------------------------------
def test_refuses_non_empty_database_then_force(small: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("after-backup", password="x-123456789")  # not in the archive
    before = all_rows("default")
    code, out = run_json(capsys, ["restore", str(small), "--format", "json", "--quiet"])
    assert (code, out["status"], out["errors"][0]["code"]) == (1, "invalid", "database_not_empty")
    assert list(out) == RESTORE_KEYS
    assert "空ではありません" in out["errors"][0]["message"] and "--force" in out["errors"][0]["message"]
    assert all_rows("default") == before

    assert main(["restore", str(small), "--quiet"]) == 1
    assert "復元先のデータベースは空ではありません" in capsys.readouterr().err

    code, out = run_json(capsys, ["restore", str(small), "--force", "--format", "json", "--quiet"])
    assert (code, out["status"]) == (0, "ok"), out
    assert not get_user_model().objects.filter(username="after-backup").exists()


def _damaged(small: Path, damage: str, out: Path) -> Path:
    data = small.read_bytes()
    if damage == "truncated":
        out.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "flipped_byte":  # one bit of rot in the middle of the database dump
        with zipfile.ZipFile(small) as zf:
            info = next(i for i in zf.infolist() if i.filename.startswith("database/"))
        at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
        out.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    elif damage == "tampered_member":  # a valid zip (CRC fine) whose member no longer matches SHA256SUMS
        with zipfile.ZipFile(small) as zf:
            name = next(n for n in zf.namelist() if n.startswith("media/"))
        rewrite(small, out, replace={name: b"changed"}, resum=False)
    else:
        with zipfile.ZipFile(out, "w") as zf:
            zf.writestr("hello.txt", "hi")
    return out


def test_refuses_damaged_archives(small: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    cases = {"truncated": "archive_unreadable", "flipped_byte": "archive_corrupt",
             "tampered_member": "archive_corrupt", "not_a_backup": "archive_unsupported"}
    media = tmp_path / "fresh-media"
    with fresh_database(connection.vendor, tmp_path) as alias:
        for damage, expected in cases.items():
            bad = _damaged(small, damage, tmp_path / f"{damage}.zip")
            result = restore_backup(bad, using=alias, media_root=media)
            assert (result.status, [e.code for e in result.errors]) == ("invalid", [expected]), (damage, result.as_json())
            assert "何も変更していません" in result.errors[0].message_ja
            assert connections[alias].introspection.table_names() == [], damage
            assert not media.exists() or not any(media.iterdir()), damage
            assert not list(tmp_path.glob(".gunmane-restore-*"))  # the scratch folder is gone

            code, out = run_json(capsys, ["restore", str(bad), "--format", "json", "--quiet"])
            assert (code, out["status"], out["errors"][0]["code"]) == (1, "invalid", expected)


def test_refuses_incompatible_archives_and_dry_run(small: Path, tmp_path: Path) -> None:
    def future(m: dict[str, Any]) -> None:
        m["migrations"]["applied"]["registry"].append("9999_from_the_future")

    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"

    def elsewhere(m: dict[str, Any]) -> None:
        m["database"]["vendor"] = other

    with zipfile.ZipFile(small) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    kept = manifest["files"][0]["path"]
    media = tmp_path / "media"
    with fresh_database(connection.vendor, tmp_path) as alias:
        result = restore_backup(rewrite(small, tmp_path / "newer.zip", manifest=future), using=alias, media_root=media)
        assert (result.status, result.errors[0].code) == ("invalid", "archive_newer")
        assert "registry.9999_from_the_future" in result.errors[0].message_ja

        result = restore_backup(rewrite(small, tmp_path / "other.zip", manifest=elsewhere), using=alias,
                                media_root=media)
        assert (result.status, result.errors[0].code) == ("invalid", "vendor_mismatch")
        assert "SQLite" in result.errors[0].message_ja and "PostgreSQL" in result.errors[0].message_ja

        (media / kept).parent.mkdir(parents=True)
        (media / kept).write_bytes(b"a different file under the same name")
        result = restore_backup(small, using=alias, media_root=media)
        assert (result.status, result.errors[0].code) == ("invalid", "media_conflict")
        assert (media / kept).read_bytes() == b"a different file under the same name"
        (media / kept).unlink()

        result = restore_backup(small, using=alias, media_root=media, dry_run=True)
        assert (result.status, result.tables, result.files) == ("dry_run", len(manifest["tables"]), 1)
        assert connections[alias].introspection.table_names() == [] and not any(media.rglob("*.csv"))


@pytest.mark.django_db
def test_usage_errors(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert main(["restore", str(tmp_path / "none.zip")]) == 2
    assert "ファイルが見つかりません" in capsys.readouterr().err
    assert main(["backup", str(tmp_path / "no-such-folder" / "b.zip")]) == 2
    assert "保存先のフォルダがありません" in capsys.readouterr().err
    assert main(["backup", str(Path(settings.MEDIA_ROOT) / "b.zip")]) == 2
    assert "外に保存" in capsys.readouterr().err
