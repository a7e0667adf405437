"""The unit-price page (analysis:unit_prices): every role, the download, the upload with its errors, and the
municipality's LCC and plan computed with its own prices (issue #12: the LCC page told web users to run
「gunmane lcc … --params DIR」)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gunmane.engine.indicator_types import Scope, ScopeKind
from gunmane.io.shipped.lcc import load_lcc_parameters
from gunmane.web.analysis import lifecycle
from gunmane.web.analysis.models import MunicipalUnitPrices
from tests.conftest import login_client

pytestmark = pytest.mark.django_db
UDA = "292125"
URL = reverse("analysis:unit_prices", kwargs={"lg_code": UDA})
HEADER = "施設の種類,健全性,対策,㎡あたりの単価（円）,1件あたりの固定費（円）,対策後の健全性,出典・根拠"
# 宇陀市's own prices for Ⅲ (a repair at twice the shipped 90,000 円/㎡), as saved from Excel (CP932).
OWN_TABLE = (HEADER + "\r\n橋梁,Ⅲ,補修,\"180,000\",300万,Ⅰ,宇陀市 令和6年度 橋梁補修工事の実績\r\n").encode("cp932")
SCOPE = Scope(ScopeKind.MUNICIPALITY, UDA, "宇陀市")


def upload(client: Client, content: bytes = OWN_TABLE, name: str = "宇陀市_単価表.csv"):  # type: ignore[no-untyped-def]
    return client.post(URL, {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def client_for(username: str | None) -> Client:
    if username is None:
        return Client()
    from django.contrib.auth import get_user_model

    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


@pytest.mark.parametrize(("user", "get", "post"), [
    ("uda", 200, 302),           # 宇陀市's editor: sees, uploads
    ("admin", 200, 302),         # the administrator
    ("uda-viewer", 200, 403),    # 宇陀市's viewer: sees, cannot upload
    ("nara", 200, 403),          # 奈良県 (views its municipalities' ledgers)
    ("soni", 403, 403),          # 曽爾村's editor: another municipality's table
    ("osaka", 403, 403),         # an outsider
    (None, 302, 302),            # anonymous: to the login
])
def test_every_role(demo, user: str | None, get: int, post: int) -> None:  # type: ignore[no-untyped-def]
    c = client_for(user)
    r = c.get(URL)
    assert r.status_code == get
    if get == 302:
        assert "login" in r["Location"]
    if get == 200:
        assert "宇陀市の LCC・対策計画の単価表" in r.content.decode()
        assert ("unit-price-form" in r.content.decode()) == (post == 302)  # the form only for those who may upload
        assert c.get(URL, {"format": "xlsx"}).status_code == 200
    r = upload(c)
    assert r.status_code == post
    assert MunicipalUnitPrices.objects.filter(municipality__lg_code=UDA).exists() == (post == 302 and user is not None)


def test_unknown_municipality_is_404(demo) -> None:  # type: ignore[no-untyped-def]
    assert login_client().get(reverse("analysis:unit_prices", kwargs={"lg_code": "999999"})).status_code == 404


def test_download_edit_upload_and_the_lcc_uses_the_prices(demo) -> None:  # type: ignore[no-untyped-def]
    c = login_client("uda")
    shipped = load_lcc_parameters()
    before, _ = lifecycle.lcc_for_scope(SCOPE, defaults=shipped, monte_carlo=False)
    # the download is the table in use, with names and Roman grades, readable back
    r = c.get(URL, {"format": "xlsx"})
    assert "単価表" in r["Content-Disposition"] or "%E5%8D%98%E4%BE%A1" in r["Content-Disposition"]
    ws = load_workbook(io.BytesIO(r.content))["単価表"]
    assert [ws.cell(row=5, column=j).value for j in (1, 2, 4, 5)] == ["橋梁", "Ⅲ", 90000, 3000000]
    csv_text = c.get(URL, {"format": "csv"}).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith(HEADER)
    # upload 宇陀市's own prices
    r = upload(c)
    assert r.status_code == 302
    page = c.get(URL).content.decode()
    assert "宇陀市が登録した単価" in page and "既定から変えた行：橋梁 Ⅲ" in page and "180,000" in page
    assert "宇陀市 令和6年度 橋梁補修工事の実績" in page
    table = MunicipalUnitPrices.objects.get(municipality__lg_code=UDA, active=True)
    assert table.uploaded_by_name.endswith("（宇陀市）") and table.file_name == "宇陀市_単価表.csv"
    # the LCC and the plan of 宇陀市 use them (the caller brought the shipped table)
    after, _ = lifecycle.lcc_for_scope(SCOPE, defaults=shipped, monte_carlo=False)
    iii = after.params.action_table("bridge")[3]
    assert (iii.per_m2_yen, iii.fixed_yen, iii.source) == (180_000, 3_000_000, "宇陀市 令和6年度 橋梁補修工事の実績")
    assert after.params.edition.startswith("宇陀市の単価表（")
    early = {s.strategy.key: s.npv_yen for s in before.strategies}
    late = {s.strategy.key: s.npv_yen for s in after.strategies}
    assert late["early_corrective"] > early["early_corrective"]  # Ⅲ repairs cost more now
    plan, _ = lifecycle.plan_for_scope(SCOPE, budget_yen=None, years=5, mode="level")
    assert plan.params.action_table("bridge")[3].per_m2_yen == 180_000
    # another municipality and the group keep the shipped table
    soni, _ = lifecycle.lcc_for_scope(Scope(ScopeKind.MUNICIPALITY, "293857", "曽爾村"), defaults=shipped,
                                      monte_carlo=False)
    assert soni.params.action_table("bridge")[3].per_m2_yen == 90_000
    # a table given explicitly (gunmane lcc --params DIR) wins over the stored one
    from dataclasses import replace

    explicit = replace(shipped, params=replace(shipped.params, edition="利用者の設定"))
    mine, _ = lifecycle.lcc_for_scope(SCOPE, defaults=explicit, monte_carlo=False)
    assert mine.params.action_table("bridge")[3].per_m2_yen == 90_000
    # back to the defaults
    assert c.post(URL, {"action": "reset"}).status_code == 302
    assert not MunicipalUnitPrices.objects.filter(municipality__lg_code=UDA, active=True).exists()
    again, _ = lifecycle.lcc_for_scope(SCOPE, defaults=shipped, monte_carlo=False)
    assert again.params.action_table("bridge")[3].per_m2_yen == 90_000


def test_a_wrong_table_is_refused_with_row_column_value(demo) -> None:  # type: ignore[no-untyped-def]
    c = login_client("uda")
    bad = (HEADER + "\r\n橋梁,Ⅲ,補修,9万円くらい,3000000,Ⅰ,\r\n歩道,Ⅱ,予防保全,15000,1000000,Ⅰ,\r\n").encode("cp932")
    r = upload(c, bad)
    assert r.status_code == 400
    page = r.content.decode()
    assert "直すところ（2 件）" in page and "何も登録していません" in page
    assert "<code>9万円くらい</code>" in page and "㎡あたりの単価（円）" in page and "<code>歩道</code>" in page
    assert not MunicipalUnitPrices.objects.exists()
    r = upload(c, b"\x89PNG not a table", name="写真.png")
    assert r.status_code == 400 and "Excel（.xlsx）か CSV（.csv）" in r.content.decode()
    r = c.post(URL, {})
    assert r.status_code == 400 and "ファイル（Excel または CSV）を選んでください" in r.content.decode()


def test_cli_lcc_uses_the_municipality_prices(demo, capsys) -> None:  # type: ignore[no-untyped-def]
    """`gunmane lcc 292125` gives the same figures as the page: both read the stored table."""
    import json

    from gunmane.cli import main

    upload(login_client("uda"))
    assert main(["lcc", UDA, "--format", "json", "--no-monte-carlo"]) == 0
    doc = json.loads(capsys.readouterr().out)
    text = json.dumps(doc, ensure_ascii=False)
    assert "宇陀市 令和6年度 橋梁補修工事の実績" in text and "180000" in text
