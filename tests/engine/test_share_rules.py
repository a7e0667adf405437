"""Cost-share rules (issue #12 §1): declared as data (gunmane/data/effects/share_rules.csv), each implemented by
the effects engine for the price of joint contracts; the scenario file carries the rule, the equal part, the
agreed shares and the supporting members."""

from __future__ import annotations

import pandas as pd
import pytest

from gunmane.engine.effects import (
    Facility,
    GroupInput,
    InvalidInput,
    Lever,
    LeverKind,
    Member,
    Scenario,
    evaluate,
)
from gunmane.engine.effects.evaluate import SHARE_RULE_NAMES, SHARE_RULES
from gunmane.io.scenario import (
    SHARE_RULES as FILE_RULES,
)
from gunmane.io.scenario import (
    ScenarioFileError,
    build_group,
    read_scenario,
    set_cost_share,
    share_rule,
    share_rules,
)
from gunmane.io.shipped.costing import load_costing_edition
from gunmane.io.shipped.parameters import effects_parameters

EDITION = load_costing_edition("FY2022")
PARAMS = effects_parameters()
OFFICES = {"292125": (34.5278, 135.9525), "293857": (34.5106, 136.1247), "293865": (34.4881, 136.1661),
           "294535": (34.4036, 135.9683)}
POPULATION = {"292125": 27_000, "293857": 1_300, "293865": 1_500, "294535": 1_600}
BRIDGES = {"292125": (3, 10.0), "293857": (2, 30.0), "293865": (2, 15.0), "294535": (2, 15.0)}  # (count, length m)


def _group(**member_kw: dict[str, float]) -> GroupInput:
    members = [Member(c, f"団体{c}", office_lat=la, office_lon=lo, population=POPULATION[c],
                      agreed_share=member_kw.get("agreed", {}).get(c))
               for c, (la, lo) in OFFICES.items()]
    members.append(Member("290009", "奈良県", kind="prefecture", office_lat=34.685, office_lon=135.833,
                          population=1_300_000, agreed_share=member_kw.get("agreed", {}).get("290009")))
    facs = [Facility(f"{c}-{j}", c, "road", "bridge", length_m=length, lat=OFFICES[c][0] + 0.01 * (j + 1),
                     lon=OFFICES[c][1], latest_inspection_fy=2024, latest_grade=3)
            for c, (n, length) in BRIDGES.items() for j in range(n)]
    return GroupInput(tuple(members), tuple(facs), start_fiscal_year=2026, horizon_years=1, lead="292125")


def _prices(rule: str, group: GroupInput | None = None, **overrides: float) -> tuple[dict[str, float], float]:
    params = PARAMS.with_overrides({"share.rule": rule, **overrides})
    r = evaluate(group or _group(), [Scenario("s", (Lever(LeverKind.HORIZONTAL),))], EDITION, params=params)
    sc = r.scenarios[0]
    return {c: m.price_yen for c, m in sc.members.items()}, sc.totals.price_yen


def test_the_rules_are_data_and_each_is_implemented() -> None:
    assert set(FILE_RULES) == set(SHARE_RULES)
    for r in share_rules():
        assert r.name_ja == SHARE_RULE_NAMES[r.key] and r.explanation_ja.endswith("。") and r.source
    assert share_rule("equal_facility").uses_equal_part and not share_rule("population").uses_equal_part


@pytest.mark.parametrize("rule", SHARE_RULES)
def test_every_rule_splits_the_whole_price_and_a_member_without_facilities_pays_nothing(rule: str) -> None:
    prices, total = _prices(rule, _group(agreed={"292125": 40, "293857": 20, "293865": 20, "294535": 20,
                                                 "290009": 0}))
    assert sum(prices.values()) == pytest.approx(total, rel=1e-12)
    assert prices["290009"] == 0.0  # the prefecture has no facility in scope: it is in no contract


def test_each_rule_weighs_the_members_as_it_says() -> None:
    # one joint design contract and one joint works contract, every member in both
    ratio = {}
    for rule in ("facility_count", "length_area", "population", "direct_cost"):
        prices, _ = _prices(rule)
        ratio[rule] = prices["292125"] / prices["293857"]
    assert ratio["facility_count"] == pytest.approx(3 / 2)            # bridges
    assert ratio["length_area"] == pytest.approx(30 / 60)             # metres of bridge
    assert ratio["population"] == pytest.approx(27_000 / 1_300)       # people
    agreed, _ = _prices("agreed", _group(agreed={"292125": 40, "293857": 20, "293865": 20, "294535": 20}))
    assert agreed["292125"] / agreed["293857"] == pytest.approx(2.0)
    equal, total = _prices("equal_facility", **{"share.equal_part": 0.3})
    assert equal["292125"] / total == pytest.approx(0.3 / 4 + 0.7 * 3 / 9)
    assert equal["293857"] / total == pytest.approx(0.3 / 4 + 0.7 * 2 / 9)


def test_the_baseline_does_not_depend_on_the_rule() -> None:
    bases = set()
    for rule in ("facility_count", "population", "length_area"):
        r = evaluate(_group(), [], EDITION, params=PARAMS.with_overrides({"share.rule": rule}))
        bases.add(tuple(round(m.price_yen) for m in r.baseline.members.values()))
    assert len(bases) == 1


def test_a_rule_that_needs_a_weight_names_the_member_without_it() -> None:
    g = _group()
    members = tuple(Member(m.lg_code, m.name, m.kind, m.office_lat, m.office_lon,
                           population=None if m.lg_code == "293865" else m.population) for m in g.members)
    g = GroupInput(members, g.facilities, g.start_fiscal_year, g.horizon_years, lead=g.lead)
    with pytest.raises(InvalidInput, match="人口割.*団体293865"):
        _prices("population", g)
    with pytest.raises(InvalidInput, match="協定で定める割合"):
        _prices("agreed")  # no agreed shares at all
    with pytest.raises(InvalidInput, match="費用分担の規則「by_guess」"):
        _prices("by_guess")


def test_an_assumption_names_the_rule_in_words() -> None:
    r = evaluate(_group(), [], EDITION, params=PARAMS.with_overrides({"share.rule": "equal_facility",
                                                                       "share.equal_part": 0.2}))
    assert any("費用分担の規則「均等割＋施設割（均等割の割合 20%）」" in a for a in r.assumptions)


# --------------------------------------------------------------------------- the scenario file

BASE = """
name = "テスト"
cost_share = "{rule}"
[members."292125"]
{uda}
[members."293857"]
{soni}
[members."290009"]
{pref}
[[scenario]]
name = "広域"
levers = ["horizontal"]
"""


def _file(rule: str, uda: str = "", soni: str = "", pref: str = "") -> str:
    return BASE.format(rule=rule, uda=uda, soni=soni, pref=pref)


@pytest.mark.parametrize("rule", ["direct_cost", "facility_count", "equal_usage"])
def test_the_old_values_stay_valid(rule: str) -> None:
    assert read_scenario("x.toml", text=_file(rule)).cost_share == rule


def test_the_new_keys_and_their_member_values() -> None:
    sf = read_scenario("x.toml", text=_file("agreed", "share = 60", "share = 40", "supporting = true"))
    assert sf.cost_share == "agreed" and sf.parameters["share.rule"] == "agreed"
    with pytest.raises(ScenarioFileError, match=r"members\.290009\.share|協定で定める割合"):
        read_scenario("x.toml", text=_file("agreed", "share = 60", "share = 40"))
    with pytest.raises(ScenarioFileError, match="施設数割"):
        read_scenario("x.toml", text=_file("by_guess"))
    with pytest.raises(ScenarioFileError, match="0〜1"):
        read_scenario("x.toml", text=_file("equal_facility") + '[parameters]\n"share.equal_part" = 1.5\n')
    with pytest.raises(ScenarioFileError, match="true か false"):
        read_scenario("x.toml", text=_file("facility_count", pref='supporting = "yes"'))


def test_a_supporting_member_has_nothing_in_scope() -> None:
    sf = read_scenario("x.toml", text=_file("facility_count", pref="supporting = true"))
    ref = {"292125": {"name": "宇陀市", "population": 27_000, "road_length_m": 1000.0},
           "293857": {"name": "曽爾村", "population": 1_300},
           "290009": {"name": "奈良県", "kind": "prefecture", "road_length_m": 9_000_000.0}}
    facilities = pd.DataFrame({"facility": ["a", "b", "p"], "lg_code": ["292125", "293857", "290009"],
                               "sector": "road", "facility_type": "bridge", "length_m": 10.0, "latest_grade": 3,
                               "latest_inspected_on": None, "is_synthetic": False})
    g = build_group(sf, ref, facilities)
    assert {f.lg_code for f in g.facilities} == {"292125", "293857"}
    pref = next(m for m in g.members if m.lg_code == "290009")
    assert pref.road_length_km == 0 and pref.park_area_m2 == 0
    assert next(m for m in g.members if m.lg_code == "292125").population == 27_000


def test_set_cost_share_writes_the_groups_decision() -> None:
    import tomllib

    doc = tomllib.loads(_file("direct_cost", pref="road_length_km = 0"))
    out = set_cost_share(doc, "agreed", agreed={"292125": 70, "293857": 30}, supporting={"290009"})
    assert out["cost_share"] == "agreed"
    assert out["members"]["292125"] == {"share": 70.0} and out["members"]["290009"] == {"road_length_km": 0,
                                                                                        "supporting": True}
    back = set_cost_share(out, "equal_facility", equal_part=0.25)
    assert back["parameters"]["share.equal_part"] == 0.25
    assert "share" not in back["members"]["292125"] and "supporting" not in back["members"]["290009"]
    with pytest.raises(ValueError):
        set_cost_share(doc, "by_guess")
