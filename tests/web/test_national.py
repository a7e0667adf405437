"""National data into the ledger: 年報 histories across years, xROAD updates, the quality report, the web pages.

All files are SYNTHETIC, in the published layouts (tests/national_fixtures.py).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from gunmane.web.registry.imports.national import NationalImporter, Scope
from gunmane.web.registry.models import Facility, ImportRecord, Inspection, Measure, Municipality
from tests.national_fixtures import (
    write_miyagi_lists,
    write_xroad_csv,
    write_xroad_json,
    xroad_record,
    xroad_records_shiroishi,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 27)
MIYAGI = Scope("prefecture", pref_code="04")
EVERYWHERE = Scope("all")


def nenpo(paths: list[Path], scope: Scope = MIYAGI, **kw):  # type: ignore[no-untyped-def]
    return NationalImporter("nenpo", paths, scope=scope, today=TODAY, **kw).run()


def xroad(path: Path, scope: Scope = EVERYWHERE, **kw):  # type: ignore[no-untyped-def]
    return NationalImporter("xroad", [path], scope=scope, today=TODAY, **kw).run()


@pytest.fixture
def lists(tmp_path: Path, refdata) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    return write_miyagi_lists(tmp_path)


def history(name: str, manager: str = "042064") -> list[tuple[date, int, str, int | None, int | None]]:
    f = Facility.objects.get(name=name, manager__lg_code=manager, inspections__source_fiscal_year=2020)
    return list(f.inspections.order_by("inspected_on").values_list("inspected_on", "grade", "source",
                                                                    "source_fiscal_year", "source_row"))


def test_two_yearly_lists_build_inspection_histories(lists: tuple[Path, Path]) -> None:
    report = nenpo(list(lists), skip_invalid=True)
    d = report.as_json()
    assert d["status"] == "ok"
    assert (d["rows"], d["rows_imported"], d["rows_skipped"], d["invalid"]) == (17, 13, 3, 1)
    # FY2020: 7 new bridges; FY2024: 4 exact matches, 1 ambiguous (two identical FY2020 rows), 1 new.
    assert (d["matching"]["exact"], d["matching"]["ambiguous"], d["matching"]["unmatched"]) == (4, 1, 8)
    assert d["facilities"] == {"created": 9, "updated": 0, "unchanged": 0, "matched_across_years": 4}
    assert d["inspections"]["created"] == 13
    # History with provenance (list year, file, row); inspections dated 1 October of the fiscal year.
    assert history("合成みどり橋") == [(date(2020, 10, 1), 2, "nenpo", 2020, 4), (date(2024, 10, 1), 3, "nenpo", 2024, 4)]
    midori = Facility.objects.get(name="合成みどり橋")
    assert (midori.latest_grade, midori.latest_inspected_on, midori.built_year) == (3, date(2024, 10, 1), 1968)
    assert midori.inspections.first().source_file == "r02/01-3.xlsx"  # type: ignore[union-attr]
    # 不明 stays unknown, never 0; the prefecture's own bridge is the prefecture's.
    ogawa = Facility.objects.get(name="合成小川橋")
    assert (ogawa.manager.lg_code, ogawa.built_year, ogawa.built_year_raw) == ("040002", None, "不明")
    assert d["built_year_unknown"] == {"count": 4, "share": round(4 / 13, 4)}
    # A row with a reading but no name; 七ケ宿町 written with ケ resolves to 七ヶ宿町.
    assert Facility.objects.get(name_kana="ごうせいむめいばし").manager.lg_code == "043214"
    assert Facility.objects.get(name="合成七ヶ宿橋").manager.lg_code == "043028"
    # Two distinct FY2020 rows sharing every field stay two bridges; the FY2024 row is not merged into either.
    same = Facility.objects.filter(name="合成同名橋").order_by("facility_id")
    assert same.count() == 3
    new = same.get(inspections__source_fiscal_year=2024)
    assert "要確認" in new.attributes["照合"] and "NP2020-01-3-000007" in new.attributes["照合"]
    assert d["matching"]["ambiguous_rows"][0]["candidates"] == ["NP2020-01-3-000007", "NP2020-01-3-000008"]
    # Managers: two non-LG managers counted (not kept), one name that resolves to nothing.
    assert {(m["name"], m["category"]) for m in d["managers"]["non_lg"]} == {
        ("宮城県道路公社", "corporation"), ("仙南合成衛生処理組合", "joint_board")}
    assert d["managers"]["unresolved"] == [{"name": "合成例示村", "prefecture": "宮城県", "status": "unresolved", "rows": 1}]
    assert d["skipped"]["by_reason"] == {"non_lg_manager": 2, "manager_unresolved": 1}
    assert [(s["file"], s["row"]) for s in d["skipped"]["rows"]] == [("r02/01-3.xlsx", 9), ("r02/01-3.xlsx", 10),
                                                                      ("r02/01-3.xlsx", 11)]
    # Ⅲ → Ⅰ with no measure recorded: a candidate for a missed repair record.
    assert d["grade_improved_without_measure"]["items"] == [{
        "facility_id": "NP2020-01-3-000013", "name": "合成回復橋", "manager": "白石市", "lg_code": "042064",
        "before": {"fiscal_year": 2020, "grade": 3}, "after": {"fiscal_year": 2024, "grade": 1}}]
    assert all(f.is_synthetic for f in Facility.objects.all())  # the title says 合成データ


def test_an_error_rolls_everything_back(lists: tuple[Path, Path]) -> None:
    d = nenpo(list(lists)).as_json()
    assert d["status"] == "invalid" and d["facilities"]["created"] == 0
    assert [(e["file"], e["row"], e["code"]) for e in d["errors"]] == [
        ("r02/01-3.xlsx", 14, "not_a_year"), ("r02/01-3.xlsx", 14, "grade_out_of_range")]
    assert not Facility.objects.exists() and not Inspection.objects.exists()


def test_reimport_in_any_order_duplicates_nothing(lists: tuple[Path, Path]) -> None:
    nenpo(list(lists), skip_invalid=True)
    n_fac, n_ins = Facility.objects.count(), Inspection.objects.count()
    d = nenpo(list(reversed(lists)), skip_invalid=True).as_json()
    assert (Facility.objects.count(), Inspection.objects.count()) == (n_fac, n_ins)
    assert d["facilities"]["created"] == 0 and d["inspections"] == {"created": 0, "updated": 0, "unchanged": 13,
                                                                    "already_recorded": 0}


def test_lists_given_newest_first_still_match_forwards(lists: tuple[Path, Path]) -> None:
    d = nenpo([lists[1], lists[0]], skip_invalid=True).as_json()
    assert [f["fiscal_year"] for f in d["files"]] == [2020, 2024]
    assert d["matching"]["exact"] == 4


def test_recorded_measure_explains_an_improvement(lists: tuple[Path, Path]) -> None:
    nenpo([lists[0]], skip_invalid=True)
    Measure.objects.create(facility=Facility.objects.get(name="合成回復橋"), kind="修繕", fiscal_year=2022,
                           status="完了")
    d = nenpo([lists[1]], skip_invalid=True).as_json()
    assert d["grade_improved_without_measure"]["count"] == 0


def test_keep_other_managers(lists: tuple[Path, Path]) -> None:
    d = nenpo([lists[0]], skip_invalid=True, keep_other_managers=True).as_json()
    corp = Municipality.objects.get(name="宮城県道路公社")
    assert corp.kind == "other" and corp.prefecture.code == "04" and corp.lg_code.startswith("X")
    assert Facility.objects.get(name="合成公社橋").manager == corp
    assert d["skipped"]["by_reason"] == {"manager_unresolved": 1}
    assert all(m["kept"] for m in d["managers"]["non_lg"])
    nenpo([lists[0]], skip_invalid=True, keep_other_managers=True)
    assert Municipality.objects.filter(name="宮城県道路公社").count() == 1


def test_municipality_scope_and_dry_run(lists: tuple[Path, Path]) -> None:
    d = nenpo(list(lists), scope=Scope("municipality", lg_code="042064"), skip_invalid=True, dry_run=True).as_json()
    assert d["status"] == "dry_run" and d["facilities"]["created"] == 3 and not Facility.objects.exists()
    assert d["skipped"]["by_reason"]["out_of_scope"] == 8


def test_user_without_rights_imports_nothing(lists: tuple[Path, Path], users) -> None:  # type: ignore[no-untyped-def]
    d = nenpo(list(lists), skip_invalid=True, user=users["uda"]).as_json()
    assert d["rows_imported"] == 0 and d["skipped"]["by_reason"]["no_permission"] == 13


def test_xroad_after_nenpo_updates_and_adds(lists: tuple[Path, Path], tmp_path: Path) -> None:
    nenpo(list(lists), skip_invalid=True)
    path = write_xroad_json(tmp_path / "042064.json", xroad_records_shiroishi())
    d = xroad(path).as_json()
    assert d["status"] == "ok" and d["files"][0]["count"] == 6
    # 合成みどり橋 found by (manager, name, route): updated with the xROAD position, its FY2024 inspection known.
    midori = Facility.objects.get(name="合成みどり橋")
    assert (midori.lat, midori.lon, midori.name_kana) == (38.00222, 140.61972, "ごうせいみどりばし")
    assert midori.inspections.count() == 2
    assert d["facilities"]["updated"] == 1 and d["inspections"]["unchanged"] == 1
    # Not yet inspected ("8", year 0): a facility without an inspection; "" year: unknown.
    never = Facility.objects.get(name="合成未点検橋")
    assert never.inspections.count() == 0 and never.latest_grade is None and d["not_inspected"] == 1
    far = Facility.objects.get(name="合成離れ橋")
    assert (far.lat, far.lon, far.built_year) == (38.01001, 140.62001, None)
    assert far.attributes["xroad.shisetsu_id"] == "38.40000,140.90000"
    # The prefecture's bridge inside the city stays the prefecture's; the national office's is not imported.
    assert Facility.objects.get(name="合成県橋").manager.lg_code == "040002"
    assert not Facility.objects.filter(name="合成国道橋").exists()
    assert d["managers"]["non_lg"][0]["category"] == "national"
    # Only the mistyped position is reported, with its distance from 白石市's office.
    items = d["coordinates_outside"]["items"]
    assert [i["name"] for i in items] == ["合成遠方橋"] and items[0]["distance_km"] > 50


def test_newer_xroad_file_adds_the_new_inspection_only(tmp_path: Path, refdata) -> None:  # type: ignore[no-untyped-def]
    shiroishi = Scope("municipality", lg_code="042064")
    first = [xroad_record(1, name="合成みどり橋", route="市道合成1号線", built="1968", nendo=2019, grade="2")]
    xroad(write_xroad_json(tmp_path / "a.json", first), shiroishi)
    newer = [xroad_record(1, name="合成みどり橋", route="市道合成1号線", built="1968", nendo=2024, grade="3",
                          ichi=(38.00300, 140.62000))]
    d = xroad(write_xroad_json(tmp_path / "b.json", newer), shiroishi).as_json()
    f = Facility.objects.get()
    assert list(f.inspections.values_list("inspected_on", "grade")) == [(date(2019, 10, 1), 2), (date(2024, 10, 1), 3)]
    assert (f.lat, f.latest_grade) == (38.003, 3)
    assert d["facilities"]["updated"] == 1 and d["inspections"]["created"] == 1


def test_77jo_csv_keeps_national_numbers_and_matches_by_them(tmp_path: Path, refdata) -> None:  # type: ignore[no-untyped-def]
    path = write_xroad_csv(tmp_path / "p04.csv",
                           [line.replace(",2.0", ",2.0,2022") for line in
                            ['"38.00583,140.54722",BR0-042064-00019,不明,合成みどり橋,市道合成1号線,310.0,白石市,宮城県,白石市,2.0']])
    header = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join([header[0] + ",tenken.nendo", *header[1:]]) + "\n", encoding="utf-8-sig")
    d = xroad(path).as_json()
    f = Facility.objects.get()
    assert (f.facility_id, f.national_id, f.built_year) == ("BR0-042064-00019", "BR0-042064-00019", None)
    assert f.inspections.get().inspected_on == date(2022, 10, 1) and d["status"] == "ok"
    # Renamed in a later extract: still the same facility, by its national number.
    path.write_text(path.read_text(encoding="utf-8-sig").replace("合成みどり橋", "合成緑橋"), encoding="utf-8-sig")
    xroad(path)
    assert Facility.objects.count() == 1


def test_xroad_csv_errors_block_the_import(tmp_path: Path, refdata) -> None:  # type: ignore[no-untyped-def]
    d = xroad(write_xroad_csv(tmp_path / "p04.csv")).as_json()
    assert d["status"] == "invalid" and d["errors"][0]["row"] == 5 and not Facility.objects.exists()
    d = xroad(write_xroad_csv(tmp_path / "p04.csv"), skip_invalid=True).as_json()
    assert d["status"] == "ok" and Facility.objects.count() == 3
    # The extract has no inspection year: the class is known but cannot be dated, so no inspection is made.
    assert not Inspection.objects.exists() and d["not_inspected"] == 3


# -- web --------------------------------------------------------------------------------------------------
def login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="gunmane-demo")
    return client


@pytest.fixture
def shiroishi_editor(users):  # type: ignore[no-untyped-def]
    from gunmane.web.accounts.models import Membership, Role

    Membership.objects.create(user=users["uda"], municipality=Municipality.objects.get(lg_code="042064"),
                              role=Role.EDITOR)
    return users["uda"]


def test_upload_nenpo_and_xroad_then_quality_report(shiroishi_editor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = write_miyagi_lists(tmp_path)
    client = login("uda")
    url = reverse("registry:import_create", args=["042064"])
    form = client.get(url).content.decode()
    assert "道路メンテナンス年報" in form and reverse("registry:national_guide") in form
    for path in (a, b):
        with path.open("rb") as fh:
            page = client.post(url, {"kind": "nenpo", "file": fh, "skip_invalid": "on"}, follow=True).content.decode()
        assert "取り込みました" in page and "品質レポート" in page
    assert set(Facility.objects.values_list("manager__lg_code", flat=True)) == {"042064"}
    assert Facility.objects.get(name="合成みどり橋").inspections.count() == 2
    record = ImportRecord.objects.order_by("-pk").first()
    assert record is not None and record.kind == "nenpo" and record.quality["matching"]["exact"] == 2
    report = client.get(reverse("registry:national_report", args=[record.pk])).content.decode()
    assert "品質レポート" in report and "合成回復橋" in report and "年度をまたいで照合" in report
    assert "措置の記録なしに健全性が改善" in report
    as_json = client.get(reverse("registry:national_report", args=[record.pk]) + "?format=json")
    assert json.loads(as_json.content)["matching"]["exact"] == 2
    xpath = write_xroad_json(tmp_path / "042064.json", xroad_records_shiroishi())
    with xpath.open("rb") as fh:
        page = client.post(url, {"kind": "xroad", "file": fh}, follow=True).content.decode()
    assert "取り込みました" in page
    assert Facility.objects.get(name="合成みどり橋").lat == 38.00222
    assert not Facility.objects.filter(name="合成県橋").exists()  # the prefecture's: outside this ledger


def test_a_national_import_runs_through_the_one_import_lifecycle(shiroishi_editor, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Like a ledger file: the record says which process ran it, and a crash is recorded, not left running."""
    import os
    import socket

    from gunmane.web.registry.imports import records

    a, _ = write_miyagi_lists(tmp_path)
    url = reverse("registry:import_create", args=["042064"])
    with a.open("rb") as fh:
        login("uda").post(url, {"kind": "nenpo", "file": fh, "skip_invalid": "on"})
    record = ImportRecord.objects.get()
    assert (record.status, record.worker_host, record.worker_pid) == ("succeeded", socket.gethostname(), os.getpid())
    assert record.rows_processed == record.rows_total == record.rows == 11 and not records.running_here(record.pk)

    def crash(self: NationalImporter) -> None:
        raise RuntimeError("壊れた")

    monkeypatch.setattr(NationalImporter, "run", crash)
    again = records.create_record("nenpo", [("01-3.xlsx", a)], municipality=record.municipality, user=None,
                                  dry_run=False, skip_invalid=True)
    with pytest.raises(RuntimeError):
        records.run_pending(again.pk, NationalImporter.for_record)
    again.refresh_from_db()
    assert again.status == "failed" and "RuntimeError: 壊れた" in again.message and again.finished_at is not None
    assert not records.running_here(again.pk)


def test_guide_page_tells_where_to_download(users) -> None:  # type: ignore[no-untyped-def]
    page = login("uda").get(reverse("registry:national_guide")).content.decode()
    assert "全国データから台帳をつくる" in page
    assert "yobohozen_maint" in page and "01-3.xlsx" in page and "road-structures-db.mlit.go.jp" in page
    # the page tells a user what to do on the screen (the upload), not which command to type (issue #12)
    assert "「取り込み」" in page and "gunmane import" not in page and "gunmane fetch" not in page


def test_quality_report_of_another_municipality_is_refused(shiroishi_editor, tmp_path: Path, users) -> None:  # type: ignore[no-untyped-def]
    a, _ = write_miyagi_lists(tmp_path)
    nenpo([a], scope=Scope("municipality", lg_code="042064"), skip_invalid=True)
    from gunmane.web.registry.imports import records

    record = records.create_record("nenpo", [("r02/01-3.xlsx", a.read_bytes())],
                                   municipality=Municipality.objects.get(lg_code="042064"), user=None, dry_run=False,
                                   skip_invalid=True)
    assert login("soni").get(reverse("registry:national_report", args=[record.pk])).status_code == 403


def test_unreadable_file_fails_the_run_even_when_skipping_rows(lists: tuple[Path, Path], tmp_path: Path) -> None:
    broken = tmp_path / "r05_01-3.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really")
    d = nenpo([lists[0], broken], skip_invalid=True).as_json()
    assert d["status"] == "invalid" and not Facility.objects.exists()
    assert (d["errors"][0]["file"], d["errors"][0]["row"], d["errors"][0]["code"]) == ("r05_01-3.xlsx", 0, "xlsx_unreadable")


def test_progress_is_reported_while_importing(lists: tuple[Path, Path]) -> None:
    seen: list[tuple[int, int]] = []
    nenpo(list(lists), skip_invalid=True, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (17, 17)


def test_upload_untitled_list_asks_for_the_fiscal_year(shiroishi_editor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.national_fixtures import write_nenpo

    row = ["合成橋", "ごうせいばし", "市道", "1980", 5.0, 4.0, "白石市", "宮城県", "2021", "Ⅱ"]
    path = write_nenpo(tmp_path / "list.xlsx", 2021, [row], title=False)
    client = login("uda")
    url = reverse("registry:import_create", args=["042064"])
    with path.open("rb") as fh:
        page = client.post(url, {"kind": "nenpo", "file": fh}, follow=True).content.decode()
    assert "1行も登録していません" in page and "点検の年度がファイルからわかりません" in page
    with path.open("rb") as fh:
        page = client.post(url, {"kind": "nenpo", "file": fh, "fiscal_year": "2021"}, follow=True).content.decode()
    assert "取り込みました" in page
    assert Facility.objects.get().inspections.get().inspected_on == date(2021, 10, 1)
    with path.open("rb") as fh:  # a 年報 list must be an .xlsx, an xROAD file JSON or CSV
        page = client.post(url, {"kind": "xroad", "file": fh}).content.decode()
    assert "xROAD（全国道路施設点検データベース）のファイルではありません" in page


def test_xroad_facility_found_again_by_its_shisetsu_id(tmp_path: Path, refdata) -> None:  # type: ignore[no-untyped-def]
    first = [xroad_record(1, name="合成旧名橋", route="市道合成1号線", shisetsu_id="38.10000,140.60000", nendo=2019)]
    xroad(write_xroad_json(tmp_path / "a.json", first))
    renamed = [xroad_record(1, name="合成新名橋", route="市道合成2号線", shisetsu_id="38.10000,140.60000", nendo=2024)]
    d = xroad(write_xroad_json(tmp_path / "b.json", renamed)).as_json()
    f = Facility.objects.get()
    assert f.facility_id == "XR-38.10000,140.60000" and f.inspections.count() == 2 and f.route == "市道合成2号線"
    assert d["facilities"]["created"] == 0


def test_xroad_csv_positions_stored_and_missing_ones_reported(tmp_path: Path, refdata) -> None:  # type: ignore[no-untyped-def]
    """A flat CP932 CSV with 緯度/経度 (issue #12): the positions are stored; the facilities left without one are
    listed in the quality report with their file and row, and each unreadable cell is a warning naming it."""
    from tests.io.test_xroad_positions import write_position_csv

    d = xroad(write_position_csv(tmp_path / "白石市_橋梁.csv")).as_json()
    assert d["status"] == "ok" and d["facilities"]["created"] == 7
    assert (Facility.objects.get(name="合成みどり橋").lat, Facility.objects.get(name="合成みどり橋").lon) == (
        38.00222, 140.61972)
    assert Facility.objects.get(name="合成大橋").lat == pytest.approx(38.01)
    assert Facility.objects.filter(lat__isnull=False).count() == 3
    missing = d["coordinates_missing"]
    assert missing["checked"] and missing["count"] == 4
    assert [(i["name"], i["row"], i["manager"]) for i in missing["items"]] == [
        ("合成入替橋", 5, "白石市"), ("合成欠け橋", 6, "白石市"), ("合成空欄橋", 7, "白石市"), ("合成誤字橋", 8, "白石市")]
    assert [(w["row"], w["column"], w["value"]) for w in d["warnings"]] == [
        (5, "緯度", "140.6"), (6, "経度", ""), (8, "緯度", "38.0l")]
    # A later file with the position fills it in; the facility leaves the list.
    from tests.io.test_xroad_positions import ROWS
    fixed = [r[:5] + ["38.0", "140.6"] if r[2] == "合成入替橋" else r for r in ROWS]
    again = xroad(write_position_csv(tmp_path / "白石市_橋梁_訂正.csv", rows=fixed)).as_json()
    assert [i["name"] for i in again["coordinates_missing"]["items"]] == ["合成欠け橋", "合成空欄橋", "合成誤字橋"]
    assert Facility.objects.get(name="合成入替橋").lat == 38.0


def test_nenpo_report_does_not_check_positions(lists: tuple[Path, Path]) -> None:
    d = nenpo(list(lists), skip_invalid=True).as_json()
    assert d["coordinates_missing"] == {"checked": False, "count": 0, "items": []}


def test_quality_report_page_lists_facilities_without_position_and_warnings(shiroishi_editor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The page shows what the JSON says: the facilities left without a position (file, row) and each warning
    (file, row, column, value), not only the counts."""
    from tests.io.test_xroad_positions import write_position_csv

    client = login("uda")
    path = write_position_csv(tmp_path / "白石市_橋梁.csv")
    with path.open("rb") as fh:
        client.post(reverse("registry:import_create", args=["042064"]), {"kind": "xroad", "file": fh}, follow=True)
    record = ImportRecord.objects.order_by("-pk").first()
    assert record is not None and record.kind == "xroad"
    page = client.get(reverse("registry:national_report", args=[record.pk])).content.decode()
    assert "位置（緯度・経度）のない施設（4 件）" in page and 'id="missing-position-table"' in page
    for name in ("合成入替橋", "合成欠け橋", "合成空欄橋", "合成誤字橋"):
        assert name in page
    assert 'id="national-warning-table"' in page and "<code>38.0l</code>" in page
