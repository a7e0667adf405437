"""Districting (issue #14, 「どこと組むか」) in files: the facilities to district, q from a fit, and the results.

Reading — a points file (CSV in UTF-8/CP932, or XLSX; Japanese or English headers, order free):

| key | 見出し（例） | 内容 |
| --- | --- | --- |
| facility_id | 施設ID・施設番号・facility_id | the facility |
| lg_code | 団体コード・市区町村コード・lg_code | its municipality; or |
| manager | 管理者名・管理者・manager | its municipality by name (宮城県白石市, 白石市), resolved with the shipped
  reference municipalities as the 年報 reader does; 都道府県 narrows a name that several prefectures have |
| lat, lon | 緯度・経度・lat・lon | degrees (34.52, 北緯34°31′40″ …; full-width digits accepted) |
| q | 補修確率・q | optional: the facility's own repair probability a year (0–1) |

A row whose 緯度 and 経度 are both blank (or 不明) has no position: it is counted and listed in
``without_coordinates`` and left out, never silently. Any other bad cell raises :class:`PointsFileError`
listing every problem with its row (as Excel numbers it), column (as written), value and what was expected.

``read_fit_q`` reads q from ``gunmane deterioration fit --format json`` (its ``repair_probability``).

Writing — one :class:`~gunmane.engine.districting.types.Result` (or a sweep's list of them) as the JSON
document of the issue (:func:`result_json`; the keys are a contract, extra keys are allowed), as GeoJSON
(:func:`districts_geojson`: each facility a Point with its district and municipality, each district the convex
hull of its facilities with n, members and expected contracts) and as an Excel workbook (:func:`districts_xlsx`).
"""

from __future__ import annotations

import functools
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gunmane.engine.districting.types import FacilityPoint, Result
from gunmane.io.errors import IoFileError
from gunmane.io.issues import Issue
from gunmane.io.ledger.schema import compact_header
from gunmane.io.ledger.tabular import TableError, open_table
from gunmane.io.values import parsing as values

__all__ = [
    "POINT_HEADERS",
    "STATUS_JA",
    "FitFileError",
    "PointsFile",
    "PointsFileError",
    "districts_geojson",
    "districts_xlsx",
    "municipality_names",
    "read_fit_q",
    "read_points",
    "result_json",
    "unique_ids",
]

POINT_HEADERS: dict[str, tuple[str, ...]] = {
    "facility_id": ("施設ID", "施設番号", "施設コード", "橋梁ID", "橋梁番号", "管理番号", "facility_id", "facility", "id"),
    "lg_code": ("団体コード", "市区町村コード", "地方公共団体コード", "全国地方公共団体コード", "lg_code", "municipality_code"),
    "manager": ("管理者名", "管理者", "道路管理者", "団体名", "市区町村名", "manager", "municipality"),
    "prefecture": ("都道府県", "都道府県名", "prefecture"),
    "lat": ("緯度", "緯度(度)", "lat", "latitude"),
    "lon": ("経度", "経度(度)", "lon", "lng", "longitude"),
    "q": ("補修確率", "補修確率(年)", "年間補修確率", "q", "repair_probability"),
}
LABELS_JA = {"facility_id": "施設ID", "lg_code": "団体コード", "manager": "管理者名", "prefecture": "都道府県",
             "lat": "緯度", "lon": "経度", "q": "補修確率"}
MAX_ISSUES = 200
STATUS_JA = {"optimal": "最適（証明済み）", "feasible": "実行可能解（最適とは限らない）", "infeasible": "解なし"}
METHOD_JA = {"exact": "厳密解法（CP-SAT）", "heuristic": "発見的解法（局所探索）"}


_INDEX = {compact_header(alias): key for key, aliases in POINT_HEADERS.items() for alias in aliases}


def _match(text: str) -> str | None:
    return _INDEX.get(compact_header(text))


class PointsFileError(IoFileError):
    """The points file cannot be used; ``issues`` say where and why (row 0 = the file itself); the message lists
    the first 20."""

    def __init__(self, issues: Sequence[Issue], display_name: str) -> None:
        self.issues = list(issues)
        first = self.issues[0] if self.issues else None
        ja = [f"{display_name}: 施設の位置のファイルに{len(self.issues)}件の誤りがあります（地区割りは行いません）。"]
        en = [f"{display_name}: {len(self.issues)} error(s) in the points file."]
        for i in self.issues[:20]:
            column = f"列「{i.column}」" if i.column else ""
            where = (f"{i.row}行目・{column}" if column else f"{i.row}行目") if i.row else (column or "ファイル")
            ja.append(f"- {where}" + (f"・値「{i.value}」" if i.value else "") + f": {i.message_ja}")
            en.append(f"- row {i.row}, column {i.column!r}, value {i.value!r}: {i.message_en}")
        super().__init__(first.code if first else "invalid_file", "\n".join(ja), "\n".join(en), file=display_name,
                         row=first.row if first and first.row else None, column=first.column if first else None,
                         value=first.value if first else None)


class FitFileError(IoFileError):
    """A --q-from file that is not the JSON of ``gunmane deterioration fit`` with a usable repair probability."""


@dataclass(frozen=True)
class PointsFile:
    points: tuple[FacilityPoint, ...]
    without_coordinates: tuple[str, ...] = ()  # facility ids left out: no 緯度・経度
    warnings: list[Issue] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # key → header as written


def municipality_names() -> dict[str, str]:
    """団体コード → name (宮城県 for a prefecture, 白石市 …) from the shipped reference data."""
    from gunmane.io.shipped import refdata

    return {r.lg_code: r.name for r in refdata.municipalities()}


def unique_ids(rows: Sequence[tuple[str, str]]) -> list[str]:
    """An id per (団体コード, 施設ID): the 施設ID itself, or 「団体コード:施設ID」 where two municipalities use
    the same 施設ID (it is unique only per municipality in the ledger)."""
    owners: dict[str, set[str]] = {}
    for lg, fid in rows:
        owners.setdefault(fid, set()).add(lg)
    return [fid if len(owners[fid]) == 1 else f"{lg}:{fid}" for lg, fid in rows]


def _cell(row: Sequence[Any], index: int) -> Any:
    return row[index] if index < len(row) else None


def _shown(raw: Any) -> str:
    return "" if raw is None else str(raw)


class _Municipalities:
    """The municipality of a row: a 団体コード that the reference data knows, or a 管理者名 resolved to one."""

    def __init__(self) -> None:
        from gunmane.io.national.common import ManagerResolver

        self.resolver = ManagerResolver()

    def by_code(self, raw: Any) -> str:
        lg = values.parse_lg_code(raw).value
        if lg is None:
            raise values.InvalidValue("required", "団体コードが空欄です。", "lg_code is blank.")
        if lg not in self.resolver.govs:
            raise values.InvalidValue("unknown_lg_code", f"団体コード {lg} の団体は参照データにありません。",
                                      f"No local government with code {lg} in the reference data.")
        return lg

    def by_name(self, raw: Any, prefecture: str) -> str:
        name = values.normalize_text(raw) if raw is not None else ""
        if not name:
            raise values.InvalidValue("required", "管理者名が空欄です。団体名（例: 宮城県白石市）を入れてください。",
                                      "manager is blank.")
        hit = self.resolver.resolve(name, prefecture)
        if hit.lg_code is not None:
            return hit.lg_code
        if hit.status == "ambiguous":
            places = "・".join(f"{self.resolver.govs[c].pref_name}{self.resolver.govs[c].name}" for c in hit.candidates)
            raise values.InvalidValue("ambiguous_manager",
                                      f"「{name}」は複数あります（{places}）。都道府県名を付けるか（例: 宮城県{name}）、"
                                      "団体コードの列を使ってください。", f"'{name}' is ambiguous.")
        raise values.InvalidValue("unknown_manager", f"「{name}」という地方公共団体は参照データにありません。"
                                  "団体名（例: 宮城県白石市）か団体コードを入れてください。", f"Unknown manager '{name}'.")


def read_points(path: Path, *, display_name: str | None = None) -> PointsFile:  # noqa: C901 (one pass, row by row)
    """Read a points CSV/XLSX into FacilityPoints (see the module docstring)."""
    name = display_name or path.name
    try:
        table = open_table(path, _match, display_name=name)
    except TableError as exc:
        raise PointsFileError([Issue(0, "", name, exc.code, exc.message_ja, exc.message_en)], name) from exc
    header_row = table.header_rows[-1]
    keys = table.keys
    issues: list[Issue] = []
    for key in ("facility_id", "lat", "lon"):
        if key not in keys:
            issues.append(Issue(header_row, LABELS_JA[key], "", "missing_column",
                                f"必須の列「{LABELS_JA[key]}」が見つかりません（見出しの例: {'・'.join(POINT_HEADERS[key][:3])}）。",
                                f"Required column '{key}' not found."))
    if "lg_code" not in keys and "manager" not in keys:
        issues.append(Issue(header_row, "団体コード", "", "missing_column",
                            "団体を示す列（団体コード または 管理者名）が見つかりません。", "Neither lg_code nor manager."))
    if issues:
        raise PointsFileError(issues, name)
    munis = _Municipalities()
    rows: list[tuple[int, str, str, float, float, float | None]] = []
    without: list[str] = []
    warnings: list[Issue] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for number, row in table.rows():
            before = len(issues)

            def take(key: str, parse: Any, row: Sequence[Any] = row, number: int = number) -> Any:
                col = keys[key]
                raw = _cell(row, col.index)
                try:
                    return parse(raw)
                except values.InvalidValue as exc:
                    issues.append(Issue(number, col.text, _shown(raw), exc.code, exc.message_ja, exc.message_en))
                    return None

            fid = take("facility_id", lambda raw: _required_text(raw))
            if "lg_code" in keys and not ("manager" in keys and _blank(_cell(row, keys["lg_code"].index))):
                lg = take("lg_code", munis.by_code)
            else:
                pref = values.normalize_text(_cell(row, keys["prefecture"].index)) if "prefecture" in keys else ""
                lg = take("manager", lambda raw, pref=pref: munis.by_name(raw, pref or ""))
            raw_lat, raw_lon = _cell(row, keys["lat"].index), _cell(row, keys["lon"].index)
            if _blank(raw_lat) and _blank(raw_lon):
                if fid is not None:
                    without.append(fid)
                continue
            lat = take("lat", lambda raw: _coordinate(raw, "lat"))
            lon = take("lon", lambda raw: _coordinate(raw, "lon"))
            q = take("q", _probability) if "q" in keys else None
            if len(issues) >= MAX_ISSUES:
                break
            if len(issues) > before or fid is None or lg is None or lat is None or lon is None:
                continue
            first = seen.setdefault((lg, fid), number)
            if first != number:
                issues.append(Issue(number, keys["facility_id"].text, fid, "duplicate_facility",
                                    f"同じ団体の施設ID「{fid}」が{first}行目にもあります。施設ごとに1行にしてください。",
                                    f"Facility '{fid}' of {lg} also on row {first}."))
                continue
            rows.append((number, lg, fid, lat, lon, q))
    except TableError as exc:  # a row over a limit deep in the file
        raise PointsFileError([Issue(exc.row or 0, "", name, exc.code, exc.message_ja, exc.message_en)], name) from exc
    if issues:
        raise PointsFileError(issues, name)
    if not rows:
        raise PointsFileError([Issue(0, "", name, "no_rows", "緯度・経度のある施設の行が1行もありません。",
                                     "No facility rows with coordinates.")], name)
    ids = unique_ids([(lg, fid) for _, lg, fid, *_ in rows])
    points = tuple(FacilityPoint(i, lg, lat, lon, q) for i, (_, lg, _f, lat, lon, q) in zip(ids, rows, strict=True))
    return PointsFile(points, tuple(without), warnings, {k: c.text for k, c in keys.items()})


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, float) and raw != raw) or values.is_unknown(raw) \
        or not values.normalize_text(raw)


def _required_text(raw: Any) -> str:
    text = values.normalize_text(raw) if raw is not None else ""
    if not text:
        raise values.InvalidValue("required", "施設IDが空欄です。", "facility_id is blank.")
    return text


def _coordinate(raw: Any, axis: Any) -> float:
    label = "緯度" if axis == "lat" else "経度"
    parsed = values.parse_coordinate(raw, axis)
    if parsed.value is None:
        raise values.InvalidValue("required", f"{label}が空欄です（緯度・経度の両方を入れるか、両方を空欄にしてください）。",
                                  f"{axis} is blank.")
    return parsed.value


def _probability(raw: Any) -> float | None:
    if _blank(raw):
        return None
    parsed = values.parse_number(raw, minimum=0, maximum=1)
    return parsed.value


def read_fit_q(path: Path, *, display_name: str | None = None) -> tuple[float, str]:
    """q (a year) and where it came from, from the JSON of ``gunmane deterioration fit``: its
    ``repair_probability`` — ``{"per_year": q, "trigger": "III", …}`` (or a bare number)."""
    name = display_name or path.name
    text = path.read_text(encoding="utf-8-sig")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FitFileError("fit_not_json", f"{name}: JSON として読み取れません（{exc.lineno}行目: {exc.msg}）。"
                           "gunmane deterioration fit --format json の出力を指定してください。",
                           f"{name}: not JSON ({exc.msg}).", file=name, row=exc.lineno) from exc
    rp = doc.get("repair_probability") if isinstance(doc, dict) else None
    per_year = rp.get("per_year") if isinstance(rp, dict) else rp
    if isinstance(per_year, bool) or not isinstance(per_year, (int, float)) or not 0 < per_year <= 1 \
            or not math.isfinite(per_year):
        found = "ありません" if rp is None else f"が使えません（{json.dumps(rp, ensure_ascii=False)[:80]}）"
        raise FitFileError("fit_without_q", f"{name}: 補修確率（repair_probability の per_year、0より大きく1以下）{found}。"
                           "gunmane deterioration fit --format json の出力を指定してください。",
                           f"{name}: no usable repair_probability.per_year.", file=name, column="repair_probability")
    trigger = rp.get("trigger") if isinstance(rp, dict) else None
    where = f"劣化予測（gunmane deterioration fit）の結果 {name} の年間補修確率"
    return float(per_year), where + (f"（健全性{trigger}で補修）" if trigger else "")


# -- writing --------------------------------------------------------------------------------------------------
def result_json(result: Result) -> dict[str, Any]:
    """The issue's JSON document of one result (keys are a contract; ``method``, ``assumptions``,
    ``infeasibility`` and each region's ``facility_ids`` are extra)."""
    b = result.baselines
    doc: dict[str, Any] = {
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "regions": [{"id": r.id, "n": r.n, "members": dict(r.members), "max_distance_km": r.max_distance_km,
                     "expected_contracts": r.expected_contracts, "facility_ids": list(r.facility_ids)}
                    for r in result.regions],
        "baselines": {"separate": b.separate, "single": b.single, "individual": b.individual,
                      "separate_within_d": b.separate_within_d},
        "q": result.q,
        "bundle_limit": result.bundle_limit,
        "max_distance_km": result.max_distance_km,
        "seconds": result.seconds,
        "method": result.method,
        "assumptions": list(result.assumptions),
        "infeasibility": None,
    }
    if result.infeasibility is not None:
        inf = result.infeasibility
        doc["infeasibility"] = {"reason": inf.reason, "facility_ids": list(inf.facility_ids),
                                "lower_bound_regions": inf.lower_bound_regions}
    return doc


def _district_of(result: Result) -> dict[str, int]:
    return {fid: r.id for r in result.regions for fid in r.facility_ids}


def _members_ja(members: Mapping[str, int], names: Mapping[str, str]) -> str:
    return "、".join(f"{names.get(lg, lg)} {n}" for lg, n in sorted(members.items(), key=lambda kv: (-kv[1], kv[0])))


def districts_geojson(result: Result, points: Sequence[FacilityPoint], names: Mapping[str, str] | None = None,
                      *, synthetic: bool = False) -> dict[str, Any]:
    """A FeatureCollection (RFC 7946, WGS84 lon/lat): each facility a Point with its district and municipality
    (``kind`` = ``facility``); each district (``kind`` = ``district``) the convex hull of its facilities — a
    Polygon, or a Point / LineString when it has fewer than three distinct positions — with n, members and
    expected contracts. The collection carries the result's JSON document (without regions) as ``properties``."""
    from gunmane.io.reports.lots_geo import AREA_NOTE, SYNTHETIC_NOTE, convex_hull

    names = names or {}
    district = _district_of(result)
    features: list[dict[str, Any]] = []
    for p in points:
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                         "properties": {"kind": "facility", "facility_id": p.id, "district": district.get(p.id),
                                        "lg_code": p.lg_code, "municipality": names.get(p.lg_code, p.lg_code)}})
    where = {p.id: (p.lon, p.lat) for p in points}
    for r in result.regions:
        hull = convex_hull([where[f] for f in r.facility_ids if f in where])
        if len(hull) >= 3:
            geometry: dict[str, Any] = {"type": "Polygon", "coordinates": [[list(c) for c in [*hull, hull[0]]]]}
        elif len(hull) == 2:
            geometry = {"type": "LineString", "coordinates": [list(c) for c in hull]}
        elif hull:
            geometry = {"type": "Point", "coordinates": list(hull[0])}
        else:
            continue
        features.append({"type": "Feature", "geometry": geometry, "properties": {
            "kind": "district", "district": r.id, "n": r.n, "members": dict(r.members),
            "members_ja": _members_ja(r.members, names), "max_distance_km": r.max_distance_km,
            "expected_contracts": r.expected_contracts}})
    summary = {k: v for k, v in result_json(result).items() if k != "regions"}
    notes = [AREA_NOTE, *([SYNTHETIC_NOTE] if synthetic else [])]
    return {"type": "FeatureCollection", "properties": {**summary, "synthetic": synthetic, "notes": notes},
            "features": features}


def _km(x: float) -> str:
    return f"{x:g} km"


def districts_xlsx(results: Sequence[Result], points: Sequence[FacilityPoint], names: Mapping[str, str] | None = None,
                   *, synthetic: bool = False, source: str = "", without_coordinates: int = 0) -> bytes:
    """The workbook: 「概要」 (the conditions, the baselines and one row per D), 「地区」 (each district of each
    D), 「施設」 (each facility with its district under each D), 「前提・出典」; 合成データ noted on every sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    from gunmane.io.reports.lcc_xlsx import SYNTHETIC_NOTICE_LCC
    from gunmane.io.safe_cells import neutralise_workbook

    names = names or {}
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F5")
    wb = Workbook()

    def sheet(title: str, first: bool = False) -> Any:
        ws: Any = wb.active if first else wb.create_sheet(title)
        ws.title = title
        if synthetic:
            ws.append([SYNTHETIC_NOTICE_LCC.replace("試算", "地区割り")])
            ws.cell(row=ws.max_row, column=1).font = Font(bold=True, color="C00000")
        return ws

    def header(ws: Any, cells: Sequence[str]) -> None:
        ws.append(list(cells))
        for c in ws[ws.max_row]:
            c.font, c.fill = bold, fill

    first = results[0]
    ws = sheet("概要", first=True)
    ws.append(["どこと組むか：地区割りによる年間の期待契約数"])
    ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=13)
    ws.append(["施設数", len(points)])
    if without_coordinates:
        ws.append(["緯度・経度がなく除いた施設", without_coordinates])
    ws.append(["団体数", len({p.lg_code for p in points})])
    ws.append(["一つの契約にまとめる補修の上限 L", first.bundle_limit])
    ws.append(["年間補修確率 q", first.q])
    if source:
        ws.append(["入力", source])
    ws.append([])
    header(ws, ["比較の基準", "期待契約数（件/年）"])
    ws.append(["各団体が単独で発注", first.baselines.separate])
    ws.append(["個別に発注（L = 1）", first.baselines.individual])
    ws.append([])
    header(ws, ["最大距離 D（km）", "状態", "解法", "地区数", "期待契約数（件/年）", "下界", "ギャップ",
                "全体で一つの地区", "単独発注からの削減率", "計算時間（秒）", "各団体が単独で、D の中で発注"])
    for r in results:
        cut = (1 - r.objective / r.baselines.separate) if r.objective is not None and r.baselines.separate else None
        ws.append([r.max_distance_km, STATUS_JA.get(r.status, r.status), METHOD_JA.get(r.method, r.method),
                   len(r.regions), r.objective, r.bound, r.gap,
                   r.baselines.single if r.baselines.single is not None else "不可（D を超える組がある）", cut,
                   round(r.seconds, 2), r.baselines.separate_within_d])
        for col, fmt in ((5, "0.000"), (6, "0.000"), (7, "0.00%"), (9, "0.0%"), (11, "0.000")):
            ws.cell(row=ws.max_row, column=col).number_format = fmt
    ws.column_dimensions["A"].width = 34
    for r in results:
        if r.infeasibility is not None:
            ws.append([f"D = {_km(r.max_distance_km)}: {r.infeasibility.reason}"])

    ws = sheet("地区")
    header(ws, ["最大距離 D（km）", "地区", "施設数", "構成団体（施設数）", "地区内の最大距離（km）", "期待契約数（件/年）"])
    for r in results:
        for reg in r.regions:
            ws.append([r.max_distance_km, reg.id, reg.n, _members_ja(reg.members, names), round(reg.max_distance_km, 3),
                       reg.expected_contracts])
            ws.cell(row=ws.max_row, column=6).number_format = "0.000"

    ws = sheet("施設")
    header(ws, ["施設ID", "団体名", "団体コード", "緯度", "経度", "補修確率",
                *[f"地区（D = {_km(r.max_distance_km)}）" for r in results]])
    districts = [_district_of(r) for r in results]
    for p in points:
        ws.append([p.id, names.get(p.lg_code, ""), p.lg_code, p.lat, p.lon, p.q if p.q is not None else first.q,
                   *[d.get(p.id) for d in districts]])

    ws = sheet("前提・出典")
    header(ws, ["前提・出典"])
    lines = dict.fromkeys(a for r in results for a in r.assumptions)
    lines.update(dict.fromkeys([
        "期待契約数は、N 施設のうち1年に補修が必要になる件数（二項分布、施設ごとの q ではポアソン二項分布）を L で割って"
        "切り上げた数の期待値。",
        "距離は施設間の大円距離（ハバーサイン、地球半径 6,371 km）。同じ地区のどの2施設も D 以内。",
        "方法: 東北大学による宮城県の橋梁の束ね・地区割りの研究（群マネ 定量手法 f(N, L)）。",
    ]))
    for line in lines:
        ws.append([line])
    ws.column_dimensions["A"].width = 100
    neutralise_workbook(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()



# --- the whole country (issue #14 §4; gunmane.scale.national's document) -------------------------------------

NATIONAL_BASIS_JA = {"ledger": "台帳の施設位置", "office": "役所位置で近似", "none": "橋梁数の資料なし"}


@functools.lru_cache(maxsize=1)
def _shipped_national_text() -> str:
    from importlib import resources

    return resources.files("gunmane.data").joinpath("districting", "national.json").read_text(encoding="utf-8")


def shipped_national() -> dict[str, Any]:
    """The precomputed national result shipped with gunmane (gunmane/data/districting/national.json: the office
    approximation from the reference data; its ``provenance`` says the command, date, q, L and time limit)."""
    return dict(json.loads(_shipped_national_text()))


def national_xlsx(doc: Mapping[str, Any]) -> bytes:
    """The national workbook: 「都道府県」 (separate vs districted and reduction per D), 「市区町村」 (alone, the
    neighbours at each D, the data basis), 「前提・出典」."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    from gunmane.io.safe_cells import neutralise_workbook

    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F5")
    sweep = list(doc["sweep"])
    wb = Workbook()
    ws: Any = wb.active
    ws.title = "都道府県"

    def header(ws: Any, cells: Sequence[str]) -> None:
        ws.append(list(cells))
        for c in ws[ws.max_row]:
            c.font, c.fill = bold, fill

    ws.append(["全国の束ね効果：市区町村が単独で発注する場合と最適な地区割りの年間期待契約数"])
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    ws.append(["年間補修確率 q", doc["q"], "一つの契約にまとめる補修の上限 L", doc["bundle_limit"]])
    header(ws, ["都道府県コード", "都道府県", "橋梁数", "単独発注（件/年）",
                *[f"地区割り D = {d} km" for d in sweep], *[f"削減率 D = {d} km" for d in sweep],
                "台帳の施設位置", "役所位置で近似", "資料なし"])
    for p in doc["prefectures"]:
        ws.append([p["code"], p["name"], p["facilities"], p["separate"],
                   *[p["districted"].get(d) for d in sweep],
                   *[(p["reduction"][d] / 100 if p["reduction"].get(d) is not None else None) for d in sweep],
                   p["basis"]["ledger"], p["basis"]["office"], p["basis"]["none"]])
        for k in range(len(sweep)):
            ws.cell(row=ws.max_row, column=5 + k).number_format = "0.000"
            ws.cell(row=ws.max_row, column=5 + len(sweep) + k).number_format = "0.0%"
    names = {m["lg_code"]: m["name"] for m in doc["municipalities"]}
    ws = wb.create_sheet("市区町村")
    header(ws, ["団体コード", "団体名", "都道府県コード", "橋梁数", "位置の根拠", "単独発注（件/年）",
                *[f"組む相手 D = {d} km" for d in sweep]])
    for m in doc["municipalities"]:
        ws.append([m["lg_code"], m["name"], m["prefecture"], m["facilities"],
                   NATIONAL_BASIS_JA.get(m["basis"], m["basis"]), m["separate"],
                   *["、".join(names.get(x, x) for x in m["neighbours"].get(d, [])) for d in sweep]])
    ws = wb.create_sheet("前提・出典")
    header(ws, ["前提・出典"])
    for line in doc.get("assumptions", []):
        ws.append([line])
    prov = doc.get("provenance") or {}
    if prov:
        ws.append([f"計算日時: {prov.get('computed_at', '')}"])
    ws.append(["出典: 道路メンテナンス年報（橋梁数）、日本の地方自治体一覧オープンデータ localgovjp（役所の位置）。"])
    ws.column_dimensions["A"].width = 100
    neutralise_workbook(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
