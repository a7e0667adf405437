"""見える化 indicators (gunmane.engine.indicators): hand-counted ledger, real reference totals, edge cases.

The ledger numbers are recomputed by an independent route: counted by hand below (with the counting written
out), and for random ledgers by a plain per-facility Python loop that shares no code with the engine.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gunmane.engine.indicator_types import LedgerFrames, ReferenceFrames, ScopeKind
from gunmane.engine.indicators import (
    FIVE_YEAR_CYCLE_TYPES,
    INDICATORS,
    LEDGER_IDS,
    MIN_COMPARABLE,
    REFERENCE_IDS,
    empty_ledger,
    group_scope,
    karte,
    municipal_table,
    municipality_scope,
    national_scope,
    peer_groups,
    prefecture_scope,
)
from gunmane.engine.indicators.definitions import FACILITY_TYPE_NAMES, SECTOR_NAMES
from gunmane.io.shipped import refdata

REPO = Path(__file__).resolve().parents[2]
AS_OF = date(2025, 3, 31)  # FY2024; "5 years before" = 2020-03-31
FY = 2024
UDA, SONI, NARA_PREF = "292125", "293857", "290009"
GONE = "293822"  # a well-formed code that is not in the current list (what a merger leaves behind)
NAGAKUTE = "232386"  # 長久手市: bridges blank in the reference data


@cache
def _ref() -> ReferenceFrames:
    return refdata.reference_frames()


@pytest.fixture
def ref() -> ReferenceFrames:
    r = _ref()  # frames are shared: tests that change them take a copy
    return ReferenceFrames(r.municipalities.copy(), r.stats.copy())


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def ledger_of(facilities: list[dict], inspections: list[tuple], measures: list[tuple]) -> LedgerFrames:
    base = empty_ledger()
    fac = pd.DataFrame(facilities, columns=list(base.facilities.columns)) if facilities else base.facilities
    if facilities:
        fac["latest_inspected_on"] = pd.to_datetime(fac["latest_inspected_on"])
        for col in ("built_year", "length_m", "area_m2", "latest_grade"):
            fac[col] = fac[col].astype("float64")
        fac["is_synthetic"] = fac["is_synthetic"].fillna(False).astype(bool)
    ins = pd.DataFrame(inspections, columns=["facility", "inspected_on", "grade"]) if inspections \
        else base.inspections
    if inspections:
        ins["inspected_on"] = pd.to_datetime(ins["inspected_on"])
    mea = pd.DataFrame(measures, columns=["facility", "fiscal_year", "kind", "status"]) if measures \
        else base.measures
    return LedgerFrames(fac, ins, mea)


def fac(fid: int, lg: str, ftype: str, built: float | None, length: float | None = None,
        area: float | None = None, sector: str = "road", synthetic: bool = False) -> dict:
    return {"facility": fid, "lg_code": lg, "sector": sector, "facility_type": ftype,
            "built_year": np.nan if built is None else built, "length_m": np.nan if length is None else length,
            "area_m2": np.nan if area is None else area, "latest_grade": np.nan, "latest_inspected_on": None,
            "is_synthetic": synthetic}


# The hand-counted ledger. as_of 2025-03-31 → FY2024; the 5-year cutoff is 2020-03-31.
HAND_FACILITIES = [
    # 宇陀市 (10 facilities)
    fac(1, UDA, "bridge", 1960, 12.0, 60.0),   # Ⅲ 2015-06-01, Ⅲ 2020-06-01; no measure
    fac(2, UDA, "bridge", 1975, 30.0, 200.0),  # Ⅱ 2016-05-10, Ⅲ 2021-05-10; 設計中 FY2022
    fac(3, UDA, "bridge", 1970, 8.0),          # Ⅲ 2014-10-01, Ⅰ 2019-10-01 (repaired: 完了 FY2016)
    fac(4, UDA, "bridge", None),               # Ⅳ 2016-07-01; 工事中 FY2015 (before), 未着手 FY2017
    fac(5, UDA, "bridge", 1990, 15.0),         # never inspected
    fac(6, UDA, "bridge", 1974, 20.5),         # Ⅱ 2019-03-01 only
    fac(7, UDA, "tunnel", 1980, 250.0),        # Ⅱ 2017-09-01; Ⅱ and Ⅲ both on 2022-09-01
    fac(8, UDA, "pavement", 1965, 1000.0),     # Ⅱ 2018-01-01 (no statutory cycle)
    fac(9, UDA, "play_equipment", 2000, sector="park"),  # Ⅰ 2024-05-01
    fac(10, UDA, "bridge", 1974),              # Ⅳ dated 2026-01-01: after as_of
    # 曽爾村 (2 facilities)
    fac(11, SONI, "bridge", 1955),             # Ⅲ 2019-12-01; no measure
    fac(12, SONI, "bridge", None),             # Ⅰ 2023-06-01
    # 奈良県 itself (the prefecture government)
    fac(13, NARA_PREF, "bridge", 1960),        # Ⅱ 2021-04-01
    # a code no longer in the list
    fac(14, GONE, "bridge", 1950),             # Ⅳ 2018-01-01 — must be ignored with a note
]
HAND_INSPECTIONS = [
    (1, "2015-06-01", 3), (1, "2020-06-01", 3),
    (2, "2016-05-10", 2), (2, "2021-05-10", 3),
    (3, "2014-10-01", 3), (3, "2019-10-01", 1),
    (4, "2016-07-01", 4),
    (6, "2019-03-01", 2),
    (7, "2017-09-01", 2), (7, "2022-09-01", 2), (7, "2022-09-01", 3),
    (8, "2018-01-01", 2),
    (9, "2024-05-01", 1),
    (10, "2026-01-01", 4),
    (11, "2019-12-01", 3),
    (12, "2023-06-01", 1),
    (13, "2021-04-01", 2),
    (14, "2018-01-01", 4),
    (999, "2020-01-01", 3),  # an inspection of a facility that is not in the ledger
]
HAND_MEASURES = [
    (2, 2022, "修繕", "設計中"),
    (3, 2016, "修繕", "完了"),
    (4, 2015, "修繕", "工事中"),  # FY2015 < judgment FY2016: does not count as a start
    (4, 2017, "修繕", "未着手"),
]


@pytest.fixture
def hand() -> LedgerFrames:
    return ledger_of(HAND_FACILITIES, HAND_INSPECTIONS, HAND_MEASURES)


def value(k, indicator_id: str) -> tuple[float | None, int | None]:  # noqa: ANN001
    i = k.indicator(indicator_id)
    return i.value, i.n


# --- the hand-counted ledger ---------------------------------------------------------------------------
def test_municipality_ledger_indicators_by_hand(ref: ReferenceFrames, hand: LedgerFrames) -> None:
    k = karte(municipality_scope(ref, UDA), ref, hand, fiscal_year=FY, as_of=AS_OF)
    # 10 facilities of 宇陀市
    assert value(k, "facilities") == (10, 10)
    # lengths known for 1,2,3,5,6,7,8: 12 + 30 + 8 + 15 + 20.5 + 250 + 1000 = 1335.5 m
    assert value(k, "facility_length_km") == (pytest.approx(1.3355), 7)
    # areas known for 1, 2: 60 + 200
    assert value(k, "facility_area_m2") == (260.0, 2)
    # built years known for 9 (only #4 unknown). 50+ in FY2024 ⇔ built ≤ 1974: 1960, 1970, 1974 (#6), 1965, 1974 (#10) = 5
    assert value(k, "age_50plus_share") == (pytest.approx(500 / 9), 9)
    # FY2034 ⇔ built ≤ 1984: + 1975, 1980 = 7;   FY2044 ⇔ built ≤ 1994: + 1990 = 8
    assert value(k, "age_50plus_share_10y") == (pytest.approx(700 / 9), 9)
    assert value(k, "age_50plus_share_20y") == (pytest.approx(800 / 9), 9)
    assert value(k, "unknown_built_year") == (1, 10)
    # latest grades: 1 Ⅲ, 2 Ⅲ, 3 Ⅰ, 4 Ⅳ, 6 Ⅱ, 7 Ⅲ (worse of the same-day pair), 8 Ⅱ, 9 Ⅰ → 8 inspected, 4 Ⅲ/Ⅳ
    assert value(k, "grade_iii_iv_share") == (50.0, 8)
    # never inspected: 5, and 10 (its only inspection is after as_of)
    assert value(k, "never_inspected") == (2, 10)
    # 5-year types: bridges 1–6, 10 and tunnel 7 = 8. Latest before 2020-03-31: 3 (2019-10-01), 4 (2016), 6 (2019-03)
    assert value(k, "inspection_overdue") == (3, 8)
    # backlog: 1 (no measure), 4 (only 工事中 before the judgment FY and 未着手), 7 (no measure); 2 has 設計中
    assert value(k, "backlog") == (3, 8)
    # judged ≤ 2020-03-31: 1 (run starts 2015-06-01), 4 (2016-07-01); 7 was judged 2022-09-01
    assert value(k, "backlog_5y") == (2, 8)
    # ever Ⅲ/Ⅳ on or before 2020-03-31: 1, 3, 4 → 2 / 3
    assert value(k, "backlog_5y_share") == (pytest.approx(200 / 3), 3)
    assert k.has_ledger and not k.synthetic


def test_series_by_hand(ref: ReferenceFrames, hand: LedgerFrames) -> None:
    k = karte(municipality_scope(ref, UDA), ref, hand, fiscal_year=FY, as_of=AS_OF)
    s = {x.id: x for x in k.series}
    assert set(s) == {"age_distribution", "ageing_projection", "grade_distribution", "backlog_ageing", "fy_trend",
                      "peer_percentiles", "sector_stock"}
    # ages in FY2024: 64, 49, 54, 34, 50, 44, 59, 24, 50 → 20s:1, 30s:1, 40s:2, 50s:4, 60s:1; 不明 1
    ages = dict(zip(s["age_distribution"].categories, s["age_distribution"].values["施設数"], strict=True))
    assert ages == {"0〜9年": 0, "10〜19年": 0, "20〜29年": 1, "30〜39年": 1, "40〜49年": 2, "50〜59年": 4,
                    "60〜69年": 1, "70〜79年": 0, "80〜89年": 0, "90〜99年": 0, "100年以上": 0, "不明": 1}
    proj = s["ageing_projection"]
    assert proj.categories[0] == FY and proj.categories[-1] == 2050
    share = proj.values["建設後50年以上の割合"]
    assert share[0] == pytest.approx(500 / 9) and share[10] == pytest.approx(700 / 9)
    assert share[-1] == pytest.approx(100.0)  # FY2050: built ≤ 2000 — all nine
    assert s["grade_distribution"].values["施設数"] == [2, 2, 3, 1, 2]  # Ⅰ: 3, 9; Ⅱ: 6, 8; Ⅲ: 1, 2, 7; Ⅳ: 4; 未点検: 5, 10
    # backlog: 1 judged 2015-06-01 → 9 whole years; 4 judged 2016-07-01 → 8; 7 judged 2022-09-01 → 2
    bl = dict(zip(s["backlog_ageing"].categories, s["backlog_ageing"].values["施設数"], strict=True))
    assert bl["2年"] == 1 and bl["5〜9年"] == 2 and sum(bl.values()) == 3
    stock = dict(zip(s["sector_stock"].categories, s["sector_stock"].values["施設数"], strict=True))
    assert stock == {"道路・橋梁": 7, "道路・トンネル": 1, "道路・舗装": 1, "公園・遊具": 1}


def test_scopes_by_hand(ref: ReferenceFrames, hand: LedgerFrames) -> None:
    # 曽爾村: 11 (1955, Ⅲ 2019-12-01, no measure) and 12 (unknown year, Ⅰ 2023)
    soni = karte(municipality_scope(ref, SONI), ref, hand, fiscal_year=FY, as_of=AS_OF)
    assert value(soni, "age_50plus_share") == (100.0, 1)
    assert value(soni, "backlog_5y") == (1, 2)
    assert value(soni, "backlog_5y_share") == (100.0, 1)
    assert value(soni, "inspection_overdue") == (1, 2)
    # group 宇陀市 + 曽爾村: 12 facilities; Ⅲ/Ⅳ 4 + 1 of 8 + 2 inspected; backlog 3 + 1; 5y 2 + 1 of 3 + 1
    grp = karte(group_scope("宇陀・曽爾", [UDA, SONI], ref), ref, hand, fiscal_year=FY, as_of=AS_OF)
    assert value(grp, "facilities") == (12, 12)
    assert value(grp, "grade_iii_iv_share") == (50.0, 10)
    assert value(grp, "backlog") == (4, 10)
    assert value(grp, "backlog_5y_share") == (75.0, 4)
    # 奈良県: its municipalities (宇陀市, 曽爾村) plus the prefecture's own bridge 13 (Ⅱ 2021) = 13
    pref = karte(prefecture_scope(ref, "29"), ref, hand, fiscal_year=FY, as_of=AS_OF)
    assert pref.scope.name == "奈良県" and NARA_PREF not in pref.scope.members
    assert value(pref, "facilities") == (13, 13)
    assert value(pref, "grade_iii_iv_share") == (pytest.approx(500 / 11), 11)
    assert value(pref, "inspection_overdue") == (4, 11)
    assert any("都道府県自身" in a for a in pref.assumptions)
    # national: every known owner (prefecture governments included); 14 (unknown code) is not
    nat = karte(national_scope(ref), ref, hand, fiscal_year=FY, as_of=AS_OF)
    assert value(nat, "facilities") == (13, 13)


def test_unknown_code_and_orphan_records_are_ignored_with_a_note(ref: ReferenceFrames, hand: LedgerFrames) -> None:
    assert GONE not in ref.municipalities.index
    table = municipal_table(ref, hand, fiscal_year=FY, as_of=AS_OF)
    notes = " ".join(table.attrs["notes"])
    assert "団体コードが参照データにない施設 1 件" in notes and GONE in notes
    assert "施設台帳にない施設の点検 1 件" in notes
    assert "基準日（2025-03-31）より後の点検 1 件" in notes
    nat = karte(national_scope(ref), ref, hand, fiscal_year=FY, as_of=AS_OF)
    assert any(GONE in n for n in nat.notes)
    assert table.loc[UDA, "facilities"] == 10  # nothing from 14 leaked anywhere
    assert table["facilities"].sum() == 12  # 宇陀市 10 + 曽爾村 2; the prefecture's own bridge is not a municipality's
    with pytest.raises(ValueError, match="参照データにありません"):
        municipality_scope(ref, GONE)
    with pytest.raises(ValueError, match=GONE):
        group_scope("x", [UDA, GONE], ref)


def test_table_and_karte_agree(ref: ReferenceFrames, hand: LedgerFrames) -> None:
    table = municipal_table(ref, hand, fiscal_year=FY, as_of=AS_OF)
    for code in (UDA, SONI, NAGAKUTE):
        k = karte(municipality_scope(ref, code), ref, hand, fiscal_year=FY, as_of=AS_OF, table=table)
        for i in k.indicators:
            expected = table.loc[code, i.id]
            assert (i.value is None and pd.isna(expected)) or i.value == pytest.approx(expected), (code, i.id)
            assert i.n == table.loc[code, f"{i.id}__n"]
        assert k.peer_group is not None and code in k.peer_group.members
    assert bool(table.loc[UDA, "has_ledger"]) and not bool(table.loc[NAGAKUTE, "has_ledger"])


def test_filters_by_sector_and_type(ref: ReferenceFrames, hand: LedgerFrames) -> None:
    k = karte(municipality_scope(ref, UDA), ref, hand, fiscal_year=FY, as_of=AS_OF, facility_type="bridge")
    assert value(k, "facilities") == (7, 7)  # 1–6, 10
    assert value(k, "grade_iii_iv_share") == (60.0, 5)  # 1, 2, 4 of 1, 2, 3, 4, 6
    park = karte(municipality_scope(ref, UDA), ref, hand, fiscal_year=FY, as_of=AS_OF, sector="park")
    assert value(park, "facilities") == (1, 1)
    assert value(park, "inspection_overdue") == (None, 0)  # no 5-year-cycle type in the selection
    none = karte(municipality_scope(ref, UDA), ref, hand, fiscal_year=FY, as_of=AS_OF, sector="sewer")
    assert value(none, "facilities") == (None, 0) and not none.has_ledger  # nothing loaded: unknown, not 0


# --- reference data ------------------------------------------------------------------------------------
def test_national_reference_totals(ref: ReferenceFrames) -> None:
    k = karte(national_scope(ref), ref, empty_ledger(), fiscal_year=FY, as_of=AS_OF)
    assert len(k.scope.members) == 1741
    # 道路メンテナンス年報 via local_gov_vis, municipal rows only (19 municipalities blank → n = 1,722)
    assert value(k, "bridges_inspected") == (505_649, 1722)
    assert value(k, "bridges_iii_iv") == (32_874, 1722)
    assert k.indicator("bridges_iii_iv_share").value == pytest.approx(32_874 / 505_649 * 100)
    assert "市区町村管理" in k.indicator("bridges_inspected").label_ja
    assert k.indicator("civil_expenditure").value == pytest.approx(6.65e12, rel=0.01)  # README: 6.65 trillion yen
    assert k.indicator("bridges_inspected").source.startswith("道路メンテナンス年報（FY2020–2024 橋梁点検結果）")
    table = municipal_table(ref, empty_ledger(), fiscal_year=FY, as_of=AS_OF)
    assert len(table) == 1741 and not table["kind"].eq("prefecture").any()
    assert table["bridges_inspected"].sum() == 505_649
    assert table["civil_expenditure_per_capita"].median() == pytest.approx(61_000, rel=0.05)  # README figure


def test_prefecture_sums_its_municipal_rows_not_its_own_row(ref: ReferenceFrames) -> None:
    k = karte(prefecture_scope(ref, "29"), ref, empty_ledger(), fiscal_year=FY, as_of=AS_OF)
    st_ = ref.stats[(ref.stats["fiscal_year"] == FY)]
    municipal = st_[st_["lg_code"].isin(k.scope.members)]["bridges_inspected"].sum()
    own_row = st_[st_["lg_code"] == NARA_PREF]["bridges_inspected"].iat[0]
    assert k.indicator("bridges_inspected").value == municipal < own_row  # the row adds the prefecture's own
    assert len(k.scope.members) == 39  # 奈良県: 12 市, 15 町, 12 村


def test_blank_bridges_are_unknown_not_zero(ref: ReferenceFrames) -> None:
    k = karte(municipality_scope(ref, NAGAKUTE), ref, empty_ledger(), fiscal_year=FY, as_of=AS_OF)
    for i in ("bridges_inspected", "bridges_iii_iv", "bridges_iii_iv_share", "civil_expenditure_per_bridge",
              "engineers_per_100_bridges"):
        iv = k.indicator(i)
        assert iv.value is None and iv.n == 0 and iv.peer_percentile is None and iv.national_percentile is None
    assert k.indicator("civil_expenditure").value is not None
    assert k.indicator("civil_expenditure").peer_percentile is not None
    # no ledger: every ledger indicator unknown with n = 0, never 0
    assert all(k.indicator(i).value is None and k.indicator(i).n == 0 for i in LEDGER_IDS)
    assert not k.has_ledger


def test_change_rates_and_ratios(ref: ReferenceFrames) -> None:
    rows = ref.stats.set_index(["lg_code", "fiscal_year"])
    k = karte(municipality_scope(ref, UDA), ref, empty_ledger(), fiscal_year=FY, as_of=AS_OF)
    pop24, pop20 = rows.at[(UDA, 2024), "population"], rows.at[(UDA, 2020), "population"]
    civ24, civ20 = (rows.at[(UDA, y), "civil_engineering_expenditure"] for y in (2024, 2020))
    assert k.indicator("population_change_pct").value == pytest.approx((pop24 / pop20 - 1) * 100)
    assert k.indicator("civil_expenditure_change_pct").value == pytest.approx((civ24 / civ20 - 1) * 100)
    assert k.indicator("civil_expenditure_per_capita").value == pytest.approx(civ24 / pop24)
    assert k.indicator("road_length_per_capita").value == pytest.approx(rows.at[(UDA, 2024), "road_length_m"] / pop24)
    assert k.indicator("elderly_ratio").value == pytest.approx(rows.at[(UDA, 2024), "elderly_ratio"] * 100)
    # FY2023 − 4 = FY2019 is not in the data: unknown, not 0
    k23 = karte(municipality_scope(ref, UDA), ref, empty_ledger(), fiscal_year=2023, as_of=AS_OF)
    assert k23.indicator("population_change_pct").value is None
    assert k23.indicator("population").value == rows.at[(UDA, 2023), "population"]


def test_civil_engineers_user_input_and_partial_sums(ref: ReferenceFrames) -> None:
    s = ref.stats
    s.loc[(s["lg_code"] == UDA) & (s["fiscal_year"] == FY), "civil_engineers"] = 12
    s.loc[(s["lg_code"] == SONI) & (s["fiscal_year"] == FY), "civil_engineers"] = 1
    s.loc[(s["lg_code"] == NAGAKUTE) & (s["fiscal_year"] == FY), "civil_engineers"] = 30
    g = karte(group_scope("g", [UDA, SONI, "293865", NAGAKUTE], ref), ref, empty_ledger(), fiscal_year=FY,
              as_of=AS_OF)
    assert value(g, "civil_engineers") == (43, 3)  # 御杖村 (293865) not entered: left out, n = 3
    bridges = {c: s.loc[(s["lg_code"] == c) & (s["fiscal_year"] == FY), "bridges_inspected"].iat[0]
               for c in (UDA, SONI)}
    assert bridges == {UDA: 525, SONI: 89}
    # a ratio uses only members with both parts known: 長久手市 has engineers but no bridge count
    assert value(g, "engineers_per_100_bridges") == (pytest.approx(13 / 614 * 100), 2)
    assert g.indicator("civil_engineers").source == "利用者入力"


# --- peers and percentiles -----------------------------------------------------------------------------
def test_peer_groups(ref: ReferenceFrames) -> None:
    groups = peer_groups(ref, FY)
    assert len(groups) == 1741
    uda = groups[UDA]
    assert uda.key == "city:10000-30000" and "中核市" in uda.label_ja and "人口1万～3万人" in uda.label_ja
    assert groups[SONI].key == "village:<5000" and groups[SONI].label_ja == "村・人口5千人未満"
    assert groups["011002"].key == "designated_city:500000+"  # 札幌市
    sizes = {g.key: len(g.members) for g in groups.values()}
    assert sum(sizes.values()) == 1741
    assert all(groups[c] is groups[groups[c].members[0]] for c in (UDA, SONI))


def _mini_ref(values: list[float | None]) -> ReferenceFrames:
    """Up to eight villages of one peer group (<5,000 people) with the given 土木費 (None = blank)."""
    codes = [f"99000{i}" for i in range(1, 9)][: len(values)]
    mun = pd.DataFrame({"pref_code": "99", "name": [f"村{i}" for i in range(len(codes))], "kind": "village",
                        "population": 1000.0, "area_km2": 10.0, "lat": 35.0, "lon": 135.0}, index=codes)
    mun.index.name = "lg_code"
    stats = pd.DataFrame({"lg_code": codes, "fiscal_year": FY, "population": 1000.0,
                          "civil_engineering_expenditure": [np.nan if v is None else v for v in values]})
    return ReferenceFrames(mun, stats)


def test_percentile_ties_and_unknowns() -> None:
    mini = _mini_ref([10.0, 20.0, 20.0, 30.0, 40.0, None])
    table = municipal_table(mini, empty_ledger(), fiscal_year=FY, as_of=AS_OF)
    pct = table["civil_expenditure__peer_pct"]
    # known values 10, 20, 20, 30, 40 (five): share ≤ 10 is 1/5; share ≤ 20 is 3/5 for both tied; blank → unknown
    assert pct.iloc[0] == pytest.approx(20.0)
    assert pct.iloc[1] == pct.iloc[2] == pytest.approx(60.0)
    assert pct.iloc[4] == 100.0
    assert pd.isna(pct.iloc[5])
    assert table["civil_expenditure__national_pct"].iloc[1] == pytest.approx(60.0)
    assert table["bridges_inspected"].isna().all()  # column missing in the stats → unknown everywhere


def test_no_percentile_among_too_few_known_values() -> None:
    """One municipality alone with a value would be "100" among its peers: the position is unknown instead."""
    table = municipal_table(_mini_ref([10.0, 20.0, 20.0, None]), empty_ledger(), fiscal_year=FY, as_of=AS_OF)
    assert table["civil_expenditure__peer_pct"].isna().all()
    assert table["civil_expenditure__national_pct"].isna().all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1e12, allow_nan=False)), min_size=1, max_size=8))
def test_percentiles_in_range(values: list[float | None]) -> None:
    table = municipal_table(_mini_ref(values), empty_ledger(), fiscal_year=FY, as_of=AS_OF)
    n_known = sum(v is not None for v in values)
    for col in ("civil_expenditure__peer_pct", "civil_expenditure__national_pct"):
        pct = table[col]
        known = pct.dropna()
        assert ((known > 0) & (known <= 100)).all()
        assert list(pct.isna()) == [v is None or n_known < MIN_COMPARABLE for v in values]
        if len(known):
            assert known.max() == 100.0  # the largest known value is at the top


# --- edge cases --------------------------------------------------------------------------------------
def test_all_unknown_build_years(ref: ReferenceFrames) -> None:
    led = ledger_of([fac(i, SONI, "bridge", None) for i in range(1, 4)], [], [])
    k = karte(municipality_scope(ref, SONI), ref, led, fiscal_year=FY, as_of=AS_OF)
    for i in ("age_50plus_share", "age_50plus_share_10y", "age_50plus_share_20y"):
        assert value(k, i) == (None, 0)
    assert value(k, "unknown_built_year") == (3, 3)
    assert value(k, "never_inspected") == (3, 3)
    assert value(k, "grade_iii_iv_share") == (None, 0)
    assert value(k, "backlog") == (None, 0)  # nothing inspected: unknown, not "no backlog"
    proj = next(s for s in k.series if s.id == "ageing_projection")
    assert all(v is None for v in proj.values["建設後50年以上の割合"])


def test_inspected_twice_on_the_same_day(ref: ReferenceFrames) -> None:
    # facility 1: Ⅱ 2023-06-01 and Ⅲ 2023-06-01 (two records of one day, e.g. 定期 and 臨時): worse grade counts,
    # judged that day; facility 2: Ⅲ twice on 2019-06-01 → one facility, judged 2019-06-01 (≥ 5 years)
    led = ledger_of([fac(1, SONI, "bridge", 1970), fac(2, SONI, "bridge", 1970)],
                    [(1, "2023-06-01", 3), (1, "2023-06-01", 2), (2, "2019-06-01", 3), (2, "2019-06-01", 3)], [])
    k = karte(municipality_scope(ref, SONI), ref, led, fiscal_year=FY, as_of=AS_OF)
    assert value(k, "facilities") == (2, 2)
    assert value(k, "grade_iii_iv_share") == (100.0, 2)
    assert value(k, "backlog") == (2, 2)
    assert value(k, "backlog_5y") == (1, 2)
    assert next(s for s in k.series if s.id == "grade_distribution").values["施設数"] == [0, 0, 2, 0, 0]


def test_latest_grade_fallback_and_five_year_boundary(ref: ReferenceFrames) -> None:
    # No inspection rows, only the ledger's denormalised latest grade/date.
    rows = [fac(1, SONI, "bridge", 1970), fac(2, SONI, "bridge", 1970), fac(3, SONI, "bridge", 1970)]
    rows[0].update(latest_grade=3, latest_inspected_on="2020-03-31")  # exactly 5 years: judged 5+ years ago,
    rows[1].update(latest_grade=2, latest_inspected_on="2020-03-30")  # … but overdue only when strictly before
    rows[2].update(latest_grade=4, latest_inspected_on="2025-04-01")  # after as_of: not inspected as of as_of
    k = karte(municipality_scope(ref, SONI), ref, ledger_of(rows, [], []), fiscal_year=FY, as_of=AS_OF)
    assert value(k, "never_inspected") == (1, 3)
    assert value(k, "inspection_overdue") == (1, 3)  # only #2 (2020-03-30 < 2020-03-31)
    assert value(k, "backlog_5y") == (1, 2)
    assert value(k, "backlog_5y_share") == (100.0, 1)


def test_synthetic_flag_and_assumptions(ref: ReferenceFrames) -> None:
    led = ledger_of([fac(1, SONI, "bridge", 1970, synthetic=True), fac(2, UDA, "bridge", 1970)], [], [])
    k = karte(municipality_scope(ref, SONI), ref, led, fiscal_year=FY, as_of=AS_OF)
    assert k.synthetic and any("合成データ" in a for a in k.assumptions)
    assert not karte(municipality_scope(ref, UDA), ref, led, fiscal_year=FY, as_of=AS_OF).synthetic
    assert any("年度で数えます" in a for a in k.assumptions)
    assert any("5年より前" in a for a in k.assumptions)
    table = municipal_table(ref, led, fiscal_year=FY, as_of=AS_OF)
    assert bool(table.loc[SONI, "synthetic"]) and not bool(table.loc[UDA, "synthetic"])


def test_karte_json_and_contract(ref: ReferenceFrames, hand: LedgerFrames) -> None:
    k = karte(municipality_scope(ref, UDA), ref, hand, fiscal_year=FY, as_of=AS_OF)
    doc = json.loads(json.dumps(k.as_json(), ensure_ascii=False))
    assert [i["id"] for i in doc["indicators"]] == [d.id for d in INDICATORS]
    assert doc["peer_group"]["key"] == "city:10000-30000"
    for i in k.indicators:
        assert i.definition_ja and i.unit and i.source and i.n is not None
    ids = [d.id for d in INDICATORS]
    assert len(ids) == len(set(ids)) == 30
    assert set(REFERENCE_IDS) | set(LEDGER_IDS) == set(ids)
    table = municipal_table(ref, hand, fiscal_year=FY, as_of=AS_OF)
    for col in ("name", "pref_code", "kind", "peer_key", "lat", "lon"):
        assert col in table.columns
    for i in ids:
        assert {i, f"{i}__n", f"{i}__peer_pct", f"{i}__national_pct"} <= set(table.columns)
    fy_trend = next(s for s in k.series if s.id == "fy_trend")
    assert fy_trend.categories == [2020, 2021, 2022, 2023, 2024]


def test_scope_constructors(ref: ReferenceFrames) -> None:
    assert national_scope(ref).kind == ScopeKind.NATIONAL
    assert prefecture_scope(ref, "290009").code == "29"  # a prefecture's lg_code works too
    with pytest.raises(ValueError, match="都道府県です"):
        municipality_scope(ref, NARA_PREF)
    with pytest.raises(ValueError, match="都道府県コード 48"):
        prefecture_scope(ref, "48")
    vertical = group_scope("奈良モデル", [UDA, SONI, NARA_PREF, UDA], ref)
    assert vertical.members == (UDA, SONI, NARA_PREF)  # duplicates dropped, order kept


def test_vocab_constants_match_the_shipped_lists() -> None:
    def rows(name: str) -> list[dict[str, str]]:
        path = REPO / "gunmane" / "data" / "vocab" / name
        return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))

    types = rows("facility_types.csv")
    assert {r["code"] for r in types if r["inspection_cycle_years"] == "5"} == FIVE_YEAR_CYCLE_TYPES
    assert {r["code"]: r["name"] for r in types} == FACILITY_TYPE_NAMES
    assert {r["code"]: r["name"] for r in rows("sectors.csv")} == SECTOR_NAMES


def test_every_indicator_and_series_is_documented() -> None:
    doc = (REPO / "docs" / "indicators.md").read_text(encoding="utf-8")
    for d in INDICATORS:
        assert f"`{d.id}`" in doc, d.id
    for s in ("age_distribution", "ageing_projection", "grade_distribution", "backlog_ageing", "fy_trend",
              "peer_percentiles", "sector_stock"):
        assert f"`{s}`" in doc, s


def test_demo_region_bridges_match_the_reference_figures(ref: ReferenceFrames) -> None:
    """The synthetic demo ledger is calibrated on the real III/IV counts; the engine must find them again."""
    from gunmane.engine.demo_region import NARA_DEMO_CODES, generate_demo_ledger, load_specs_from_reference
    from gunmane.io.shipped import vocab

    specs = load_specs_from_reference(refdata.raw_rows("municipalities"), refdata.raw_rows("municipal_finance"))
    demo = generate_demo_ledger(specs, as_of=AS_OF)
    ids = {(f["lg_code"], f["facility_id"]): n for n, f in enumerate(demo.facilities)}
    rows = [fac(ids[(f["lg_code"], f["facility_id"])], str(f["lg_code"]), vocab.facility_type_code(str(f["facility_type"])),
                f["built_year"], f["length_m"], f["area_m2"], vocab.sector_code(str(f["sector"])), True)
            for f in demo.facilities]  # the importer stores codes: 橋梁 → bridge, 道路 → road
    led = ledger_of(rows,
                    [(ids[(i["lg_code"], i["facility_id"])], i["inspected_on"], i["grade"]) for i in demo.inspections],
                    [(ids[(m["lg_code"], m["facility_id"])], m["fiscal_year"], m["kind"], m["status"])
                     for m in demo.measures])
    table = municipal_table(ref, led, fiscal_year=FY, as_of=AS_OF, facility_type="bridge")
    for code in NARA_DEMO_CODES:
        row = table.loc[code]
        iii_iv = round(row["grade_iii_iv_share"] * row["grade_iii_iv_share__n"] / 100)
        assert (row["facilities"], iii_iv) == (row["bridges_inspected"], row["bridges_iii_iv"]), code
        assert bool(row["synthetic"])
    group = karte(group_scope("奈良", NARA_DEMO_CODES, ref), ref, led, fiscal_year=FY, as_of=AS_OF,
                  facility_type="bridge")
    assert group.synthetic
    # the demo leaves about 17 % of first-cycle Ⅲ/Ⅳ bridges untouched (its calibration target, the national
    # figure); the engine's cohort (judged Ⅲ/Ⅳ on or before 2020-03-31) is nearly the same set of bridges
    share = group.indicator("backlog_5y_share").value
    assert share is not None and 10 <= share <= 25


# --- an independent route on random ledgers --------------------------------------------------------------
def _fy(d: date) -> int:
    return d.year if d.month >= 4 else d.year - 1


def _minus_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


def expected_by_loop(facilities: list[dict], inspections: list[tuple], measures: list[tuple], as_of: date
                     ) -> dict[str, dict[str, float | None]]:
    """Per municipality, by walking each facility's history in plain Python (no numpy, no pandas)."""
    cutoff = _minus_years(as_of, 5)
    now = _fy(as_of)
    out: dict[str, dict[str, float | None]] = {}
    by_lg: dict[str, list[dict]] = {}
    for f in facilities:
        by_lg.setdefault(f["lg_code"], []).append(f)
    for lg, facs in by_lg.items():
        c = dict.fromkeys(["known", "a50", "a50_20", "inspected", "bad", "five", "overdue", "backlog", "b5", "cohort"], 0)
        for f in facs:
            if not math.isnan(f["built_year"]):
                c["known"] += 1
                c["a50"] += now - f["built_year"] >= 50
                c["a50_20"] += now + 20 - f["built_year"] >= 50
            hist = sorted((date.fromisoformat(d), g) for fid, d, g in inspections
                          if fid == f["facility"] and date.fromisoformat(d) <= as_of)
            five = f["facility_type"] in FIVE_YEAR_CYCLE_TYPES
            c["five"] += five
            if not hist:
                continue
            c["inspected"] += 1
            last_day, last_grade = hist[-1]
            c["overdue"] += five and last_day < cutoff
            c["cohort"] += any(g >= 3 and d <= cutoff for d, g in hist)
            if last_grade < 3:
                continue
            c["bad"] += 1
            k = len(hist) - 1
            while k > 0 and hist[k - 1][1] >= 3:
                k -= 1
            judged = hist[k][0]
            started = any(fid == f["facility"] and st_ != "未着手" and fy >= _fy(judged)
                          for fid, fy, _, st_ in measures)
            if not started:
                c["backlog"] += 1
                c["b5"] += judged <= cutoff
        n = len(facs)
        out[lg] = {
            "facilities": n,
            "age_50plus_share": c["a50"] / c["known"] * 100 if c["known"] else None,
            "age_50plus_share_20y": c["a50_20"] / c["known"] * 100 if c["known"] else None,
            "unknown_built_year": n - c["known"],
            "never_inspected": n - c["inspected"],
            "grade_iii_iv_share": c["bad"] / c["inspected"] * 100 if c["inspected"] else None,
            "inspection_overdue": c["overdue"] if c["five"] else None,
            "backlog": c["backlog"] if c["inspected"] else None,
            "backlog_5y": c["b5"] if c["inspected"] else None,
            "backlog_5y_share": c["b5"] / c["cohort"] * 100 if c["cohort"] else None,
        }
    return out


day_strategy = st.dates(date(2012, 1, 1), date(2026, 12, 31)).map(date.isoformat)


@st.composite
def random_ledger(draw: st.DrawFn) -> tuple[list[dict], list[tuple], list[tuple]]:
    n = draw(st.integers(1, 12))
    facilities = [fac(i, draw(st.sampled_from([UDA, SONI, "293865"])),
                      draw(st.sampled_from(["bridge", "tunnel", "pavement", "play_equipment"])),
                      draw(st.one_of(st.none(), st.integers(1900, 2024))))
                  for i in range(n)]
    inspections = draw(st.lists(st.tuples(st.integers(0, n - 1), day_strategy, st.integers(1, 4)), max_size=30))
    measures = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(2012, 2026), st.just("修繕"),
                                       st.sampled_from(["未着手", "設計中", "工事中", "完了"])), max_size=8))
    return facilities, inspections, measures


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_ledger(), st.dates(date(2019, 1, 1), date(2026, 6, 30)))
def test_engine_matches_a_plain_loop(ref: ReferenceFrames, data: tuple, as_of: date) -> None:
    facilities, inspections, measures = data
    table = municipal_table(ref, ledger_of(facilities, inspections, measures), fiscal_year=FY, as_of=as_of)
    expected = expected_by_loop(facilities, inspections, measures, as_of)
    for lg, values in expected.items():
        for key, want in values.items():
            got = table.loc[lg, key]
            assert (want is None and pd.isna(got)) or got == pytest.approx(want), (lg, key, got, want)
    # shares and percentiles stay in [0, 100]; sub-counts never exceed their totals
    shares = [d.id for d in INDICATORS if d.unit == "%" and not d.id.endswith("change_pct")]
    pct = [c for c in table.columns if c.endswith("_pct") and not c.endswith("change_pct")]
    for col in shares + pct:
        vals = table[col].dropna()
        assert ((vals >= 0) & (vals <= 100)).all(), col
    has = table[table["has_ledger"]]
    assert (has["backlog_5y"].fillna(0) <= has["backlog"].fillna(0)).all()
    assert (has["never_inspected"] <= has["facilities"]).all()


def test_frames_are_not_modified(ref: ReferenceFrames, hand: LedgerFrames) -> None:
    before = [hand.facilities.copy(), hand.inspections.copy(), hand.measures.copy(), ref.stats.copy()]
    municipal_table(ref, hand, fiscal_year=FY, as_of=AS_OF)
    karte(prefecture_scope(ref, "29"), ref, hand, fiscal_year=FY, as_of=AS_OF)
    for a, b in zip(before, [hand.facilities, hand.inspections, hand.measures, ref.stats], strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_peer_band_follows_the_fiscal_year(ref: ReferenceFrames) -> None:
    """A fiscal year whose population moves a municipality across a band boundary changes its peers."""
    s = ref.stats
    s.loc[(s["lg_code"] == SONI) & (s["fiscal_year"] == 2023), "population"] = 5_000  # exactly the boundary
    assert peer_groups(ref, 2023)[SONI].key == "village:5000-10000"
    assert peer_groups(ref, 2024)[SONI].key == "village:<5000"
