"""The `gunmane` command: one command, sub-commands over engine/, io/ and (given a database) the registry.

Conventions (DESIGN.md): `--format json` puts the JSON document alone on stdout, progress and logs go
to stderr; exit code 0 done, 1 invalid input, 2 usage error, 3 unexpected error, 130 interrupted (see
gunmane.cli_errors); messages are Japanese unless GUNMANE_LANG=en.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
KINDS = ("facilities", "inspections", "measures")
KIND_HELP = {"facilities": "施設台帳", "inspections": "点検結果", "measures": "措置（補修・更新）"}


def _command_modules() -> list[Any]:
    """Sub-command modules beside this one; each has `register(sub, imports)` adding its parsers.

    Kept as separate modules so that the CLI of one domain (national data, effects, LCC, group documents)
    lives next to nothing else; they import their heavy dependencies inside the command functions.
    """
    from gunmane import cli_backup, cli_effects, cli_groups, cli_lcc, cli_national

    return [cli_national, cli_effects, cli_lcc, cli_groups, cli_backup]


def lang() -> str:
    return "en" if os.environ.get("GUNMANE_LANG", "").lower().startswith("en") else "ja"


def t(ja: str, en: str) -> str:
    return en if lang() == "en" else ja


def err(message: str) -> None:
    print(message, file=sys.stderr)


def setup_django(*, check_migrations: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gunmane.web.settings")
    import django

    django.setup()
    if check_migrations:
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise UsageError(t("データベースが最新ではありません。先に gunmane init を実行してください。",
                               "The database is not up to date: run gunmane init first."))


class UsageError(Exception):
    pass


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
def _municipality(code: str | None) -> Any:
    if code is None:
        return None
    from gunmane.io.values.parsing import InvalidValue, parse_lg_code
    from gunmane.web.registry.models import Municipality

    try:
        lg = parse_lg_code(code).value
    except InvalidValue as exc:
        raise UsageError(t(f"--municipality {code}: {exc.message_ja}", f"--municipality {code}: {exc.message_en}")) from exc
    muni = Municipality.objects.filter(lg_code=lg).first()
    if muni is None:
        raise UsageError(t(f"団体コード {code} の団体が見つかりません（gunmane init で参照データを読み込みましたか）。",
                           f"No local government with code {code} (did you run gunmane init?)."))
    return muni


def cmd_import(args: argparse.Namespace) -> int:
    setup_django()
    from tqdm import tqdm

    from gunmane.web.registry.imports import records
    from gunmane.web.registry.imports.ledger import LedgerImporter

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(t(f"ファイルが見つかりません: {path}", f"File not found: {path}"))
    muni = _municipality(args.municipality)
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
        print(json.dumps(out, ensure_ascii=False, indent=1))
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
            print(json.dumps({"status": "refused", "import": record.pk, "deleted": 0, "restored": 0,
                              "reasons": exc.reasons}, ensure_ascii=False, indent=1))
        else:
            print(t(f"取り込み {record.pk}（{record.original_name}）は取り消せません:",
                    f"Import {record.pk} ({record.original_name}) cannot be undone:"))
            for reason in exc.reasons:
                print(f"  {reason}")
        return EXIT_INVALID
    if args.format == "json":
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
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


@contextlib.contextmanager
def _text_out(out: str | None, encoding: str) -> Iterator[IO[str]]:
    if out is None:
        yield sys.stdout
    else:
        with open(out, "w", encoding=encoding, newline="") as fh:
            yield fh


def cmd_export(args: argparse.Namespace) -> int:
    setup_django()
    from gunmane.io.ledger import export as ledger_export
    from gunmane.io.ledger.schema import LedgerKind
    from gunmane.web.registry import exporting

    muni = _municipality(args.municipality)
    kind = LedgerKind(args.kind)
    recs = exporting.records(kind, muni)
    attrs = exporting.attribute_names(muni) if kind == LedgerKind.FACILITIES else []
    if args.format == "xlsx":
        if not args.out:
            raise UsageError(t("--format xlsx には --out FILE を指定してください。", "--format xlsx needs --out FILE."))
        with open(args.out, "wb") as fh:
            n = ledger_export.write_xlsx(kind, recs, fh, attribute_names=attrs,
                                         synthetic=exporting.has_synthetic(muni))
    elif args.format == "csv":
        with _text_out(args.out, args.encoding) as fh:
            n = ledger_export.write_csv(kind, recs, fh, attribute_names=attrs)
    else:
        with _text_out(args.out, "utf-8") as fh:
            n = ledger_export.write_json(kind, recs, fh)
    err(t(f"{muni.name}: {n} 件を書き出しました。", f"{muni.name}: wrote {n} records."))
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from gunmane.io.ledger.schema import LedgerKind
    from gunmane.io.ledger.template import template_xlsx

    Path(args.out).write_bytes(template_xlsx(LedgerKind(args.kind)))
    err(t(f"テンプレートを書き出しました: {args.out}", f"Template written: {args.out}"))
    return EXIT_OK


# -- karte / groups ----------------------------------------------------------------------------------------
def cmd_karte(args: argparse.Namespace) -> int:
    """The カルテ of a scope as JSON (same numbers as the web page), Excel or PDF."""
    setup_django()
    from gunmane.io.reports.karte_pdf import karte_pdf
    from gunmane.io.reports.karte_xlsx import karte_xlsx
    from gunmane.web.analysis import services

    try:
        scope = services.resolve_scope(args.scope)
    except services.ScopeNotFound as exc:
        raise UsageError(str(exc)) from exc
    if args.fiscal_year is not None and not 2020 <= args.fiscal_year <= 2024:
        raise UsageError(t("--fiscal-year は 2020〜2024 の年度を指定してください（参照データの範囲）。",
                           "--fiscal-year must be 2020–2024 (the reference data's range)."))
    karte = services.build_karte(scope, fiscal_year=args.fiscal_year)
    if args.format == "json":
        with _text_out(args.out, "utf-8") as fh:
            json.dump(karte.as_json(), fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        return EXIT_OK
    if not args.out:
        raise UsageError(t(f"--format {args.format} には --out FILE を指定してください。", f"--format {args.format} needs --out FILE."))
    with open(args.out, "wb") as fb:
        (karte_pdf if args.format == "pdf" else karte_xlsx)(karte, fb)
    err(t(f"{scope.name}のカルテを書き出しました: {args.out}", f"Wrote the karte of {scope.name}: {args.out}"))
    return EXIT_OK


def cmd_groups(args: argparse.Namespace) -> int:
    setup_django()
    from gunmane.web.groups.models import Group

    for name in Group.objects.order_by("name").values_list("name", flat=True):
        print(name)
    return EXIT_OK


# -- deterioration ------------------------------------------------------------------------------------------
def cmd_deterioration(args: argparse.Namespace) -> int:
    """Fit the Markov hazard model from a pairs file or from the ledger's inspection histories."""
    from gunmane.engine.deterioration import (
        DeteriorationError,
        StateSpace,
        compare_pooling,
        fit,
        fit_pooled,
        pairs_from_histories,
    )
    from gunmane.io.ledger.pairs import PairsFileError, read_pairs

    labels = tuple(x.strip() for x in args.states.split(",") if x.strip())
    states = StateSpace.grades(merge_iv=True) if args.merge_iv else StateSpace(labels)
    covariates = tuple(c.strip() for c in (args.covariates or "").split(",") if c.strip())
    try:
        if args.pairs:
            pairs = read_pairs(Path(args.pairs), states=states, covariates=covariates or None).pairs
        else:
            setup_django()
            from gunmane.web.analysis import services
            from gunmane.web.registry import frames

            try:
                scope = services.resolve_scope(args.ledger)
            except services.ScopeNotFound as exc:
                raise UsageError(str(exc)) from exc
            codes = tuple(scope.members) or (scope.code,)
            ledger = frames.ledger_frames(None if scope.kind.value == "national" else codes)
            pairs = pairs_from_histories(ledger.inspections, ledger.measures, facilities=ledger.facilities,
                                         covariates=covariates,
                                         member_column="lg_code" if args.pool_by else None)
        result = fit(pairs, states=states, covariates=covariates)
        out = result.as_json()
        if args.pool_by:
            out["pooling"] = {"pooled": fit_pooled(pairs, states=states).as_json(),
                              "comparison": compare_pooling(pairs, member_column="member", states=states).as_json()}
    except PairsFileError as exc:
        print(json.dumps({"status": "invalid", "errors": [i.as_dict(lang()) for i in exc.issues]},
                         ensure_ascii=False, indent=1))
        return EXIT_INVALID
    except DeteriorationError as exc:
        print(json.dumps({"status": "invalid", "error": exc.as_json(lang())}, ensure_ascii=False, indent=1))
        return EXIT_INVALID
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return EXIT_OK


# -- demo / serve / manage ---------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    cmd_init(args)
    from gunmane.web.demo import create_demo_group, create_demo_users, load_demo_ledger

    load_demo_ledger(log=err)
    create_demo_users(log=err)
    create_demo_group(log=err)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve with waitress (a production-grade pure-Python WSGI server, works on Windows office PCs too)."""
    setup_django()
    from django.core.management import call_command
    from waitress import serve

    from gunmane.web.demo import DEMO_PASSWORD, DEMO_USERS
    from gunmane.web.wsgi import application

    call_command("check", deploy=False)
    from gunmane.web.registry.imports.records import mark_interrupted_imports

    if interrupted := mark_interrupted_imports():  # imports left running by a process that stopped
        err(t(f"中断された取り込み {len(interrupted)} 件を「失敗」にしました（番号 {', '.join(map(str, interrupted))}）。",
              f"Marked {len(interrupted)} interrupted import(s) as failed."))
    url = f"http://{args.host}:{args.port}/"
    err("")
    err("=" * 64)
    err(t(f"gunmane を起動しました: {url}", f"gunmane is running at {url}"))
    err(t(f"デモ用ログイン（パスワードはすべて {DEMO_PASSWORD}）:", f"Demo logins (password {DEMO_PASSWORD}):"))
    err(t("  admin（システム管理者）", "  admin (superuser)"))
    for username, _lg, role, display in DEMO_USERS:
        err(f"  {username}（{display}・{role.label}）")
    err(t("終了するには Ctrl+C を押してください。", "Press Ctrl+C to stop."))
    err("=" * 64)
    serve(application, host=args.host, port=int(args.port), threads=args.threads, ident="gunmane")
    return EXIT_OK


def cmd_manage(args: argparse.Namespace) -> int:
    setup_django(check_migrations=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gunmane manage", *args.rest])
    return EXIT_OK


# -- parser --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gunmane", description=t(
        "群マネ（地域インフラ群再生戦略マネジメント）支援システム", "Regional infrastructure group management"))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help=t("データベースを作成・更新し参照データを読み込む", "create/migrate the database and load reference data"))
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("refdata", help=t("参照データ", "reference data"))
    s.add_argument("action", choices=["load"])
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.set_defaults(func=cmd_refdata)

    s = sub.add_parser("import", help=t("台帳ファイル・全国データ（年報・xROAD）を取り込む", "import a ledger file or national data"))
    imports = s.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind in KINDS:
        k = imports.add_parser(kind, help=KIND_HELP[kind])
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
    k = imports.add_parser("undo", help=t("取り込みを取り消す（変更した値を戻し、登録した行を削除）", "undo an import"))
    k.add_argument("id", type=int, metavar="ID", help=t("取り込み番号", "import id"))
    k.add_argument("--format", choices=["text", "json"], default="text")
    k.set_defaults(func=cmd_import_undo)
    # Commands owned by their own modules (national data, effects, life-cycle cost): each adds its parsers.
    for module in _command_modules():
        module.register(sub, imports)

    s = sub.add_parser("export", help=t("台帳を書き出す", "export a ledger"))
    s.add_argument("kind", choices=KINDS)
    s.add_argument("--municipality", metavar="CODE", required=True)
    s.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
    s.add_argument("--out", metavar="FILE")
    s.add_argument("--encoding", choices=["utf-8-sig", "cp932", "utf-8"], default="utf-8-sig",
                   help=t("CSV の文字コード（既定: BOM付きUTF-8）", "CSV encoding"))
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("template", help=t("取込用 Excel テンプレートを書き出す", "write the Excel import template"))
    s.add_argument("kind", choices=KINDS)
    s.add_argument("--out", metavar="FILE", required=True)
    s.set_defaults(func=cmd_template)

    s = sub.add_parser("karte", help=t("カルテ（見える化の指標）を出力する", "write the karte (indicators)"))
    s.add_argument("scope", help=t("national・都道府県コード（2桁）・団体コード・group:群の名称",
                                   "national, a prefecture code, a municipality code or group:NAME"))
    s.add_argument("--format", choices=["json", "xlsx", "pdf"], default="json")
    s.add_argument("--out", metavar="FILE")
    s.add_argument("--fiscal-year", type=int, metavar="Y")
    s.set_defaults(func=cmd_karte)

    s = sub.add_parser("deterioration", help=t("劣化予測（マルコフ劣化ハザードモデル）", "deterioration (Markov hazard model)"))
    s.add_argument("action", choices=["fit"])
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--ledger", metavar="SCOPE", help=t("台帳の点検履歴から（national・都道府県・団体コード・group:名称）",
                                                         "from the ledger's inspection histories"))
    src.add_argument("--pairs", metavar="FILE", help=t("点検ペアの CSV から", "from a CSV of inspection pairs"))
    s.add_argument("--states", default="I,II,III,IV")
    s.add_argument("--merge-iv", action="store_true", help=t("Ⅳ をⅢにまとめる", "merge IV into III"))
    s.add_argument("--covariates", metavar="a,b")
    s.add_argument("--pool-by", choices=["municipality"])
    s.add_argument("--format", choices=["json"], default="json")
    s.set_defaults(func=cmd_deterioration)

    s = sub.add_parser("groups", help=t("群の一覧", "list groups"))
    s.add_argument("action", choices=["list"])
    s.set_defaults(func=cmd_groups)

    s = sub.add_parser("demo", help=t("デモ地域（奈良モデル地域、合成施設）とデモ利用者を読み込む", "load the demo region and users"))
    s.add_argument("action", choices=["load"])
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("serve", help=t("Web アプリを起動する", "start the web app"))
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", default="8000")
    s.add_argument("--threads", type=int, default=8)
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("manage", help=t("Django 管理コマンド（createsuperuser など）", "Django management commands"))
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_manage)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; no traceback reaches the user (gunmane.cli_errors says what each error becomes).

    Exit codes: 0 done, 1 invalid input, 2 usage error (a path that cannot be used too), 3 unexpected error
    (details in a log file; the traceback also on stderr with GUNMANE_DEBUG=1), 130 interrupted.
    """
    from gunmane import cli_errors

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return cli_errors.run(args.func, args, argv)
    except UsageError as exc:
        err(f"gunmane: {exc}")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
