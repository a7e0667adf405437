"""`gunmane backup FILE` and `gunmane restore FILE`: the database and the kept files in one verified archive.

Exit codes as everywhere: 0 done (or a dry run that would succeed), 1 the archive or the target was refused
or the operation failed (the JSON says why), 2 usage errors (a missing file or folder). See docs/backup.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gunmane.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    command,
    err,
    lang,
    setup_django,
    t,
    write_json,
)


def _emit(args: argparse.Namespace, result: Any, lines: list[str]) -> int:
    if args.format == "json":
        write_json(result.as_json(lang()))
    else:
        if result.status in ("ok", "dry_run"):
            print("\n".join(line for line in lines if line))
        for w in result.warnings:
            err(t("警告: ", "warning: ") + w.as_json(lang())["message"])
        for e in result.errors:
            err(f"gunmane: {e.message(lang())}")
    return EXIT_OK if result.status in ("ok", "dry_run") else EXIT_INVALID


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1_000_000:,.1f} MB"


def cmd_backup(args: argparse.Namespace) -> int:
    archive = Path(args.file).expanduser()
    if archive.is_dir():
        raise UsageError(t(f"{archive} はフォルダです。バックアップのファイル名（例 gunmane-2025-04-01.zip）を指定してください。",
                           f"{archive} is a folder: give a file name such as gunmane-2025-04-01.zip."))
    if not archive.parent.is_dir():
        raise UsageError(t(f"保存先のフォルダがありません: {archive.parent}", f"No such folder: {archive.parent}"))
    setup_django(check_migrations=False)  # a backup before upgrading is the point: any migration state will do
    from django.conf import settings

    from gunmane.web.maintenance.database import vendor_name
    from gunmane.web.maintenance.service import create_backup

    media_root = Path(settings.MEDIA_ROOT)
    if archive.resolve().is_relative_to(media_root.resolve()):
        raise UsageError(t(f"バックアップはファイルの置き場所（{media_root}）の外に保存してください。",
                           f"Write the backup outside MEDIA_ROOT ({media_root})."))
    result = create_backup(archive, media_root=media_root, portable=not args.no_portable, lang=lang(),
                           log=None if args.quiet else err)
    lines = [t(f"バックアップを作成しました: {archive}", f"Backup written: {archive}"),
             t(f"  データベース: {vendor_name(result.database_vendor or '')}（{result.tables} 表、{result.rows:,} 行）",
               f"  database: {result.database_vendor} ({result.tables} tables, {result.rows:,} rows)")
             if result.rows is not None else "",
             t(f"  ファイル: {result.files} 件（{_mb(result.file_bytes)}）", f"  files: {result.files} ({_mb(result.file_bytes)})"),
             t(f"  大きさ: {_mb(result.archive_bytes)}　SHA-256: {result.archive_sha256}",
               f"  size: {_mb(result.archive_bytes)}  SHA-256: {result.archive_sha256}"),
             t("  個人情報を含みます。保管場所と権限に注意してください。", "  Contains personal data: store it accordingly.")]
    return _emit(args, result, lines)


def cmd_restore(args: argparse.Namespace) -> int:
    archive = Path(args.file).expanduser()
    if not archive.is_file():
        raise UsageError(t(f"ファイルが見つかりません: {archive}", f"File not found: {archive}"))
    setup_django(check_migrations=False)  # the target is usually an empty database
    from gunmane.web.maintenance.database import vendor_name
    from gunmane.web.maintenance.service import restore_backup

    result = restore_backup(archive, force=args.force, dry_run=args.dry_run, lang=lang(),
                            log=None if args.quiet else err)
    what = t("検査しました（--dry-run: 何も変更していません）", "verified (--dry-run: nothing changed)") if args.dry_run \
        else t("復元しました", "restored")
    lines = [t(f"{what}: {archive}", f"{what}: {archive}"),
             t(f"  作成: {result.created_at}（gunmane {result.gunmane_version}）",
               f"  created: {result.created_at} (gunmane {result.gunmane_version})"),
             t(f"  データベース: {vendor_name(result.database_vendor or '')} → {vendor_name(result.target_vendor or '')}"
               f"（{result.tables} 表、{result.rows or 0:,} 行）",
               f"  database: {result.database_vendor} → {result.target_vendor} ({result.tables} tables, {result.rows or 0:,} rows)"),
             t(f"  ファイル: {result.files} 件", f"  files: {result.files}")]
    if result.migrated:
        lines.append(t(f"  データベースを更新しました（{len(result.migrations_applied)} 件の変更）",
                       f"  migrated ({len(result.migrations_applied)} migrations)"))
    return _emit(args, result, lines)


def register(sub: Any) -> None:
    """Add `backup` and `restore`."""
    s = command(sub, "backup", help=t("データベースと保存ファイルをバックアップする（1つの zip）",
                                      "back up the database and kept files (one zip)"))
    s.add_argument("file", metavar="FILE", help=t("書き出すファイル（例 gunmane-2025-04-01.zip）", "archive to write"))
    s.add_argument("--no-portable", action="store_true",
                   help=t("移行用の JSON（SQLite⇔PostgreSQL）を含めない", "leave out the portable JSON (SQLite⇔PostgreSQL)"))
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.add_argument("--quiet", action="store_true", help=t("経過を表示しない", "no progress messages"))
    s.set_defaults(func=cmd_backup)

    s = command(sub, "restore", help=t("バックアップから復元する", "restore from a backup"))
    s.add_argument("file", metavar="FILE", help=t("gunmane backup で作ったファイル", "archive from gunmane backup"))
    s.add_argument("--force", action="store_true",
                   help=t("空でないデータベース・違うファイルを上書きする（今のデータは失われます）",
                          "overwrite a non-empty database and differing files (current data is lost)"))
    s.add_argument("--dry-run", action="store_true", help=t("検査だけ行い、何も変更しない", "verify only, change nothing"))
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.add_argument("--quiet", action="store_true", help=t("経過を表示しない", "no progress messages"))
    s.set_defaults(func=cmd_restore)


