"""見える化 「全国の束ね効果」 (issue #14 §4): the page for visitors and signed-in users, the D selector, the tables,
downloads, and who sees which run (a run from municipal ledgers is for signed-in users only)."""

from __future__ import annotations

import copy
import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gunmane.io.districting import shipped_national
from gunmane.web.analysis.models import NationalDistricting
from tests.conftest import login_client
from tests.words import html_text, internal_words, xlsx_text

URL = "/karte/districting/"


def test_url_is_under_karte() -> None:
    assert reverse("analysis:national_districting") == URL


@pytest.mark.django_db
def test_page_for_visitor_and_signed_in(users) -> None:  # type: ignore[no-untyped-def]
    shipped = shipped_national()
    assert len(shipped["prefectures"]) == 47 and shipped["provenance"]["office_only"] is True
    # a ledger-based run: only signed-in users see it
    ledger_run = copy.deepcopy(shipped)
    ledger_run["prefectures"][0]["name"] = "台帳から計算した県"
    NationalDistricting.objects.create(result=ledger_run, office_only=False)
    visitor = Client()
    r = visitor.get(URL, {"d": "20", "pref": "29"})
    assert r.status_code == 200
    html = r.content.decode()
    text = html_text(html)
    assert "全国の束ね効果" in text and "台帳から計算した県" not in text
    assert "群マネに同梱の計算結果" in text
    assert "奈良県の市区町村（D = 20 km）" in text and "宇陀市" in text and "役所位置で近似" in text
    nara = next(p for p in shipped["prefectures"] if p["code"] == "29")
    assert f"{nara['reduction']['20']:.1f} %" in text  # the table's figure is the document's
    assert html.count("<circle") > 1500  # one dot per municipality on the map
    assert 'selected>20 km' in html
    # no code words of ours (the site footer's source name is allowed everywhere: tests/web/test_words.py)
    assert [f for f in internal_words(text) if f.match != "local_gov_vis"] == []
    signed_in = login_client("uda")
    text2 = html_text(signed_in.get(URL).content.decode())
    assert "台帳から計算した県" in text2 and "保存された計算結果" in text2
    # downloads: JSON as the document, Excel readable and free of code words
    doc = json.loads(visitor.get(URL, {"format": "json"}).content)
    assert doc["sweep"] == shipped["sweep"] and doc["prefectures"][0]["name"] != "台帳から計算した県"
    book = visitor.get(URL, {"format": "xlsx"}).content
    wb = load_workbook(io.BytesIO(book))
    assert wb.sheetnames == ["都道府県", "市区町村", "前提・出典"]
    assert [f for f in internal_words(xlsx_text(book)) if f.match != "local_gov_vis"] == []
    # an office-only saved run replaces the shipped one for visitors too
    office_run = copy.deepcopy(shipped)
    office_run["prefectures"][0]["name"] = "公開データで再計算した県"
    NationalDistricting.objects.create(result=office_run, office_only=True)
    assert "公開データで再計算した県" in html_text(visitor.get(URL).content.decode())
