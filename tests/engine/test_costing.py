"""積算基準（costing）: rate curves at band edges and inside bands, the price chain, editions as data files."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from gunmane.engine.costing import (
    ASSUMPTION_STATUS,
    InvalidEdition,
    UnknownWorkType,
    service_price,
    works_price,
    works_price_array,
)
from gunmane.io.shipped.costing import COSTING_DATA_DIR, costing_editions, load_costing_edition


def r2(x: float) -> float:
    """Hand rounding to 2 decimals, half up (as the calculators do)."""
    return math.floor(x * 100 + 0.5) / 100


@pytest.fixture(scope="module")
def fy2022():  # type: ignore[no-untyped-def]
    return load_costing_edition("FY2022")


def test_shipped_editions_are_complete_and_sourced() -> None:
    assert costing_editions() == ["FY2015", "FY2016", "FY2018", "FY2022"]
    required = {"道路維持工事", "舗装工事", "河川維持工事", "下水道工事(1)", "下水道工事(2)"}
    for name in costing_editions():
        e = load_costing_edition(name)
        assert e.id == name and e.label_ja and e.general_admin.source
        assert required <= set(e.work_types)
        if e.fiscal_year >= 2016:  # 橋梁保全工事 and 河川・道路構造物工事 are FY2016 work types
            assert {"橋梁保全工事", "河川・道路構造物工事"} <= set(e.work_types)
        for rules in e.works.values():
            for curve in (rules.common_temporary, rules.site_management):
                assert curve.source and curve.status
        assert {"設計業務", "点検業務"} <= set(e.service_kinds)
    assert (COSTING_DATA_DIR / "README.md").is_file()


def test_missing_value_is_marked_as_user_assumption(fy2022) -> None:  # type: ignore[no-untyped-def]
    # 下水道工事(1) has no Jo in the research notes: the row exists but says the user must set it.
    assert fy2022.work("下水道工事(1)").site_management.status == ASSUMPTION_STATUS
    assert fy2022.work("下水道工事(2)").site_management.status.startswith("第三者の計算ツールの転記と照合済み")
    assert fy2022.service("点検業務").status == ASSUMPTION_STATUS


@pytest.mark.parametrize(("work_type", "flat_lo", "a", "b", "flat_hi", "lo", "hi"), [
    # FY2016 道路維持 / 橋梁保全 / 河川・道路構造物 Kr, FY2015 舗装 / 河川維持 / 下水道(2) Kr (quantitative-methods.md §A3)
    ("道路維持工事", 23.94, 4118.1, -0.3548, 5.97, 2e6, 1e8),
    ("橋梁保全工事", 27.32, 7050.2, -0.3558, 6.79, 6e6, 3e8),
    ("河川・道路構造物工事", 20.77, 1228.3, -0.2614, 5.45, 6e6, 1e9),
    ("舗装工事", 17.09, 435.1, -0.2074, 5.92, 6e6, 1e9),
    ("河川維持工事", 8.34, 26.8, -0.0748, 6.76, 6e6, 1e8),
    ("下水道工事(2)", 13.32, 485.4, -0.2231, 4.08, 1e7, 2e9),
])
def test_common_temporary_rate_edges_and_inside(fy2022, work_type, flat_lo, a, b, flat_hi, lo, hi) -> None:  # type: ignore[no-untyped-def]
    kr = fy2022.work(work_type).common_temporary
    assert float(kr.rate_pct(lo / 10)) == flat_lo  # well below the band
    assert float(kr.rate_pct(lo)) == flat_lo  # at the lower limit: flat rate
    assert abs(float(kr.rate_pct(lo + 1)) - flat_lo) <= 0.011  # just inside: the curve meets the flat rate
    mid = math.sqrt(lo * hi)
    assert float(kr.rate_pct(mid)) == r2(a * mid ** b)  # inside: A·P^b by hand
    assert float(kr.rate_pct(hi)) == r2(a * hi ** b)  # the upper limit still belongs to the band
    assert abs(float(kr.rate_pct(hi)) - flat_hi) <= 0.011
    assert float(kr.rate_pct(hi + 1)) == flat_hi and float(kr.rate_pct(hi * 10)) == flat_hi


@pytest.mark.parametrize(("work_type", "flat_lo", "a", "b", "flat_hi", "lo", "hi"), [
    ("道路維持工事", 58.61, 605.1, -0.1609, 31.23, 2e6, 1e8),
    ("橋梁保全工事", 63.10, 1508.7, -0.2014, 29.60, 7e6, 3e8),
    ("舗装工事", 39.39, 622.2, -0.1751, 16.52, 7e6, 1e9),
    ("河川維持工事", 41.28, 166.7, -0.0962, 28.34, 2e6, 1e8),
])
def test_site_management_rate_edges_and_inside(fy2022, work_type, flat_lo, a, b, flat_hi, lo, hi) -> None:  # type: ignore[no-untyped-def]
    jo = fy2022.work(work_type).site_management
    assert float(jo.rate_pct(lo)) == flat_lo
    assert abs(float(jo.rate_pct(lo * 1.0001)) - flat_lo) <= 0.011
    x = 3.3e7
    assert float(jo.rate_pct(x)) == r2(a * x ** b)
    assert float(jo.rate_pct(hi + 1)) == flat_hi


@pytest.mark.parametrize(("edition", "flat_lo", "a", "c", "flat_hi"), [
    ("FY2015", 20.29, -4.63586, 51.34242, 7.41),
    ("FY2018", 22.72, -5.48972, 59.4977, 7.47),
    ("FY2022", 23.57, -4.97802, 56.92101, 9.74),
])
def test_general_admin_rate_history(edition, flat_lo, a, c, flat_hi) -> None:  # type: ignore[no-untyped-def]
    gp = load_costing_edition(edition).general_admin
    assert float(gp.rate_pct(5e6)) == flat_lo and float(gp.rate_pct(1e6)) == flat_lo
    assert abs(float(gp.rate_pct(5e6 + 1)) - flat_lo) <= 0.011  # the log curve meets the flat rate at ¥5M
    assert float(gp.rate_pct(1e8)) == r2(a * 8 + c)
    assert abs(float(gp.rate_pct(3e9)) - flat_hi) <= 0.011
    assert float(gp.rate_pct(3e9 + 1)) == flat_hi


def test_advance_payment_correction(fy2022) -> None:  # type: ignore[no-untyped-def]
    base = float(fy2022.general_admin.rate_pct(1e8))
    assert float(fy2022.general_admin.rate_pct(1e8, advance_payment_pct=0)) == r2(base * 1.05)
    assert float(fy2022.general_admin.rate_pct(1e8, advance_payment_pct=40)) == base
    with pytest.raises(InvalidEdition):
        fy2022.general_admin.rate_pct(1e8, advance_payment_pct=60)


def test_price_chain_hand_worked_example(fy2022) -> None:  # type: ignore[no-untyped-def]
    # 道路維持工事, P = ¥10,000,000, worked by hand from the coefficient table:
    # Kr = 4118.1·1e7^−0.3548 = 13.52 %  → 共通仮設費 1,352,000 → Np 11,352,000
    # Jo = 605.1·11,352,000^−0.1609 = 44.33 % → 現場管理費 5,032,341（円未満切り捨て）→ Cp 16,384,341
    # Gp = −4.97802·log10(16,384,341) + 56.92101 = 21.01 % → 一般管理費等 3,442,350 → 工事価格 19,826,691
    p = works_price(fy2022, "道路維持工事", 10_000_000)
    assert (p.common_temporary_rate, p.site_management_rate, p.general_admin_rate) == (13.52, 44.33, 21.01)
    assert p.net_cost_yen == 11_352_000
    assert p.prime_cost_yen == 16_384_341
    assert p.price_yen == 19_826_691
    assert p.as_json() == {
        "work_type": "道路維持工事", "edition": "FY2022", "direct_cost_yen": 10_000_000, "common_temporary_rate": 13.52,
        "net_cost_yen": 11_352_000, "site_management_rate": 44.33, "prime_cost_yen": 16_384_341,
        "general_admin_rate": 21.01, "price_yen": 19_826_691}


def test_bundling_four_5m_jobs_into_one_20m_job_saves_about_14_percent(fy2022) -> None:  # type: ignore[no-untyped-def]
    # FY2016 road-maintenance Kr/Jo with FY2022 Gp (the FY2022 edition), quantitative-methods.md §A4.
    assert fy2022.work("道路維持工事").common_temporary.vintage_fy == 2016 and fy2022.general_admin.vintage_fy == 2022
    small, big = works_price(fy2022, "道路維持工事", 5e6), works_price(fy2022, "道路維持工事", 20e6)
    assert (small.common_temporary_rate, small.site_management_rate, small.general_admin_rate) == pytest.approx(
        (17.3, 49.3, 22.4), abs=0.05)
    assert (big.common_temporary_rate, big.site_management_rate, big.general_admin_rate) == pytest.approx(
        (10.6, 39.8, 19.6), abs=0.05)
    separate = 4 * small.price_yen
    assert separate == pytest.approx(42.9e6, rel=0.002) and big.price_yen == pytest.approx(37.0e6, rel=0.002)
    assert 1 - big.price_yen / separate == pytest.approx(0.14, abs=0.005)
    # bridge preservation saves more (−17 %), as in the notes
    bs, bb = works_price(fy2022, "橋梁保全工事", 5e6), works_price(fy2022, "橋梁保全工事", 20e6)
    assert 1 - bb.price_yen / (4 * bs.price_yen) == pytest.approx(0.17, abs=0.005)


def test_vectorised_chain_equals_scalar(fy2022) -> None:  # type: ignore[no-untyped-def]
    xs = np.array([1e5, 2e6, 5e6, 3.3e7, 1e8, 5e8])
    arr = works_price_array(fy2022, "舗装工事", xs)
    assert np.allclose(arr["price_yen"], [works_price(fy2022, "舗装工事", x).price_yen for x in xs])
    assert np.all(np.diff(arr["price_yen"] / xs) <= 1e-4)  # price per yen of direct cost never rises (up to 円未満切り捨て)


def test_service_price_ratios(fy2022) -> None:  # type: ignore[no-untyped-def]
    # ¥98,050 direct labour → その他原価 ¥52,796 → 一般管理費等 ¥81,224 (α = β = 35 %, quantitative-methods.md §A5)
    s = service_price(fy2022, "設計業務", 98_050)
    assert s.other_cost_yen == 52_796
    assert s.general_admin_yen == 81_224
    assert s.price_yen == 98_050 + 52_796 + 81_224


def test_unknown_work_type_lists_known_ones_in_japanese(fy2022) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownWorkType) as exc:
        works_price(fy2022, "道路清掃工事", 1e6)
    assert "道路清掃工事" in exc.value.message_ja and "道路維持工事" in exc.value.message_ja
    assert "橋梁保全工事" in exc.value.message_ja
    # 橋梁保全工事 did not exist before FY2016: the FY2015 edition says so
    with pytest.raises(UnknownWorkType):
        works_price(load_costing_edition("FY2015"), "橋梁保全工事", 1e6)


def test_user_edition_folder_without_code_change(tmp_path: Path) -> None:
    folder = tmp_path / "R8"
    shutil.copytree(COSTING_DATA_DIR / "FY2022", folder)
    meta = (folder / "edition.toml").read_text(encoding="utf-8")
    meta = meta.replace('id = "FY2022"', 'id = "R8-kobe"').replace("flat_rate_below_pct = 23.57", "flat_rate_below_pct = 25.0")
    (folder / "edition.toml").write_text(meta, encoding="utf-8")
    e = load_costing_edition(folder)
    p = works_price(e, "道路維持工事", 1e6)  # Cp < ¥5M → the flat Gp this folder sets
    assert (p.edition, p.general_admin_rate) == ("R8-kobe", 25.0)
    assert works_price(load_costing_edition(), "道路維持工事", 1e6).general_admin_rate == 23.57


def test_bad_edition_folder_is_a_japanese_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidEdition) as exc:
        load_costing_edition(tmp_path / "nothing")
    assert "見つかりません" in exc.value.message_ja
    folder = tmp_path / "bad"
    shutil.copytree(COSTING_DATA_DIR / "FY2022", folder)
    text = (folder / "works.csv").read_text(encoding="utf-8").replace(",2000000,100000000,", ",200000000,100000000,", 1)
    (folder / "works.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidEdition) as exc:
        load_costing_edition(folder)
    assert "works.csv 2行目" in exc.value.message_ja
