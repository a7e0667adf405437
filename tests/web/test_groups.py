"""Group workspace: permissions for every view, creating a group, settings and duties (with the owner's
judgement warning), checklist with history, people, documents (versioned, with inputs) and the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from docx import Document

from gunmane.cli import main
from gunmane.web.demo import DEMO_GROUP
from gunmane.web.groups.models import (
    ChecklistEvent,
    ChecklistItem,
    GeneratedDocument,
    Group,
    MemberDuties,
    PeopleMeasure,
)
from gunmane.web.registry.models import Municipality
from tests.conftest import login_client

pytestmark = pytest.mark.django_db


client = login_client


def urls(group: Group) -> list[str]:
    member = group.members.get(municipality__lg_code="292125")
    item = group.checklist.first()
    assert item is not None
    return [reverse("groups:overview", args=[group.pk]), reverse("groups:settings", args=[group.pk]),
            reverse("groups:duties", args=[group.pk, member.pk]), reverse("groups:mechanism", args=[group.pk]),
            reverse("groups:cases", args=[group.pk]), reverse("groups:process", args=[group.pk]),
            reverse("groups:item", args=[group.pk, item.pk]), reverse("groups:people", args=[group.pk]),
            reverse("groups:documents", args=[group.pk])]


def test_permissions_for_every_view(demo) -> None:  # type: ignore[no-untyped-def]
    group = demo
    uda, soni, nara = client("uda"), client("soni"), client("nara")
    osaka, viewer = client("osaka", "pw-osaka-123"), client("uda-viewer", "pw-viewer-123")
    settings_url, duties_url = urls(group)[1], urls(group)[2]
    for url in urls(group):
        assert Client().get(url).status_code == 302, url          # login first
        assert uda.get(url).status_code == 200, url                # the lead's editor
        assert osaka.get(url).status_code == 403, url              # not a member
    for url in [u for u in urls(group) if u not in (settings_url, duties_url)]:
        assert soni.get(url).status_code == 200, url               # a member sees the shared views
        assert nara.get(url).status_code == 200, url               # the prefecture sees what it supports
        assert viewer.get(url).status_code == 200, url             # a viewer of a member
    assert soni.get(duties_url).status_code == 403                 # each member edits only its own duties
    assert nara.get(settings_url).status_code == 403               # a viewer cannot edit
    assert viewer.get(settings_url).status_code == 403
    assert viewer.post(reverse("groups:item_add", args=[group.pk]), {"stage": "policy", "title": "x"}).status_code == 403
    assert viewer.post(reverse("groups:documents", args=[group.pk]),
                       {"kind": "policy", "file_format": "docx"}).status_code == 403
    # the list and the board show only the groups one may see
    assert DEMO_GROUP in uda.get(reverse("groups:list")).content.decode()
    assert DEMO_GROUP not in osaka.get(reverse("groups:list")).content.decode()
    assert DEMO_GROUP in nara.get(reverse("groups:board")).content.decode()
    assert DEMO_GROUP not in osaka.get(reverse("groups:board")).content.decode()
    assert uda.get(reverse("groups:overview", args=[99999])).status_code == 404
    assert nara.get(reverse("groups:create")).status_code == 403   # only municipal editors create groups


def test_create_a_group_from_the_demo_region(demo) -> None:  # type: ignore[no-untyped-def]
    c = client("uda")
    page = c.get(reverse("groups:create"))
    assert "幹事団体" in page.content.decode()
    lead = Municipality.objects.get(lg_code="292125").pk
    members = [Municipality.objects.get(lg_code=code).pk for code in ("293857", "293865")]
    response = c.post(reverse("groups:create"), {"name": "宇陀・曽爾・御杖 橋梁の群", "lead": lead, "members": members,
                                                 "prefecture_supports": "on", "collaboration_types": ["horizontal"]})
    group = Group.objects.get(name="宇陀・曽爾・御杖 橋梁の群")
    assert response.status_code == 302 and response["Location"] == reverse("groups:settings", args=[group.pk])
    roles = dict(group.members.values_list("municipality__lg_code", "role"))
    assert roles == {"292125": "lead", "293857": "member", "293865": "member", "290009": "prefecture"}
    assert sorted(group.collaboration_types) == ["horizontal", "vertical"]
    assert group.checklist.count() == 16  # seeded from the guide's stages
    again = c.post(reverse("groups:create"), {"name": "宇陀・曽爾・御杖 橋梁の群", "lead": lead})
    assert "すでにあります" in again.content.decode()


def test_settings_duties_and_the_owner_judgement_warning(demo) -> None:  # type: ignore[no-untyped-def]
    group = demo
    c = client("soni")
    soni = group.members.get(municipality__lg_code="293857")
    response = c.post(reverse("groups:duties", args=[group.pk, soni.pk]),
                      {"delegated_tasks": ["inspection", "diagnosis"], "kept_judgements": ["closure"], "plans": ""},
                      follow=True)
    assert "本来管理者が担うべき判断" in response.content.decode()
    assert MemberDuties.objects.get(member=soni).delegated_tasks == ["inspection", "diagnosis"]
    overview = c.get(reverse("groups:overview", args=[group.pk])).content.decode()
    assert "本来管理者の判断にかかわる設定" in overview and "曽爾村" in overview
    both = c.post(reverse("groups:duties", args=[group.pk, soni.pk]),
                  {"delegated_tasks": ["closure"], "kept_judgements": ["closure"]})
    assert "両方に選んでいます" in both.content.decode()
    # settings: a bad term is refused, a good one saved and reflected in the mechanism helper
    uda = client("uda")
    url = reverse("groups:settings", args=[group.pk])
    bad = uda.post(url, {"term_years": "20", "cost_share_rule": "facility_count"})
    assert "1〜10 年" in bad.content.decode()
    ok = uda.post(url, {"term_years": "5", "cost_share_rule": "equal_usage", "mechanism": "substitute",
                        "collaboration_types": ["horizontal", "vertical"], "sectors": ["road", "river"],
                        "wants_permanent": "on"})
    assert ok.status_code == 302
    group.refresh_from_db()
    assert group.settings.term_years == 5 and group.settings.sectors == ["road", "river"]
    helper = uda.get(reverse("groups:mechanism", args=[group.pk])).content.decode()
    assert "事務の代替執行" in helper and "選択中" in helper and "法務担当" in helper


def test_checklist_with_evidence_and_history(demo) -> None:  # type: ignore[no-untyped-def]
    group = demo
    c = client("uda")
    item = ChecklistItem.objects.filter(group=group, stage="policy").first()
    assert item is not None
    url = reverse("groups:item", args=[group.pk, item.pk])
    bad = c.post(url, {"status": "done", "evidence_url": "javascript:alert(1)"})
    assert "http(s)://" in bad.content.decode()
    karte = reverse("analysis:group", args=[group.pk])
    c.post(url, {"status": "done", "evidence_url": karte, "evidence_note": "カルテで確認",
                 "owner": group.members.get(role="lead").municipality.pk, "due_date": "2026-03-31"})
    item.refresh_from_db()
    assert item.status == "done" and item.evidence_url == karte and str(item.due_date) == "2026-03-31"
    event = ChecklistEvent.objects.get(item=item)
    assert event.user is not None and event.user.username == "uda"
    assert event.changes["status"] == {"label": "状態", "from": "未着手", "to": "完了"}
    assert event.changes["owner"]["to"] == "宇陀市"
    page = c.get(url).content.decode()
    assert "状態「未着手」→「完了」" in page
    board = c.get(reverse("groups:board")).content.decode()
    assert "1/4" in board  # 実施方針検討: one of four done
    c.post(reverse("groups:item_add", args=[group.pk]), {"stage": "implementation", "title": "月例の調整会議"})
    assert ChecklistItem.objects.filter(group=group, title="月例の調整会議", stage="implementation").exists()


def test_people_and_cases(demo) -> None:  # type: ignore[no-untyped-def]
    group = demo
    c = client("uda")
    c.post(reverse("groups:people", args=[group.pk]),
           {"kind": "training", "title": "ME養成講座への派遣（2名）", "support_body": "me_gifu", "fiscal_year": "2026"})
    assert PeopleMeasure.objects.filter(group=group, support_body="me_gifu").exists()
    page = c.get(reverse("groups:people", args=[group.pk])).content.decode()
    assert "ME養成講座への派遣" in page and "社会基盤メンテナンスエキスパート" in page
    cases = c.get(reverse("groups:cases", args=[group.pk]))
    first = cases.context["matches"][0]
    assert first.case.key == "nara_uda" and "都道府県が関わる" in first.reasons
    assert "静岡県・下田市" in cases.content.decode()


def test_documents_versioned_with_inputs(demo) -> None:  # type: ignore[no-untyped-def]
    group = demo
    c = client("uda")
    url = reverse("groups:documents", args=[group.pk])
    assert "効果試算はまだ計算していない" not in c.get(url).content.decode()  # the demo has a computed scenario
    c.post(url, {"kind": "policy", "file_format": "docx"})
    c.post(url, {"kind": "policy", "file_format": "docx"})   # the same content again: the file kept before
    c.post(url, {"kind": "policy", "file_format": "pdf"})    # the same content as PDF: the same version
    docs = GeneratedDocument.objects.filter(group=group, kind="policy").order_by("version", "file_format")
    assert [(d.version, d.file_format) for d in docs] == [(1, "docx"), (1, "pdf")]
    settings_row = group.settings
    settings_row.issues += "\n点検データの様式が団体ごとに違う"
    settings_row.save()
    c.post(url, {"kind": "policy", "file_format": "docx"})   # new content: the next version
    docs = GeneratedDocument.objects.filter(group=group, kind="policy").order_by("version", "file_format")
    assert [(d.version, d.file_format) for d in docs] == [(1, "docx"), (1, "pdf"), (2, "docx")]
    latest = docs.last()
    assert latest is not None
    assert latest.inputs["group_name"] == DEMO_GROUP and latest.inputs["synthetic"] is True
    assert latest.inputs["author_ja"] == "宇陀市 土木担当"   # the person's name (it names the organisation)
    assert {m["name"] for m in latest.inputs["members"]} >= {"宇陀市", "曽爾村", "御杖村", "東吉野村", "奈良県"}
    effects = latest.inputs["effects"]
    assert effects["scenario_name"] == "広域＋プロセス"
    assert effects["scenario_contracts"] < effects["baseline_contracts"]
    page = c.get(url).content.decode()
    assert "宇陀市 土木担当" in page and ">uda<" not in page
    response = c.get(reverse("groups:document", args=[group.pk, latest.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    doc = Document(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "宇陀市" in text and "合成データ" in text
    assert doc.core_properties.author == "宇陀市 土木担当" and "作成者　宇陀市 土木担当" in text
    spec = c.post(url, {"kind": "spec", "file_format": "pdf"})
    assert "ロットを選んでください" in spec.content.decode()
    c.post(url, {"kind": "spec", "file_format": "pdf", "lot": "L1"})
    assert GeneratedDocument.objects.filter(group=group, kind="spec", lot="L1", file_format="pdf").exists()
    annex = c.get(reverse("groups:lot_annex", args=[group.pk, "L1"]))
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(annex.content))
    assert wb.active is not None and wb.active.max_row > 10
    assert c.get(reverse("groups:lot_annex", args=[group.pk, "L9"])).status_code == 404
    assert client("osaka", "pw-osaka-123").get(reverse("groups:lot_annex", args=[group.pk, "L1"])).status_code == 403
    # another group's member cannot download
    assert client("osaka", "pw-osaka-123").get(reverse("groups:document", args=[group.pk, latest.pk])).status_code == 403


def test_cli_documents_generate(demo, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "agreement.docx"
    assert main(["documents", "generate", "--group", DEMO_GROUP, "--kind", "agreement", "--format", "docx",
                 "--out", str(out)]) == 0
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "第1条" in text
    assert main(["documents", "generate", "--group", "ない群", "--kind", "policy", "--out", str(out)]) == 2
    assert "見つかりません" in capsys.readouterr().err
    assert main(["documents", "generate", "--group", DEMO_GROUP, "--kind", "spec", "--out", str(out)]) == 2
    assert "L1" in capsys.readouterr().err
    pdf = tmp_path / "spec.pdf"
    assert main(["documents", "generate", "--group", DEMO_GROUP, "--kind", "spec", "--lot", "L2", "--format", "pdf",
                 "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert main(["groups", "list"]) == 0
    assert DEMO_GROUP in capsys.readouterr().out.splitlines()
