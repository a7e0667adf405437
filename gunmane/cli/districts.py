"""`gunmane districts`: 「どこと組むか」 — districts of facilities that minimise the expected contracts a year
(issue #14; gunmane.engine.districting), from the ledger or a points file, as JSON, GeoJSON or Excel.

    gunmane districts (--ledger SCOPE | --points FILE) --max-distance-km D [--regions M | --max-regions M]
        --bundle-limit L (--q Q | --q-from FIT.json [--q-by-grade]) [--sweep 15:50:5] [--time-limit S]
        --format json|geojson|xlsx
    gunmane districts national …   (the whole country on Dask: gunmane.cli.districts_national)

Facilities without 緯度・経度 are counted and reported (stderr and ``without_coordinates`` in the output), never
silently dropped. Exit codes as every command (gunmane.cli.errors); an infeasible question is an answer
(status ``infeasible`` with the reason), exit 0, as `gunmane lots` does.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from gunmane.cli.common import (
    EXIT_OK,
    UsageError,
    command,
    err,
    needs_out,
    scope,
    setup_django,
    t,
    write_file,
    write_json,
)

MAX_SWEEP_STEPS = 200


def parse_sweep(spec: str) -> list[float]:
    """``15:50:5`` → [15, 20, …, 50] (both ends included); UsageError for anything else."""
    parts = spec.split(":")
    try:
        start, stop, step = (float(x) for x in parts) if len(parts) == 3 else (math.nan,) * 3
    except ValueError:
        start = stop = step = math.nan
    if not all(math.isfinite(x) for x in (start, stop, step)) or start <= 0 or step <= 0 or stop < start:
        raise UsageError(t(f"--sweep {spec}: 「開始:終了:刻み」の km で指定してください（例 15:50:5）。",
                           f"--sweep {spec}: give START:STOP:STEP in km (e.g. 15:50:5)."))
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > MAX_SWEEP_STEPS:
        raise UsageError(t(f"--sweep {spec}: 距離が{count}通りになります（{MAX_SWEEP_STEPS}通りまで）。",
                           f"--sweep {spec}: {count} distances (at most {MAX_SWEEP_STEPS})."))
    return [round(start + i * step, 9) for i in range(count)]


def _q(args: argparse.Namespace) -> tuple[float, str]:
    if args.q_from:
        from gunmane.io.districting import read_fit_q

        return read_fit_q(Path(args.q_from), display_name=args.q_from)
    if not 0 < args.q <= 1:
        raise UsageError(t(f"--q {args.q:g}: 年間補修確率は0より大きく1以下で指定してください。",
                           f"--q {args.q:g}: must be in (0, 1]."))
    return args.q, t(f"年間補修確率 q = {args.q:g}（コマンドで指定）", f"q = {args.q:g} (given)")


def ledger_points(spec: str, facility_type: str) -> tuple[Any, Any]:
    """The scope's name and its facilities (of the type, or all) as gunmane.web.groups.districting.LedgerPoints:
    those with coordinates as FacilityPoints, the ids of those without, grades, whether any is synthetic
    (the same query the group's 地域分割 page uses)."""
    setup_django()
    from gunmane.cli.lcc import check_facility_type
    from gunmane.web.groups import districting

    where = scope(spec)
    check_facility_type(facility_type)
    return where.name, districting.ledger_points(districting.scope_codes(where), facility_type)


def _grade_q(args: argparse.Namespace, lp: Any) -> tuple[tuple[Any, ...], str]:
    """--q-by-grade: each facility's q from its current grade, with the hazards of the --q-from file."""
    from gunmane.web.groups import districting

    try:
        rq = districting.q_from_fit_text(Path(args.q_from).read_text(encoding="utf-8-sig"), args.q_from)
        points, missing = districting.with_grade_q(lp, rq)
    except districting.QSourceError as exc:
        raise UsageError(t(f"--q-by-grade: {exc}", f"--q-by-grade: {args.q_from} has no usable hazards.")) from exc
    if missing:
        err(t(f"健全性の記録がない {missing} 施設は q = {rq.q:.4g} としました。",
              f"{missing} facilities without a grade use q = {rq.q:.4g}."))
    return points, districting.grade_q_text(rq, missing, len(points))


def cmd_districts(args: argparse.Namespace) -> int:  # noqa: C901 (the options, checked one by one)
    from gunmane.engine.districting import solve as solving
    from gunmane.engine.districting.types import Instance
    from gunmane.io.districting import (
        districts_geojson,
        districts_xlsx,
        municipality_names,
        read_points,
        result_json,
    )

    if args.format == "xlsx":
        needs_out(args.format, args.out)
    distances = parse_sweep(args.sweep) if args.sweep else None
    if distances is None and args.max_distance_km is None:
        raise UsageError(t("--max-distance-km（同じ地区の施設どうしの最大距離、km）か --sweep を指定してください。",
                           "Give --max-distance-km or --sweep."))
    if args.max_distance_km is not None and not args.max_distance_km > 0:
        raise UsageError(t("--max-distance-km は0より大きい距離（km）にしてください。", "--max-distance-km must be > 0."))
    if distances is not None and args.format == "geojson":
        raise UsageError(t("--sweep の結果は地図一枚にまとまりません。--format json か xlsx を使うか、"
                           "--max-distance-km で一つの距離を指定してください。",
                           "--sweep gives several maps: use --format json or xlsx, or one --max-distance-km."))
    if args.bundle_limit < 1:
        raise UsageError(t("--bundle-limit は1以上の整数にしてください。", "--bundle-limit must be ≥ 1."))
    m = args.regions if args.regions is not None else args.max_regions
    if m is not None and m < 1:
        raise UsageError(t("--regions・--max-regions は1以上の整数にしてください。", "--regions/--max-regions must be ≥ 1."))
    if args.time_limit is not None and not args.time_limit > 0:
        raise UsageError(t("--time-limit は0より大きい秒数にしてください。", "--time-limit must be > 0."))
    if args.q_by_grade and not (args.q_from and args.ledger):
        raise UsageError(t("--q-by-grade には --ledger と --q-from FIT.json（gunmane deterioration fit の結果）が必要です"
                           "（健全性は台帳から、健全性ごとの補修確率は推定結果から読みます）。",
                           "--q-by-grade needs --ledger and --q-from FIT.json."))
    q, q_source = _q(args)
    if args.points:
        if not Path(args.points).is_file():
            raise UsageError(t(f"ファイルが見つかりません: {args.points}", f"File not found: {args.points}"))
        pf = read_points(Path(args.points), display_name=args.points)
        points, without, synthetic = pf.points, pf.without_coordinates, False
        source = t(f"施設の位置のファイル {args.points}", f"points file {args.points}")
    else:
        scope_name, lp = ledger_points(args.ledger, args.facility_type)
        points, without, synthetic = lp.points, lp.without, lp.synthetic
        if args.q_by_grade:
            points, grade_text = _grade_q(args, lp)
            q_source += "。" + grade_text
        from gunmane.io.shipped import vocab

        type_names = {ft.code: ft.name for ft in vocab.facility_types()}
        kind = t("全種類", "all types") if args.facility_type == "all" else \
            t(type_names.get(args.facility_type, args.facility_type), args.facility_type)
        source = t(f"台帳（{scope_name}、{kind}）", f"ledger ({scope_name}, {kind})")
        if not points:
            raise UsageError(t(f"{scope_name}には緯度・経度のある施設がありません（緯度・経度のない施設 {len(without)} 件）。",
                               f"{scope_name} has no facilities with coordinates ({len(without)} without)."))
    if without:
        shown = "、".join(without[:10]) + (" …" if len(without) > 10 else "")
        err(t(f"緯度・経度のない施設 {len(without)} 件を除きました: {shown}",
              f"Left out {len(without)} facilities without coordinates: {shown}"))
    instance = Instance(points=points, max_distance_km=args.max_distance_km or (distances or [0.0])[0],
                        bundle_limit=args.bundle_limit, q=q, regions=args.regions, max_regions=args.max_regions,
                        q_source=q_source)
    limit = args.time_limit if args.time_limit is not None else 60.0
    err(t(f"{len(points)} 施設の地区割りを計算しています（距離ごとに最長 {limit:g} 秒）…",
          f"Districting {len(points)} facilities (up to {limit:g} s per distance)…"))
    if distances is not None:
        results = solving.sweep(instance, distances, time_limit_s=limit, method=args.method)
    else:
        results = [solving.solve(instance, time_limit_s=limit, method=args.method)]
    for r in results:
        if r.infeasibility is not None:
            err(t(f"D = {r.max_distance_km:g} km: 地区割りができません（{r.infeasibility.reason}）",
                  f"D = {r.max_distance_km:g} km: infeasible ({r.infeasibility.reason})"))
    names = municipality_names()
    extra = {"source": source, "facilities": len(points), "without_coordinates": len(without),
             "without_coordinates_ids": list(without), "synthetic": synthetic, "q_source": q_source}
    written = t(f"地区割りを書き出しました: {args.out}", f"Wrote the districts: {args.out}")
    if args.format == "xlsx":
        write_file(args.out, districts_xlsx(results, points, names, synthetic=synthetic, source=source,
                                            without_coordinates=len(without)), written)
    elif args.format == "geojson":
        doc = districts_geojson(results[0], points, names, synthetic=synthetic)
        doc["properties"].update(extra)
        write_json(doc, args.out, written=written)
    else:
        docs = [{**result_json(r), **extra} for r in results]
        write_json(docs if distances is not None else docs[0], args.out, written=written)
    return EXIT_OK


def register(sub: Any) -> None:
    """Add `districts`."""
    s = command(sub, "districts", help=t("どこと組むか：期待契約数が最小になる地区割り（広域の束ね）",
                                         "districting: whom to group with (fewest expected contracts)"))
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--ledger", metavar="SCOPE", help=t("台帳の施設（緯度・経度のあるもの）から（都道府県コード・団体コード・"
                                                         "group:群の名称・national）", "facilities of the ledger"))
    src.add_argument("--points", metavar="FILE", help=t("施設の位置のファイル（CSV・XLSX: 施設ID、団体コードまたは管理者名、"
                                                        "緯度、経度、任意で補修確率）", "a points file (CSV/XLSX)"))
    s.add_argument("--max-distance-km", type=float, metavar="D",
                   help=t("同じ地区の施設どうしの最大距離（km、大円距離）", "largest distance inside a district (km)"))
    regions = s.add_mutually_exclusive_group()
    regions.add_argument("--regions", type=int, metavar="M", help=t("地区の数（ちょうど M）", "exactly M districts"))
    regions.add_argument("--max-regions", type=int, metavar="M", help=t("地区の数の上限", "at most M districts"))
    s.add_argument("--bundle-limit", type=int, required=True, metavar="L",
                   help=t("一つの契約にまとめる補修の上限（件）", "repairs one contract can bundle"))
    q = s.add_mutually_exclusive_group(required=True)
    q.add_argument("--q", type=float, metavar="Q", help=t("施設ごとの年間補修確率（0〜1）", "repair probability a year"))
    q.add_argument("--q-from", metavar="FIT.json", help=t("gunmane deterioration fit --format json の結果から補修確率を読む",
                                                          "read q from the JSON of gunmane deterioration fit"))
    s.add_argument("--q-by-grade", action="store_true",
                   help=t("施設ごとの q を台帳の今の健全性から（--q-from の推定結果で、1年以内に補修が必要になる確率。"
                          "--ledger のとき）", "per-facility q from each facility's current grade (with --ledger, --q-from)"))
    s.add_argument("--sweep", metavar="START:STOP:STEP",
                   help=t("最大距離を変えて比較（km、例 15:50:5）", "a sweep over the distance (km), e.g. 15:50:5"))
    s.add_argument("--time-limit", type=float, metavar="SEC", help=t("距離ごとの計算時間の上限（秒、既定 60）",
                                                                    "time limit per distance (s, default 60)"))
    s.add_argument("--method", choices=["auto", "exact", "heuristic"], default="auto",
                   help=t("解法（既定 auto: 規模で厳密解法と発見的解法を選ぶ）", "method (default auto)"))
    s.add_argument("--facility-type", default="bridge", metavar="CODE",
                   help=t("台帳から使う施設の種類（既定 bridge＝橋梁。all＝すべての種類）",
                          "facility type from the ledger (default bridge; all = every type)"))
    s.add_argument("--format", choices=["json", "geojson", "xlsx"], default="json")
    s.add_argument("--out", "--output", dest="out", metavar="FILE")
    s.set_defaults(func=cmd_districts)
    from gunmane.cli import districts_national

    districts_national.attach(s, parse_sweep, _q)  # gunmane districts national …
