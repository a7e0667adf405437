"""Change history, undo of an import, and deleting / restoring a facility (issue #11 §2, points 3 and 4)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from gunmane.cli import main
from gunmane.web.registry import history
from gunmane.web.registry.models import Facility, ImportRecord, Inspection, Measure, Municipality
from tests.conftest import login_client
from tests.fixtures import corrected_bridges_csv, write_cp932

pytestmark = pytest.mark.django_db
UDA = "292125"
HistoricalFacility = Facility.history.model  # type: ignore[attr-defined]
HistoricalInspection = Inspection.history.model  # type: ignore[attr-defined]


def upload(client: Client, path: Path, kind: str = "facilities", **options: object) -> ImportRecord:
    """Import a file through the upload page (imports run inline in tests) and return its record."""
    with path.open("rb") as fh:
        response = client.post(reverse("registry:import_create", args=[UDA]), {"kind": kind, "file": fh, **options})
    assert response.status_code == 302, response.content.decode()[:500]
    return ImportRecord.objects.latest("pk")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def uda_client(users) -> Client:  # type: ignore[no-untyped-def]
    return login_client("uda")


@pytest.fixture
def first(uda_client: Client, tmp_path: Path) -> ImportRecord:
    """宇陀市's nine bridges, imported by the editor uda through the web."""
    record = upload(uda_client, write_cp932(tmp_path / "橋梁台帳.csv", corrected_bridges_csv()))
    assert (record.status, record.created) == ("succeeded", 9)
    return record


def bridge(facility_id: str = "BR-001") -> Facility:
    return Facility.objects.get(manager__lg_code=UDA, facility_id=facility_id)


# -- history ----------------------------------------------------------------------------------------
def test_every_imported_row_is_recorded_with_who_when_and_which_import(first: ImportRecord, uda_client: Client,
                                                                       tmp_path: Path) -> None:
    rows = HistoricalFacility.objects.filter(import_record=first)
    assert rows.count() == 9 and set(rows.values_list("history_type", flat=True)) == {"+"}
    row = rows.get(facility_id="BR-001")
    assert (row.id, row.history_user.username, row.name, row.length_m, row.attributes) == (
        bridge().pk, "uda", "大宇陀橋", 1234.5, {"管理区分": "1級"})

    second = upload(uda_client, write(tmp_path / "v2.csv", "施設ID,施設名,施設種別,橋長,管理区分\n"
                                                            "BR-001,新大宇陀橋,橋梁,1240,2級\n"
                                                            "BR-003,榛原橋,橋梁,24.5,\n"))
    assert (second.created, second.updated, second.unchanged) == (0, 1, 1)
    change = HistoricalFacility.objects.get(import_record=second)
    assert change.history_type == "~" and change.name == "新大宇陀橋" and change.route == "市道大宇陀線"
    assert change.changes == {"name": ["大宇陀橋", "新大宇陀橋"], "length_m": [1234.5, 1240.0],
                              "attributes": [{"管理区分": "1級"}, {"管理区分": "2級"}]}

    page = uda_client.get(reverse("registry:facility_detail", args=[UDA, "BR-001"])).content.decode()
    assert "変更履歴" in page
    assert "施設名：大宇陀橋 → 新大宇陀橋" in page and "延長(m)：1234.5 → 1240" in page
    assert "その他の属性「管理区分」：1級 → 2級" in page
    assert reverse("registry:import_detail", args=[second.pk]) in page and "取り込み（#" in page

    detail = uda_client.get(reverse("registry:import_detail", args=[second.pk]))
    assert detail.context["change_counts"] == {"created": 0, "updated": 1, "undo_deleted": 0, "undo_restored": 0}
    text = detail.content.decode()
    assert "この取り込みで変わったもの" in text and "新大宇陀橋（BR-001）" in text and "施設名：大宇陀橋 → 新大宇陀橋" in text


def test_import_page_pages_through_its_changes(first: ImportRecord, uda_client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gunmane.web.registry import views

    monkeypatch.setattr(views, "CHANGES_PAGE_SIZE", 4)
    url = reverse("registry:import_detail", args=[first.pk])
    pages = [uda_client.get(url, {"changes": n}).context["change_entries"] for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [4, 4, 1]
    assert len({e.target for p in pages for e in p}) == 9


def test_a_change_in_the_admin_is_recorded_with_its_page_and_values(first: ImportRecord, users) -> None:  # type: ignore[no-untyped-def]
    admin = login_client("admin")
    f = bridge()
    url = reverse("admin:registry_facility_change", args=[f.pk])
    form = admin.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k not in ("attributes",)}
    data.update(name="大宇陀大橋", attributes=json.dumps(f.attributes, ensure_ascii=False), manager=f.manager_id,
                sector=f.sector_id, facility_type=f.facility_type_id)
    response = admin.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = HistoricalFacility.objects.filter(id=f.pk).latest("history_id")
    assert (row.history_type, row.history_user.username, row.import_record_id) == ("~", "admin", None)
    assert row.history_change_reason.startswith("/admin/registry/facility/")
    assert row.changes == {"name": ["大宇陀橋", "大宇陀大橋"]}


# -- undo -------------------------------------------------------------------------------------------
def test_undo_from_the_import_page_restores_values_and_removes_new_rows(first: ImportRecord, uda_client: Client,
                                                                        tmp_path: Path) -> None:
    second = upload(uda_client, write(tmp_path / "v2.csv", "施設ID,施設名,施設種別,路線名,架設年度\n"
                                                            "BR-001,新大宇陀橋,橋梁,,H2\n"
                                                            "BR-010,新設橋,橋梁,市道新線,R6\n"), clear_blanks="on")
    assert (second.created, second.updated, second.clear_blanks) == (1, 1, True)
    assert (bridge().name, bridge().route, bridge().built_year) == ("新大宇陀橋", "", 1990)
    url = reverse("registry:import_undo", args=[second.pk])
    detail = uda_client.get(reverse("registry:import_detail", args=[second.pk])).content.decode()
    assert url in detail
    confirm = uda_client.get(url).content.decode()
    assert "登録した 1 件を削除" in confirm and "変更した 1 件を取り込む前の値に戻します" in confirm
    assert Facility.objects.filter(facility_id="BR-010").exists()  # a GET changes nothing

    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(first.user)
    assert csrf.post(url).status_code == 403  # no CSRF token
    for other in (login_client("uda-viewer", "pw-viewer-123"), login_client("soni"), login_client("nara")):
        assert other.post(url).status_code == 403

    response = uda_client.post(url, follow=True)
    page = response.content.decode()
    assert "取り込みを取り消しました" in page and "取り消し済み" in page
    f = bridge()
    assert (f.name, f.route, f.built_year, f.built_year_raw, f.length_m) == (
        "大宇陀橋", "市道大宇陀線", 1970, "昭和45年", 1234.5)
    assert not Facility.objects.filter(facility_id="BR-010").exists()
    second.refresh_from_db()
    assert (second.status, second.get_status_display(), second.undone_by.username) == ("undone", "取り消し済み", "uda")
    undo_rows = HistoricalFacility.objects.filter(import_record=second, history_change_reason="undo")
    assert sorted(undo_rows.values_list("facility_id", "history_type")) == [("BR-001", "~"), ("BR-010", "-")]
    assert undo_rows.get(history_type="~").changes["name"] == ["新大宇陀橋", "大宇陀橋"]
    assert "取り込みの取り消し" in uda_client.get(reverse("registry:facility_detail", args=[UDA, "BR-001"])).content.decode()

    again = uda_client.post(url)
    assert again.status_code == 409 and "すでに取り消されています" in again.content.decode()


def test_undo_is_refused_while_later_changes_depend_on_it(first: ImportRecord, uda_client: Client,
                                                          tmp_path: Path) -> None:
    later = upload(uda_client, write(tmp_path / "rename.csv", "施設ID,施設名,施設種別\nBR-002,拾生大橋,橋梁\n"))
    inspections = upload(uda_client, write(tmp_path / "i.csv", "施設ID,点検年月日,健全性\nBR-003,2024/5/1,Ⅲ\n"),
                         kind="inspections")
    reasons = history.undo_reasons(first)
    assert any("施設「拾生大橋（BR-002）」" in r and f"取り込み #{later.pk}" in r and "先にその取り込みを取り消してください" in r
               for r in reasons)
    assert any("施設「榛原橋（BR-003）」には、この取り込みの後に点検が1件登録されています" in r for r in reasons)
    response = uda_client.post(reverse("registry:import_undo", args=[first.pk]))
    assert response.status_code == 409 and "この取り込みは取り消せません" in response.content.decode()
    assert Facility.objects.filter(manager__lg_code=UDA).count() == 9  # nothing undone

    assert bridge("BR-003").latest_grade == 3
    history.undo_import(inspections, None)
    assert not Inspection.objects.exists() and bridge("BR-003").latest_grade is None
    history.undo_import(later, None)
    assert bridge("BR-002").name == "拾生橋"
    result = history.undo_import(first, None)
    assert (result.deleted, result.restored) == (9, 0)
    assert not Facility.objects.filter(manager__lg_code=UDA).exists()


def test_undo_of_an_inspection_update_puts_back_the_grade_and_the_latest_grade(first: ImportRecord,
                                                                                uda_client: Client,
                                                                                tmp_path: Path) -> None:
    upload(uda_client, write(tmp_path / "i.csv", "施設ID,点検年月日,健全性,点検者\nBR-001,2023/7/12,Ⅱ,職員直営\n"),
           kind="inspections")
    worse = upload(uda_client, write(tmp_path / "i2.csv", "施設ID,点検年月日,健全性\nBR-001,2023/7/12,Ⅳ\n"),
                   kind="inspections")
    assert (worse.updated, bridge().latest_grade) == (1, 4)
    history.undo_import(worse, None)
    assert Inspection.objects.values_list("grade", "grade_raw", "inspector").get() == (2, "II", "職員直営")
    assert bridge().latest_grade == 2
    row = HistoricalInspection.objects.filter(import_record=worse).latest("history_id")
    assert (row.history_change_reason, row.grade, row.changes["grade"]) == ("undo", 2, [4, 2])


def test_cli_undo(refdata, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    path = write_cp932(tmp_path / "bridges.csv", corrected_bridges_csv())
    assert main(["import", "facilities", str(path), "--municipality", UDA, "--format", "json"]) == 0
    import_id = json.loads(capsys.readouterr().out)["import_id"]
    assert HistoricalFacility.objects.filter(import_record_id=import_id).count() == 9
    assert main(["import", "undo", str(import_id), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"status": "undone", "import": import_id, "deleted": 9,
                                                   "restored": 0, "reasons": []}
    assert not Facility.objects.exists()
    assert main(["import", "undo", str(import_id), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "refused" and "すでに取り消されています" in out["reasons"][0]
    assert main(["import", "undo", str(import_id)]) == 1
    assert "は取り消せません" in capsys.readouterr().out
    assert main(["import", "undo", "999999"]) == 2
    assert "999999" in capsys.readouterr().err


# -- deleting and restoring a facility ---------------------------------------------------------------
def test_delete_needs_confirmation_and_restore_brings_everything_back(first: ImportRecord, uda_client: Client,
                                                                      tmp_path: Path) -> None:
    upload(uda_client, write(tmp_path / "i.csv", "施設ID,点検年月日,健全性,点検者\nBR-001,2019/7/12,Ⅱ,職員直営\n"
                                                 "BR-001,2023/7/12,Ⅲ,職員直営\n"), kind="inspections")
    upload(uda_client, write(tmp_path / "m.csv", "施設ID,措置年度,措置区分,状態,費用(千円)\nBR-001,2025,修繕,設計中,12000\n"),
           kind="measures")
    f = bridge()
    delete_url = reverse("registry:facility_delete", args=[UDA, "BR-001"])
    assert delete_url in uda_client.get(reverse("registry:facility_detail", args=[UDA, "BR-001"])).content.decode()
    for other in (login_client("uda-viewer", "pw-viewer-123"), login_client("soni")):
        assert other.get(delete_url).status_code == 403 and other.post(delete_url).status_code == 403
    confirm = uda_client.get(delete_url).content.decode()
    assert "点検 2 件" in confirm and "措置 1 件" in confirm and "削除する" in confirm
    assert Facility.objects.filter(pk=f.pk).exists()

    response = uda_client.post(delete_url, follow=True)
    assert "を削除しました（点検 2 件・措置 1 件も一緒に削除）" in response.content.decode()
    assert not Facility.objects.filter(pk=f.pk).exists() and not Inspection.objects.exists()

    listing = uda_client.get(reverse("registry:deleted_facilities", args=[UDA]))
    (entry,) = listing.context["entries"]
    assert entry.target == "大宇陀橋（BR-001）" and entry.who == "宇陀市 土木担当" and "点検 2 件・措置 1 件" in listing.content.decode()
    restore_url = reverse("registry:facility_restore", args=[UDA, entry.history_id])
    assert login_client("uda-viewer", "pw-viewer-123").post(restore_url).status_code == 403
    assert uda_client.get(restore_url).status_code == 405

    page = uda_client.post(restore_url, follow=True).content.decode()
    assert "を元に戻しました" in page
    back = bridge()
    assert (back.pk, back.name, back.length_m, back.attributes, back.created_at) == (
        f.pk, f.name, f.length_m, f.attributes, f.created_at)
    assert (back.latest_grade, back.latest_inspected_on) == (3, date(2023, 7, 12))
    assert sorted(back.inspections.values_list("inspected_on", "grade", "inspector")) == [
        (date(2019, 7, 12), 2, "職員直営"), (date(2023, 7, 12), 3, "職員直営")]
    assert back.measures.values_list("fiscal_year", "status", "cost_thousand_yen").get() == (2025, "設計中", 12000.0)
    assert not uda_client.get(reverse("registry:deleted_facilities", args=[UDA])).context["entries"]
    reasons = list(HistoricalFacility.objects.filter(id=f.pk).order_by("history_id").values_list(
        "history_type", "history_change_reason"))
    assert reasons == [("+", "import"), ("-", "delete"), ("+", "restore")]
    page = uda_client.get(reverse("registry:facility_detail", args=[UDA, "BR-001"])).content.decode()
    assert "施設の削除" in page and "削除した施設を元に戻す" in page

    # twice: refused with the reason
    response = uda_client.post(restore_url, follow=True)
    assert "すでに元に戻されています" in response.content.decode()


def test_restore_is_refused_when_the_facility_id_is_taken_again(first: ImportRecord, uda_client: Client,
                                                                tmp_path: Path) -> None:
    uda_client.post(reverse("registry:facility_delete", args=[UDA, "BR-002"]))
    upload(uda_client, write(tmp_path / "again.csv", "施設ID,施設名,施設種別\nBR-002,別の拾生橋,橋梁\n"))
    (entry,) = history.deleted_facilities(Municipality.objects.get(lg_code=UDA))
    response = uda_client.post(reverse("registry:facility_restore", args=[UDA, entry.history_id]), follow=True)
    assert "施設ID「BR-002」の施設がすでに登録されている" in response.content.decode()
    assert bridge("BR-002").name == "別の拾生橋"


def test_undo_after_a_facility_was_deleted_is_refused(first: ImportRecord, uda_client: Client) -> None:
    uda_client.post(reverse("registry:facility_delete", args=[UDA, "BR-004"]))
    reasons = history.undo_reasons(first)
    assert any("施設「菟田野橋（BR-004）」" in r and "削除" in r for r in reasons)
    assert Measure.objects.count() == 0
