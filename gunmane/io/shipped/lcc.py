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
from gunmane.engine.parameters import Parameter
from gunmane.engine.planning import PlanParameters
from gunmane.io.shipped.parameters import (
    ParameterFileError,
    parse_parameter_table,
    read_csv_rows,
    read_parameter_table,
    shipped_bytes,
)
from gunmane.io.shipped.vocab import facility_types

__all__ = ["EDITION", "LccDefaults", "LccParamsError", "load_lcc_parameters"]

EDITION = "gunmane-lcc-2026.1"
ACTION_COLUMNS = ("facility_type", "grade", "action", "per_m2_yen", "fixed_yen", "restores_to", "source", "assumption")
SCALARS = ("discount_rate", "horizon_years", "inspection_interval_years", "inspection_cost_yen")
HAZARDS = ("theta_i_default", "theta_ii_default", "theta_iii_default")
PLAN = ("risk_iv_yen_per_year", "risk_iii_yen_per_year", "weight_per_detour_km", "weight_per_age_year_over_50",
        "deadline_years")


class LccParamsError(ParameterFileError):
    """An LCC parameter file is unreadable or has an invalid value (message in Japanese, naming file, row, column)."""


@dataclass(frozen=True)
class LccDefaults:
    params: LccParameters
    hazards: HazardDefaults
    plan: PlanParameters

    def with_overrides(self, **values: float | None) -> LccDefaults:
        """A copy with the user's scalar values (discount_rate, horizon_years, …); None keeps the default."""
        clean = {k: v for k, v in values.items() if v is not None}
        return replace(self, params=self.params.with_overrides(**clean)) if clean else self


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
                                                          params["theta_iii_default"]), plan=plan)
