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
    # int 0 = never inspected by as_of, else the latest judgment's common band 1–4 (共通の緊急度区分; on road
    # structures the 健全性 Ⅰ〜Ⅳ itself; the grade where the ledger has no band): what sectors are compared on
    grade: np.ndarray
    last_day: np.ndarray  # float days since 1970 of the latest inspection (NaN unknown)
    judged_day: np.ndarray  # first inspection of the current Ⅲ/Ⅳ run (NaN when not Ⅲ/Ⅳ or unknown)
    started: np.ndarray  # bool: a measure was started (設計中/工事中/完了) in or after the judgment's FY
    cohort5: np.ndarray  # bool: judged Ⅲ/Ⅳ on some inspection at least 5 years before as_of
    synthetic: np.ndarray  # bool
    five_year: np.ndarray  # bool: the facility type has a statutory 5-year inspection cycle
    # int 0 = never inspected, else the latest grade on the facility type's own scale (1 = best)
    scale_grade: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="int64"))
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.owner)

    def subset(self, mask: np.ndarray) -> FacilityState:
        arrays = {k: getattr(self, k)[mask] for k in (
            "owner", "sector", "facility_type", "built_year", "length_m", "area_m2", "grade", "last_day",
            "judged_day", "started", "cohort5", "synthetic", "five_year", "scale_grade")}
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
    owner_all = _owner_positions(fac, lg_codes, notes)
    kept = _kept_facilities(fac, owner_all < 0, sector, facility_type, notes)
    k = kept.n
    sub = fac.iloc[np.flatnonzero(kept.keep)] if k < len(fac) else fac
    judged = _judgments_from_inspections(ledger.inspections, kept, as_of, as_of_day, cutoff, notes)
    _fall_back_on_ledger_grades(judged, sub, as_of_day, cutoff)
    started = _started_measures(ledger.measures, kept, judged, notes)
    ftype = sub["facility_type"].to_numpy(dtype=object) if "facility_type" in sub else np.full(k, "", dtype=object)
    return FacilityState(
        as_of=as_of,
        fy_now=fiscal_year(as_of),
        owner=owner_all[kept.keep],
        sector=sub["sector"].to_numpy(dtype=object) if "sector" in sub else np.full(k, "", dtype=object),
        facility_type=ftype,
        five_year=_in_set(ftype, FIVE_YEAR_CYCLE_TYPES),
        built_year=_float_column(sub, "built_year"),
        length_m=_float_column(sub, "length_m"),
        area_m2=_float_column(sub, "area_m2"),
        grade=judged.grade,
        scale_grade=judged.own,
        last_day=judged.last_day,
        judged_day=judged.judged_day,
        started=started,
        cohort5=judged.cohort5,
        synthetic=(sub["is_synthetic"].fillna(False).astype(bool).to_numpy() if "is_synthetic" in sub
                   else np.zeros(k, dtype=bool)),
        notes=notes,
    )


@dataclass(frozen=True)
class _Kept:
    """The facilities that count, and where a record that names a facility id finds its one."""

    index: pd.Index  # facility ids, the first row of each
    keep: np.ndarray  # bool per ledger row: first row of its id, known owner, passes the sector/type filters
    position: np.ndarray  # per entry of `index`: position among the kept facilities, or −1
    n: int  # kept facilities

    def positions(self, ids: pd.Series, what: str, notes: list[str]) -> np.ndarray:
        """Position among the kept facilities of each record's facility (−1 when not kept); records of facilities
        that are not in the ledger are noted."""
        pos = self.index.get_indexer(pd.Index(ids))
        missing = pos < 0
        if missing.any():
            notes.append(f"施設台帳にない施設の{what} {int(missing.sum()):,} 件を集計から除外しました。")
        return np.where(missing, -1, self.position[np.where(missing, 0, pos)])


@dataclass
class _Judgments:
    """Per kept facility: the latest judgment at `as_of` and when the current Ⅲ/Ⅳ run began."""

    grade: np.ndarray  # int 0 = never inspected by as_of, else latest grade 1–4
    last_day: np.ndarray  # day of the latest inspection (NaN unknown)
    judged_day: np.ndarray  # first inspection of the current Ⅲ/Ⅳ run (NaN when not Ⅲ/Ⅳ or unknown)
    cohort5: np.ndarray  # judged Ⅲ/Ⅳ on some inspection at least 5 years before as_of
    inspected: np.ndarray  # has inspection rows in the ledger (else the facility row's latest grade is used)
    own: np.ndarray  # int 0 = never inspected, else the latest grade on the facility type's own scale

    @classmethod
    def none(cls, k: int) -> _Judgments:
        return cls(np.zeros(k, dtype="int64"), np.full(k, np.nan), np.full(k, np.nan), np.zeros(k, dtype=bool),
                   np.zeros(k, dtype=bool), np.zeros(k, dtype="int64"))


def _owner_positions(fac: pd.DataFrame, lg_codes: pd.Index, notes: list[str]) -> np.ndarray:
    """Each facility's owner as its position in the reference frame (−1, with a note, for unknown codes)."""
    # factorise first: many facilities, few codes
    codes, uniques = pd.factorize(fac["lg_code"])
    uniq_text = pd.Index([str(u).strip().zfill(6) for u in uniques], dtype=object)
    uniq_pos = np.append(lg_codes.get_indexer(uniq_text), -1)
    owner_all = uniq_pos[np.where(codes >= 0, codes, len(uniq_pos) - 1)]
    unknown = owner_all < 0
    if unknown.any():
        raw = fac["lg_code"].to_numpy()[unknown]
        notes.append(f"団体コードが参照データにない施設 {int(unknown.sum()):,} 件（{_examples(raw)}）を集計から除外しました"
                     "（合併等で廃止されたコード、または誤ったコードの可能性があります）。")
    return owner_all


def _kept_facilities(fac: pd.DataFrame, unknown_owner: np.ndarray, sector: str | Collection[str] | None,
                     facility_type: str | Collection[str] | None, notes: list[str]) -> _Kept:
    """The facilities that count: the first row of each facility id (duplicates noted), with a known owner,
    passing the sector and type filters."""
    fid_all = fac["facility"].to_numpy() if "facility" in fac else np.arange(len(fac))
    fid_index = pd.Index(fid_all)
    first = np.ones(len(fac), dtype=bool)
    if not fid_index.is_unique:
        first = ~fid_index.duplicated(keep="first")
        notes.append(f"施設IDが重複する行 {int((~first).sum()):,} 件は最初の行だけを集計しました。")
        fid_index = fid_index[first]
    keep = first & ~unknown_owner
    for col, wanted in (("sector", _filter_values(sector)), ("facility_type", _filter_values(facility_type))):
        if wanted is not None:
            keep &= fac[col].astype(str).isin(wanted).to_numpy() if col in fac else False
    k = int(keep.sum())
    # position in fid_index (deduplicated) → position among kept facilities (or −1)
    kept_rows = np.flatnonzero(first)
    newpos = np.full(len(kept_rows), -1, dtype="int64")
    newpos[keep[kept_rows]] = np.arange(k)
    return _Kept(fid_index, keep, newpos, k)


def _judgments_from_inspections(ins: pd.DataFrame, kept: _Kept, as_of: date, as_of_day: int, cutoff: int,
                                notes: list[str]) -> _Judgments:
    """The latest judgment of each facility from its inspection rows up to `as_of` (rows after it, or without a
    grade Ⅰ–Ⅳ, are left out with a note)."""
    judged = _Judgments.none(kept.n)
    if not len(ins):
        return judged
    pos = kept.positions(ins["facility"], "点検", notes)
    day = to_days(ins["inspected_on"])
    own = pd.to_numeric(ins["grade"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    # judgments are made on the common band (band ≥ 3: the scale's repair trigger reached); a ledger without
    # bands (a file of road structures) is judged on its grades, which are their bands
    band = (pd.to_numeric(ins["band"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            if "band" in ins else own)
    gr = np.where(np.isnan(band), own, band)
    after = day > as_of_day
    if after.any():
        notes.append(f"基準日（{as_of.isoformat()}）より後の点検 {int(after.sum()):,} 件は集計に含めていません。")
    ok = (pos >= 0) & ~np.isnan(day) & ~after & (gr >= 1) & (gr <= 4)
    bad_grade = (pos >= 0) & ~np.isnan(day) & ~after & ~((gr >= 1) & (gr <= 4))
    if bad_grade.any():
        notes.append(f"健全性がⅠ〜Ⅳでない点検 {int(bad_grade.sum()):,} 件は集計に含めていません。")
    if ok.any():
        _scan_histories(judged, pos[ok], day[ok].astype("int64"), gr[ok].astype("int64"), cutoff,
                        np.nan_to_num(own[ok]).astype("int64"))
    return judged


def _scan_histories(judged: _Judgments, facility: np.ndarray, day: np.ndarray, grade: np.ndarray, cutoff: int,
                    own: np.ndarray | None = None) -> None:
    """Fill the judgments from valid inspection rows (facility position, day, band, grade on the own scale)
    with one sort and one scan."""
    own = grade if own is None else own
    # one sort by (facility, date, grade): the last row of a facility is its latest judgment, and on
    # the same day the worse grade sorts last (two inspections on one day → the worse grade counts)
    dmin = int(day.min())
    span = int(day.max()) - dmin + 1
    key = ((facility * span + (day - dmin)) * 8 + grade) * 8 + np.clip(own, 0, 7)
    if len(key) > 1 and not (key[1:] >= key[:-1]).all():
        order = np.argsort(key, kind="stable")
        facility, day, grade, own = facility[order], day[order], grade[order], own[order]
    m = len(facility)
    idx = np.arange(m)
    new_group = np.empty(m, dtype=bool)
    new_group[0] = True
    new_group[1:] = facility[1:] != facility[:-1]
    last = np.empty(m, dtype=bool)
    last[:-1] = new_group[1:]
    last[-1] = True
    judged.grade[facility[last]] = grade[last]
    judged.own[facility[last]] = own[last]
    judged.last_day[facility[last]] = day[last]
    # judgment = first inspection after the last one graded Ⅰ/Ⅱ (the start of the current Ⅲ/Ⅳ run)
    last_ok = np.maximum.accumulate(np.where(grade < 3, idx, -1))
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0))
    last_ok_row, first_row = last_ok[last], group_start[last]
    run_start = np.where(last_ok_row >= first_row, last_ok_row + 1, first_row)
    iii_iv = grade[last] >= 3
    judged.judged_day[facility[last][iii_iv]] = day[run_start[iii_iv]]
    early_iii_iv = (grade >= 3) & (day <= cutoff)
    judged.cohort5[np.unique(facility[early_iii_iv])] = True
    judged.inspected[facility] = True


def _fall_back_on_ledger_grades(judged: _Judgments, sub: pd.DataFrame, as_of_day: int, cutoff: int) -> None:
    """Facilities without inspection rows: take the ledger's denormalised latest grade and date."""
    fb_own = _float_column(sub, "latest_grade")
    fb_band = _float_column(sub, "latest_band") if "latest_band" in sub else fb_own
    fb_grade = np.where(np.isnan(fb_band), fb_own, fb_band)
    fb_day = to_days(sub["latest_inspected_on"]) if "latest_inspected_on" in sub else np.full(len(judged.grade), np.nan)
    with np.errstate(invalid="ignore"):
        use = ~judged.inspected & (fb_grade >= 1) & (fb_grade <= 4) & (np.isnan(fb_day) | (fb_day <= as_of_day))
    if use.any():
        judged.grade[use] = fb_grade[use].astype("int64")
        judged.own[use] = np.nan_to_num(fb_own[use]).astype("int64")
        judged.last_day[use] = fb_day[use]
        worse = use & (fb_grade >= 3)
        judged.judged_day[worse] = fb_day[worse]
        with np.errstate(invalid="ignore"):
            judged.cohort5 |= worse & (fb_day <= cutoff)


def _started_measures(mea: pd.DataFrame, kept: _Kept, judged: _Judgments, notes: list[str]) -> np.ndarray:
    """Facilities with a measure started (設計中/工事中/完了) in or after the fiscal year of their judgment (or when
    either year is unknown); a measure from before the judgment answered an earlier one."""
    k = kept.n
    started = np.zeros(k, dtype=bool)
    if len(mea) and (judged.grade >= 3).any():
        mpos = kept.positions(mea["facility"], "措置", notes)
        status = mea["status"].astype(str).to_numpy() if "status" in mea else np.full(len(mea), NOT_STARTED_STATUS)
        mfy = pd.to_numeric(mea["fiscal_year"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan) \
            if "fiscal_year" in mea else np.full(len(mea), np.nan)
        is_started = (mpos >= 0) & np.isin(status, list(STARTED_STATUSES))
        jfy = np.full(k, np.nan)
        has_j = ~np.isnan(judged.judged_day)
        jfy[has_j] = fiscal_years_of_days(judged.judged_day[has_j])
        mj = jfy[np.where(mpos >= 0, mpos, 0)]
        with np.errstate(invalid="ignore"):
            in_time = np.isnan(mfy) | np.isnan(mj) | (mfy >= mj)
        started[mpos[is_started & in_time]] = True
    return started


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
