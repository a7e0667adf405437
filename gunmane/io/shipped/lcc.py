"""Read the LCC parameter tables (gunmane/data/lcc, or a user's copy of them) into engine objects.

A user updates costs without touching code: copy ``actions.csv`` and ``parameters.csv``, edit, and
point ``gunmane lcc --params DIR`` at the directory.  Errors name the file, the row, the column, the
value and what was expected, in Japanese.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from gunmane.engine.lcc import ActionCost, LccParameters, Parameter
from gunmane.engine.lcc.hazards import HazardDefaults
from gunmane.engine.planning import PlanParameters
from gunmane.io.errors import IoFileError

__all__ = ["EDITION", "LccDefaults", "LccParamsError", "load_lcc_parameters"]

EDITION = "gunmane-lcc-2026.1"
ACTION_COLUMNS = ("facility_type", "grade", "action", "per_m2_yen", "fixed_yen", "restores_to", "source", "assumption")
PARAM_COLUMNS = ("key", "label", "value", "unit", "source", "assumption")
SCALARS = ("discount_rate", "horizon_years", "inspection_interval_years", "inspection_cost_yen")
HAZARDS = ("theta_i_default", "theta_ii_default", "theta_iii_default")
PLAN = ("risk_iv_yen_per_year", "risk_iii_yen_per_year", "weight_per_detour_km", "weight_per_age_year_over_50",
        "deadline_years")


class LccParamsError(IoFileError, ValueError):
    """A parameter file is unreadable or has an invalid value (message in Japanese only, naming the file).

    Still a ValueError as it always was; its ``code`` is the name the CLI has always reported for it.
    """

    def __init__(self, message_ja: str) -> None:
        super().__init__("LccParamsError", message_ja)


@dataclass(frozen=True)
class LccDefaults:
    params: LccParameters
    hazards: HazardDefaults
    plan: PlanParameters

    def with_overrides(self, **values: float | None) -> LccDefaults:
        """A copy with the user's scalar values (discount_rate, horizon_years, …); None keeps the default."""
        clean = {k: v for k, v in values.items() if v is not None}
        return replace(self, params=self.params.with_overrides(**clean)) if clean else self


def _rows(directory: Path | None, name: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    if directory is None:
        raw = resources.files("gunmane.data").joinpath("lcc", name).read_bytes()
        label = f"gunmane/data/lcc/{name}"
    else:
        path = directory / name
        if not path.is_file():
            raise LccParamsError(f"{path}: ファイルがありません（{', '.join(columns)} の列を持つ CSV が必要です）。")
        raw = path.read_bytes()
        label = str(path)
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LccParamsError(f"{label}: 文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）。")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise LccParamsError(f"{label}: 列 {', '.join(missing)} がありません。")
    out = []
    for i, row in enumerate(reader, start=2):
        if row.get(None):  # more cells than headers: an unquoted comma
            raise LccParamsError(f"{label} {i}行目: 列の数が見出しより多くあります（値に「,」を含むときは \"\" で囲んでください）："
                                 f"「{'、'.join(row[None])}」")
        out.append((i, {k: (v or "").strip() for k, v in row.items() if k}))
    return out


def _number(label: str, row: int, column: str, value: str, *, minimum: float | None = None) -> float:
    try:
        x = float(value.replace(",", ""))
    except ValueError:
        raise LccParamsError(f"{label} {row}行目「{column}」: 「{value}」は数値ではありません。") from None
    if minimum is not None and x < minimum:
        raise LccParamsError(f"{label} {row}行目「{column}」: {value} は {minimum:g} 以上にしてください。")
    return x


def load_lcc_parameters(directory: Path | None = None) -> LccDefaults:
    """The shipped tables (``directory=None``) or a user's copy in ``directory``."""
    where = "gunmane/data/lcc" if directory is None else str(directory)
    actions: list[ActionCost] = []
    for row, r in _rows(directory, "actions.csv", ACTION_COLUMNS):
        label = f"{where}/actions.csv"
        grade = int(_number(label, row, "grade", r["grade"], minimum=2))
        restores = int(_number(label, row, "restores_to", r["restores_to"], minimum=1))
        if grade > 4 or restores >= grade:
            raise LccParamsError(f"{label} {row}行目: 健全性 {grade} の対策が健全性 {restores} に戻す設定は不正です"
                                 "（grade は 2〜4、restores_to は grade より良い健全性）。")
        actions.append(ActionCost(
            facility_type=r["facility_type"], grade=grade, action_ja=r["action"],
            per_m2_yen=_number(label, row, "per_m2_yen", r["per_m2_yen"], minimum=0),
            fixed_yen=_number(label, row, "fixed_yen", r["fixed_yen"], minimum=0),
            restores_to=restores, source=r["source"], assumption=r["assumption"] in ("1", "true", "TRUE", "yes")))
    params: dict[str, Parameter] = {}
    for row, r in _rows(directory, "parameters.csv", PARAM_COLUMNS):
        label = f"{where}/parameters.csv"
        params[r["key"]] = Parameter(key=r["key"], label_ja=r["label"],
                                     value=_number(label, row, "value", r["value"]), unit=r["unit"],
                                     source=r["source"], assumption=r["assumption"] in ("1", "true", "TRUE", "yes"))
    missing = [k for k in (*SCALARS, *HAZARDS, *PLAN) if k not in params]
    if missing:
        raise LccParamsError(f"{where}/parameters.csv: 次の key の行がありません：{', '.join(missing)}")
    edition = EDITION if directory is None else f"{where}（利用者の設定）"
    notes = tuple(f"{a.facility_type} 健全性{['Ⅰ', 'Ⅱ', 'Ⅲ', 'Ⅳ'][a.grade - 1]}「{a.action_ja}」の費用は仮定値です。"
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
