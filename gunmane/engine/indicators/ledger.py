"""Ledger indicators: the state of every facility at `as_of`, then counts per group with np.bincount.

The facility state is computed once for the whole ledger (sorting the inspections once), so that the
table of 1,741 municipalities and a single カルテ use the same numbers and neither loops over
municipalities in Python.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from gunmane.engine.calendar import fiscal_year
from gunmane.engine.indicator_types import LedgerFrames
from gunmane.engine.indicators.definitions import AGE_THRESHOLD, FIVE_YEAR_CYCLE_TYPES, INSPECTION_CYCLE_YEARS
from gunmane.engine.indicators.frames import date_to_day, fiscal_years_of_days, to_days, years_before

STARTED_STATUSES = frozenset({"設計中", "工事中", "完了"})  # 未着手 is "not started"
NOT_STARTED_STATUS = "未着手"
_EXAMPLES = 5


def _filter_values(value: str | Collection[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _float_column(df: pd.DataFrame, name: str) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _in_set(values: np.ndarray, wanted: Collection[str]) -> np.ndarray:
    """Membership of many repeated codes: factorise, then test the few distinct values."""
    codes, uniques = pd.factorize(values)
    hit = np.append(np.array([str(u) in wanted for u in uniques], dtype=bool), False)
    return hit[np.where(codes >= 0, codes, len(hit) - 1)]


def _examples(values: np.ndarray) -> str:
    uniq = pd.unique(pd.Series(values).astype(str))
    shown = "、".join(uniq[:_EXAMPLES])
    return shown + (" ほか" if len(uniq) > _EXAMPLES else "")


@dataclass
class FacilityState:
    """One entry per facility that counts (known owner, passes the sector/type filter), state at `as_of`."""

    as_of: date
    fy_now: int
    owner: np.ndarray  # position in ReferenceFrames.municipalities.index
    sector: np.ndarray
    facility_type: np.ndarray
    built_year: np.ndarray  # float, NaN unknown
    length_m: np.ndarray
    area_m2: np.ndarray
    grade: np.ndarray  # int 0 = never inspected by as_of, else latest grade 1–4
    last_day: np.ndarray  # float days since 1970 of the latest inspection (NaN unknown)
    judged_day: np.ndarray  # first inspection of the current Ⅲ/Ⅳ run (NaN when not Ⅲ/Ⅳ or unknown)
    started: np.ndarray  # bool: a measure was started (設計中/工事中/完了) in or after the judgment's FY
    cohort5: np.ndarray  # bool: judged Ⅲ/Ⅳ on some inspection at least 5 years before as_of
    synthetic: np.ndarray  # bool
    five_year: np.ndarray  # bool: the facility type has a statutory 5-year inspection cycle
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.owner)

    def subset(self, mask: np.ndarray) -> FacilityState:
        arrays = {k: getattr(self, k)[mask] for k in (
            "owner", "sector", "facility_type", "built_year", "length_m", "area_m2", "grade", "last_day",
            "judged_day", "started", "cohort5", "synthetic", "five_year")}
        return FacilityState(self.as_of, self.fy_now, notes=list(self.notes), **arrays)

    # --- derived per-facility flags ---
    @property
    def cutoff_day(self) -> int:
        return date_to_day(years_before(self.as_of, INSPECTION_CYCLE_YEARS))

    @property
    def overdue(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.five_year & (self.grade > 0) & (self.last_day < self.cutoff_day)

    @property
    def backlog(self) -> np.ndarray:
        return (self.grade >= 3) & ~self.started

    @property
    def backlog_5y(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.backlog & (self.judged_day <= self.cutoff_day)


def facility_state(ledger: LedgerFrames, lg_codes: pd.Index, as_of: date, *,
                   sector: str | Collection[str] | None = None,
                   facility_type: str | Collection[str] | None = None) -> FacilityState:
    """The state of every facility at `as_of`; records that cannot be attached are left out with a note."""
    notes: list[str] = []
    fac = ledger.facilities
    as_of_day = date_to_day(as_of)
    cutoff = date_to_day(years_before(as_of, INSPECTION_CYCLE_YEARS))

    # owner: lg_code → position in the reference frame (factorise first: many facilities, few codes)
    codes, uniques = pd.factorize(fac["lg_code"])
    uniq_text = pd.Index([str(u).strip().zfill(6) for u in uniques], dtype=object)
    uniq_pos = np.append(lg_codes.get_indexer(uniq_text), -1)
    owner_all = uniq_pos[np.where(codes >= 0, codes, len(uniq_pos) - 1)]
    unknown = owner_all < 0
    if unknown.any():
        raw = fac["lg_code"].to_numpy()[unknown]
        notes.append(f"団体コードが参照データにない施設 {int(unknown.sum()):,} 件（{_examples(raw)}）を集計から除外しました"
                     "（合併等で廃止されたコード、または誤ったコードの可能性があります）。")

    fid_all = fac["facility"].to_numpy() if "facility" in fac else np.arange(len(fac))
    fid_index = pd.Index(fid_all)
    first = np.ones(len(fac), dtype=bool)
    if not fid_index.is_unique:
        first = ~fid_index.duplicated(keep="first")
        notes.append(f"施設IDが重複する行 {int((~first).sum()):,} 件は最初の行だけを集計しました。")
        fid_index = fid_index[first]
    keep = first & ~unknown
    for col, wanted in (("sector", _filter_values(sector)), ("facility_type", _filter_values(facility_type))):
        if wanted is not None:
            keep &= fac[col].astype(str).isin(wanted).to_numpy() if col in fac else False
    k = int(keep.sum())
    # position in fid_index (deduplicated) → position among kept facilities (or −1)
    kept_rows = np.flatnonzero(first)
    newpos = np.full(len(kept_rows), -1, dtype="int64")
    newpos[keep[kept_rows]] = np.arange(k)

    def positions(ids: pd.Series, what: str) -> np.ndarray:
        pos = fid_index.get_indexer(pd.Index(ids))
        missing = pos < 0
        if missing.any():
            notes.append(f"施設台帳にない施設の{what} {int(missing.sum()):,} 件を集計から除外しました。")
        return np.where(missing, -1, newpos[np.where(missing, 0, pos)])

    sub = fac.iloc[np.flatnonzero(keep)] if k < len(fac) else fac
    grade = np.zeros(k, dtype="int64")
    last_day = np.full(k, np.nan)
    judged_day = np.full(k, np.nan)
    cohort5 = np.zeros(k, dtype=bool)

    ins = ledger.inspections
    if len(ins):
        pos = positions(ins["facility"], "点検")
        day = to_days(ins["inspected_on"])
        gr = pd.to_numeric(ins["grade"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        after = day > as_of_day
        if after.any():
            notes.append(f"基準日（{as_of.isoformat()}）より後の点検 {int(after.sum()):,} 件は集計に含めていません。")
        ok = (pos >= 0) & ~np.isnan(day) & ~after & (gr >= 1) & (gr <= 4)
        bad_grade = (pos >= 0) & ~np.isnan(day) & ~after & ~((gr >= 1) & (gr <= 4))
        if bad_grade.any():
            notes.append(f"健全性がⅠ〜Ⅳでない点検 {int(bad_grade.sum()):,} 件は集計に含めていません。")
        p, d, g = pos[ok], day[ok].astype("int64"), gr[ok].astype("int64")
        if len(p):
            # one sort by (facility, date, grade): the last row of a facility is its latest judgment, and on
            # the same day the worse grade sorts last (two inspections on one day → the worse grade counts)
            dmin = int(d.min())
            span = int(d.max()) - dmin + 1
            key = (p * span + (d - dmin)) * 8 + g
            if len(key) > 1 and not (key[1:] >= key[:-1]).all():
                order = np.argsort(key, kind="stable")
                p, d, g = p[order], d[order], g[order]
            m = len(p)
            idx = np.arange(m)
            new_group = np.empty(m, dtype=bool)
            new_group[0] = True
            new_group[1:] = p[1:] != p[:-1]
            last = np.empty(m, dtype=bool)
            last[:-1] = new_group[1:]
            last[-1] = True
            grade[p[last]] = g[last]
            last_day[p[last]] = d[last]
            # judgment = first inspection after the last one graded Ⅰ/Ⅱ (the start of the current Ⅲ/Ⅳ run)
            last_ok = np.maximum.accumulate(np.where(g < 3, idx, -1))
            group_start = np.maximum.accumulate(np.where(new_group, idx, 0))
            lo, fs = last_ok[last], group_start[last]
            j = np.where(lo >= fs, lo + 1, fs)
            bad = g[last] >= 3
            judged_day[p[last][bad]] = d[j[bad]]
            hit = (g >= 3) & (d <= cutoff)
            cohort5[np.unique(p[hit])] = True
            inspected_rows = np.zeros(k, dtype=bool)
            inspected_rows[p] = True
        else:
            inspected_rows = np.zeros(k, dtype=bool)
    else:
        inspected_rows = np.zeros(k, dtype=bool)

    # facilities without inspection rows: fall back on the ledger's denormalised latest grade and date
    fb_grade = _float_column(sub, "latest_grade")
    fb_day = to_days(sub["latest_inspected_on"]) if "latest_inspected_on" in sub else np.full(k, np.nan)
    with np.errstate(invalid="ignore"):
        use = ~inspected_rows & (fb_grade >= 1) & (fb_grade <= 4) & (np.isnan(fb_day) | (fb_day <= as_of_day))
    if use.any():
        grade[use] = fb_grade[use].astype("int64")
        last_day[use] = fb_day[use]
        worse = use & (fb_grade >= 3)
        judged_day[worse] = fb_day[worse]
        with np.errstate(invalid="ignore"):
            cohort5 |= worse & (fb_day <= cutoff)

    started = np.zeros(k, dtype=bool)
    mea = ledger.measures
    if len(mea) and (grade >= 3).any():
        mpos = positions(mea["facility"], "措置")
        status = mea["status"].astype(str).to_numpy() if "status" in mea else np.full(len(mea), NOT_STARTED_STATUS)
        mfy = pd.to_numeric(mea["fiscal_year"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan) \
            if "fiscal_year" in mea else np.full(len(mea), np.nan)
        is_started = (mpos >= 0) & np.isin(status, list(STARTED_STATUSES))
        jfy = np.full(k, np.nan)
        has_j = ~np.isnan(judged_day)
        jfy[has_j] = fiscal_years_of_days(judged_day[has_j])
        mj = jfy[np.where(mpos >= 0, mpos, 0)]
        with np.errstate(invalid="ignore"):
            in_time = np.isnan(mfy) | np.isnan(mj) | (mfy >= mj)
        started[mpos[is_started & in_time]] = True

    ftype = sub["facility_type"].to_numpy(dtype=object) if "facility_type" in sub else np.full(k, "", dtype=object)
    return FacilityState(
        as_of=as_of,
        fy_now=fiscal_year(as_of),
        owner=owner_all[keep],
        sector=sub["sector"].to_numpy(dtype=object) if "sector" in sub else np.full(k, "", dtype=object),
        facility_type=ftype,
        five_year=_in_set(ftype, FIVE_YEAR_CYCLE_TYPES),
        built_year=_float_column(sub, "built_year"),
        length_m=_float_column(sub, "length_m"),
        area_m2=_float_column(sub, "area_m2"),
        grade=grade,
        last_day=last_day,
        judged_day=judged_day,
        started=started,
        cohort5=cohort5,
        synthetic=(sub["is_synthetic"].fillna(False).astype(bool).to_numpy() if "is_synthetic" in sub
                   else np.zeros(k, dtype=bool)),
        notes=notes,
    )


def ledger_counts(state: FacilityState, group: np.ndarray, ngroups: int) -> dict[str, np.ndarray]:
    """The counts behind every ledger indicator, per group (group −1 = left out)."""
    inside = group >= 0
    g = group[inside]

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(g[mask[inside]], minlength=ngroups).astype("int64")

    def total(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=np.where(mask, values, 0.0)[inside], minlength=ngroups)

    by = state.built_year
    known = ~np.isnan(by)
    with np.errstate(invalid="ignore"):
        a50 = {h: known & (state.fy_now + h - by >= AGE_THRESHOLD) for h in (0, 10, 20)}
    length_known = ~np.isnan(state.length_m)
    area_known = ~np.isnan(state.area_m2)
    five = state.five_year
    all_rows = np.ones(len(state), dtype=bool)
    return {
        "facilities": count(all_rows),
        "length_n": count(length_known),
        "length_sum": total(state.length_m, length_known),
        "area_n": count(area_known),
        "area_sum": total(state.area_m2, area_known),
        "known_year": count(known),
        "a50_0": count(a50[0]),
        "a50_10": count(a50[10]),
        "a50_20": count(a50[20]),
        "inspected": count(state.grade > 0),
        "iii_iv": count(state.grade >= 3),
        "five_year": count(five),
        "overdue": count(state.overdue),
        "backlog": count(state.backlog),
        "backlog_5y": count(state.backlog_5y),
        "cohort5": count(state.cohort5),
        "synthetic": count(state.synthetic),
    }


def ledger_values(c: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """id → (value with NaN for unknown, n). No facility in a group → every value unknown, n = 0."""
    fac = c["facilities"]
    has = fac > 0
    nan = np.nan

    def ratio(num: np.ndarray, den: np.ndarray, scale: float = 100.0) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den * scale, nan)

    def counted(num: np.ndarray, when: np.ndarray) -> np.ndarray:
        return np.where(when, num.astype("float64"), nan)

    inspected = c["inspected"]
    zero = np.zeros_like(fac)
    return {
        "facilities": (counted(fac, has), fac),
        "facility_length_km": (np.where(c["length_n"] > 0, c["length_sum"] / 1000.0, nan), c["length_n"]),
        "facility_area_m2": (np.where(c["area_n"] > 0, c["area_sum"], nan), c["area_n"]),
        "age_50plus_share": (ratio(c["a50_0"], c["known_year"]), c["known_year"]),
        "age_50plus_share_10y": (ratio(c["a50_10"], c["known_year"]), c["known_year"]),
        "age_50plus_share_20y": (ratio(c["a50_20"], c["known_year"]), c["known_year"]),
        "unknown_built_year": (counted(fac - c["known_year"], has), fac),
        "grade_iii_iv_share": (ratio(c["iii_iv"], inspected), inspected),
        "never_inspected": (counted(fac - inspected, has), fac),
        "inspection_overdue": (counted(c["overdue"], c["five_year"] > 0), c["five_year"]),
        "backlog": (counted(c["backlog"], inspected > 0), np.where(has, inspected, zero)),
        "backlog_5y": (counted(c["backlog_5y"], inspected > 0), np.where(has, inspected, zero)),
        "backlog_5y_share": (ratio(c["backlog_5y"], c["cohort5"]), c["cohort5"]),
    }
