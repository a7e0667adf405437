"""Every view: login required, who may see which ledger, who may upload — and that pages show real data."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gunmane.web.registry.imports.ledger import LedgerImporter
from gunmane.web.registry.models import Facility, ImportRecord, Municipality
from tests.fixtures import MESSY_BRIDGES_CSV, MESSY_ERRORS, corrected_bridges_csv, write_cp932

pytestmark = pytest.mark.django_db

UDA, SONI = "292125", "293857"


@pytest.fixture
def ledger(users, tmp_path: Path) -> Facility:  # type: ignore[no-untyped-def]
    uda = Municipality.objects.get(lg_code=UDA)
    LedgerImporter("facilities", write_cp932(tmp_path / "f.csv", corrected_bridges_csv()), municipality=uda).run()
    soni = Municipality.objects.get(lg_code=SONI)
    path = tmp_path / "soni.csv"
    path.write_text("施設ID,施設名,施設種別\nS-1,曽爾一号橋,橋梁\n", encoding="utf-8")
    LedgerImporter("facilities", path, municipality=soni).run()
    return Facility.objects.get(manager=uda, facility_id="BR-001")


def login(username: str) -> Client:
    c = Client()
    c.login(username=username, password="gunmane-demo")
    return c


def urls(f: Facility) -> dict[str, str]:
    lg = f.manager.lg_code
    return {
        "detail": reverse("registry:municipality_detail", args=[lg]),
        "facilities": reverse("registry:facility_list", args=[lg]),
        "facility": reverse("registry:facility_detail", args=[lg, f.facility_id]),
        "import": reverse("registry:import_create", args=[lg]),
        "export": reverse("registry:export", args=[lg, "facilities", "csv"]),
    }


ALL_VIEWS = ["registry:municipality_list", "registry:import_list"]  # the home page is public (#13)


@pytest.mark.parametrize("name", ALL_VIEWS)
def test_anonymous_is_sent_to_login(name: str, refdata) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(reverse(name))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_anonymous_cannot_reach_ledger_urls(ledger: Facility) -> None:
    for url in urls(ledger).values():
        response = Client().get(url)
        assert response.status_code == 302, url
    assert Client().get(reverse("registry:template", args=["facilities"])).status_code == 302


@pytest.mark.parametrize("username,expected", [
    ("uda", {"detail": 200, "facilities": 200, "facility": 200, "import": 200, "export": 200}),
    ("uda-viewer", {"detail": 200, "facilities": 200, "facility": 200, "import": 403, "export": 200}),
    ("nara", {"detail": 200, "facilities": 200, "facility": 200, "import": 403, "export": 200}),
    ("soni", {"detail": 200, "facilities": 403, "facility": 403, "import": 403, "export": 403}),
    ("osaka", {"detail": 200, "facilities": 403, "facility": 403, "import": 403, "export": 403}),
    ("admin", {"detail": 200, "facilities": 200, "facility": 200, "import": 200, "export": 200}),
])
def test_ledger_permissions(ledger: Facility, username: str, expected: dict[str, int]) -> None:
    client = Client()
    client.login(username=username, password="gunmane-demo" if username in
                 ("uda", "soni", "nara", "admin") else {"uda-viewer": "pw-viewer-123", "osaka": "pw-osaka-123"}[username])
    got = {k: client.get(u).status_code for k, u in urls(ledger).items()}
    assert got == expected


def test_editor_of_uda_sees_no_upload_controls_of_soni_and_is_refused(ledger: Facility) -> None:
    client = login("uda")
    page = client.get(reverse("registry:municipality_detail", args=[SONI])).content.decode()
    assert reverse("registry:import_create", args=[SONI]) not in page
    own = client.get(reverse("registry:municipality_detail", args=[UDA])).content.decode()
    assert reverse("registry:import_create", args=[UDA]) in own
    response = client.post(reverse("registry:import_create", args=[SONI]),
                           {"kind": "facilities", "file": io.BytesIO(b"x")})
    assert response.status_code == 403
    assert "曽爾村" in response.content.decode()


def test_upload_messy_then_corrected_through_the_web(users, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client = login("uda")
    url = reverse("registry:import_create", args=[UDA])
    messy = write_cp932(tmp_path / "橋梁台帳.csv", MESSY_BRIDGES_CSV)
    with messy.open("rb") as fh:
        response = client.post(url, {"kind": "facilities", "file": fh}, follow=True)
    page = response.content.decode()
    assert "1行も登録していません" in page
    for _row, column, value, _ in MESSY_ERRORS:
        assert f"<td>{column}</td><td><code>{value}</code></td>" in page
    record = ImportRecord.objects.get()
    assert record.status == "invalid" and record.original_name == "橋梁台帳.csv"
    assert Path(record.file.path).read_bytes() == messy.read_bytes()  # the original is kept
    xlsx = client.get(reverse("registry:import_issues_xlsx", args=[record.pk]))
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.content))["エラー"]
    assert [tuple(c.value for c in row[:4]) for row in ws.iter_rows(min_row=3)] == [
        (r, c, v, code) for r, c, v, code in MESSY_ERRORS]
    assert not Facility.objects.exists()

    fixed = write_cp932(tmp_path / "橋梁台帳_修正.csv", corrected_bridges_csv())
    with fixed.open("rb") as fh:
        page = client.post(url, {"kind": "facilities", "file": fh}, follow=True).content.decode()
    assert "取り込みました" in page
    listing = client.get(reverse("registry:facility_list", args=[UDA]) + "?q=大宇陀").content.decode()
    assert "大宇陀橋" in listing and "BR-001" in listing


def test_upload_form_rejects_xls_and_empty_files(users) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login("uda")
    url = reverse("registry:import_create", args=[UDA])
    page = client.post(url, {"kind": "facilities", "file": SimpleUploadedFile("old.xls", b"\xd0\xcf")}).content.decode()
    assert ".xlsx" in page and "保存し直して" in page
    assert not ImportRecord.objects.exists()


def test_import_record_of_another_municipality_is_refused(ledger: Facility, tmp_path: Path) -> None:
    from gunmane.web.registry.imports import records

    uda = Municipality.objects.get(lg_code=UDA)
    record = records.create_record("facilities", [("f.csv", write_cp932(tmp_path / "f.csv", corrected_bridges_csv()))],
                                   municipality=uda, user=None, dry_run=True, skip_invalid=False)
    records.run_pending(record.pk, LedgerImporter.for_record)
    for name in ("registry:import_detail", "registry:import_issues_xlsx", "registry:import_file",
                 "registry:import_progress"):
        assert login("soni").get(reverse(name, args=[record.pk])).status_code == 403, name
        assert login("uda").get(reverse(name, args=[record.pk])).status_code == 200, name
    assert record.pk not in [r.pk for r in login("soni").get(reverse("registry:import_list")).context["page_obj"]]


def test_ledger_filters_and_sorting(ledger: Facility) -> None:
    client = login("uda")
    base = reverse("registry:facility_list", args=[UDA])
    page = client.get(base + "?age=unknown").context["page_obj"]
    assert [f.facility_id for f in page] == ["BR-002"]
    page = client.get(base + "?sort=-built_year").context["page_obj"]
    years = [f.built_year for f in page if f.built_year]
    assert years == sorted(years, reverse=True)
    page = client.get(base + "?grade=none").context["page_obj"]
    assert page.paginator.count == 9


def test_municipality_list_search_and_real_figures(refdata, users) -> None:  # type: ignore[no-untyped-def]
    client = login("uda")
    response = client.get(reverse("registry:municipality_list") + "?q=宇陀")
    rows = list(response.context["page_obj"])
    assert [m.name for m in rows] == ["宇陀市"]
    assert (rows[0].bridges, rows[0].repair) == (525, 57)
    assert "10.9%" in response.content.decode()


def test_exports_download(ledger: Facility) -> None:
    client = login("uda")
    for fmt, marker in (("csv", "施設ID".encode()), ("json", b'"facility_id"'), ("xlsx", b"PK")):
        response = client.get(reverse("registry:export", args=[UDA, "facilities", fmt]))
        assert response.status_code == 200
        assert marker in response.content[:2000]
    assert client.get(reverse("registry:export", args=[UDA, "facilities", "pdf"])).status_code == 404




def test_civil_engineers_entered_by_the_municipality_only(users) -> None:  # type: ignore[no-untyped-def]
    from gunmane.web.registry.models import MunicipalYearStats

    url = reverse("registry:civil_engineers", args=[UDA])
    page = login("uda").get(reverse("registry:municipality_detail", args=[UDA])).content.decode()
    assert url in page
    response = login("uda").post(url, {"fiscal_year": "2024", "civil_engineers": "7"}, follow=True)
    assert "2024年度の技術系職員数を「7 人」にしました" in response.content.decode()
    assert MunicipalYearStats.objects.get(municipality__lg_code=UDA, fiscal_year=2024).civil_engineers == 7
    assert login("soni").post(url, {"fiscal_year": "2024", "civil_engineers": "99"}).status_code == 403
    assert login("nara").post(url, {"fiscal_year": "2024", "civil_engineers": "99"}).status_code == 403
    response = login("uda").post(url, {"fiscal_year": "2024", "civil_engineers": "-1"}, follow=True)
    assert "0 以上" in response.content.decode() or "0以上" in response.content.decode()
    login("uda").post(url, {"fiscal_year": "2024", "civil_engineers": ""})
    assert MunicipalYearStats.objects.get(municipality__lg_code=UDA, fiscal_year=2024).civil_engineers is None
    assert login("uda").get(url).status_code == 405
