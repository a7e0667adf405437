"""The facilities a life-cycle cost or a repair plan is about, and their condition today.

A facility's grade was observed at its latest inspection, possibly years ago; today's grade is
uncertain, so each facility enters the simulation as a probability distribution over grades:
the recorded grade advanced by the hazard model over the years since that inspection.  Facilities
never inspected start from grade I at construction, advanced over their age; with the age unknown
too, they take the average distribution of the inspected ones.  Every such choice is counted in
``AssetSet.notes`` so results can say what they assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gunmane.engine.deterioration import MarkovHazardModel, transition_matrix
from gunmane.engine.lcc.errors import LccError

__all__ = ["ASSET_COLUMNS", "AssetSet", "COUNT_LABELS_JA", "prepare_assets"]

FloatArray = np.ndarray

#: the keys of :attr:`AssetSet.excluded` / :attr:`AssetSet.notes` (and the plan's exclusions) in the reports' words
COUNT_LABELS_JA = {
    "facility_type_without_costs": "費用表のない種別の施設",
    "area_imputed_from_type_median": "面積が不明のため同じ種別の中央値を使った施設",
    "never_inspected_from_age": "点検記録がなく経過年数から健全性を見込んだ施設",
    "never_inspected_age_unknown": "点検記録も建設年もなく健全性Ⅰから始めた施設",
    "never_inspected": "点検記録のない施設",
    "below_trigger": "対策の対象の健全性に達していない施設",
}

#: columns of the frame given to :func:`prepare_assets` (one row per facility)
ASSET_COLUMNS = ("facility", "lg_code", "facility_type", "area_m2", "grade", "years_since_inspection", "age")


@dataclass(frozen=True)
class AssetSet:
    """Facilities ready for simulation.

    ``frame`` keeps the input columns plus ``area_used`` (deck area after imputation), ``observed``
    (0-based recorded state, −1 when never inspected) and ``phase`` (years until the next periodic
    inspection, 0 = due now; inspections then follow every interval).  ``initial`` is the (N, J) distribution of today's state.
    """

    frame: pd.DataFrame
    initial: FloatArray
    notes: dict[str, int]
    excluded: dict[str, int]

    @property
    def n(self) -> int:
        return len(self.frame)


def prepare_assets(frame: pd.DataFrame, model: MarkovHazardModel, *, facility_types: tuple[str, ...],
                   inspection_interval: int) -> AssetSet:
    """Validate the facilities, keep those whose type has action costs, and derive today's distribution."""
    missing = [c for c in ASSET_COLUMNS if c not in frame.columns]
    if missing:
        raise LccError("missing_columns", f"施設データに列がありません：{', '.join(missing)}",
                       f"facility frame lacks columns: {', '.join(missing)}")
    df = frame.loc[:, list(ASSET_COLUMNS)].copy()
    excluded: dict[str, int] = {}
    keep = df["facility_type"].isin(facility_types)
    excluded["facility_type_without_costs"] = int((~keep).sum())
    df = df[keep].reset_index(drop=True)
    if df.empty:
        raise LccError("no_facilities", "対策費用が設定された種別（" + "・".join(facility_types) + "）の施設がありません。",
                       "no facility of a type with action costs")
    for col in ("area_m2", "grade", "years_since_inspection", "age"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    states = model.states
    notes: dict[str, int] = {}

    # deck area: the type's median where unknown (a count is reported)
    area = df["area_m2"].where(df["area_m2"] > 0)
    medians = area.groupby(df["facility_type"]).transform("median")
    notes["area_imputed_from_type_median"] = int(area.isna().sum())
    df["area_used"] = area.fillna(medians).fillna(0.0)

    grade = df["grade"]
    bad = grade.notna() & ~grade.isin(np.arange(1, states.n_recorded + 1))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = float(grade.iloc[row])
        raise LccError("invalid_grade", f"施設 {df['facility'].iloc[row]!s} の健全性 {value} は 1〜"
                       f"{states.n_recorded} ではありません。", f"invalid grade {value}")
    known = grade.notna().to_numpy()
    observed = np.full(len(df), -1, dtype=np.int64)
    observed[known] = states.to_state(grade[known].to_numpy(dtype=np.int64)) - 1
    df["observed"] = observed

    n_states = states.n
    initial = np.zeros((len(df), n_states))
    since = df["years_since_inspection"].clip(lower=0).fillna(0.0).to_numpy()
    if known.any():
        p = transition_matrix(model.theta, since[known])          # (k, J, J)
        initial[known] = p[np.arange(known.sum()), observed[known], :]
    age = df["age"].clip(lower=0).to_numpy()
    by_age = ~known & np.isfinite(age)
    if by_age.any():
        initial[by_age] = transition_matrix(model.theta, age[by_age])[:, 0, :]
    rest = ~known & ~by_age
    if rest.any():
        initial[rest] = initial[known].mean(axis=0) if known.any() else np.eye(n_states)[0]
    notes["never_inspected_from_age"] = int(by_age.sum())
    notes["never_inspected_age_unknown"] = int(rest.sum())
    interval = max(1, int(inspection_interval))
    # years until the next periodic inspection: 0 = due now (never inspected or overdue), I = just inspected
    phase = np.where(known, np.clip(np.rint(interval - since), 0, interval), 0).astype(np.int64)
    df["phase"] = phase
    notes["never_inspected"] = int((~known).sum())
    return AssetSet(frame=df, initial=initial, notes=notes, excluded=excluded)
