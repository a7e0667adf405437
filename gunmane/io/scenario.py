"""Reading 効果試算 scenario files (TOML, schema in docs/effects.md) into a typed :class:`ScenarioFile`.

The editions of the estimation rules are read by :mod:`gunmane.io.shipped.costing`; the workbook of a
result is written by :mod:`gunmane.io.reports.effects_xlsx`.

No Django here: the CLI turns the database ledger into the engine's typed input.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from gunmane.engine.calendar import fiscal_year
from gunmane.engine.effects import EffectsError, Facility, GroupInput, Lever, LeverKind, Member, Scenario
from gunmane.engine.lots import LotDesign, LotSettings
from gunmane.engine.scales import to_band
from gunmane.io.errors import IoFileError
from gunmane.io.shipped.parameters import ShareRule, share_rules
from gunmane.io.values.scales import scale_for_facility_type

__all__ = [
    "SHARE_RULES",
    "MemberSpec",
    "ScenarioFile",
    "ScenarioFileError",
    "ScenarioSpec",
    "ShareRule",
    "build_group",
    "engine_scenarios",
    "lot_settings",
    "lots_geojson",
    "read_scenario",
    "set_cost_share",
    "share_rule",
    "share_rules",
]

# -- scenario files -----------------------------------------------------------------------------------------
class ScenarioFileError(IoFileError):
    """A scenario file that cannot be used; ``message_ja`` names the file, the key and what was expected.

    ``key`` (the family's ``column``) is the TOML key the error is about.
    """

    def __init__(self, code: str, message_ja: str, message_en: str, *, key: str | None = None) -> None:
        super().__init__(code, message_ja, message_en, column=key)
        self.key = key

    def __str__(self) -> str:
        return f"{self.message_ja} ({self.code})"

    def as_json(self, lang: str = "ja") -> dict[str, str | None]:
        return {"code": self.code, "message": self.message(lang), "key": self.key}


@dataclass(frozen=True)
class MemberSpec:
    """A member as the scenario names it (団体コード) with optional overrides of its reference data."""

    lg_code: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    levers: tuple[dict[str, Any], ...]
    description: str = ""


@dataclass(frozen=True)
class ScenarioFile:
    path: str
    name: str
    members: tuple[MemberSpec, ...]
    scenarios: tuple[ScenarioSpec, ...]
    lead: str | None = None
    start_fiscal_year: int | None = None
    horizon_years: int = 5
    sectors: tuple[str, ...] = ()
    cost_share: str = "direct_cost"
    costing_edition: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    ledger: str = "database"  # "database" | "none"
    description: str = ""
    lots: dict[str, Any] = field(default_factory=dict)  # LotSettings fields for `gunmane lots`
    by_sector: bool = False  # report each scenario's lines per sector (分野ごとの内訳)


_TOP_KEYS = {"name", "description", "members", "lead", "start_fiscal_year", "horizon_years", "sectors", "cost_share",
             "costing_edition", "parameters", "ledger", "scenario", "scenarios", "lots", "by_sector"}
_MEMBER_KEYS = {"name", "kind", "office_lat", "office_lon", "road_length_km", "park_area_m2", "routine_tasks",
                "routine_direct_yen", "population", "share", "supporting"}
_LEVER_KEYS = {"kind", "mode", "years", "members", "sectors", "pricing"}


def share_rule(key: str) -> ShareRule:
    """The rule with this key; KeyError for an unknown key."""
    for r in share_rules():
        if r.key == key:
            return r
    raise KeyError(key)


SHARE_RULES = tuple(r.key for r in share_rules())


def _fail(path: str, key: str, ja: str, en: str, code: str = "invalid_scenario") -> ScenarioFileError:
    return ScenarioFileError(code, f"{path}: 「{key}」 {ja}", f"{path}: '{key}' {en}", key=key)


def _lg(path: str, key: str, code: Any) -> str:
    from gunmane.io.values.parsing import InvalidValue, parse_lg_code

    try:
        return str(parse_lg_code(str(code)).value)
    except InvalidValue as exc:
        raise _fail(path, key, f"団体コード「{code}」: {exc.message_ja}", f"code '{code}': {exc.message_en}") from exc


def _load_toml(p: str, text: str | None) -> dict[str, Any]:
    """The TOML document of a scenario file within the size and nesting limits (gunmane.io.limits)."""
    from gunmane.io import limits

    lim = limits.current()
    try:
        if text is None:
            limits.check_file_size(Path(p), lim.toml_mb, what="シナリオファイル")
            text = Path(p).read_bytes().decode("utf-8-sig")
        elif len(text) > lim.toml_mb * limits.MB:
            raise limits.FileRefused("file_too_large", f"シナリオの大きさが上限（{lim.toml_mb:g} MB）を超えています。",
                                     f"The scenario is larger than the limit ({lim.toml_mb:g} MB).")
        data = tomllib.loads(text)
        limits.check_nesting(data, lim.nesting_depth)
    except FileNotFoundError as exc:
        raise ScenarioFileError("file_not_found", f"シナリオファイルが見つかりません: {p}", f"Scenario file not found: {p}") from exc
    except IsADirectoryError as exc:
        raise ScenarioFileError("not_a_file", f"シナリオファイルではなくフォルダです: {p}", f"A folder, not a file: {p}") from exc
    except PermissionError as exc:
        raise ScenarioFileError("permission_denied", f"シナリオファイルを読む権限がありません: {p}",
                                f"No permission to read: {p}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioFileError("not_utf8", f"{p}: 文字コードが UTF-8 ではありません（{exc.start}バイト目）。"
                                "シナリオファイルは UTF-8 で保存してください。",
                                f"{p}: not UTF-8 (byte {exc.start}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFileError("invalid_toml", f"{p}: TOML として読めません（{exc}）。", f"{p}: not valid TOML ({exc}).") from exc
    except RecursionError as exc:  # tomllib recurses per nested array or inline table
        raise ScenarioFileError("nesting_too_deep", f"{p}: 入れ子（[ ] や {{ }}）が深すぎます（上限 {lim.nesting_depth}段）。",
                                f"{p}: nested too deeply (limit {lim.nesting_depth}).") from exc
    except limits.FileRefused as exc:
        raise ScenarioFileError(exc.code, f"{p}: {exc.message_ja}", f"{p}: {exc.message_en}") from exc
    return data


def read_scenario(path: str | Path, text: str | None = None) -> ScenarioFile:
    """Parse a scenario file (TOML, schema in docs/effects.md); errors name the file and the key.

    Every error is a ScenarioFileError (a value of the wrong shape too: a table where a list belongs …).
    """
    p = str(path)
    data = _load_toml(p, text)
    try:
        return _scenario(p, data)
    except (TypeError, ValueError, AttributeError) as exc:  # a value of the wrong kind (table, list, text)
        raise ScenarioFileError("invalid_scenario",
                                f"{p}: シナリオファイルの形が正しくありません（表・配列・値の種類が違う項目があります: "
                                f"{type(exc).__name__}）。docs/effects.md の例に合わせてください。",
                                f"{p}: a value has the wrong kind ({exc}).") from exc


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v and v >= 0


def _check_member_weights(p: str, members: list[MemberSpec], rule: str) -> None:
    """``population`` and ``share`` are non-negative numbers, ``supporting`` true/false; the rule 協定で定める割合
    (``agreed``) needs a ``share`` for every member that is not only supporting, and some share above 0."""
    for m in members:
        for key in ("population", "share"):
            if key in m.overrides and not _number(m.overrides[key]):
                raise _fail(p, f"members.{m.lg_code}.{key}", f"は 0 以上の数値です（値: {m.overrides[key]!r}）。",
                            "must be a non-negative number.")
        if "supporting" in m.overrides and not isinstance(m.overrides["supporting"], bool):
            raise _fail(p, f"members.{m.lg_code}.supporting", f"は true か false です（値: {m.overrides['supporting']!r}）。",
                        "must be true or false.")
    if rule != "agreed":
        return
    paying = [m for m in members if not m.overrides.get("supporting")]
    missing = [m.lg_code for m in paying if "share" not in m.overrides]
    if missing:
        raise _fail(p, f"members.{missing[0]}.share",
                    f"がありません。費用分担「協定で定める割合」（cost_share = \"agreed\"）では、各団体の割合を "
                    f"[members.団体コード] の share に書いてください（ない団体: {'、'.join(missing)}）。",
                    "is required for every paying member under cost_share = \"agreed\".")
    if paying and sum(float(m.overrides["share"]) for m in paying) <= 0:
        raise _fail(p, "members", "の share（協定で定める割合）の合計が 0 です。1つ以上の団体に 0 より大きい割合を書いてください。",
                    "shares add up to 0.")


def _scenario(p: str, data: dict[str, Any]) -> ScenarioFile:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
    from gunmane.engine.effects import LeverKind

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(p, unknown[0], f"は使えないキーです。使えるキー: {'、'.join(sorted(_TOP_KEYS))}",
                    f"is not a known key ({', '.join(sorted(_TOP_KEYS))}).", "unknown_key")
    raw_members = data.get("members")
    members: list[MemberSpec] = []
    if isinstance(raw_members, list):
        members = [MemberSpec(_lg(p, "members", c)) for c in raw_members]
    elif isinstance(raw_members, dict):
        for code, over in raw_members.items():
            over = dict(over or {})
            bad = sorted(set(over) - _MEMBER_KEYS)
            if bad:
                raise _fail(p, f"members.{code}.{bad[0]}", f"は使えないキーです。使えるキー: {'、'.join(sorted(_MEMBER_KEYS))}",
                            "is not a known member key.", "unknown_key")
            members.append(MemberSpec(_lg(p, f"members.{code}", code), over))
    if not members:
        raise _fail(p, "members", "に構成団体の団体コードを1つ以上指定してください。", "needs at least one member code.",
                    "no_members")
    lead = _lg(p, "lead", data["lead"]) if data.get("lead") else None
    if lead is not None and lead not in {m.lg_code for m in members}:
        raise _fail(p, "lead", f"の団体 {lead} が members にありません。", "is not a member.")
    share = str(data.get("cost_share", "direct_cost"))
    if share not in SHARE_RULES:
        names = "、".join(f"{r.key}（{r.name_ja}）" for r in share_rules())
        raise _fail(p, "cost_share", f"は次のいずれかです（値: {share}）: {names}", f"must be one of {SHARE_RULES}.")
    _check_member_weights(p, members, share)
    ledger = str(data.get("ledger", "database"))
    if ledger not in ("database", "none"):
        raise _fail(p, "ledger", f"は database（データベースの台帳を使う）か none です（値: {ledger}）。", "must be database or none.")
    horizon = data.get("horizon_years", 5)
    if not isinstance(horizon, int) or not 1 <= horizon <= 30:
        raise _fail(p, "horizon_years", f"は 1〜30 の整数です（値: {horizon!r}）。", "must be an integer 1–30.")
    start = data.get("start_fiscal_year")
    if start is not None and (not isinstance(start, int) or not 1990 <= start <= 2100):
        raise _fail(p, "start_fiscal_year", f"は年度（例: 2026）です（値: {start!r}）。", "must be a fiscal year.")
    kinds = {k.value for k in LeverKind}
    scenarios: list[ScenarioSpec] = []
    for i, sc in enumerate(data.get("scenario") or data.get("scenarios") or [], start=1):
        where = f"scenario[{i}]"
        if not isinstance(sc, dict) or not sc.get("name"):
            raise _fail(p, where, "に name（シナリオ名）が必要です。", "needs a name.")
        levers = []
        for j, lv in enumerate(sc.get("levers") or sc.get("lever") or [], start=1):
            lw = f"{where}.levers[{j}]"
            if isinstance(lv, str):
                lv = {"kind": lv}
            bad = sorted(set(lv) - _LEVER_KEYS)
            if bad:
                raise _fail(p, f"{lw}.{bad[0]}", f"は使えないキーです。使えるキー: {'、'.join(sorted(_LEVER_KEYS))}",
                            "is not a known lever key.", "unknown_key")
            if lv.get("kind") not in kinds:
                raise _fail(p, f"{lw}.kind", f"「{lv.get('kind')}」は束ねる手段の種類ではありません。指定できる種類: "
                            f"{'、'.join(sorted(kinds))}", f"must be one of {sorted(kinds)}.", "unknown_lever")
            levers.append(dict(lv))
        scenarios.append(ScenarioSpec(str(sc["name"]), tuple(levers), str(sc.get("description", ""))))
    lots = dict(data.get("lots") or {})
    if not scenarios and not lots:
        raise _fail(p, "scenario", "に [[scenario]] を1つ以上書いてください（基準は自動で計算します）。",
                    "needs at least one [[scenario]].", "no_scenarios")
    params = dict(data.get("parameters") or {})
    equal_part = params.get("share.equal_part")
    if equal_part is not None and (not isinstance(equal_part, int | float) or isinstance(equal_part, bool)
                                   or not 0 <= equal_part <= 1):
        raise _fail(p, "parameters.share.equal_part", f"（均等割の割合）は 0〜1 の数値です（値: {equal_part!r}）。",
                    "must be a number 0–1.")
    params.setdefault("share.rule", share)
    by_sector = data.get("by_sector", False)
    if not isinstance(by_sector, bool):
        raise _fail(p, "by_sector", f"は true（分野ごとの内訳を出す）か false です（値: {by_sector!r}）。", "must be a boolean.")
    return ScenarioFile(
        path=p, name=str(data.get("name") or Path(p).stem), members=tuple(members), scenarios=tuple(scenarios),
        lead=lead, start_fiscal_year=start, horizon_years=horizon,
        sectors=tuple(str(s) for s in data.get("sectors") or ()), cost_share=share,
        costing_edition=data.get("costing_edition"), parameters=params, ledger=ledger,
        description=str(data.get("description", "")), lots=lots, by_sector=by_sector)


def lot_settings(sf: ScenarioFile) -> LotSettings:
    """The ``[lots]`` table as :class:`gunmane.engine.lots.LotSettings` (unknown keys name the file)."""
    known = {f.name for f in fields(LotSettings)}
    bad = sorted(set(sf.lots) - known)
    if bad:
        raise _fail(sf.path, f"lots.{bad[0]}", f"は使えないキーです。使えるキー: {'、'.join(sorted(known))}",
                    "is not a known lots key.", "unknown_key")
    try:
        return LotSettings(**sf.lots)
    except EffectsError as exc:
        raise ScenarioFileError(exc.code, f"{sf.path}: [lots] {exc.message_ja}", f"{sf.path}: [lots] {exc.message_en}",
                                key=exc.field) from exc
    except TypeError as exc:
        raise _fail(sf.path, "lots", f"の値の型が正しくありません（{exc}）。", f"has a value of the wrong type ({exc}).") from exc


def lots_geojson(design: LotDesign) -> dict[str, Any]:
    """Facilities by lot, the lots' summaries and their inspection day tours as a GeoJSON FeatureCollection
    (WGS84 lon/lat): ``kind`` = facility | lot | route."""
    feats: list[dict[str, Any]] = []
    if design.best is not None:
        row: Any  # a namedtuple of the assignment frame's columns
        for row in design.assignment.itertuples(index=False):
            if row.lat is None or row.lon is None or row.lat != row.lat:
                continue
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
                          "properties": {"kind": "facility", "facility": row.facility, "member": row.member,
                                         "lot": int(row.lot), "base": row.base}})
        for lot in design.best.lots:
            feats.append({"type": "Feature", "geometry": None,
                          "properties": {"kind": "lot", **lot.as_json()}})
        for r in design.routes:
            feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": r["coordinates"]},
                          "properties": {"kind": "route", "lot": r["lot"], "day": r["day"], "base": r["base"],
                                         "sites": r["sites"], "km": round(r["km"], 1)}})
    return {"type": "FeatureCollection", "features": feats,
            "properties": {k: v for k, v in design.as_json().items() if k not in ("best",)}}


def engine_scenarios(sf: ScenarioFile) -> tuple[Scenario, ...]:
    """The scenario file's scenarios as engine :class:`Scenario` objects (lever errors name the scenario)."""
    out = []
    for sc in sf.scenarios:
        levers = []
        for lv in sc.levers:
            try:
                levers.append(Lever(kind=LeverKind(lv["kind"]), mode=str(lv.get("mode", "one_contract")),
                                    years=int(lv.get("years", 0)), members=tuple(str(m) for m in lv.get("members", ())),
                                    sectors=tuple(str(s) for s in lv.get("sectors", ())),
                                    pricing=str(lv.get("pricing", "dominant"))))
            except EffectsError as exc:
                raise ScenarioFileError(exc.code, f"{sf.path}: シナリオ「{sc.name}」: {exc.message_ja}",
                                        f"{sf.path}: scenario '{sc.name}': {exc.message_en}", key=exc.field) from exc
        out.append(Scenario(sc.name, tuple(levers), sc.description))
    return tuple(out)


def _opt(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f else None


def build_group(sf: ScenarioFile, reference: dict[str, dict[str, Any]], facilities: pd.DataFrame | None = None,
                coordinates: dict[Any, tuple[float | None, float | None]] | None = None,
                start_fiscal_year: int | None = None) -> GroupInput:
    """The engine's :class:`GroupInput` from a scenario file, reference rows per member and a facilities frame.

    ``reference``: lg_code → {name, kind, lat, lon, road_length_m, park_area_m2} (from the database or a
    fixture); the scenario's ``[members.CODE]`` overrides win. ``facilities``: a ledger facilities frame
    (LedgerFrames.facilities: facility, lg_code, sector, facility_type, length_m, latest_grade,
    latest_inspected_on, is_synthetic); ``coordinates``: facility id → (lat, lon).
    """
    members = []
    for spec in sf.members:
        ref = dict(reference.get(spec.lg_code) or {})
        o = spec.overrides
        if not ref and "name" not in o:
            raise ScenarioFileError("unknown_member", f"{sf.path}: 団体コード {spec.lg_code} の団体が参照データにありません"
                                    "（gunmane init で参照データを読み込みましたか）。",
                                    f"{sf.path}: no local government {spec.lg_code}.", key=f"members.{spec.lg_code}")
        road_km = o.get("road_length_km")
        if road_km is None:
            road_km = (_opt(ref.get("road_length_m")) or 0.0) / 1000.0
        park = o.get("park_area_m2")
        if park is None:
            park = _opt(ref.get("park_area_m2")) or 0.0
        if o.get("supporting"):  # supports only: none of its own roads, parks or facilities is in the group's scope
            road_km, park = 0.0, 0.0
        population = _opt(o.get("population", ref.get("population")))
        members.append(Member(
            lg_code=spec.lg_code, name=str(o.get("name") or ref.get("name") or spec.lg_code),
            kind=str(o.get("kind") or ref.get("kind") or "municipality"),
            office_lat=_opt(o.get("office_lat", ref.get("lat"))), office_lon=_opt(o.get("office_lon", ref.get("lon"))),
            road_length_km=float(road_km), park_area_m2=float(park),
            routine_tasks={str(k): int(v) for k, v in dict(o.get("routine_tasks") or {}).items()},
            routine_direct_yen={str(k): float(v) for k, v in dict(o.get("routine_direct_yen") or {}).items()},
            population=population, agreed_share=_opt(o.get("share"))))
    supporting = {m.lg_code for m in sf.members if m.overrides.get("supporting")}
    facs = []
    coords = coordinates or {}
    if facilities is not None and len(facilities):
        df = facilities
        insp = df["latest_inspected_on"]
        # 年度 (fiscal year, April–March) of the latest inspection
        fy = [None if d is None or d != d else fiscal_year(d) for d in insp]
        for row, f_y in zip(df.itertuples(index=False), fy, strict=True):
            if str(row.lg_code) in supporting:
                continue
            lat, lon = coords.get(row.facility, (None, None))
            g = _band(str(row.facility_type), _opt(row.latest_grade))
            facs.append(Facility(
                id=str(row.facility), lg_code=str(row.lg_code), sector=str(row.sector), facility_type=str(row.facility_type),
                length_m=_opt(row.length_m), area_m2=_opt(getattr(row, "area_m2", None)), lat=_opt(lat), lon=_opt(lon),
                latest_inspection_fy=f_y, latest_grade=None if g is None else int(g),
                is_synthetic=bool(getattr(row, "is_synthetic", False))))
    start = sf.start_fiscal_year or start_fiscal_year or 2026
    return GroupInput(members=tuple(members), facilities=tuple(facs), start_fiscal_year=start,
                      horizon_years=sf.horizon_years, lead=sf.lead, sectors=sf.sectors, name=sf.name,
                      by_sector=sf.by_sector)


def _band(facility_type: str, grade: float | None) -> float | None:
    """The effects engine derives repairs on the common urgency band (共通の緊急度区分, Ⅲ・Ⅳ = 措置が必要):
    a grade on the facility type's own scale (1 = best) becomes its band, so a park C, a river d or a sewer
    緊急度Ⅱ starts a repair as a bridge's Ⅲ does. Road structures: band == grade. A grade the scale does not have
    (a ledger still on Ⅰ–Ⅳ) is kept as written."""
    if grade is None:
        return None
    try:
        sc = scale_for_facility_type(facility_type)
    except (KeyError, ValueError):
        return grade
    index = int(grade)
    if not sc.graded or not 1 <= index <= len(sc.grades):
        return grade
    return float(to_band(sc, index))


def set_cost_share(doc: dict[str, Any], rule: str, *, equal_part: float | None = None,
                   agreed: dict[str, float] | None = None, supporting: set[str] | frozenset[str] = frozenset()
                   ) -> dict[str, Any]:
    """A scenario document (the parsed TOML) with the group's cost-share decision written into it: ``cost_share``,
    the equal part (``[parameters] "share.equal_part"``) of 均等割 rules, each member's agreed ``share``
    (協定で定める割合) and ``supporting = true`` for the members that only support (they bear no cost and none of
    their facilities is in scope). The stored scenario then carries everything its figures depend on, so the
    command line (``gunmane effects``) gives the same figures as the web and the documents."""
    if rule not in SHARE_RULES:
        raise ValueError(f"unknown cost-share rule {rule!r}")
    out = dict(doc)
    out["cost_share"] = rule
    params = dict(out.get("parameters") or {})
    if equal_part is not None and share_rule(rule).uses_equal_part:
        params["share.equal_part"] = float(equal_part)
    params.pop("share.rule", None)  # cost_share is the one place the rule is written
    out["parameters"] = params
    raw = out.get("members") or {}
    members: dict[str, Any] = ({str(c): {} for c in raw} if isinstance(raw, list)
                               else {str(c): dict(v or {}) for c, v in raw.items()})
    for code, table in members.items():
        table.pop("share", None)
        table.pop("supporting", None)
        if code in supporting:
            table["supporting"] = True
        elif rule == "agreed" and agreed is not None:
            table["share"] = float(agreed.get(code, 0.0))
    out["members"] = members
    return out
