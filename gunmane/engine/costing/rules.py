"""Official estimation rules (積算基準) as typed data: one edition = the coefficient tables of one fiscal year.

The tables themselves live in data files (``gunmane/data/costing/<edition>/``: ``edition.toml`` and
``works.csv``), read by :func:`gunmane.io.shipped.costing.load_costing_edition`; this module only turns their rows
into typed, validated objects, so a user can point at a newer edition's files without changing code.

Rate forms (quantitative-methods.md §A2–A3; 土木工事標準積算基準書):

- 共通仮設費率 Kr(%) and 現場管理費率 Jo(%): ``A·X^b`` for ``lower < X ≤ upper`` (X = direct cost P for Kr,
  net cost Np for Jo, in yen); the flat rate at or below the lower limit and above the upper limit.
- 一般管理費等率 Gp(%): ``a·log10(Cp) + c`` for ``lower < Cp ≤ upper``; flat outside.
- Rates are rounded to 2 decimals (as the calculators that re-type the MLIT tables do).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from gunmane.engine.costing.errors import InvalidEdition, UnknownWorkType
from gunmane.engine.parameters import Parameter

__all__ = [
    "ASSUMPTION_STATUS",
    "OVERHEADS",
    "CostingEdition",
    "GeneralAdminCurve",
    "PowerRateCurve",
    "ServiceRatios",
    "WorkTypeRules",
    "edition_from_tables",
]

FloatArray = npt.NDArray[np.float64]
OVERHEADS = ("common_temporary", "site_management")
ASSUMPTION_STATUS = "仮定値 — 利用者が設定してください"
WORKS_COLUMNS = ("work_type", "overhead", "vintage_fy", "flat_rate_below_pct", "coef_a", "exponent_b",
                 "flat_rate_above_pct", "band_lower_yen", "band_upper_yen", "status", "source")


def _round2(x: FloatArray) -> FloatArray:
    # Round half away from zero on the 2nd decimal, computed on a shifted value so that 17.275 → 17.28
    # is not lost to binary representation (np.round rounds half to even).
    return np.floor(np.asarray(x, dtype=np.float64) * 100.0 + 0.5 + 1e-9) / 100.0


@dataclass(frozen=True)
class PowerRateCurve:
    """共通仮設費率 or 現場管理費率: rate(%) = A·X^b inside (lower, upper], flat outside."""

    flat_below_pct: float
    coef_a: float
    exponent_b: float
    flat_above_pct: float
    lower_yen: float
    upper_yen: float
    vintage_fy: int
    status: str
    source: str

    def rate_pct(self, base_yen: float | npt.ArrayLike) -> FloatArray:
        x = np.asarray(base_yen, dtype=np.float64)
        inside = self.coef_a * np.power(np.maximum(x, 1.0), self.exponent_b)
        r = np.where(x <= self.lower_yen, self.flat_below_pct, np.where(x > self.upper_yen, self.flat_above_pct, inside))
        return _round2(r)


@dataclass(frozen=True)
class GeneralAdminCurve:
    """一般管理費等率 Gp(%) = a·log10(Cp) + c inside (lower, upper], flat outside; × advance-payment factor."""

    flat_below_pct: float
    coef_a: float
    coef_c: float
    flat_above_pct: float
    lower_yen: float
    upper_yen: float
    vintage_fy: int
    label_ja: str
    status: str
    source: str
    advance_payment_factor: tuple[tuple[float, float, float], ...] = ()  # (from %, to %, factor)

    def rate_pct(self, base_yen: float | npt.ArrayLike, advance_payment_pct: float | None = None) -> FloatArray:
        x = np.asarray(base_yen, dtype=np.float64)
        inside = self.coef_a * np.log10(np.maximum(x, 1.0)) + self.coef_c
        r = _round2(np.where(x <= self.lower_yen, self.flat_below_pct,
                             np.where(x > self.upper_yen, self.flat_above_pct, inside)))
        factor = self.factor(advance_payment_pct)
        return r if factor == 1.0 else _round2(r * factor)

    def factor(self, advance_payment_pct: float | None) -> float:
        """前払金支出割合の補正係数 (1.00 when not given: the reference share 35–40%)."""
        if advance_payment_pct is None:
            return 1.0
        for lo, hi, f in self.advance_payment_factor:
            if lo <= advance_payment_pct <= hi if lo == 0 else lo < advance_payment_pct <= hi:
                return f
        raise InvalidEdition("advance_payment_out_of_range",
                             f"前払金支出割合 {advance_payment_pct}% に対応する補正係数がこの版にありません"
                             f"（0〜{max((h for _, h, _ in self.advance_payment_factor), default=0):g}%）。",
                             f"No advance-payment correction for {advance_payment_pct}% in this edition.",
                             field="advance_payment_pct")


@dataclass(frozen=True)
class ServiceRatios:
    """設計業務等積算基準: その他原価 = 直接人件費 × α/(1−α); 一般管理費等 = 業務原価 × β/(1−β)."""

    service: str
    other_cost_ratio_pct: float  # α
    general_admin_ratio_pct: float  # β
    status: str
    source: str


@dataclass(frozen=True)
class WorkTypeRules:
    work_type: str
    common_temporary: PowerRateCurve
    site_management: PowerRateCurve


@dataclass(frozen=True)
class CostingEdition:
    """One edition of the estimation rules; every priced result names ``id`` and ``label_ja``."""

    id: str
    fiscal_year: int
    label_ja: str
    label_en: str
    note_ja: str
    works: Mapping[str, WorkTypeRules]
    general_admin: GeneralAdminCurve
    services: Mapping[str, ServiceRatios]
    path: str = ""  # where the files were read from (for the record)
    rounding: str = ""
    assumptions: tuple[str, ...] = field(default=())

    @property
    def work_types(self) -> tuple[str, ...]:
        return tuple(self.works)

    @property
    def service_kinds(self) -> tuple[str, ...]:
        return tuple(self.services)

    def work(self, work_type: str) -> WorkTypeRules:
        try:
            return self.works[work_type]
        except KeyError:
            known = "、".join(self.works)
            raise UnknownWorkType("unknown_work_type",
                                  f"工種区分「{work_type}」は積算基準 {self.id} にありません。指定できる工種区分: {known}",
                                  f"Work type '{work_type}' is not in edition {self.id}. Known: {', '.join(self.works)}",
                                  field="work_type") from None

    def service(self, service: str) -> ServiceRatios:
        try:
            return self.services[service]
        except KeyError:
            known = "、".join(self.services)
            raise UnknownWorkType("unknown_service",
                                  f"業務区分「{service}」は積算基準 {self.id} にありません。指定できる業務区分: {known}",
                                  f"Service '{service}' is not in edition {self.id}. Known: {', '.join(self.services)}",
                                  field="service") from None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "fiscal_year": self.fiscal_year, "label_ja": self.label_ja, "note_ja": self.note_ja,
                "work_types": list(self.works), "services": list(self.services), "path": self.path}

    def parameters(self) -> tuple[Parameter, ...]:
        """The edition's rows as sourced parameters, the form every parameter table is listed in: one per row of
        ``works.csv`` (a rate curve), the 一般管理費等率 and each service. The edition's own grading of a row
        (V2, V2（旧版の係数）…) is kept in ``description``; a row graded 仮定値 has status ``assumption``."""
        out: list[Parameter] = []
        for wt, rules in self.works.items():
            for overhead in OVERHEADS:
                c: PowerRateCurve = getattr(rules, overhead)
                name, x = _OVERHEAD_JA[overhead]
                out.append(Parameter(
                    f"costing.{wt}.{overhead}", _curve_text(c.flat_below_pct, f"{c.coef_a:.10g}·{x}^{c.exponent_b:.10g}",
                                                          c.flat_above_pct, c.lower_yen, c.upper_yen, x),
                    "%", f"{wt} {name}", c.source, _status(c.status), f"{self.id} の表記: {c.status}、{c.vintage_fy}年度の係数"))
        g = self.general_admin
        out.append(Parameter(
            "costing.general_admin", _curve_text(g.flat_below_pct, f"{g.coef_a:.10g}·log10(Cp) + {g.coef_c:.10g}",
                                                 g.flat_above_pct, g.lower_yen, g.upper_yen, "Cp"),
            "%", g.label_ja or "一般管理費等率 Gp", g.source, _status(g.status),
            f"{self.id} の表記: {g.status}、{g.vintage_fy}年度の係数"))
        for sv in self.services.values():
            out.append(Parameter(
                f"costing.{sv.service}", f"α = {sv.other_cost_ratio_pct:.10g}%、β = {sv.general_admin_ratio_pct:.10g}%",
                "%", f"{sv.service}のその他原価率 α・一般管理費等率 β", sv.source, _status(sv.status),
                f"{self.id} の表記: {sv.status}"))
        return tuple(out)


_OVERHEAD_JA = {"common_temporary": ("共通仮設費率 Kr", "P"), "site_management": ("現場管理費率 Jo", "Np")}


def _status(grading: str) -> str:
    """The status of a costing row: its values transcribe published official tables unless graded 仮定値."""
    return "assumption" if grading.startswith("仮定値") else "published"


def _curve_text(below: float, formula: str, above: float, lower: float, upper: float, x: str) -> str:
    return (f"{below:.10g}%（{x} ≤ {lower:,.0f}円）、{formula}（〜{upper:,.0f}円）、"
            f"{above:.10g}%（{x} > {upper:,.0f}円）")


def _num(row: Mapping[str, Any], key: str, where: str) -> float:
    try:
        v = float(row[key])
    except (KeyError, TypeError, ValueError):
        raise InvalidEdition("invalid_number", f"{where}: 列「{key}」に数値がありません（値: {row.get(key)!r}）。",
                             f"{where}: column '{key}' needs a number (got {row.get(key)!r}).", field=key) from None
    if not math.isfinite(v):
        raise InvalidEdition("invalid_number", f"{where}: 列「{key}」が有限の数値ではありません。",
                             f"{where}: column '{key}' is not finite.", field=key)
    return v


def _curve(row: Mapping[str, Any], where: str) -> PowerRateCurve:
    c = PowerRateCurve(
        flat_below_pct=_num(row, "flat_rate_below_pct", where), coef_a=_num(row, "coef_a", where),
        exponent_b=_num(row, "exponent_b", where), flat_above_pct=_num(row, "flat_rate_above_pct", where),
        lower_yen=_num(row, "band_lower_yen", where), upper_yen=_num(row, "band_upper_yen", where),
        vintage_fy=int(_num(row, "vintage_fy", where)), status=str(row.get("status") or ""),
        source=str(row.get("source") or ""))
    if not 0 < c.lower_yen < c.upper_yen:
        raise InvalidEdition("band_reversed", f"{where}: 区間の下限 {c.lower_yen:,.0f} 円は上限 {c.upper_yen:,.0f} 円より"
                             "小さい正の金額にしてください。", f"{where}: band lower limit must be below the upper.",
                             field="band_lower_yen")
    return c


def edition_from_tables(meta: Mapping[str, Any], works_rows: Iterable[Mapping[str, Any]], *, path: str = "",
                        file_label: str = "works.csv") -> CostingEdition:
    """Typed edition from the parsed ``edition.toml`` (``meta``) and the rows of ``works.csv``."""
    edition_id = str(meta.get("id") or "")
    if not edition_id:
        raise InvalidEdition("missing_id", "edition.toml に id がありません。", "edition.toml has no id.", field="id")
    by_type: dict[str, dict[str, PowerRateCurve]] = {}
    for i, row in enumerate(works_rows, start=2):
        missing = [c for c in WORKS_COLUMNS if c not in row]
        if missing:
            raise InvalidEdition("missing_column", f"{file_label}: 列 {'、'.join(missing)} がありません。",
                                 f"{file_label}: missing columns {', '.join(missing)}.", field=missing[0])
        where = f"{file_label} {i}行目"
        overhead = str(row["overhead"]).strip()
        if overhead not in OVERHEADS:
            raise InvalidEdition("invalid_overhead", f"{where}: overhead は {'・'.join(OVERHEADS)} のいずれかです"
                                 f"（値: {overhead}）。", f"{where}: overhead must be one of {OVERHEADS}.", field="overhead")
        by_type.setdefault(str(row["work_type"]).strip(), {})[overhead] = _curve(row, where)
    works: dict[str, WorkTypeRules] = {}
    for wt, curves in by_type.items():
        if set(curves) != set(OVERHEADS):
            lacking = "・".join(o for o in OVERHEADS if o not in curves)
            raise InvalidEdition("incomplete_work_type", f"{file_label}: 工種区分「{wt}」に {lacking} の行がありません。",
                                 f"{file_label}: work type '{wt}' lacks {lacking}.", field="overhead")
        works[wt] = WorkTypeRules(wt, curves["common_temporary"], curves["site_management"])
    ga = meta.get("general_admin")
    if not isinstance(ga, Mapping):
        raise InvalidEdition("missing_general_admin", "edition.toml に [general_admin] がありません。",
                             "edition.toml has no [general_admin] table.", field="general_admin")
    where = "edition.toml [general_admin]"
    factors = []
    for key, f in dict(ga.get("advance_payment_factor") or {}).items():
        lo, _, hi = str(key).partition("-")
        factors.append((float(lo), float(hi), float(f)))
    gp = GeneralAdminCurve(
        flat_below_pct=_num(ga, "flat_rate_below_pct", where), coef_a=_num(ga, "coef_a", where),
        coef_c=_num(ga, "coef_c", where), flat_above_pct=_num(ga, "flat_rate_above_pct", where),
        lower_yen=_num(ga, "band_lower_yen", where), upper_yen=_num(ga, "band_upper_yen", where),
        vintage_fy=int(_num(ga, "vintage_fy", where)), label_ja=str(ga.get("label_ja") or ""),
        status=str(ga.get("status") or ""), source=str(ga.get("source") or ""),
        advance_payment_factor=tuple(sorted(factors)))
    services = {}
    for j, s in enumerate(meta.get("services") or [], start=1):
        where = f"edition.toml [[services]] {j}番目"
        name = str(s.get("service") or "")
        alpha, beta = _num(s, "other_cost_ratio_pct", where), _num(s, "general_admin_ratio_pct", where)
        if not (0 <= alpha < 100 and 0 <= beta < 100):
            raise InvalidEdition("invalid_ratio", f"{where}: 率は 0 以上 100 未満の % です。",
                                 f"{where}: ratios are percentages in [0, 100).", field="other_cost_ratio_pct")
        services[name] = ServiceRatios(name, alpha, beta, str(s.get("status") or ""), str(s.get("source") or ""))
    return CostingEdition(
        id=edition_id, fiscal_year=int(meta.get("fiscal_year") or 0), label_ja=str(meta.get("label_ja") or ""),
        label_en=str(meta.get("label_en") or ""), note_ja=str(meta.get("note_ja") or ""), works=works,
        general_admin=gp, services=services, path=path, rounding=str(meta.get("rounding") or ""))
