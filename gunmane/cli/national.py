"""`gunmane import nenpo`, `gunmane import xroad` and `gunmane fetch xroad`: fill the ledger from national data.

Registered by gunmane.cli.build_parser (the kinds of `import` beside the ledger's). JSON goes to stdout only
with --format json; progress and messages go to stderr. Exit codes: 0 done, 1 invalid input (the JSON says
why), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
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
    setup_django,
    t,
    write_json,
)

NON_LG_HELP_JA = "国・高速道路会社・道路公社・一部事務組合など地方公共団体ではない管理者の施設も、その管理者の記録を作って取り込む"


def _register_imports(imports: Any) -> None:
    """`import nenpo` and `import xroad`, beside the ledger's kinds of `import`."""
    k = command(imports, "nenpo", help=t("道路メンテナンス年報の施設名一覧（XLSX、複数年可）",
                                         "MLIT road maintenance report facility lists (XLSX)"))
    k.add_argument("files", nargs="+", metavar="FILE")
    scope = k.add_mutually_exclusive_group(required=True)
    scope.add_argument("--municipality", metavar="CODE", help=t("この団体が管理する施設だけ", "only this manager's"))
    scope.add_argument("--prefecture", metavar="CODE", help=t("この都道府県と県内市区町村が管理する施設", "a prefecture's"))
    scope.add_argument("--all", action="store_true", help=t("すべての地方公共団体の施設", "every local government's"))
    k.add_argument("--fiscal-year", type=int, metavar="Y", help=t("点検年度（ファイルから読めないとき）", "inspection FY"))
    _common(k)
    k.add_argument("--keep-other-managers", action="store_true", help=t(NON_LG_HELP_JA, "keep non-LG managers"))
    k.set_defaults(func=cmd_import_nenpo)

    k = command(imports, "xroad", help=t("xROAD（全国道路施設点検データベース）の JSON・CSV",
                                         "xROAD JSON or 77条 CSV"))
    k.add_argument("file")
    k.add_argument("--municipality", metavar="CODE", help=t("この団体が管理する施設だけ", "only this manager's"))
    _common(k)
    k.add_argument("--keep-other-managers", action="store_true", help=t(NON_LG_HELP_JA, "keep non-LG managers"))
    k.set_defaults(func=cmd_import_xroad)


def register(sub: Any, imports: Any) -> None:
    """Add `import nenpo` and `import xroad` to the ``imports`` of `import` (None when `import` is not being built,
    as for `gunmane fetch …`), and `fetch`."""
    if imports is not None:
        _register_imports(imports)
    s = command(sub, "fetch", help=t("公開データを取得する（xROAD 公開 API）", "fetch public data (xROAD API)"))
    what = s.add_subparsers(dest="what", required=True, metavar="SOURCE")
    f = command(what, "xroad", help=t("xROAD 公開 API から団体の橋梁を取得", "bridges of a municipality from xROAD"))
    f.add_argument("--city", metavar="CODE", required=True, help=t("橋梁がある市区町村の団体コード（6桁）",
                                                                     "municipality code (6 digits)"))
    f.add_argument("--out", metavar="FILE", help=t("保存先（既定: xroad_CODE_日時.json）", "output file"))
    f.add_argument("--import", dest="do_import", action="store_true", help=t("取得後に取り込む", "import afterwards"))
    f.add_argument("--limit", type=int, default=1000, help=t("1ページの件数", "page size"))
    f.add_argument("--timeout", type=float, default=30.0, help=t("1回の要求の待ち時間（秒）", "timeout (s)"))
    f.add_argument("--url", default=None, help=t("API の URL（既定: 公開 API）", "API URL"))
    f.add_argument("--format", choices=["text", "json"], default="text")
    f.add_argument("--dry-run", action="store_true", help=t("取り込みは検証のみ", "validate the import only"))
    f.set_defaults(func=cmd_fetch_xroad)


def _common(k: argparse.ArgumentParser) -> None:
    k.add_argument("--dry-run", action="store_true", help=t("検証のみ（登録しない）", "validate only"))
    k.add_argument("--skip-invalid", action="store_true", help=t("エラー行を除いて取り込む", "skip invalid rows"))
    k.add_argument("--distance-km", type=float, default=None,
                   help=t("位置が管理者の区域から何 km 以上離れたら報告するか（既定 10）", "distance for the location check"))
    k.add_argument("--format", choices=["text", "json"], default="text")


def _scope(args: argparse.Namespace) -> Any:
    from gunmane.web.registry.imports.national import Scope

    if getattr(args, "prefecture", None):
        code = args.prefecture.strip()
        code = code[:2] if len(code) == 6 else code.zfill(2)
        if not (code.isdigit() and 1 <= int(code) <= 47):
            raise UsageError(t(f"--prefecture {args.prefecture}: 都道府県コードは 01〜47 の2桁で指定してください。",
                               f"--prefecture {args.prefecture}: give a prefecture code 01–47."))
        return Scope("prefecture", pref_code=code), None
    if getattr(args, "municipality", None):
        muni = municipality(args.municipality)
        return Scope("municipality", lg_code=muni.lg_code), muni
    return Scope("all"), None


def _run(source: str, paths: list[Path], args: argparse.Namespace, fiscal_year: int | None = None) -> int:
    from tqdm import tqdm

    from gunmane.web.registry.imports import national, records

    for p in paths:
        if not p.is_file():
            raise UsageError(t(f"ファイルが見つかりません: {p}", f"File not found: {p}"))
    scope, muni = _scope(args)
    bar = tqdm(total=0, unit=t("行", "rows"), file=sys.stderr, disable=not sys.stderr.isatty(), desc=t("取込", "import"))

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    distance = args.distance_km if args.distance_km is not None else national.DEFAULT_DISTANCE_KM
    report = national.NationalImporter(source, paths, scope=scope, fiscal_year=fiscal_year, dry_run=args.dry_run,
                                       skip_invalid=args.skip_invalid, keep_other_managers=args.keep_other_managers,
                                       progress=progress, distance_km=distance).run()
    bar.close()
    if report.status == "ok":
        record = records.create_record(source, [(_shown(p), p.read_bytes()) for p in paths], municipality=muni,
                                       user=None, dry_run=False, skip_invalid=args.skip_invalid)
        records.save_report(record, report)
    if args.format == "json":
        write_json(report.as_json(lang()))
    else:
        _print(report.as_json(lang()))
    return EXIT_INVALID if report.status == "invalid" else EXIT_OK


def _shown(p: Path) -> str:
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def cmd_import_nenpo(args: argparse.Namespace) -> int:
    if args.fiscal_year is not None and len(args.files) > 1:
        raise UsageError(t("--fiscal-year は一覧を1つだけ指定するときに使います（年度は一覧ごとに違うため）。",
                           "--fiscal-year applies to a single list only."))
    setup_django()
    return _run("nenpo", [Path(f) for f in args.files], args, fiscal_year=args.fiscal_year)


def cmd_import_xroad(args: argparse.Namespace) -> int:
    setup_django()
    return _run("xroad", [Path(args.file)], args)


def cmd_fetch_xroad(args: argparse.Namespace) -> int:
    from gunmane.io.national.xroad import PUBLIC_BRIDGES_URL, XroadFetchError, fetch_bridges
    from gunmane.io.values.parsing import InvalidValue, parse_lg_code

    try:
        city = parse_lg_code(args.city).value
    except InvalidValue as exc:
        raise UsageError(t(f"--city {args.city}: {exc.message_ja}", f"--city {args.city}: {exc.message_en}")) from exc
    assert city is not None

    def progress(done: int, total: int) -> None:
        err(t(f"xROAD から取得中: {done} / {total} 件", f"fetching from xROAD: {done} / {total}"))

    try:
        data = fetch_bridges(city, base_url=args.url or PUBLIC_BRIDGES_URL, limit=args.limit, timeout=args.timeout,
                             progress=progress)
    except XroadFetchError as exc:
        message = exc.message_en if lang() == "en" else exc.message_ja
        if args.format == "json":
            write_json({"status": "failed", "code": exc.code, "message": message})
        err(f"gunmane: {message}")
        return EXIT_INVALID
    out = Path(args.out or f"xroad_{city}_{datetime.now():%Y%m%d_%H%M%S}.json")
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    n = sum(len(p["result"]) for p in data["pages"])
    err(t(f"{n} 件を保存しました: {out}（取得日時 {data['retrieved_at']}）", f"Saved {n} records to {out}."))
    if not args.do_import:
        if args.format == "json":
            write_json({"status": "ok", "file": str(out), "records": n, "retrieved_at": data["retrieved_at"]})
        return EXIT_OK
    setup_django()
    args.municipality = None
    args.skip_invalid = False
    args.keep_other_managers = False
    args.distance_km = None
    return _run("xroad", [out], args)


def _print(d: dict[str, Any]) -> None:
    status = {"ok": t("取り込みました", "imported"), "dry_run": t("検証のみ（登録していません）", "dry run"),
              "invalid": t("エラーがあるため取り込みませんでした（何も登録していません）", "invalid: nothing written")}
    fac, ins, m = d["facilities"], d["inspections"], d["matching"]
    print(t(f"結果: {status[d['status']]}（範囲: {d['scope']}）", f"Result: {status[d['status']]} ({d['scope']})"))
    for f in d["files"]:
        year = t(f"{f['fiscal_year']}年度 ", f"FY{f['fiscal_year']} ") if f.get("fiscal_year") else ""
        print(f"  {f['file']}: {year}{f['rows']} {t('行', 'rows')}")
    print(t(f"行数 {d['rows']}（取り込み {d['rows_imported']}、対象外・除外 {d['rows_skipped']}、エラー {d['invalid']}）",
            f"rows {d['rows']} (imported {d['rows_imported']}, skipped {d['rows_skipped']}, invalid {d['invalid']})"))
    print(t(f"施設: 新規 {fac['created']}、更新 {fac['updated']}、変更なし {fac['unchanged']}、"
            f"年度をまたいで照合 {fac['matched_across_years']}",
            f"facilities: created {fac['created']}, updated {fac['updated']}, matched {fac['matched_across_years']}"))
    print(t(f"点検: 新規 {ins['created']}、更新 {ins['updated']}、変更なし {ins['unchanged']}、"
            f"他の出典で登録済み {ins['already_recorded']}",
            f"inspections: created {ins['created']}, updated {ins['updated']}, unchanged {ins['unchanged']}"))
    print(t(f"照合: 一致 {m['exact']}、要確認（候補が複数） {m['ambiguous']}、該当なし（新規） {m['unmatched']}",
            f"matching: exact {m['exact']}, ambiguous {m['ambiguous']}, unmatched {m['unmatched']}"))
    share = d["built_year_unknown"]["share"]
    print(t(f"架設年度不明 {d['built_year_unknown']['count']}（{share:.1%}）" if share is not None else "架設年度不明 0",
            f"unknown construction year {d['built_year_unknown']['count']}"))
    print(t(f"未点検 {d['not_inspected']}、管理者を特定できない行 {d['managers']['unresolved_rows']}、"
            f"地方公共団体以外の管理者の行 {d['managers']['non_lg_rows']}",
            f"not inspected {d['not_inspected']}, unresolved managers {d['managers']['unresolved_rows']}"))
    print(t(f"位置が管理者の区域から離れている施設 {d['coordinates_outside']['count']}、"
            f"措置の記録なしに健全性が改善した施設 {d['grade_improved_without_measure']['count']}",
            f"outside the manager's area {d['coordinates_outside']['count']}, improved without a measure "
            f"{d['grade_improved_without_measure']['count']}"))
    _print_missing(d["coordinates_missing"])
    for label, issues in ((t("エラー", "Errors"), d["errors"]), (t("除外した行", "Skipped"), d["skipped"]["rows"]),
                          (t("警告", "Warnings"), d["warnings"])):
        if issues:
            print(f"{label}:")
            for i in issues[:50]:
                where = t(f"{i['row']}行目", f"row {i['row']}") if i["row"] else t("ファイル", "file")
                print(f"  {i['file']} {where} 「{i['column']}」 値「{i['value']}」: {i['message']} [{i['code']}]")
            if len(issues) > 50:
                print(t(f"  …ほか {len(issues) - 50} 件（--format json で全件）", f"  … {len(issues) - 50} more"))


def _print_missing(missing: dict[str, Any]) -> None:
    """xROAD facilities left without a position: said, with where each came from (the warnings name the cell)."""
    if not missing["checked"]:
        return
    print(t(f"位置（緯度・経度）のない施設 {missing['count']}（地図に表示できません。台帳で位置を補ってください）",
            f"facilities without a position {missing['count']}"))
    for i in missing["items"][:20]:
        where = t(f"{i['row']}行目", f"row {i['row']}")
        print(f"  {i['file']} {where} {i['name']}（{i['manager']}、{i['facility_id']}）")
    if missing["count"] > 20:
        print(t(f"  …ほか {missing['count'] - 20} 件（--format json で {len(missing['items'])} 件まで）",
                f"  … {missing['count'] - 20} more"))
