"""Imports on the task queue (docs/tasks.md): the upload answers at once, a worker runs the import, and every
web process — a new one after a restart too — reads its state from the database and its progress file.

The dummy backend is a queue nobody runs: the test plays the worker (`records.run_import.call`).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from gunmane.web.jobs.models import Job, JobStatus
from gunmane.web.registry.imports import ledger, records
from gunmane.web.registry.imports.ledger import LedgerImporter
from gunmane.web.registry.models import Facility, ImportRecord, ImportStatus
from tests.conftest import login_client
from tests.fixtures import corrected_bridges_csv

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
UDA = "292125"
FAILED_MESSAGE = "取り込み中に予期しないエラーが発生しました（RuntimeError: 壊れた）。何も登録されていません。"


def _upload(client, **options: str):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("宇陀市_橋梁.csv", corrected_bridges_csv().encode("utf-8"), content_type="text/csv")
    return client.post(reverse("registry:import_create", args=[UDA]), {"kind": "facilities", "file": upload, **options})


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_an_upload_is_queued_and_any_process_follows_it_to_the_report(users, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    response = _upload(login_client("uda"), skip_invalid="on")
    record = ImportRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("registry:import_detail", args=[record.pk])
    job = Job.objects.get(kind="import")
    assert (record.status, job.status, job.subject, job.params) == (
        "pending", "queued", str(record.pk), {"record": record.pk, "options": {}})
    assert not Facility.objects.exists()  # nothing computed in the request
    # a web process restarted since (a new client, nothing in memory) sees it waiting, however long the queue
    ImportRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(hours=2))
    page = login_client("uda").get(reverse("registry:import_detail", args=[record.pk])).content.decode()
    assert "処理中" in page and "開始を待っています" in page and 'hx-trigger="every 1s"' in page
    assert records.mark_interrupted_imports() == []
    # the worker runs it; its progress reaches the other processes through the progress file
    seen: list[object] = []
    process = LedgerImporter._process

    def watched(self: LedgerImporter, batch: object) -> None:
        process(self, batch)  # type: ignore[arg-type]
        with records._lock:  # another process: nothing of this one's memory
            mine = records._progress.pop(record.pk, None)
        seen.append(login_client("uda").get(reverse("registry:import_progress", args=[record.pk])).json())
        if mine is not None:
            with records._lock:
                records._progress[record.pk] = mine

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ledger, "CHUNK", 3)
        mp.setattr(records, "PROGRESS_FILE_SECONDS", 0)
        mp.setattr(LedgerImporter, "_process", watched)
        records.run_import.call(str(job.pk))
    # seen after each batch, before the importer reports it: nothing yet, then the rows of the batches before
    assert [(s["status"], s["rows_processed"], s["finished"]) for s in seen] == [
        ("running", 0, False), ("running", 3, False), ("running", 6, False)]
    assert seen[1]["rows_total"] >= 9
    record.refresh_from_db()
    job.refresh_from_db()
    assert (record.status, record.created, job.status) == ("succeeded", 9, "done")
    assert (record.worker_host, record.worker_pid) == (socket.gethostname(), records.os.getpid())
    assert records.live_progress(record.pk) is None  # the progress file went with the import
    page = login_client("uda").get(reverse("registry:import_detail", args=[record.pk])).content.decode()
    assert "取り込みました。" in page and "新規 9 件" in page and "every 1s" not in page
    assert Facility.objects.filter(manager__lg_code=UDA).count() == 9


def test_a_failing_import_is_recorded_failed_with_nothing_written_and_runs_again(users, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    client = login_client("uda")
    _upload(client, clear_blanks="on")
    record = ImportRecord.objects.get()
    job = Job.objects.get(kind="import")
    process = LedgerImporter._process
    calls: list[int] = []

    def breaks_on_the_second_batch(self: LedgerImporter, batch: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("壊れた")
        process(self, batch)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ledger, "CHUNK", 3)
        mp.setattr(LedgerImporter, "_process", breaks_on_the_second_batch)
        with pytest.raises(RuntimeError):
            records.run_import.call(str(job.pk))
    record.refresh_from_db()
    job.refresh_from_db()
    assert (record.status, record.message) == ("failed", FAILED_MESSAGE) and record.finished_at is not None
    assert job.status == JobStatus.FAILED and "壊れた" in job.message
    assert not Facility.objects.exists()  # the first batch went with the transaction
    page = client.get(reverse("registry:import_detail", args=[record.pk])).content.decode()
    assert FAILED_MESSAGE in page and "もう一度取り込む" in page
    # 「もう一度取り込む」: a new record of the kept file, queued with the same options; the worker runs it
    response = client.post(reverse("registry:import_rerun", args=[record.pk]))
    again = ImportRecord.objects.get(rerun_of=record)
    assert response["Location"] == reverse("registry:import_detail", args=[again.pk])
    assert (again.status, again.clear_blanks) == ("pending", True)
    records.run_import.call(str(Job.objects.get(kind="import", subject=str(again.pk)).pk))
    again.refresh_from_db()
    assert (again.status, again.created) == ("succeeded", 9)


def test_a_worker_that_stopped_leaves_its_import_marked_interrupted(users, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    client = login_client("uda")
    for _ in range(3):
        _upload(client)
    killed, lost, dropped = ImportRecord.objects.order_by("pk")
    now = timezone.now()
    # killed mid-import: running, claimed by a worker process that is gone
    ImportRecord.objects.filter(pk=killed.pk).update(status=ImportStatus.RUNNING, worker_host=socket.gethostname(),
                                                     worker_pid=_dead_pid(), worker_started_at=now, heartbeat_at=now)
    Job.objects.filter(subject=str(killed.pk)).update(status=JobStatus.RUNNING, started_at=now)
    # picked up by a worker that died before it claimed the record
    Job.objects.filter(subject=str(lost.pk)).update(status=JobStatus.RUNNING, started_at=now - timedelta(hours=1))
    # its job ended (removed from the queue by hand, a failure before the record was read)
    Job.objects.filter(subject=str(dropped.pk)).update(status=JobStatus.FAILED)
    assert sorted(records.mark_interrupted_imports()) == sorted([killed.pk, lost.pk, dropped.pk])
    for record in (killed, lost, dropped):
        record.refresh_from_db()
        assert (record.status, record.message) == ("failed", records.INTERRUPTED_MESSAGE)
    assert Job.objects.get(subject=str(killed.pk)).message == records.INTERRUPTED_MESSAGE
    listing = client.get(reverse("registry:import_list")).content.decode()
    assert listing.count("失敗") >= 3


def test_the_api_import_goes_through_the_queue(users, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    c = login_client("uda")
    upload = SimpleUploadedFile("bridges.csv", corrected_bridges_csv().encode("utf-8"), content_type="text/csv")
    r = c.post(f"/api/municipalities/{UDA}/imports/", {"kind": "facilities", "file": upload})
    assert r.status_code == 202, r.content
    pk = r.json()["id"]
    assert (r.json()["status"], r.json()["finished"]) == ("pending", False)
    records.run_import.call(str(Job.objects.get(kind="import", subject=str(pk)).pk))
    done = c.get(f"/api/imports/{pk}/").json()
    assert done["finished"] and done["status"] == "succeeded" and done["rows_processed"] == 9
    assert Facility.objects.filter(manager__lg_code=UDA).count() == 9


def test_a_national_list_keeps_its_year_for_the_worker(refdata, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gunmane.web.registry.imports.national import NationalImporter
    from gunmane.web.registry.models import Municipality

    record = records.create_record("nenpo", [("01-3.xlsx", b"not a workbook")],
                                   municipality=Municipality.objects.get(lg_code=UDA), user=None, dry_run=True,
                                   skip_invalid=False)
    importer = records.build_importer(record, lambda done, total: None, {"fiscal_year": 2023})
    assert isinstance(importer, NationalImporter) and importer.fiscal_year == 2023
    assert isinstance(records.build_importer(ImportRecord(kind="inspections", municipality=record.municipality,
                                                          file=record.file), lambda d, t: None), LedgerImporter)
