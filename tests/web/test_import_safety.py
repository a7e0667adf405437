"""Imports never lose or bend data (issue #11 §2): fewer columns, blank cells, rows of the wrong length,
unused columns, long file names, imports interrupted by a crash."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from gunmane.cli import main
from gunmane.web.registry.imports import ledger, records
from gunmane.web.registry.imports.ledger import LedgerImporter
from gunmane.web.registry.models import (
    Facility,
    ImportRecord,
    ImportStatus,
    Inspection,
    Measure,
    Municipality,
)
from tests.conftest import login_client
from tests.fixtures import corrected_bridges_csv, write_cp932, write_two_row_header_xlsx

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 27)
UDA = "292125"


@pytest.fixture
def uda(refdata) -> Municipality:  # type: ignore[no-untyped-def]
    return Municipality.objects.get(lg_code=UDA)


@pytest.fixture
def bridges(uda: Municipality, tmp_path: Path) -> Facility:
    """宇陀市's nine bridges from the corrected messy file; BR-001 大宇陀橋 has every column filled."""
    report = run("facilities", write_cp932(tmp_path / "bridges.csv", corrected_bridges_csv()), uda)
    assert report.created == 9
    return Facility.objects.get(manager=uda, facility_id="BR-001")


def run(kind: str, path: Path, muni: Municipality | None = None, **kw):  # type: ignore[no-untyped-def]
    return LedgerImporter(kind, path, municipality=muni, today=TODAY, **kw).run()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def stored(f: Facility) -> tuple:  # type: ignore[type-arg]
    f.refresh_from_db()
    return (f.name, f.built_year, f.built_year_raw, f.length_m, f.width_m, f.lat, f.lon, f.route, f.structure,
            f.attributes)


BR001 = ("大宇陀橋", 1970, "昭和45年", 1234.5, 6.0, 34.5277, 135.9525, "市道大宇陀線", "PC単純T桁橋", {"管理区分": "1級"})


# -- 1. fewer columns must not erase -----------------------------------------------------------------
def test_a_file_with_fewer_columns_changes_only_its_columns(bridges: Facility, uda: Municipality,
                                                            tmp_path: Path) -> None:
    assert stored(bridges) == BR001
    same = write(tmp_path / "three.csv", "施設ID,施設名,施設種別\nBR-001,大宇陀橋,橋梁\n")
    report = run("facilities", same, uda)
    assert (report.created, report.updated, report.unchanged, report.warnings) == (0, 0, 1, [])
    assert stored(bridges) == BR001  # 建設年度, 延長, 緯度経度, 路線名 and the attributes are all still there

    renamed = write(tmp_path / "renamed.csv", "施設ID,施設名,施設種別\nBR-001,新大宇陀橋,橋梁\n")
    report = run("facilities", renamed, uda)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    assert stored(bridges) == ("新大宇陀橋", *BR001[1:])


def test_a_blank_cell_keeps_the_stored_value_with_a_warning_unless_asked_to_clear(
        bridges: Facility, uda: Municipality, tmp_path: Path) -> None:
    path = write(tmp_path / "gaps.csv", "施設ID,施設名,施設種別,路線名,架設年度,橋長,管理区分\n"
                                         "BR-002,拾生橋,橋梁,市道拾生線,,12,2級\n"
                                         "BR-001,大宇陀橋,橋梁,,,,\n")
    report = run("facilities", path, uda)
    assert (report.updated, report.unchanged) == (0, 2)
    assert stored(bridges) == BR001
    kept = [(w.row, w.column, w.code) for w in report.warnings]
    assert kept == [(3, "架設年度", "blank_kept"), (3, "橋長", "blank_kept"), (3, "路線名", "blank_kept"),
                    (3, "管理区分", "blank_kept")]
    messages = {w.column: w.message_ja for w in report.warnings}
    assert "登録済みの値「昭和45年」をそのまま残しました" in messages["架設年度"]
    assert "「1234.5」" in messages["橋長"] and "「1級」" in messages["管理区分"]

    report = run("facilities", path, uda, clear_blanks=True)
    assert (report.updated, report.unchanged, report.warnings) == (1, 1, [])
    bridges.refresh_from_db()
    assert (bridges.route, bridges.built_year, bridges.length_m, bridges.attributes) == ("", None, None, {})
    assert (bridges.lat, bridges.structure) == (34.5277, "PC単純T桁橋")  # columns the file lacks: untouched


def test_inspection_and_measure_updates_keep_what_the_file_does_not_say(bridges: Facility, uda: Municipality,
                                                                        tmp_path: Path) -> None:
    run("inspections", write(tmp_path / "i.csv", "施設ID,点検年月日,健全性,点検者\nBR-001,2023/7/12,Ⅲ,職員直営\n"), uda)
    report = run("inspections", write(tmp_path / "i2.csv", "施設ID,点検年月日,健全性,点検者\nBR-001,2023/7/12,Ⅱ,\n"), uda)
    assert (report.updated, [w.code for w in report.warnings]) == (1, ["blank_kept"])
    assert Inspection.objects.values_list("grade", "inspector").get() == (2, "職員直営")

    run("measures", write(tmp_path / "m.csv", "施設ID,措置年度,措置区分,状態,費用(千円),備考\n"
                                              "BR-001,2024,修繕,完了,11800,床版補修\n"), uda)
    # no 状態 column: the measure stays 完了 (it used to fall back to 未着手); a blank cost keeps the cost
    report = run("measures", write(tmp_path / "m2.csv", "施設ID,措置年度,措置区分,費用(千円)\nBR-001,2024,修繕,\n"), uda)
    assert (report.updated, report.unchanged) == (0, 1)
    assert Measure.objects.values_list("status", "cost_thousand_yen", "note").get() == ("完了", 11800.0, "床版補修")
    report = run("measures", write(tmp_path / "m3.csv", "施設ID,措置年度,措置区分,状態,費用(千円)\nBR-001,2024,修繕,,\n"),
                 uda, clear_blanks=True)
    assert report.updated == 1
    assert Measure.objects.values_list("status", "cost_thousand_yen", "note").get() == ("未着手", None, "床版補修")
    # a new measure without a state is 未着手, as before; a blank state over 未着手 is no news (no warning)
    path = write(tmp_path / "m4.csv", "施設ID,措置年度,措置区分,状態\nBR-002,2027,更新,\n")
    run("measures", path, uda)
    assert Measure.objects.get(facility__facility_id="BR-002").status == "未着手"
    assert run("measures", path, uda).warnings == []


def test_cli_clear_blanks_option(bridges: Facility, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "gaps.csv", "施設ID,施設名,施設種別,路線名\nBR-001,大宇陀橋,橋梁,\n")
    argv = ["import", "facilities", str(path), "--municipality", UDA, "--format", "json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["updated"], [w["code"] for w in report["warnings"]]) == (0, ["blank_kept"])
    assert main([*argv, "--clear-blanks"]) == 0
    assert json.loads(capsys.readouterr().out)["updated"] == 1
    bridges.refresh_from_db()
    assert bridges.route == "" and bridges.length_m == 1234.5
    assert ImportRecord.objects.get(clear_blanks=True).updated == 1


# -- 2. rows of the wrong length ---------------------------------------------------------------------
SHIFTED = """団体コード,施設番号,橋梁名,路線名,架設年度,橋長(m),幅員,所在地,構造形式,備考
29212,BR-001,大宇陀橋,市道大宇陀線,昭和45年,"1,234.5",7.0,大宇陀拾生,PC単純T桁橋,
29212,BR-002,拾生橋,市道拾生線,不明,1,234.5,7.0,大宇陀拾生,RC床版橋,
29212,BR-003,榛原橋,市道榛原線,S48,24.5,7.5,榛原,鋼単純H桁橋,
"""


def test_an_unquoted_comma_is_an_error_naming_the_row_and_the_cause(uda: Municipality, tmp_path: Path) -> None:
    path = write_cp932(tmp_path / "橋梁台帳.csv", SHIFTED)
    report = run("facilities", path, uda)
    assert report.status == "invalid" and not Facility.objects.exists()
    (error,) = report.errors
    assert (error.row, error.column, error.value, error.code) == (3, "橋長(m)", "1,234.5", "row_too_long")
    assert "セルは11個で、見出しの10列より1個多い" in error.message_ja
    assert "カンマを含む数値や文字が引用符（\"）で囲まれていない可能性があります" in error.message_ja
    assert "「1」と次の「234.5」は、もとは「1,234.5」" in error.message_ja

    report = run("facilities", path, uda, skip_invalid=True)  # the other rows go in; the bad one never shifted
    assert (report.created, report.invalid) == (2, 1)
    assert not Facility.objects.filter(facility_id="BR-002").exists()
    assert Facility.objects.get(facility_id="BR-001").length_m == 1234.5


def test_extra_cells_are_an_error_even_when_empty_short_rows_are_read_blank(uda: Municipality,
                                                                           tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "施設ID,施設名,施設種別,路線名,備考\n"
                                      "A-1,一号橋,橋梁,市道一号線,メモ\n"
                                      "A-2,二号橋,橋梁\n"  # trailing cells left out: blank
                                      "A-3,三号橋,橋梁,,,\n"  # one cell more than the header
                                      "A-4,四号橋\n")  # stops before 施設種別 (required)
    report = run("facilities", path, uda)
    assert [(e.row, e.code) for e in report.errors] == [(4, "row_too_long"), (5, "row_too_short")]
    assert "「施設種別」の列まで届いていません" in report.errors[1].message_ja
    report = run("facilities", path, uda, skip_invalid=True)
    assert sorted(Facility.objects.values_list("facility_id", "route")) == [("A-1", "市道一号線"), ("A-2", "")]


def test_xlsx_rows_shorter_than_the_header_are_fine(uda: Municipality, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["施設ID", "施設名", "施設種別", "路線名", "備考"])
    ws.append(["A-1", "一号橋", "橋梁"])
    wb.save(tmp_path / "f.xlsx")
    report = run("facilities", tmp_path / "f.xlsx", uda)
    assert (report.status, report.created, report.errors) == ("ok", 1, [])


def test_unused_columns_are_reported(bridges: Facility, uda: Municipality, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "i.csv", "施設ID,点検年月日,健全性,備考,損傷の種類\nBR-001,2023/7/12,Ⅲ,床版ひびわれ,\n")
    report = run("inspections", path, uda)
    assert report.unused_columns == ["備考", "損傷の種類"]  # an inspection has no 備考: nothing read from them
    assert report.as_json()["unused_columns"] == ["備考", "損傷の種類"]
    # a facility file keeps unknown columns as attributes; a column without a header but with values is unused
    path = write(tmp_path / "f.csv", "施設ID,施設名,施設種別,,\nBR-001,大宇陀橋,橋梁,,ここにもメモ\n")
    assert run("facilities", path, uda).unused_columns == ["（見出しなし・5列目）"]
    # in Excel the column is named by its letter: here 備考 sits in a merged cell above the header row
    xlsx = write_two_row_header_xlsx(tmp_path / "点検結果.xlsx")
    assert run("inspections", xlsx, uda, skip_invalid=True).unused_columns == ["（見出しなし・F列）"]

    assert main(["import", "inspections", str(path.with_name("i.csv")), "--municipality", UDA]) == 0
    assert "取り込まなかった列: 備考、損傷の種類" in capsys.readouterr().out


# -- 5. interrupted imports --------------------------------------------------------------------------
def _running(**fields: object) -> ImportRecord:
    path = write_cp932(Path(os.environ.get("TMPDIR", "/tmp")) / "gm-f.csv", corrected_bridges_csv())
    record = records.create_record("facilities", [("f.csv", path)], municipality=Municipality.objects.get(lg_code=UDA),
                                   user=None, dry_run=False, skip_invalid=False)
    ImportRecord.objects.filter(pk=record.pk).update(status=ImportStatus.RUNNING, **fields)
    record.refresh_from_db()
    return record


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_an_import_whose_process_is_gone_is_marked_failed(refdata) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    here = socket.gethostname()
    gone = _running(worker_host=here, worker_pid=_dead_pid(), worker_started_at=now, heartbeat_at=now)
    reused = _running(worker_host=here, worker_pid=os.getpid(), worker_started_at=now - timedelta(days=1),
                      heartbeat_at=now)  # a previous server with the same pid (a container restart)
    silent = _running(worker_host="other-host", worker_pid=1234, heartbeat_at=now - timedelta(seconds=600))
    talking = _running(worker_host="other-host", worker_pid=1234, heartbeat_at=now - timedelta(seconds=10))
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = records.process_start(sleeper.pid)
        assert started is not None  # Linux
        alive = _running(worker_host=here, worker_pid=sleeper.pid, heartbeat_at=now - timedelta(hours=1),
                         worker_started_at=datetime.fromtimestamp(started, tz=UTC))
        recycled = _running(worker_host=here, worker_pid=sleeper.pid, heartbeat_at=now,
                            worker_started_at=now - timedelta(days=3))  # another process has that pid now
        marked = records.mark_interrupted_imports()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sorted(marked) == sorted([gone.pk, reused.pk, silent.pk, recycled.pk])
    for record in (gone, reused, silent, recycled):
        record.refresh_from_db()
        assert (record.status, record.message) == (
            "failed", "取り込みを実行していたプロセスが停止したため中断しました。何も登録されていません。")
        assert record.finished_at is not None
    for record in (talking, alive):
        record.refresh_from_db()
        assert record.status == "running"


def test_stale_threshold_setting(refdata, settings) -> None:  # type: ignore[no-untyped-def]
    record = _running(worker_host="other-host", worker_pid=1, heartbeat_at=timezone.now() - timedelta(seconds=60))
    assert records.mark_interrupted_imports() == []
    settings.GUNMANE_IMPORT_STALE_SECONDS = 30
    assert records.mark_interrupted_imports() == [record.pk]


def test_a_running_import_of_this_process_is_alive_and_says_so(refdata) -> None:  # type: ignore[no-untyped-def]
    record = _running()
    records.claim(record)
    try:
        record.refresh_from_db()
        assert (record.worker_host, record.worker_pid) == (socket.gethostname(), os.getpid())
        assert abs(record.worker_started_at.timestamp() - records.PROCESS_STARTED) < 1
        old = timezone.now() - timedelta(hours=2)
        ImportRecord.objects.filter(pk=record.pk).update(heartbeat_at=old)
        records.report_progress(record.pk, 4000, 10000)
        records.beat(record.pk)
        record.refresh_from_db()
        assert record.heartbeat_at > old and (record.rows_processed, record.rows_total) == (4000, 10000)
        ImportRecord.objects.filter(pk=record.pk).update(heartbeat_at=old)
        assert records.mark_interrupted_imports() == []  # alive in this very process
    finally:
        records.release(record.pk)
    assert records.mark_interrupted_imports() == [record.pk]  # released but still "running": gone


def test_the_import_list_and_page_show_the_interruption_and_offer_to_import_again(users, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = _running(worker_host=socket.gethostname(), worker_pid=_dead_pid(), heartbeat_at=timezone.now(),
                      skip_invalid=True, clear_blanks=True)
    client = login_client("uda")
    listing = client.get(reverse("registry:import_list")).content.decode()
    assert "失敗" in listing
    page = client.get(reverse("registry:import_detail", args=[record.pk])).content.decode()
    assert "何も登録されていません" in page and "もう一度取り込む" in page
    assert login_client("uda-viewer", "pw-viewer-123").post(
        reverse("registry:import_rerun", args=[record.pk])).status_code == 403
    assert client.get(reverse("registry:import_rerun", args=[record.pk])).status_code == 405
    response = client.post(reverse("registry:import_rerun", args=[record.pk]))
    again = ImportRecord.objects.get(rerun_of=record)
    assert response["Location"] == reverse("registry:import_detail", args=[again.pk])
    assert (again.status, again.created, again.skip_invalid, again.clear_blanks, again.user.username) == (
        "succeeded", 9, True, True, "uda")
    assert again.file.name == record.file.name
    assert Facility.objects.filter(manager__lg_code=UDA).count() == 9
    # only a failed import is imported again
    client.post(reverse("registry:import_rerun", args=[again.pk]))
    assert ImportRecord.objects.count() == 2


def test_serve_marks_interrupted_imports_at_start(refdata, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import waitress

    record = _running(worker_host=socket.gethostname(), worker_pid=_dead_pid(), heartbeat_at=timezone.now())
    monkeypatch.setattr(waitress, "serve", lambda *a, **k: None)
    assert main(["serve"]) == 0
    assert "中断された取り込み 1 件" in capsys.readouterr().err
    record.refresh_from_db()
    assert record.status == "failed"


# -- 6. long upload file names -----------------------------------------------------------------------
def test_a_300_character_file_name_uploads(users) -> None:  # type: ignore[no-untyped-def]
    name = "宇陀市橋梁台帳" * 42 + "_最新版.csv"
    assert len(name) > 300
    upload = SimpleUploadedFile(name, corrected_bridges_csv().encode("utf-8"))
    response = login_client("uda").post(reverse("registry:import_create", args=[UDA]),
                                        {"kind": "facilities", "file": upload})
    assert response.status_code == 302
    record = ImportRecord.objects.get()
    assert (record.status, record.created) == ("succeeded", 9)
    assert record.original_name.endswith("_最新版.csv") or record.original_name.endswith(".csv")
    assert record.original_name.startswith("宇陀市橋梁台帳宇陀市") and len(record.original_name) <= 255
    stored = Path(record.file.path)
    assert stored.exists() and stored.suffix == ".csv" and len(stored.name.encode()) < 255
    assert len(record.file.name) <= 300


def test_a_long_name_from_the_command_line(uda: Municipality, tmp_path: Path) -> None:
    path = write_cp932(tmp_path / ("橋" * 80 + ".csv"), corrected_bridges_csv())
    record = records.create_record("facilities", [("台帳" * 200 + ".CSV", path)], municipality=uda,
                                   user=None, dry_run=False, skip_invalid=False)
    assert len(record.original_name) == 255 and record.original_name.endswith(".CSV")
    assert Path(record.file.path).read_bytes() == path.read_bytes()


def test_a_command_line_import_stopped_by_ctrl_c_is_recorded(uda: Municipality, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def stopped(self: LedgerImporter) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(LedgerImporter, "run", stopped)
    path = write_cp932(tmp_path / "bridges.csv", corrected_bridges_csv())
    # the command says it was stopped and exits 130 (the shell's code for Ctrl+C), without a traceback
    assert main(["import", "facilities", str(path), "--municipality", UDA]) == 130
    record = ImportRecord.objects.get()
    assert (record.status, record.message) == ("failed", records.INTERRUPTED_MESSAGE)
    assert not records.running_here(record.pk) and not Facility.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_running_import_beats_while_it_holds_its_transaction(refdata, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL takes a second writer: the heartbeat thread writes while the import's transaction is open."""
    import time

    monkeypatch.setattr(records, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(ledger, "CHUNK", 3)
    seen: list[object] = []
    process = LedgerImporter._process

    def slow(self: LedgerImporter, batch: object) -> None:
        process(self, batch)  # type: ignore[arg-type]
        time.sleep(0.3)
        seen.append(ImportRecord.objects.using("default").filter(pk=self.import_record_id).values_list(
            "heartbeat_at", flat=True).first())

    monkeypatch.setattr(LedgerImporter, "_process", slow)
    record = records.create_record("facilities", [("f.csv", write_cp932(tmp_path / "f.csv", corrected_bridges_csv()))],
                                   municipality=Municipality.objects.get(lg_code=UDA), user=None, dry_run=False,
                                   skip_invalid=False)
    records.run_pending(record.pk, LedgerImporter.for_record)
    record.refresh_from_db()
    assert record.status == "succeeded" and len(seen) == 3
    beats = {b for b in seen if b is not None}
    assert len(beats) >= 2  # it moved while the import ran (the import's own writes were not yet visible)


def test_a_limit_reached_deep_in_the_file_refuses_the_whole_import(uda: Municipality, tmp_path: Path) -> None:
    """Rows before the over-long cell were valid: nothing of them is kept, and the report says which limit."""
    from gunmane.io import limits

    lines = ["施設ID,施設名,施設種別"] + [f"A-{i},橋{i},橋梁" for i in range(1, 40)] + ["A-99," + "長" * 2000 + ",橋梁"]
    path = write(tmp_path / "deep.csv", "\n".join(lines) + "\n")
    with limits.override(field_chars=1000):
        report = run("facilities", path, uda, skip_invalid=True)
    assert report.status == "invalid"
    assert [(e.row, e.code) for e in report.errors] == [(41, "field_too_long")]
    assert "41行目" in report.errors[0].message_ja and "上限（1,000文字）" in report.errors[0].message_ja
    assert not Facility.objects.filter(manager=uda).exists()
