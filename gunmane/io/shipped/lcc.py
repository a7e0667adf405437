"""Read the LCC parameter tables (gunmane/data/lcc, or a user's copy of them) into engine objects.

A user updates costs without touching code: copy ``actions.csv`` and ``parameters.csv``, edit, and
point ``gunmane lcc --params DIR`` at the directory.  ``parameters.csv`` has the columns of every
parameter table (read by :mod:`gunmane.io.shipped.parameters`); ``actions.csv`` is one row per facility
type and grade.  Errors name the file, the row, the column, the value and what was expected, in Japanese.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from gunmane.engine.lcc import ActionCost, LccParameters
from gunmane.engine.lcc.hazards import HazardDefaults
from gunmane.engine.parameters import STATUSES, Parameter
from gunmane.engine.planning import PlanParameters
from gunmane.io.shipped.parameters import (
    ParameterFileError,
    parse_parameter_table,
    read_csv_rows,
    read_parameter_table,
    shipped_bytes,
)
from gunmane.io.shipped.vocab import facility_types

__all__ = ["EDITION", "LccDefaults", "LccParamsError", "SectorDefaults", "SectorRenewal", "SectorType", "load_lcc_parameters"]

EDITION = "gunmane-lcc-2026.1"
ACTION_COLUMNS = ("facility_type", "grade", "action", "per_m2_yen", "fixed_yen", "restores_to", "source", "assumption")
SCALARS = ("discount_rate", "horizon_years", "inspection_interval_years", "inspection_cost_yen")
HAZARDS = ("theta_i_default", "theta_ii_default", "theta_iii_default")
PLAN = ("risk_iv_yen_per_year", "risk_iii_yen_per_year", "weight_per_detour_km", "weight_per_age_year_over_50",
        "deadline_years")


class LccParamsError(ParameterFileError):
    """An LCC parameter file is unreadable or has an invalid value (message in Japanese, naming file, row, column)."""


@dataclass(frozen=True)
class SectorType:
    """A sector's facility type with its own cost table: inspection interval and cost per facility, with sources."""

    facility_type: str
    inspection_interval_years: Parameter
    inspection_cost_yen: Parameter


@dataclass(frozen=True)
class SectorRenewal:
    """A type without grades (水道管路): the default Weibull service life and the renewal cost per m."""

    facility_type: str
    shape: Parameter
    scale_years: Parameter
    unit_cost: Parameter


@dataclass(frozen=True)
class SectorDefaults:
    """Cost tables of the sectors besides road structures (舗装、管渠、遊具 …) and default hazards per scale."""

    actions: tuple[ActionCost, ...] = ()
    types: tuple[SectorType, ...] = ()
    hazards: tuple[tuple[str, tuple[Parameter, ...]], ...] = ()   # (scale id, θ per grade good → bad)
    renewals: tuple[SectorRenewal, ...] = ()

    def renewal(self, code: str) -> SectorRenewal | None:
        return next((r for r in self.renewals if r.facility_type == code), None)

    def hazards_of(self, scale_id: str) -> tuple[Parameter, ...]:
        return dict(self.hazards).get(scale_id, ())

    def type(self, code: str) -> SectorType | None:
        return next((t for t in self.types if t.facility_type == code), None)

    def action_rows(self, code: str) -> tuple[ActionCost, ...]:
        return tuple(a for a in self.actions if a.facility_type == code)


@dataclass(frozen=True)
class LccDefaults:
    params: LccParameters
    hazards: HazardDefaults
    plan: PlanParameters
    sectors: SectorDefaults = SectorDefaults()

    def with_overrides(self, **values: float | None) -> LccDefaults:
        """A copy with the user's scalar values (discount_rate, horizon_years, …); None keeps the default."""
        clean = {k: v for k, v in values.items() if v is not None}
        return replace(self, params=self.params.with_overrides(**clean)) if clean else self

    @property
    def sector_types(self) -> tuple[str, ...]:
        """Facility types of the sector tables that have a grade scale (water mains are priced by age)."""
        return tuple(t.facility_type for t in self.sectors.types)

    def for_type(self, code: str) -> LccParameters:
        """The parameters of one sector's facility type: its actions and inspection interval and cost; the
        discount rate and horizon of the road table (with the user's overrides).  Road types: ``params``."""
        if code in self.params.facility_types:
            return self.params
        t = self.sectors.type(code)
        actions = self.sectors.action_rows(code)
        if t is None or not actions:
            raise LccParamsError(f"施設種別 {code} の対策費用がありません（gunmane/data/lcc/sector_actions.csv）。")
        notes = tuple(f"{_type_name(code)}「{a.action_ja}」の費用は仮定値です。" for a in actions if a.assumption)
        notes += tuple(f"{_type_name(code)}の{p.label_ja.split('（')[0]}は仮定値です（{p.source}）。"
                       for p in (t.inspection_interval_years, t.inspection_cost_yen) if p.assumption)
        return replace(self.params, actions=actions, inspection_interval_years=t.inspection_interval_years,
                       inspection_cost_yen=t.inspection_cost_yen, notes=notes)


def _type_name(code: str) -> str:
    return {t.code: t.name for t in facility_types()}.get(code, code)


def _action_rows(directory: Path | None) -> list[tuple[int, dict[str, str]]]:
    if directory is None:
        return read_csv_rows(shipped_bytes("lcc", "actions.csv"), "gunmane/data/lcc/actions.csv", ACTION_COLUMNS,
                             error=LccParamsError)
    path = directory / "actions.csv"
    if not path.is_file():
        raise LccParamsError(f"{path}: ファイルがありません（{', '.join(ACTION_COLUMNS)} の列を持つ CSV が必要です）。",
                             file=str(path))
    return read_csv_rows(path.read_bytes(), str(path), ACTION_COLUMNS, error=LccParamsError)


def _parameters(directory: Path | None) -> tuple[Parameter, ...]:
    if directory is None:
        return parse_parameter_table(shipped_bytes("lcc", "parameters.csv"), "gunmane/data/lcc/parameters.csv",
                                     floats=True, error=LccParamsError)
    return read_parameter_table(directory / "parameters.csv", floats=True, error=LccParamsError)


def _number(label: str, row: int, column: str, value: str, *, minimum: float | None = None) -> float:
    try:
        x = float(value.replace(",", ""))
    except ValueError:
        raise LccParamsError(f"{label} {row}行目「{column}」: 「{value}」は数値ではありません。", file=label, row=row,
                             column=column) from None
    if minimum is not None and x < minimum:
        raise LccParamsError(f"{label} {row}行目「{column}」: {value} は {minimum:g} 以上にしてください。", file=label,
                             row=row, column=column)
    return x


def load_lcc_parameters(directory: Path | None = None) -> LccDefaults:
    """The shipped tables (``directory=None``) or a user's copy in ``directory``."""
    where = "gunmane/data/lcc" if directory is None else str(directory)
    actions: list[ActionCost] = []
    for row, r in _action_rows(directory):
        label = f"{where}/actions.csv"
        grade = int(_number(label, row, "grade", r["grade"], minimum=2))
        restores = int(_number(label, row, "restores_to", r["restores_to"], minimum=1))
        if grade > 4 or restores >= grade:
            raise LccParamsError(f"{label} {row}行目: 健全性 {grade} の対策が健全性 {restores} に戻す設定は不正です"
                                 "（grade は 2〜4、restores_to は grade より良い健全性）。", file=label, row=row,
                                 column="restores_to")
        actions.append(ActionCost(
            facility_type=r["facility_type"], grade=grade, action_ja=r["action"],
            per_m2_yen=_number(label, row, "per_m2_yen", r["per_m2_yen"], minimum=0),
            fixed_yen=_number(label, row, "fixed_yen", r["fixed_yen"], minimum=0),
            restores_to=restores, source=r["source"], assumption=r["assumption"] in ("1", "true", "TRUE", "yes")))
    params = {p.key: p for p in _parameters(directory)}
    missing = [k for k in (*SCALARS, *HAZARDS, *PLAN) if k not in params]
    if missing:
        raise LccParamsError(f"{where}/parameters.csv: 次の key の行がありません：{', '.join(missing)}",
                             file=f"{where}/parameters.csv", column="key")
    edition = EDITION if directory is None else f"{where}（利用者の設定）"
    type_names = {t.code: t.name for t in facility_types()}
    notes = tuple(f"{type_names.get(a.facility_type, a.facility_type)} 健全性{['Ⅰ', 'Ⅱ', 'Ⅲ', 'Ⅳ'][a.grade - 1]}「{a.action_ja}」の費用は仮定値です。"
                  for a in actions if a.assumption)
    lcc = LccParameters(actions=tuple(actions), discount_rate=params["discount_rate"],
                        horizon_years=params["horizon_years"],
                        inspection_interval_years=params["inspection_interval_years"],
                        inspection_cost_yen=params["inspection_cost_yen"], edition=edition, notes=notes)
    plan = PlanParameters(risk_iv_yen_per_year=params["risk_iv_yen_per_year"],
                          risk_iii_yen_per_year=params["risk_iii_yen_per_year"],
                          weight_per_detour_km=params["weight_per_detour_km"],
                          weight_per_age_year_over_50=params["weight_per_age_year_over_50"],
                          deadline_years=params["deadline_years"])
    return LccDefaults(params=lcc, hazards=HazardDefaults(params["theta_i_default"], params["theta_ii_default"],
                                                          params["theta_iii_default"]), plan=plan,
                       sectors=_sectors(directory))


SECTOR_ACTION_COLUMNS = ("facility_type", "grade", "action", "per_unit_yen", "fixed_yen", "restores_to", "unit",
                         "source", "assumption")
SECTOR_TYPE_COLUMNS = ("facility_type", "inspection_interval_years", "interval_source", "interval_status",
                       "inspection_cost_yen", "cost_source", "cost_status")
SECTOR_HAZARD_COLUMNS = ("scale", "grade", "theta", "source", "status")
UNITS = {"m2": "㎡", "m": "m", "基": "基"}


def _sector_rows(directory: Path | None, name: str, columns: tuple[str, ...]) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """A sector table from the user's folder when it has one, else the shipped one (older copies lack them)."""
    if directory is not None and (directory / name).is_file():
        label = str(directory / name)
        return label, read_csv_rows((directory / name).read_bytes(), label, columns, error=LccParamsError)
    label = f"gunmane/data/lcc/{name}"
    return label, read_csv_rows(shipped_bytes("lcc", name), label, columns, error=LccParamsError)


def _sectors(directory: Path | None) -> SectorDefaults:
    """sector_actions.csv (grade = index on the type's own scale), sector_types.csv, sector_hazards.csv."""
    from gunmane.io.values.scales import scale, scale_for_facility_type

    label, rows = _sector_rows(directory, "sector_actions.csv", SECTOR_ACTION_COLUMNS)
    actions = []
    for row, r in rows:
        sc = scale_for_facility_type(r["facility_type"])
        n = max(1, len(sc.grades))
        grade = int(_number(label, row, "grade", r["grade"], minimum=1))
        restores = int(_number(label, row, "restores_to", r["restores_to"], minimum=1))
        if grade > n or (sc.graded and restores >= grade) or r["unit"] not in UNITS:
            raise LccParamsError(f"{label} {row}行目: 区分 {grade}（{sc.name}、1〜{n}）・回復する区分 {restores}・単位"
                                 f"「{r['unit']}」（{'・'.join(UNITS)}）の組み合わせは不正です。", file=label, row=row,
                                 column="grade")
        actions.append(ActionCost(
            facility_type=r["facility_type"], grade=grade, action_ja=r["action"],
            per_m2_yen=_number(label, row, "per_unit_yen", r["per_unit_yen"], minimum=0),
            fixed_yen=_number(label, row, "fixed_yen", r["fixed_yen"], minimum=0), restores_to=restores,
            source=r["source"], assumption=r["assumption"] in ("1", "true", "TRUE", "yes"), unit=r["unit"]))
    label, rows = _sector_rows(directory, "sector_types.csv", SECTOR_TYPE_COLUMNS)
    types = []
    for row, r in rows:
        name = _type_name(r["facility_type"])
        for col in ("interval_status", "cost_status"):
            if r[col] not in STATUSES:
                raise LccParamsError(f"{label} {row}行目「{col}」: 「{r[col]}」は {'・'.join(STATUSES)} のいずれかです。",
                                     file=label, row=row, column=col)
        types.append(SectorType(
            r["facility_type"],
            Parameter("inspection_interval_years", _number(label, row, "inspection_interval_years",
                                                           r["inspection_interval_years"], minimum=1),
                      "年", f"定期点検の間隔（{name}）", r["interval_source"], r["interval_status"]),
            Parameter("inspection_cost_yen", _number(label, row, "inspection_cost_yen", r["inspection_cost_yen"],
                                                     minimum=0),
                      "円", f"定期点検1回の費用（{name}1施設）", r["cost_source"], r["cost_status"])))
    label, rows = _sector_rows(directory, "sector_hazards.csv", SECTOR_HAZARD_COLUMNS)
    by_scale: dict[str, list[tuple[int, Parameter]]] = {}
    for row, r in rows:
        grade = int(_number(label, row, "grade", r["grade"], minimum=1))
        theta = _number(label, row, "theta", r["theta"], minimum=0)
        if theta <= 0:
            raise LccParamsError(f"{label} {row}行目「theta」: 劣化ハザードは正の値にしてください。", file=label, row=row,
                                 column="theta")
        if r["scale"] != "mci-5":
            scale(r["scale"])  # KeyError names the known scales
        by_scale.setdefault(r["scale"], []).append(
            (grade, Parameter(f"theta_{r['scale']}_{grade}", theta, "1/年", f"劣化ハザード（{r['scale']} の区分 {grade} から）",
                              r["source"], r["status"])))
    hazards = tuple((sid, tuple(p for _, p in sorted(items, key=lambda x: x[0]))) for sid, items in by_scale.items())
    label, rows = _sector_rows(directory, "sector_survival.csv", ("facility_type", "shape", "scale_years", "source",
                                                                  "status"))
    renewals = []
    for row, r in rows:
        cost = next((a for a in actions if a.facility_type == r["facility_type"]), None)
        if cost is None:
            raise LccParamsError(f"{label} {row}行目: {r['facility_type']} の更新単価が sector_actions.csv にありません。",
                                 file=label, row=row, column="facility_type")
        name = _type_name(r["facility_type"])
        renewals.append(SectorRenewal(
            r["facility_type"],
            Parameter("weibull_shape", _number(label, row, "shape", r["shape"], minimum=0.1), "",
                      f"供用年数のワイブル分布の形状（{name}）", r["source"], r["status"]),
            Parameter("weibull_scale_years", _number(label, row, "scale_years", r["scale_years"], minimum=1), "年",
                      f"供用年数のワイブル分布の尺度（{name}）", r["source"], r["status"]),
            Parameter("renewal_yen_per_m", cost.per_m2_yen, "円/m", f"更新単価（{name}、1m あたり）", cost.source,
                      "assumption" if cost.assumption else "published")))
    return SectorDefaults(actions=tuple(actions), types=tuple(types), hazards=hazards, renewals=tuple(renewals))
