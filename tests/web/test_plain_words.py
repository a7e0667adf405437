"""The fixes behind issue #12 §3, asserted on the demo group (the words guard is tests/web/test_words.py)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from gunmane.io.reports.effects_xlsx import WORK_JA
from tests.conftest import login_client


def test_effects_new_get_lists_and_the_excel_names_everything(demo) -> None:  # type: ignore[no-untyped-def]
    from gunmane.web.groups.models import EffectScenario

    c = login_client("uda")
    before = EffectScenario.objects.count()
    response = c.get(reverse("groups:effects_new", args=[demo.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("groups:effects", args=[demo.pk])
    assert EffectScenario.objects.count() == before  # a GET creates nothing
    es = EffectScenario.objects.filter(group=demo).first()
    assert es is not None
    page = c.get(reverse("groups:effects_result", args=[demo.pk, es.pk])).content.decode()
    assert "予定価格（千円）" in page and "期待件数" in page and "百万円" not in page
    wb = load_workbook(io.BytesIO(c.get(reverse("groups:effects_result", args=[demo.pk, es.pk]) + "?format=xlsx").content))
    rows = list(wb["契約"].iter_rows(min_row=2, values_only=True))
    assert rows and all(isinstance(r[5], str) and r[5] in ("はい", "いいえ") for r in rows)  # not True/False
    orderers = {r[1] for r in rows}
    assert "宇陀市" in orderers and not any(str(o).isdigit() for o in orderers)
    assert {r[3] for r in rows} <= set(WORK_JA.values())
    assert wb["比較"].cell(row=6, column=2).value == "千円"  # 予定価格
    sources = [r[4] for r in wb["パラメータ"].iter_rows(min_row=2, values_only=True) if r[3] == "仮定値"]
    assert sources and not any(str(s).startswith("仮定値") for s in sources)


def test_survey_defaults_follow_the_group_and_name_a_contact(demo) -> None:  # type: ignore[no-untyped-def]
    from gunmane.web.surveys import services
    from gunmane.web.surveys.models import SurveyStatus
    from gunmane.web.surveys.services import RecipientRow

    # the demo group decided: road; 点検・設計・工事 — not the everyday-maintenance defaults
    form = login_client("uda").get(reverse("surveys:create", args=[demo.pk])).context["form"]
    assert form.initial["sectors"] == ["road"]
    assert form.initial["work_kinds"] == ["inspection", "diagnosis", "design", "repair"]
    closes = timezone.localdate() + timedelta(days=14)
    survey = services.create_from_template(demo, template_key="contractor", sectors=["road"], works=["inspection"],
                                           closes_on=closes)
    recipient = services.add_recipients(survey, [RecipientRow(line=1, name="宇陀建設", attributes=())], closes)[0]
    survey.status = SurveyStatus.OPEN
    survey.save(update_fields=["status"])
    from django.test import Client

    page = Client().get(reverse("surveys:respond", args=[recipient.token])).content.decode()
    assert "お問い合わせ先：宇陀市" in page and "/static/gunmane/favicon.svg" in page
    icon = Client().get("/favicon.ico")  # signed out: no login page for the icon
    assert icon.status_code == 301 and icon["Location"].endswith("gunmane/favicon.svg")


def test_national_table_counts_are_whole_and_the_group_table_has_no_empty_column(demo) -> None:  # type: ignore[no-untyped-def]
    c = login_client("uda")
    text = c.get(reverse("analysis:national") + "?pref=29&format=csv&table=1").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    col = next(i for i, h in enumerate(rows[0]) if h.startswith("点検済み橋梁数"))
    uda = next(r for r in rows if r[:1] == ["292125"])
    assert uda[col] == "525"  # not 525.0
    page = c.get(reverse("analysis:group", args=[demo.pk]))
    html = page.content.decode()
    header = html.split('id="group-compare"', 1)[1].split("</thead>", 1)[0]
    assert "奈良県" not in header and "奈良県は市区町村の統計の対象ではないため" in html
    members = {m.municipality.lg_code for m, _ in page.context["members"]}
    assert members == {"292125", "293857", "293865", "294535"}
