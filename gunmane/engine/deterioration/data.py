"""Inspection pairs (点検ペア): the data of the Markov hazard model.

A pair is two consecutive inspections of the same facility with no measure (措置) between them:
grade before, grade after, the years between them and the facility's covariates.  Pairs are built
from the ledger's inspection histories (``pairs_from_histories``) or read from a pairs file
(``gunmane.io.ledger.pairs``).  Every pair that is left out is counted by reason in ``excluded`` —
never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gunmane.engine.deterioration.errors import InvalidPairs
from gunmane.engine.deterioration.model import StateSpace

__all__ = [
    "COUNTED_MEASURE_STATUSES",
    "EXCLUSION_REASONS",
    "PAIR_COLUMNS",
    "InspectionPair",
    "PairSet",
    "pairs_frame",
    "pairs_from_histories",
    "prepare_pairs",
]

PAIR_COLUMNS = ("facility_id", "before", "after", "interval_years")

# Why a pair (or an inspection) was left out; every key is always present in ``excluded``.
EXCLUSION_REASONS: dict[str, str] = {
    "measure_between": "2回の点検の間に措置（修繕・更新など）があったペア",
    "improved": "健全性が改善したペア（措置の記録漏れまたは判定のばらつき）",
    "zero_interval": "同じ日の点検どうしのペア（経過年数0）",
    "missing_grade": "健全性が空欄の点検（ペアを作れない）",
    "missing_date": "点検日が空欄の点検（ペアを作れない）",
    "missing_covariate": "共変量が空欄のペア",
}

# 措置の状態: 完了・工事中 change the structure; 未着手・設計中 do not.  Unknown status counts (conservative).
COUNTED_MEASURE_STATUSES = ("完了", "工事中")


@dataclass(frozen=True)
class InspectionPair:
    """One pair of consecutive inspections of a facility (点検ペア).

    ``before`` / ``after`` are recorded grades (健全性 1–4 as ints; any 1…J scale), ``interval_years``
    the time between the two inspections in years.
    """

    facility_id: str
    before: int
    after: int
    interval_years: float
    covariates: Mapping[str, float] = field(default_factory=dict)
    member: str | None = None  # the group member (e.g. lg_code) for pooled fits


def pairs_frame(pairs: Iterable[InspectionPair]) -> pd.DataFrame:
    """InspectionPair rows → the pairs DataFrame (facility_id, before, after, interval_years, [member], covariates…)."""
    rows: list[dict[str, Any]] = []
    for p in pairs:
        row: dict[str, Any] = {"facility_id": p.facility_id, "before": p.before, "after": p.after,
                               "interval_years": p.interval_years}
        if p.member is not None:
            row["member"] = p.member
        row.update(p.covariates)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else list(PAIR_COLUMNS))
    return frame


@dataclass(frozen=True)
class PairSet:
    """Pairs ready for estimation, with what was left out and why.

    frame: facility_id (str), before, after (recorded grades, int), interval_years (float),
        optional member (str) and covariate columns (float).
    excluded: count per reason (keys of EXCLUSION_REASONS; always all present).
    """

    frame: pd.DataFrame
    excluded: Mapping[str, int]
    covariates: tuple[str, ...] = ()
    source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def n_pairs(self) -> int:
        return len(self.frame)


def _empty_excluded() -> dict[str, int]:
    return dict.fromkeys(EXCLUSION_REASONS, 0)


def prepare_pairs(
    pairs: pd.DataFrame | PairSet,
    states: StateSpace,
    covariates: Sequence[str] = (),
    *,
    member_column: str | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Validate a pairs frame and drop (counting) improved pairs and pairs with a missing covariate.

    Raises InvalidPairs for values that are not data but errors (grade out of range, negative
    interval, missing column).  Returns the kept pairs (index reset) and the merged exclusion counts.
    """
    excluded = _empty_excluded()
    if isinstance(pairs, PairSet):
        for k, v in pairs.excluded.items():
            excluded[k] = excluded.get(k, 0) + int(v)
        frame = pairs.frame
    else:
        frame = pairs
    needed = list(PAIR_COLUMNS) + list(covariates) + ([member_column] if member_column else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InvalidPairs(
            "missing_column",
            f"点検ペアに列がありません: {', '.join(missing)}（必要な列: 施設ID・前回の健全性・今回の健全性・経過年数"
            + ("・共変量" if covariates else "") + "）。",
            f"Pairs lack column(s): {', '.join(missing)}.", column=missing[0])
    before = pd.to_numeric(frame["before"], errors="coerce")
    after = pd.to_numeric(frame["after"], errors="coerce")
    z = pd.to_numeric(frame["interval_years"], errors="coerce")
    top = states.n_recorded
    for name, col in (("before", before), ("after", after)):
        bad = col.isna() | (col < 1) | (col > top) | (col != col.round())
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InvalidPairs(
                "grade_out_of_range",
                f"{row + 1}件目のペアの{'前回' if name == 'before' else '今回'}の健全性「{frame[name].iloc[row]}」は"
                f"1〜{top}の整数ではありません（健全性 {'・'.join(states.labels)}"
                f"{'（Ⅳ はⅢに統合）' if states.merge_iv else ''}）。",
                f"Pair {row + 1}: {name} grade {frame[name].iloc[row]!r} is not an integer 1..{top}.", column=name)
    bad_z = z.isna() | (z < 0) | ~np.isfinite(z.to_numpy(dtype=float, na_value=np.nan))
    if bad_z.any():
        row = int(np.flatnonzero(bad_z.to_numpy())[0])
        raise InvalidPairs(
            "bad_interval",
            f"{row + 1}件目のペアの経過年数「{frame['interval_years'].iloc[row]}」は0以上の数ではありません。",
            f"Pair {row + 1}: interval_years {frame['interval_years'].iloc[row]!r} is not a number ≥ 0.",
            column="interval_years")
    keep = np.ones(len(frame), dtype=bool)
    zero = (z <= 0).to_numpy()
    excluded["zero_interval"] += int(zero.sum())
    keep &= ~zero
    improved = (after < before).to_numpy() & keep
    excluded["improved"] += int(improved.sum())
    keep &= ~improved
    cov = frame[list(covariates)].apply(pd.to_numeric, errors="coerce") if covariates else None
    if cov is not None:
        miss = cov.isna().any(axis=1).to_numpy() & keep
        excluded["missing_covariate"] += int(miss.sum())
        keep &= ~miss
    out = pd.DataFrame({
        "facility_id": frame["facility_id"].astype(str).to_numpy()[keep],
        "before": before.to_numpy()[keep].astype(np.int64),
        "after": after.to_numpy()[keep].astype(np.int64),
        "interval_years": z.to_numpy(dtype=float)[keep],
    })
    if member_column:
        out["member"] = frame[member_column].astype(str).to_numpy()[keep]
    if cov is not None:
        for c in covariates:
            out[c] = cov[c].to_numpy(dtype=float)[keep]
    return out, excluded


def _fy_start(fy: pd.Series) -> pd.Series:
    return pd.to_datetime(fy.astype("Int64").astype(str) + "-04-01", errors="coerce")


def pairs_from_histories(
    inspections: pd.DataFrame,
    measures: pd.DataFrame | None = None,
    *,
    facilities: pd.DataFrame | None = None,
    covariates: Sequence[str] = (),
    member_column: str | None = None,
    counted_statuses: Sequence[str] = COUNTED_MEASURE_STATUSES,
) -> PairSet:
    """Consecutive inspection pairs of the same facility from ledger-shaped frames (LedgerFrames).

    inspections: facility, inspected_on (datetime), grade (1–4, NaN unknown).
    measures: facility, fiscal_year, status (未着手/設計中/工事中/完了, NaN unknown), kind.
    facilities: facility (column or index) and the covariate columns; the covariate ``age`` is
        computed as (year of the earlier inspection − built_year); ``member_column`` (e.g. lg_code)
        is copied as ``member`` for pooled fits.

    A pair is left out, and counted, when a measure whose status is in ``counted_statuses`` (or
    unknown) falls in a fiscal year (April–March) that overlaps the interval between the two
    inspections — the measure's date is only known to the fiscal year, so a measure in the fiscal
    year of either inspection counts as between (conservative); when the grade improved; when the
    two inspections are on the same day.  Inspections without a grade or a date are counted and skipped.
    """
    excluded = _empty_excluded()
    ins = inspections[["facility", "inspected_on", "grade"]].copy()
    ins["inspected_on"] = pd.to_datetime(ins["inspected_on"], errors="coerce")
    ins["grade"] = pd.to_numeric(ins["grade"], errors="coerce")
    no_date = ins["inspected_on"].isna()
    no_grade = ins["grade"].isna() & ~no_date
    excluded["missing_date"] = int(no_date.sum())
    excluded["missing_grade"] = int(no_grade.sum())
    ins = ins[~no_date & ~no_grade].sort_values(["facility", "inspected_on"], kind="stable")
    fac = ins["facility"].to_numpy()
    same = np.zeros(len(ins), dtype=bool)
    same[1:] = fac[1:] == fac[:-1]
    nxt = np.flatnonzero(same)  # row k pairs with row k-1
    d = ins["inspected_on"].to_numpy()
    g = ins["grade"].to_numpy()
    pairs = pd.DataFrame({
        "facility": fac[nxt],
        "d1": d[nxt - 1],
        "d2": d[nxt],
        "before": g[nxt - 1].astype(np.int64),
        "after": g[nxt].astype(np.int64),
    })
    pairs["interval_years"] = (pairs["d2"] - pairs["d1"]).dt.days.to_numpy() / 365.25
    pairs["pair"] = np.arange(len(pairs))
    drop = np.zeros(len(pairs), dtype=bool)
    if measures is not None and len(measures) and len(pairs):
        m = measures[["facility", "fiscal_year"] + (["status"] if "status" in measures.columns else [])].copy()
        if "status" in m.columns:
            st = m["status"]
            m = m[st.isna() | st.isin(list(counted_statuses))]
        m["fy_start"] = _fy_start(pd.to_numeric(m["fiscal_year"], errors="coerce"))
        m = m.dropna(subset=["fy_start"])
        m["fy_end"] = m["fy_start"] + pd.DateOffset(years=1) - pd.Timedelta(days=1)
        j = pairs[["pair", "facility", "d1", "d2"]].merge(m[["facility", "fy_start", "fy_end"]], on="facility")
        hit = j.loc[(j["fy_start"] <= j["d2"]) & (j["fy_end"] >= j["d1"]), "pair"].unique()
        drop[hit] = True
    excluded["measure_between"] = int(drop.sum())
    zero = (pairs["interval_years"].to_numpy() <= 0) & ~drop
    excluded["zero_interval"] = int(zero.sum())
    drop |= zero
    improved = (pairs["after"] < pairs["before"]).to_numpy() & ~drop
    excluded["improved"] = int(improved.sum())
    drop |= improved
    pairs = pairs[~drop]
    out = pd.DataFrame({
        "facility_id": pairs["facility"].astype(str).to_numpy(),
        "before": pairs["before"].to_numpy(),
        "after": pairs["after"].to_numpy(),
        "interval_years": pairs["interval_years"].to_numpy(),
    })
    notes: list[str] = []
    if covariates or member_column:
        if facilities is None:
            raise InvalidPairs("no_facilities", "共変量・グループ構成員を使うには施設台帳（facilities）が必要です。",
                               "Covariates / members need the facilities frame.")
        f = facilities.reset_index() if "facility" not in facilities.columns else facilities
        f = f.set_index("facility")
        keys = pairs["facility"].to_numpy()
        for c in covariates:
            if c == "age":
                built = pd.to_numeric(f["built_year"], errors="coerce").reindex(keys).to_numpy(dtype=float)
                out[c] = pairs["d1"].dt.year.to_numpy() - built
            elif c in f.columns:
                out[c] = pd.to_numeric(f[c], errors="coerce").reindex(keys).to_numpy(dtype=float)
            else:
                raise InvalidPairs("unknown_covariate", f"共変量「{c}」は施設台帳の列にありません。",
                                   f"Covariate {c!r} is not a facilities column.", column=c)
        if member_column:
            out["member"] = f[member_column].astype(str).reindex(keys).to_numpy()
        if covariates:
            miss = out[list(covariates)].isna().any(axis=1).to_numpy()
            excluded["missing_covariate"] = int(miss.sum())
            out = out[~miss].reset_index(drop=True)
    return PairSet(out, excluded, tuple(covariates), source="ledger inspection histories", notes=tuple(notes))
