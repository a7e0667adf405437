"""Inspection pairs (点検ペア): the data of the Markov hazard model.

A pair is two consecutive inspections of the same facility with no measure (措置) between them:
grade before, grade after, the years between them and the facility's covariates.  Pairs are built
from the ledger's inspection histories (``pairs_from_histories``) or read from a pairs file
(``gunmane.io.ledger.pairs``).  Every pair that is left out is counted by reason in ``excluded`` —
never silently dropped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gunmane.engine.deterioration.errors import InvalidPairs
from gunmane.engine.deterioration.model import StateSpace

if TYPE_CHECKING:  # pandas is imported where a frame is made: a fit from a pairs file does without it (#15 §6)
    import pandas as pd

__all__ = [
    "COUNTED_MEASURE_STATUSES",
    "EXCLUSION_REASONS",
    "PAIR_COLUMNS",
    "InspectionPair",
    "PairColumns",
    "PairSet",
    "pairs_frame",
    "pairs_from_histories",
    "prepare_columns",
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
    import pandas as pd

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


class PairColumns:
    """Pairs as numpy columns, one array per column and all of one length — a small table without pandas.

    What a pairs file is read into and what the fit works on, so that `gunmane deterioration fit --pairs FILE`
    starts without importing pandas (a third of a second, half of the whole command; issue #15 §6). Indexing by a
    column name gives its array; ``to_frame()`` gives the pandas DataFrame for callers that want one.
    """

    def __init__(self, columns: Mapping[str, ArrayLike]) -> None:
        self._data: dict[str, NDArray[Any]] = {str(k): np.asarray(v) for k, v in columns.items()}
        lengths = {len(v) for v in self._data.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        self.n_rows = lengths.pop() if lengths else 0

    @property
    def columns(self) -> list[str]:
        return list(self._data)

    def __getitem__(self, name: str) -> NDArray[Any]:
        return self._data[name]

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __len__(self) -> int:  # rows, as a DataFrame's len()
        return self.n_rows

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self._data, columns=self.columns or list(PAIR_COLUMNS))


@dataclass(frozen=True)
class PairSet:
    """Pairs ready for estimation, with what was left out and why.

    table: facility_id (str), before, after (recorded grades, int), interval_years (float),
        optional member (str) and covariate columns (float) — a DataFrame, or PairColumns from a pairs file.
    excluded: count per reason (keys of EXCLUSION_REASONS; always all present).
    """

    table: pd.DataFrame | PairColumns
    excluded: Mapping[str, int]
    covariates: tuple[str, ...] = ()
    source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def frame(self) -> pd.DataFrame:
        """The pairs as a DataFrame (made on demand when they were read as columns)."""
        return self.table.to_frame() if isinstance(self.table, PairColumns) else self.table

    @property
    def n_pairs(self) -> int:
        return len(self.table)


def _empty_excluded() -> dict[str, int]:
    return dict.fromkeys(EXCLUSION_REASONS, 0)


def _array(table: pd.DataFrame | PairColumns, name: str) -> NDArray[Any]:
    col = table[name]
    return col.to_numpy() if hasattr(col, "to_numpy") else np.asarray(col)


def _floats(table: pd.DataFrame | PairColumns, name: str) -> NDArray[np.float64]:
    """A column as floats, NaN where a value is not a number (what pandas' to_numeric(errors="coerce") gives)."""
    col = table[name]
    if hasattr(col, "to_numpy"):
        try:
            return np.asarray(col.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        except (TypeError, ValueError):
            pass
    arr = _array(table, name)
    if arr.dtype.kind in "biuf":
        return arr.astype(float)
    out = np.full(len(arr), np.nan)
    for k, v in enumerate(arr.tolist()):
        with contextlib.suppress(TypeError, ValueError):
            out[k] = float(v)
    return out


def prepare_columns(
    pairs: pd.DataFrame | PairSet | PairColumns,
    states: StateSpace,
    covariates: Sequence[str] = (),
    *,
    member_column: str | None = None,
) -> tuple[PairColumns, dict[str, int]]:
    """Validate pairs and drop (counting) improved pairs and pairs with a missing covariate — in numpy.

    Raises InvalidPairs for values that are not data but errors (grade out of range, negative
    interval, missing column).  Returns the kept pairs and the merged exclusion counts.
    """
    excluded = _empty_excluded()
    table: pd.DataFrame | PairColumns
    if isinstance(pairs, PairSet):
        for k, v in pairs.excluded.items():
            excluded[k] = excluded.get(k, 0) + int(v)
        table = pairs.table
    else:
        table = pairs
    needed = list(PAIR_COLUMNS) + list(covariates) + ([member_column] if member_column else [])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InvalidPairs(
            "missing_column",
            f"点検ペアに列がありません: {', '.join(missing)}（必要な列: 施設ID・前回の健全性・今回の健全性・経過年数"
            + ("・共変量" if covariates else "") + "）。",
            f"Pairs lack column(s): {', '.join(missing)}.", column=missing[0])
    before = _floats(table, "before")
    after = _floats(table, "after")
    z = _floats(table, "interval_years")
    top = states.n_recorded
    for name, col in (("before", before), ("after", after)):
        with np.errstate(invalid="ignore"):
            bad = np.isnan(col) | (col < 1) | (col > top) | (col != np.round(col))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raw = _array(table, name)[row]
            raise InvalidPairs(
                "grade_out_of_range",
                f"{row + 1}件目のペアの{'前回' if name == 'before' else '今回'}の健全性「{raw}」は"
                f"1〜{top}の整数ではありません（健全性 {'・'.join(states.labels)}"
                f"{'（Ⅳ はⅢに統合）' if states.merge_iv else ''}）。",
                f"Pair {row + 1}: {name} grade {raw!r} is not an integer 1..{top}.", column=name)
    with np.errstate(invalid="ignore"):
        bad_z = ~np.isfinite(z) | (z < 0)
    if bad_z.any():
        row = int(np.flatnonzero(bad_z)[0])
        raw = _array(table, "interval_years")[row]
        raise InvalidPairs(
            "bad_interval",
            f"{row + 1}件目のペアの経過年数「{raw}」は0以上の数ではありません。",
            f"Pair {row + 1}: interval_years {raw!r} is not a number ≥ 0.",
            column="interval_years")
    keep = np.ones(len(table), dtype=bool)
    zero = z <= 0
    excluded["zero_interval"] += int(zero.sum())
    keep &= ~zero
    improved = (after < before) & keep
    excluded["improved"] += int(improved.sum())
    keep &= ~improved
    cov = {c: _floats(table, c) for c in covariates}
    if cov:
        miss = np.column_stack([np.isnan(v) for v in cov.values()]).any(axis=1) & keep
        excluded["missing_covariate"] += int(miss.sum())
        keep &= ~miss
    out: dict[str, ArrayLike] = {
        "facility_id": _array(table, "facility_id").astype(str).astype(object)[keep],
        "before": before[keep].astype(np.int64),
        "after": after[keep].astype(np.int64),
        "interval_years": z[keep],
    }
    if member_column:
        out["member"] = _array(table, member_column).astype(str).astype(object)[keep]
    for c, values in cov.items():
        out[c] = values[keep]
    return PairColumns(out), excluded


def prepare_pairs(
    pairs: pd.DataFrame | PairSet | PairColumns,
    states: StateSpace,
    covariates: Sequence[str] = (),
    *,
    member_column: str | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """``prepare_columns`` with the kept pairs as a DataFrame (index 0…n−1)."""
    columns, excluded = prepare_columns(pairs, states, covariates, member_column=member_column)
    return columns.to_frame(), excluded


def _fy_start(fy: pd.Series) -> pd.Series:
    import pandas as pd

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
    import pandas as pd

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
