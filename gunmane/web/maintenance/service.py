"""Backup and restore (バックアップと復元) of the database and the kept files, as one verified archive.

The CLI (`gunmane backup` / `gunmane restore`) drives these two functions; each returns a result whose
``as_json()`` keeps the same keys whatever happened, so scripts can rely on it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError
from django.utils import timezone

from gunmane.web.maintenance import database as db
from gunmane.web.maintenance.archive import (
    CHECKSUMS,
    DATABASE_DIR,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ArchiveWriter,
    BackupError,
    VerifiedArchive,
    media_member,
    read_verified,
    safe_relative,
    sha256_file,
)

Log = Callable[[str], None]


def gunmane_version() -> str:
    try:
        return version("gunmane")
    except PackageNotFoundError:
        return "unknown"


def _say(lang: str, ja: str, en: str) -> str:
    return en if lang == "en" else ja


@dataclass
class Notice:
    code: str
    message_ja: str
    message_en: str

    def as_json(self, lang: str) -> dict[str, str]:
        return {"code": self.code, "message": self.message_en if lang == "en" else self.message_ja}


@dataclass
class BackupResult:
    archive: str
    status: str = "ok"  # ok | invalid | failed
    archive_sha256: str | None = None
    archive_bytes: int | None = None
    created_at: str | None = None
    database_vendor: str | None = None
    portable: bool = False
    tables: int | None = None
    rows: int | None = None
    files: int | None = None
    file_bytes: int | None = None
    warnings: list[Notice] = field(default_factory=list)
    errors: list[BackupError] = field(default_factory=list)

    def as_json(self, lang: str = "ja") -> dict[str, Any]:
        return {"status": self.status, "archive": self.archive, "archive_sha256": self.archive_sha256,
                "archive_bytes": self.archive_bytes, "format_version": FORMAT_VERSION,
                "gunmane_version": gunmane_version(), "created_at": self.created_at,
                "database_vendor": self.database_vendor, "portable": self.portable, "tables": self.tables,
                "rows": self.rows, "files": self.files, "file_bytes": self.file_bytes,
                "warnings": [w.as_json(lang) for w in self.warnings],
                "errors": [e.as_json(lang) for e in self.errors]}


@dataclass
class RestoreResult:
    archive: str
    status: str = "ok"  # ok | dry_run | invalid | failed
    format_version: int | None = None
    gunmane_version: str | None = None
    created_at: str | None = None
    database_vendor: str | None = None
    target_vendor: str | None = None
    method: str | None = None  # sqlite_backup | pg_restore | loaddata
    migrated: bool = False
    migrations_applied: list[str] = field(default_factory=list)
    tables: int | None = None
    rows: int | None = None
    files: int | None = None
    warnings: list[Notice] = field(default_factory=list)
    errors: list[BackupError] = field(default_factory=list)

    def as_json(self, lang: str = "ja") -> dict[str, Any]:
        return {"status": self.status, "archive": self.archive, "format_version": self.format_version,
                "gunmane_version": self.gunmane_version, "created_at": self.created_at,
                "database_vendor": self.database_vendor, "target_vendor": self.target_vendor,
                "method": self.method, "migrated": self.migrated, "migrations_applied": self.migrations_applied,
                "tables": self.tables, "rows": self.rows, "files": self.files,
                "warnings": [w.as_json(lang) for w in self.warnings],
                "errors": [e.as_json(lang) for e in self.errors]}


def _fail(result: BackupResult | RestoreResult, exc: BackupError) -> None:
    result.status = "invalid" if exc.invalid else "failed"
    result.errors.append(exc)


def _failure(exc: BaseException) -> BackupError:
    """An unexpected failure of the disk or the database server, as a message rather than a traceback."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return BackupError("failed", f"処理に失敗しました: {detail}", f"Failed: {detail}", invalid=False)


def media_files(media_root: Path) -> list[tuple[str, Path]]:
    """Every regular file under MEDIA_ROOT, as (relative POSIX name, path), sorted; symlinks are not followed."""
    if not media_root.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(media_root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append((path.relative_to(media_root).as_posix(), path))
    return found


# -- backup -----------------------------------------------------------------------------------------------
def create_backup(archive: Path, *, using: str = "default", media_root: Path | None = None, portable: bool = True,
                  lang: str = "ja", log: Log | None = None) -> BackupResult:
    """Write ``archive`` (.zip): the database snapshot first, then the files under MEDIA_ROOT.

    Snapshot first because a kept file is written before its row is saved (ImportRecord, GeneratedDocument),
    so every file the snapshot refers to is already on disk when the files are collected. The archive is
    written beside its final name and renamed at the end: a failed run never leaves a half archive there.
    """
    media_root = Path(media_root if media_root is not None else settings.MEDIA_ROOT)
    result = BackupResult(archive=str(archive))
    say = log or (lambda _m: None)
    try:
        result.database_vendor = db.vendor(using)
        with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".gunmane-backup-") as tmp:
            _write_backup(archive, Path(tmp), using, media_root, portable, lang, say, result)
    except BackupError as exc:
        _fail(result, exc)
    except (OSError, DatabaseError, sqlite3.Error, zipfile.LargeZipFile) as exc:
        _fail(result, _failure(exc))
    return result


def _write_backup(archive: Path, tmp: Path, using: str, media_root: Path, portable: bool, lang: str, say: Log,
                  result: BackupResult) -> None:
    say(_say(lang, f"データベース（{db.vendor_name(result.database_vendor or '')}）を書き出しています…",
             "Dumping the database…"))
    created_at = timezone.localtime()
    portable_path = tmp / "data.json"
    with db.snapshot(using, tmp) as snap:
        state = db.migration_state(snap.alias)
        counts = db.table_counts(snap.alias)
        references = db.file_references(snap.alias)
        comparison = db.compare_migrations(state)
        if portable and (comparison.pending or comparison.unknown):
            # dumpdata reads through this code's models: only right when the schema is this code's.
            portable = False
            result.warnings.append(Notice(
                "portable_skipped",
                "データベースがこの gunmane の版と一致しない（gunmane init の前）ため、移行用の JSON は含めませんでした。",
                "The database is not at this gunmane's migration state (run gunmane init), so no portable JSON."))
        if portable:
            say(_say(lang, "移行用の JSON（dumpdata）を書き出しています…", "Writing the portable JSON…"))
            db.dump_portable(snap.alias, portable_path)
    files = media_files(media_root)
    say(_say(lang, f"ファイル {len(files)} 件をまとめています…", f"Adding {len(files)} files…"))
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "gunmane_version": gunmane_version(),
        "created_at": created_at.isoformat(),
        "database": {"vendor": result.database_vendor, "server_version": snap.server_version, "tool": snap.tool},
        "migrations": {"latest": db.latest_migrations(state), "applied": state},
        "tables": counts,
    }
    fd, part_name = tempfile.mkstemp(dir=archive.parent, prefix=f".{archive.name}.", suffix=".part")  # mode 0600
    part = Path(part_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
                writer = ArchiveWriter(zf)
                manifest["database"]["dump"] = {**writer.add_file(f"{DATABASE_DIR}/{snap.dump.name}", snap.dump)
                                                .as_json(), "format": snap.dump_format}
                manifest["database"]["portable"] = {
                    **writer.add_file(f"{DATABASE_DIR}/data.json", portable_path).as_json(),
                    "format": "django-dumpdata-json"} if portable else None
                manifest["files"] = _add_media(writer, files, result)
                kept = {f["path"] for f in manifest["files"]}
                manifest["missing_files"] = [name for name in references if name not in kept]
                manifest["checksums"] = f"{CHECKSUMS} (sha256sum -c)"
                writer.finish(manifest)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, archive)
        _fsync_dir(archive.parent)
    finally:
        part.unlink(missing_ok=True)
    for name in manifest["missing_files"]:
        result.warnings.append(Notice("file_missing", f"データベースが参照しているファイルがありません: {name}",
                                      f"a file the database refers to is missing: {name}"))
    result.created_at = manifest["created_at"]
    result.portable = portable
    result.tables = len(counts)
    result.rows = sum(counts.values())
    result.files = len(manifest["files"])
    result.file_bytes = sum(f["size"] for f in manifest["files"])
    result.archive_bytes = archive.stat().st_size
    result.archive_sha256 = sha256_file(archive)


def _add_media(writer: ArchiveWriter, files: list[tuple[str, Path]], result: BackupResult) -> list[dict[str, Any]]:
    entries = []
    for relative, path in files:
        if safe_relative(relative) is None:
            result.warnings.append(Notice("file_skipped", f"名前に使えない文字があるため除外: {relative!r}",
                                          f"skipped (unusable name): {relative!r}"))
            continue
        m = writer.add_file(media_member(relative), path)
        entries.append({"path": relative, "size": m.size, "sha256": m.sha256})
    return entries


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a folder for this, and does not need to."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- restore ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _staging(media_root: Path) -> Iterator[Path]:
    """A scratch folder beside MEDIA_ROOT (same disk, so the files are moved into place, not copied)."""
    media_root.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=media_root.parent, prefix=".gunmane-restore-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def restore_backup(archive: Path, *, using: str = "default", media_root: Path | None = None, force: bool = False,
                   dry_run: bool = False, lang: str = "ja", log: Log | None = None) -> RestoreResult:
    """Verify ``archive`` completely, check it fits this database and this code, then put it back.

    Every refusal happens before anything changes: a damaged archive, a non-empty target without ``force``,
    files that would be overwritten without ``force``, an archive from a newer gunmane, or another vendor's
    archive without the portable JSON.
    """
    media_root = Path(media_root if media_root is not None else settings.MEDIA_ROOT)
    result = RestoreResult(archive=str(archive))
    say = log or (lambda _m: None)
    try:
        with _staging(media_root) as staging:
            say(_say(lang, "バックアップファイルを検査しています…", "Verifying the archive…"))
            verified = read_verified(archive, staging)
            _restore(verified, using, media_root, force, dry_run, lang, say, result)
    except BackupError as exc:
        _fail(result, exc)
    except (OSError, DatabaseError, sqlite3.Error) as exc:
        _fail(result, _failure(exc))
    return result


def _restore(verified: VerifiedArchive, using: str, media_root: Path, force: bool, dry_run: bool, lang: str,
             say: Log, result: RestoreResult) -> None:
    m = verified.manifest
    result.format_version = m["format_version"]
    result.gunmane_version = m.get("gunmane_version")
    result.created_at = m.get("created_at")
    result.database_vendor = source = m["database"]["vendor"]
    result.target_vendor = target = db.vendor(using)
    state = m["migrations"]["applied"]
    comparison = db.compare_migrations(state)
    if comparison.newer:
        raise BackupError(
            "archive_newer",
            f"このバックアップは新しい版の gunmane（{result.gunmane_version}）のデータベースです（この gunmane が"
            f"知らない変更: {', '.join(comparison.unknown[:5])}）。gunmane を更新してから復元してください。何も変更していません。",
            f"This backup comes from a newer gunmane ({result.gunmane_version}); unknown migrations: "
            f"{', '.join(comparison.unknown[:5])}. Upgrade gunmane first. Nothing was changed.")
    method = {"sqlite": "sqlite_backup", "postgresql": "pg_restore"}[target] if source == target else "loaddata"
    if method == "loaddata":
        _check_cross_vendor(m, source, target, comparison)
    result.method = method
    if not force:
        _check_empty(using)
    conflicts = _media_conflicts(verified, media_root)
    if conflicts and not force:
        raise BackupError(
            "media_conflict",
            f"ファイルの置き場所（{media_root}）に、バックアップと内容の違うファイルが {len(conflicts)} 件あります"
            f"（例: {conflicts[0]}）。上書きするには --force を付けてください。何も変更していません。",
            f"{len(conflicts)} files under {media_root} differ from the backup (e.g. {conflicts[0]}). "
            "Use --force to overwrite. Nothing was changed.")
    if method == "pg_restore":
        db.check_pg_dump(verified.path(m["database"]["dump"]["path"]), using)
    result.tables = len(m["tables"])
    result.rows = sum(m["tables"].values())
    result.files = len(m["files"])
    if dry_run:
        result.status = "dry_run"
        if comparison.older:
            result.warnings.append(_older_warning(comparison, dry_run=True))
        return

    say(_say(lang, f"データベースを復元しています（{db.vendor_name(source)} → {db.vendor_name(target)}）…",
             f"Restoring the database ({source} → {target})…"))
    if method == "sqlite_backup":
        db.restore_sqlite(using, verified.path(m["database"]["dump"]["path"]))
    elif method == "pg_restore":
        db.restore_postgresql(using, verified.path(m["database"]["dump"]["path"]))
    else:
        db.restore_portable(using, verified.path(m["database"]["portable"]["path"]))
    applied = db.migrate_if_needed(using)
    if applied:
        result.migrated = True
        result.migrations_applied = applied
        result.warnings.append(_older_warning(comparison, dry_run=False))
    else:
        _check_counts(using, m["tables"], cross_vendor=method == "loaddata")
    ContentType.objects.clear_cache()  # ids may differ from what this process cached before
    say(_say(lang, f"ファイル {len(m['files'])} 件を戻しています…", f"Restoring {len(m['files'])} files…"))
    _move_media(verified, media_root)


def _older_warning(comparison: db.MigrationComparison, *, dry_run: bool) -> Notice:
    names = ", ".join(comparison.pending[:5]) + (" …" if len(comparison.pending) > 5 else "")
    if dry_run:
        return Notice("archive_older", f"古い版の gunmane のバックアップです。復元の後でデータベースを更新します（{names}）。",
                        f"The backup is from an older gunmane; the database will be migrated after restore ({names}).")
    return Notice("archive_older", f"古い版の gunmane のバックアップだったため、復元の後でデータベースを更新しました（{names}）。",
                    f"The backup was from an older gunmane; the database was migrated after restore ({names}).")


def _check_cross_vendor(m: dict[str, Any], source: str, target: str, comparison: db.MigrationComparison) -> None:
    src, dst = db.vendor_name(source), db.vendor_name(target)
    if not m["database"].get("portable"):
        raise BackupError(
            "vendor_mismatch",
            f"このバックアップは {src} のデータベースで、復元先は {dst} です。移行用の JSON を含まないため {dst} には"
            f"復元できません（{src} に復元するか、--no-portable を付けずにバックアップを取り直してください）。何も変更していません。",
            f"This backup is of a {src} database and the target is {dst}; without the portable JSON it cannot be "
            f"restored into {dst} (restore into {src}, or back up again without --no-portable). Nothing was changed.")
    if comparison.pending:
        raise BackupError(
            "vendor_mismatch_older",
            f"{src} から {dst} への移行は、バックアップとこの gunmane の版が同じときだけできます（未適用: "
            f"{', '.join(comparison.pending[:5])}）。先に {src} に復元して gunmane init で更新し、バックアップを取り直して"
            "ください。何も変更していません。",
            f"Moving from {src} to {dst} needs a backup made by this same gunmane version (pending: "
            f"{', '.join(comparison.pending[:5])}). Restore into {src}, run gunmane init, back up again. "
            "Nothing was changed.")


def _check_empty(using: str) -> None:
    rows = db.user_data_rows(using)
    if rows:
        listed = "、".join(f"{t} {n:,} 行" for t, n in list(rows.items())[:5]) + ("…" if len(rows) > 5 else "")
        listed_en = ", ".join(f"{t} {n:,} rows" for t, n in list(rows.items())[:5])
        raise BackupError(
            "database_not_empty",
            f"復元先のデータベースは空ではありません（{listed}）。空のデータベースに復元するか、今のデータを"
            "消して上書きしてよければ --force を付けてください。何も変更していません。",
            f"The target database is not empty ({listed_en}). Restore into an empty database, or use --force "
            "to overwrite the current data. Nothing was changed.")


def _media_conflicts(verified: VerifiedArchive, media_root: Path) -> list[str]:
    conflicts = []
    for f in verified.manifest["files"]:
        dest = media_root / f["path"]
        if dest.exists() and (not dest.is_file() or dest.stat().st_size != f["size"] or sha256_file(dest) != f["sha256"]):
            conflicts.append(f["path"])
    return conflicts


def _move_media(verified: VerifiedArchive, media_root: Path) -> None:
    for f in verified.manifest["files"]:
        dest = media_root / f["path"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_file() and dest.stat().st_size == f["size"] and sha256_file(dest) == f["sha256"]:
            continue
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        elif dest.exists() or dest.is_symlink():
            dest.unlink()
        shutil.move(verified.path(media_member(f["path"])), dest)


def _check_counts(using: str, expected: dict[str, int], *, cross_vendor: bool) -> None:
    """The restored database holds as many rows per table as the manifest says (a last, cheap proof)."""
    actual = db.table_counts(using)
    skip = {"django_migrations"} if cross_vendor else set()  # migrate records its own rows on the target
    wrong = [t for t, n in expected.items() if t not in skip and actual.get(t) != n]
    if wrong:
        t = wrong[0]
        raise BackupError("count_mismatch",
                          f"復元した表 {t} の行数（{actual.get(t)}）がバックアップの記録（{expected[t]}）と合いません。",
                          f"Table {t} has {actual.get(t)} rows after restore, the backup recorded {expected[t]}.",
                          invalid=False)


__all__ = ["MANIFEST", "BackupResult", "RestoreResult", "create_backup", "restore_backup"]
