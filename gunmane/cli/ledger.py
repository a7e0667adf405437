"""`gunmane init`, `refdata`, `import` (a ledger file; `import undo`), `export` and `template`: the ledger.

The national data (`import nenpo`, `import xroad`) is imported by gunmane.cli.national, which adds its kinds
to the `import` parser made here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gunmane.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    command,
    err,
    lang,
    municipality,
    needs_out,
    setup_django,
    t,
    text_out,
    write_file,
    write_json,
)

KINDS = ("facilities", "inspections", "measures")
KIND_HELP = {"facilities": "施設台帳", "inspections": "点検結果", "measures": "措置（補修・更新）"}


# -- init / refdata --------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    setup_django(check_migrations=False)
    from django.core.management import call_command

    from gunmane.web.registry.refdata import load_reference_data

    call_command("migrate", interactive=False, verbosity=0)
    err(t("データベースを作成・更新しました。", "Database created / migrated."))
    load_reference_data(log=err)
    return EXIT_OK


def cmd_refdata(args: argparse.Namespace) -> int:
    setup_django()
    from gunmane.web.registry.refdata import load_reference_data

    counts = load_reference_data(log=err)
    if args.format == "json":
        print(json.dumps(counts, ensure_ascii=False))
    return EXIT_OK


# -- import / export / template ------------------------------------------------------------------------
def cmd_import(args: argparse.Namespace) -> int:
    setup_django()
    from tqdm import tqdm

    from gunmane.web.registry.imports import records
    from gunmane.web.registry.imports.ledger import LedgerImporter

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(t(f"ファイルが見つかりません: {path}", f"File not found: {path}"))
    muni = municipality(args.municipality)
    bar = tqdm(total=0, unit=t("行", "rows"), file=sys.stderr, disable=not sys.stderr.isatty() and not args.progress,
               desc=t("取込", "import"))

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    # The record exists before the rows are written so that their change history can name it (and undo it).
    record = records.create_record(args.kind, [(path.name, path)], municipality=muni, user=None,
                                   dry_run=args.dry_run, skip_invalid=args.skip_invalid,
                                   clear_blanks=args.clear_blanks)
    importer = LedgerImporter(args.kind, path, municipality=muni, dry_run=args.dry_run,
                              skip_invalid=args.skip_invalid, clear_blanks=args.clear_blanks,
                              progress=progress, import_record_id=record.pk)
    try:  # Ctrl+C or a crash: the record says so (nothing was written)
        report = records.run(record, importer, save=False)
    finally:
        bar.close()
    if report.status == "ok":  # the original file is kept with the record, as for uploads through the web
        records.save_report(record, report)
    else:  # a dry run or a refused file keeps no record (nothing was written)
        record.file.delete(save=False)
        record.delete()
    if args.format == "json":
        out = report.as_json(lang())
        if report.status == "ok":
            out["import_id"] = record.pk
        write_json(out)
    else:
        _print_report(report)
        if report.status == "ok" and (report.created or report.updated):
            print(t(f"取り込み番号 {record.pk}（取り消すには gunmane import undo {record.pk}）",
                    f"Import {record.pk} (to undo: gunmane import undo {record.pk})"))
    return EXIT_INVALID if report.status == "invalid" else EXIT_OK


def cmd_import_undo(args: argparse.Namespace) -> int:
    """Undo an import: put back what it changed, remove what it created (refused if later changes depend on it)."""
    setup_django()
    from gunmane.web.registry.history import UndoRefused, undo_import
    from gunmane.web.registry.models import ImportRecord

    record = ImportRecord.objects.filter(pk=args.id).first()
    if record is None:
        raise UsageError(t(f"取り込み番号 {args.id} の取り込みはありません。", f"No import with id {args.id}."))
    try:
        result = undo_import(record, None)
    except UndoRefused as exc:
        if args.format == "json":
            write_json({"status": "refused", "import": record.pk, "deleted": 0, "restored": 0,
                        "reasons": exc.reasons})
        else:
            print(t(f"取り込み {record.pk}（{record.original_name}）は取り消せません:",
                    f"Import {record.pk} ({record.original_name}) cannot be undone:"))
            for reason in exc.reasons:
                print(f"  {reason}")
        return EXIT_INVALID
    if args.format == "json":
        write_json(result.as_json())
    else:
        print(t(f"取り込み {record.pk}（{record.original_name}）を取り消しました: 削除 {result.deleted} 件、"
                f"元の値に戻した行 {result.restored} 件。",
                f"Import {record.pk} ({record.original_name}) undone: {result.deleted} removed, "
                f"{result.restored} restored."))
    return EXIT_OK


def _print_report(report: Any) -> None:
    status = {"ok": t("取り込みました", "imported"), "dry_run": t("検証のみ（登録していません）", "dry run (nothing written)"),
              "invalid": t("エラーがあるため取り込みませんでした（何も登録していません）", "invalid: nothing was written")}
    print(t(f"結果: {status[report.status]}", f"Result: {status[report.status]}"))
    print(t(f"行数 {report.rows}（正常 {report.valid}、エラー {report.invalid}）　新規 {report.created}、"
            f"更新 {report.updated}、変更なし {report.unchanged}",
            f"rows {report.rows} (valid {report.valid}, invalid {report.invalid}); created {report.created}, "
            f"updated {report.updated}, unchanged {report.unchanged}"))
    if getattr(report, "unused_columns", None):
        print(t(f"取り込まなかった列: {'、'.join(report.unused_columns)}",
                f"Columns not imported: {', '.join(report.unused_columns)}"))
    for label, issues in ((t("エラー", "Errors"), report.errors), (t("警告", "Warnings"), report.warnings)):
        if not issues:
            continue
        print(f"{label}:")
        for i in issues[:200]:
            d = i.as_dict(lang())
            where = t(f"{d['row']}行目", f"row {d['row']}") if d["row"] else t("ファイル", "file")
            print(f"  {where} 「{d['column']}」 値「{d['value']}」: {d['message']} [{d['code']}]")
        if len(issues) > 200:
            print(t(f"  …ほか {len(issues) - 200} 件（--format json で全件）", f"  … {len(issues) - 200} more"))


def cmd_export(args: argparse.Namespace) -> int:
    setup_django()
    from gunmane.io.ledger import export as ledger_export
    from gunmane.io.ledger.schema import LedgerKind
    from gunmane.web.registry import exporting

    muni = municipality(args.municipality)
    kind = LedgerKind(args.kind)
    recs = exporting.records(kind, muni)
    attrs = exporting.attribute_names(muni) if kind == LedgerKind.FACILITIES else []
    if args.format == "xlsx":
        n = write_file(needs_out(args.format, args.out), lambda fh: ledger_export.write_xlsx(
            kind, recs, fh, attribute_names=attrs, synthetic=exporting.has_synthetic(muni)))
    elif args.format == "csv":
        with text_out(args.out, args.encoding) as fh:
            n = ledger_export.write_csv(kind, recs, fh, attribute_names=attrs)
    else:
        with text_out(args.out) as fh:
            n = ledger_export.write_json(kind, recs, fh)
    err(t(f"{muni.name}: {n} 件を書き出しました。", f"{muni.name}: wrote {n} records."))
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from gunmane.io.ledger.schema import LedgerKind
    from gunmane.io.ledger.template import template_xlsx

    write_file(args.out, template_xlsx(LedgerKind(args.kind)),
               t(f"テンプレートを書き出しました: {args.out}", f"Template written: {args.out}"))
    return EXIT_OK


# -- parsers ------------------------------------------------------------------------------------------------
def register(sub: Any) -> Any:
    """Add `init`, `refdata` and `import` (the ledger's kinds and `undo`); the `import` sub-parsers are returned
    for the national data's kinds."""
    s = command(sub, "init", help=t("データベースを作成・更新し参照データを読み込む", "create/migrate the database and load reference data"))
    s.set_defaults(func=cmd_init)

    s = command(sub, "refdata", help=t("参照データ", "reference data"))
    s.add_argument("action", choices=["load"])
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.set_defaults(func=cmd_refdata)

    s = command(sub, "import", help=t("台帳ファイル・全国データ（年報・xROAD）を取り込む", "import a ledger file or national data"))
    imports = s.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind in KINDS:
        k = command(imports, kind, help=KIND_HELP[kind])
        k.add_argument("file")
        k.add_argument("--municipality", metavar="CODE", help=t("取り込み先の団体コード", "municipality code"))
        k.add_argument("--dry-run", action="store_true", help=t("検証のみ（登録しない）", "validate only"))
        k.add_argument("--skip-invalid", action="store_true", help=t("エラー行を除いて取り込む", "skip invalid rows"))
        k.add_argument("--clear-blanks", action="store_true",
                       help=t("空欄のセルで登録済みの値を消す（指定しないと空欄は登録済みの値を残す）",
                              "blank cells clear stored values (by default they keep them)"))
        k.add_argument("--format", choices=["text", "json"], default="text")
        k.add_argument("--progress", action="store_true", help=t("進捗バーを常に表示", "always show the progress bar"))
        k.set_defaults(func=cmd_import)
    k = command(imports, "undo", help=t("取り込みを取り消す（変更した値を戻し、登録した行を削除）", "undo an import"))
    k.add_argument("id", type=int, metavar="ID", help=t("取り込み番号", "import id"))
    k.add_argument("--format", choices=["text", "json"], default="text")
    k.set_defaults(func=cmd_import_undo)
    return imports


def register_export(sub: Any) -> None:
    """Add `export` and `template`."""
    s = command(sub, "export", help=t("台帳を書き出す", "export a ledger"))
    s.add_argument("kind", choices=KINDS)
    s.add_argument("--municipality", metavar="CODE", required=True)
    s.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
    s.add_argument("--out", metavar="FILE")
    s.add_argument("--encoding", choices=["utf-8-sig", "cp932", "utf-8"], default="utf-8-sig",
                   help=t("CSV の文字コード（既定: BOM付きUTF-8）", "CSV encoding"))
    s.set_defaults(func=cmd_export)

    s = command(sub, "template", help=t("取込用 Excel テンプレートを書き出す", "write the Excel import template"))
    s.add_argument("kind", choices=KINDS)
    s.add_argument("--out", metavar="FILE", required=True)
    s.set_defaults(func=cmd_template)
