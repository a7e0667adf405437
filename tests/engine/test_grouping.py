"""Group design helpers: mechanism suggestions, cases like ours, owner's-judgement warnings; the catalogue data."""

from __future__ import annotations

from gunmane.engine.grouping import GroupProfile, judgement_warnings, match_cases, suggest_mechanisms
from gunmane.io.shipped.cases import catalogue

CAT = catalogue()


def profile(**kw) -> GroupProfile:  # type: ignore[no-untyped-def]
    base = {"types": ("horizontal", "vertical"), "n_members": 5, "has_prefecture": True, "sectors": ("road",),
            "size": "village"}
    return GroupProfile(**{**base, **kw})


def test_catalogue_is_complete_and_sourced() -> None:
    assert {m.key for m in CAT.mechanisms} == {"agreement", "council", "joint_organ", "delegation", "substitute",
                                               "partnership", "association", "union"}
    assert CAT.mechanism("substitute").article == "地方自治法第252条の16の2"  # type: ignore[union-attr]
    assert not CAT.mechanism("substitute").authority_moves and CAT.mechanism("delegation").authority_moves  # type: ignore[union-attr]
    assert [s["name"] for s in CAT.stages] == ["導入検討", "実施方針検討", "予算要求・発注手続き", "実施", "評価・次期事業の検討"]
    models = [c for c in CAT.cases if c.kind == "model_region"]
    assert len(models) == 11 and sum(len(c.members) for c in models) == 40
    assert all(c.source.startswith("http") for c in CAT.cases)
    assert all(b["source"].startswith("http") for b in CAT.support_bodies)
    assert {t.key for t in CAT.tasks if t.owner_judgement} >= {"diagnosis", "closure"}


def test_mechanism_suggestions_follow_the_situation() -> None:
    vertical = suggest_mechanisms(profile(executes_for_others=True), CAT.mechanisms)
    assert vertical[0].mechanism.key == "substitute"
    assert any("本来管理者に残る" in r for r in vertical[0].reasons)
    lasting = suggest_mechanisms(profile(types=("horizontal",), has_prefecture=False, n_members=8,
                                         wants_permanent=True), CAT.mechanisms)
    keys = [s.mechanism.key for s in lasting]
    assert keys.index("partnership") < keys.index("agreement")
    office = suggest_mechanisms(profile(shared_engineers=True, types=("horizontal",)), CAT.mechanisms)
    assert office[0].mechanism.key == "joint_organ"
    first_step = suggest_mechanisms(profile(types=("horizontal",), has_prefecture=False, n_members=2), CAT.mechanisms)
    assert first_step[0].mechanism.key == "agreement"


def test_cases_like_ours() -> None:
    nara = match_cases(profile(), CAT.cases)
    assert nara[0].case.key == "nara_uda"
    multi = match_cases(profile(types=("multi_sector",), n_members=1, has_prefecture=False,
                                sectors=("road", "park", "river"), size="city"), CAT.cases)
    assert multi[0].case.types == ("multi_sector",) and "同じ分野" in " ".join(multi[0].reasons)


def test_owner_judgement_warnings() -> None:
    p = profile(mechanism="agreement", delegations=(("曽爾村", "member", ("inspection", "diagnosis")),
                                                    ("宇陀市", "lead", ("procurement",))))
    warnings = judgement_warnings(p, CAT.tasks, CAT.mechanisms)
    assert [(w.member, w.task) for w in warnings] == [("曽爾村", "健全性の診断（判定区分の決定）")]
    moved = judgement_warnings(profile(mechanism="delegation", delegations=(("御杖村", "member", ("inspection",)),)),
                               CAT.tasks, CAT.mechanisms)
    assert len(moved) == 1 and "権限が御杖村から移ります" in moved[0].message
    assert judgement_warnings(profile(mechanism="substitute", delegations=(("御杖村", "member", ("inspection",)),)),
                              CAT.tasks, CAT.mechanisms) == []
