"""The leaks of issue #11 §1, each with the test that failed before consent and the ledger-figure rule:

- a group created by one editor with its neighbours ticked read their ledgers (lot annex, lifecycle pages);
- a scenario file naming any municipality read that municipality's ledger (web and `gunmane effects`);
- any signed-in user read another municipality's ledger figures through the カルテ JSON and series CSV.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gunmane.cli import main
from gunmane.engine.indicators import INDICATOR_BY_ID, LEDGER_IDS
from gunmane.web.groups.models import EffectScenario, Group, GroupMember, MemberStatus
from gunmane.web.registry.models import Facility, Municipality
from tests.conftest import login_client

pytestmark = pytest.mark.django_db

UDA, SONI, MITSUE, NARA_PREF = "292125", "293857", "293865", "290009"


def _create_group(c: Client) -> Group:
    lead = Municipality.objects.get(lg_code=UDA).pk
    members = [Municipality.objects.get(lg_code=SONI).pk]
    r = c.post(reverse("groups:create"), {"name": "宇陀が勝手につくった群", "lead": lead, "members": members,
                                          "prefecture_supports": "on", "collaboration_types": ["horizontal"]})
    assert r.status_code == 302
    return Group.objects.get(name="宇陀が勝手につくった群")


def _annex_facility_owners(c: Client, group: Group) -> set[str]:
    r = c.get(reverse("groups:lot_annex", args=[group.pk, "L1"]))
    if r.status_code == 404:
        return set()
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    return {name for name in ("宇陀市", "曽爾村") if name in text}


def test_a_group_reads_no_ledger_of_a_member_that_has_not_accepted(demo) -> None:  # type: ignore[no-untyped-def]
    uda, soni = login_client("uda"), login_client("soni")
    group = _create_group(uda)
    status = dict(group.members.values_list("municipality__lg_code", "status"))
    assert status == {UDA: "accepted", SONI: "invited", NARA_PREF: "invited"}
    assert group.member_codes() == [UDA]

    # the invitation is waiting; until 曽爾村 accepts none of its facilities are in the group's files and fits
    assert _annex_facility_owners(uda, group) == {"宇陀市"}
    fit = uda.get(reverse("analysis:deterioration", args=[f"group-{group.pk}"]) + "?merge_iv=1&format=json")
    assert fit.status_code == 200
    assert "曽爾村" not in fit.content.decode()
    # 曽爾村's staff do not see the group itself, only the invitation
    assert soni.get(reverse("groups:overview", args=[group.pk])).status_code == 403
    invitation = group.members.get(municipality__lg_code=SONI)
    assert "宇陀が勝手につくった群" in soni.get(reverse("groups:list")).content.decode()
    page = soni.get(reverse("groups:invitation", args=[group.pk, invitation.pk]))
    assert page.status_code == 200 and "参加を承諾する" in page.content.decode()
    # only 曽爾村's own editor answers: the creator cannot accept on its behalf
    assert uda.post(reverse("groups:invitation_answer", args=[group.pk, invitation.pk]),
                    {"answer": "accept"}).status_code == 403
    assert soni.post(reverse("groups:invitation_answer", args=[group.pk, invitation.pk]),
                     {"answer": "accept"}).status_code == 302
    assert sorted(group.member_codes()) == [UDA, SONI]
    assert _annex_facility_owners(uda, group) == {"宇陀市", "曽爾村"}
    assert soni.get(reverse("groups:overview", args=[group.pk])).status_code == 200

    # it can leave; from then on its ledger is out of the group again
    assert soni.post(reverse("groups:member_leave", args=[group.pk, invitation.pk])).status_code == 302
    assert group.members.get(municipality__lg_code=SONI).status == MemberStatus.LEFT
    assert _annex_facility_owners(uda, group) == {"宇陀市"}
    # the change history records who accepted and who left
    history = list(invitation.history.order_by("history_date").values_list("status", "history_user__username"))
    assert history[-2:] == [("accepted", "soni"), ("left", "soni")]


def test_the_prefecture_joins_by_consent_too(demo) -> None:  # type: ignore[no-untyped-def]
    uda, nara = login_client("uda"), login_client("nara")
    group = _create_group(uda)
    # 奈良県's staff read 曽爾村's ledger (vertical collaboration) but not a group the prefecture has not joined
    assert nara.get(reverse("groups:overview", args=[group.pk])).status_code == 403
    pref = group.members.get(municipality__lg_code=NARA_PREF)
    # 'nara' is a viewer: it sees the invitation but cannot accept
    assert nara.get(reverse("groups:invitation", args=[group.pk, pref.pk])).status_code == 200
    assert nara.post(reverse("groups:invitation_answer", args=[group.pk, pref.pk]),
                     {"answer": "accept"}).status_code == 403


def test_a_scenario_naming_a_non_member_is_refused(demo, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    group = demo
    GroupMember.objects.filter(group=group, municipality__lg_code=MITSUE).update(status=MemberStatus.INVITED)
    uda = login_client("uda")
    es = EffectScenario.objects.create(group=group, name="試算", toml="name = 'x'\n[members.'292125']\n")
    toml = (f'name = "{group.name}"\nlead = "292125"\nsectors = ["road"]\n'
            '[members."292125"]\n[members."292010"]\n'  # 奈良市: not in the group at all
            '[[scenario]]\nname = "広域"\nlevers = [{kind = "horizontal"}]\n')
    upload = io.BytesIO(toml.encode())
    upload.name = "leak.toml"
    r = uda.post(reverse("groups:effects_edit", args=[group.pk, es.pk]), {"toml_file": upload})
    body = r.content.decode()
    assert r.status_code == 200 and "奈良市（292010）は群" in body and "構成団体（参加を承諾した団体）ではありません" in body
    es.refresh_from_db()
    assert "292010" not in es.toml  # nothing stored
    # a scenario stored earlier that names the invited 御杖村 is refused when it is evaluated
    es.toml = toml.replace("292010", MITSUE)
    es.save()
    page = uda.get(reverse("groups:effects_result", args=[group.pk, es.pk]))
    assert "御杖村（293865）は群" in page.content.decode()
    lots = uda.get(reverse("groups:effects_lots", args=[group.pk, es.pk]) + "?run=1&format=geojson")
    assert "構成団体（参加を承諾した団体）ではありません" in lots.content.decode()

    # the CLI refuses the same file against the database
    path = tmp_path / "leak.toml"
    path.write_text(toml, encoding="utf-8")
    capsys.readouterr()
    assert main(["effects", str(path), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "invalid" and out["error"]["code"] == "member_not_in_group"
    assert main(["lots", str(path), "--format", "geojson"]) == 1
    assert "member_not_in_group" in capsys.readouterr().out
    # an unknown group is refused rather than guessed
    assert main(["effects", str(path), "--group", "ない群"]) == 1
    assert "group_not_found" in capsys.readouterr().out


def _ledger_values(karte_json: dict) -> dict[str, object]:  # type: ignore[type-arg]
    return {i["id"]: i["value"] for i in karte_json["indicators"] if i["id"] in LEDGER_IDS}


def test_ledger_figures_follow_the_rule(demo) -> None:  # type: ignore[no-untyped-def]
    url = reverse("analysis:municipality", args=[SONI]) + "?format=json"
    osaka, uda, nara, soni = (login_client("osaka", "pw-osaka-123"), login_client("uda"), login_client("nara"),
                              login_client("soni"))
    n_bridges = Facility.objects.filter(manager__lg_code=SONI).count()
    # outsiders see the public statistics only
    hidden = _ledger_values(osaka.get(url).json())
    assert hidden and all(v is None for v in hidden.values()), hidden
    page = osaka.get(reverse("analysis:municipality", args=[SONI])).content.decode()
    assert 'id="ledger-hidden"' in page
    def grade_counts(c: Client) -> list[float]:
        r = c.get(reverse("analysis:series_csv") + f"?scope={SONI}&series=grade_distribution")
        assert r.status_code == 200
        rows = list(csv.reader(r.content.decode("utf-8-sig").splitlines()))[1:]
        return [float(row[1]) for row in rows if len(row) > 1 and row[1].replace(".", "").isdigit()]

    assert sum(grade_counts(osaka)) == 0
    assert sum(grade_counts(soni)) > 0
    # the national table and map show no ledger figure of 曽爾村 to an outsider
    label = INDICATOR_BY_ID["facilities"].label_ja

    def table_value(c: Client) -> str:
        rows = list(csv.reader(c.get(reverse("analysis:national") + "?format=csv&table=1&q=曽爾")
                               .content.decode("utf-8-sig").splitlines()))
        column = next(i for i, h in enumerate(rows[0]) if h.startswith(label))
        return next(r for r in rows[1:] if r and r[0] == SONI)[column]

    assert table_value(osaka) == "" and float(table_value(soni)) == n_bridges
    points = osaka.get(reverse("analysis:map_data") + "?indicator=facilities").json()["points"]
    assert next(p for p in points if p["code"] == SONI)["value"] is None
    # its own staff, its prefecture and its accepted partner see them
    for c in (soni, nara, uda):
        assert _ledger_values(c.get(url).json())["facilities"] == n_bridges
    # publishing opens them to everyone signed in
    assert osaka.post(reverse("analysis:publish", args=[SONI]), {"publish": "1"}).status_code == 403
    assert soni.post(reverse("analysis:publish", args=[SONI]), {"publish": "1"}).status_code == 302
    assert _ledger_values(osaka.get(url).json())["facilities"] == n_bridges
    points = osaka.get(reverse("analysis:map_data") + "?indicator=facilities").json()["points"]
    assert next(p for p in points if p["code"] == SONI)["value"] == n_bridges
