"""Long work on the task queue (docs/tasks.md): the カルテ files and the national frames.

The tests run tasks inside the request (GUNMANE_TASKS=immediate, tests/pytest_env.py) except where a test swaps
in the dummy backend (a queue nobody runs: the progress page, stale frames) or runs django-tasks-db's worker.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks import task

from gunmane.web.analysis import views
from gunmane.web.jobs import service
from gunmane.web.jobs.models import Job, JobStatus
from gunmane.web.registry import frames
from gunmane.web.registry.models import bump_data_version

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
PDF_URL = "/karte/292125/?format=pdf"


def test_karte_file_is_made_once_per_data_version(refdata) -> None:  # type: ignore[no-untyped-def]
    c = Client()
    first = c.get(PDF_URL)
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    assert first.content.startswith(b"%PDF")
    job = Job.objects.get(kind="karte_file")
    assert job.status == JobStatus.DONE and job.progress == 100 and service.result_file(job) is not None
    # the same request for unchanged data: the stored file, nothing made again
    with patch.object(views, "_karte_file", side_effect=AssertionError("made again")):
        again = c.get(PDF_URL)
    assert again.status_code == 200 and again.content == first.content
    assert Job.objects.filter(kind="karte_file").count() == 1
    # Excel is another file of the same カルテ
    assert c.get("/karte/292125/?format=xlsx")["Content-Type"].startswith("application/vnd.openxmlformats")
    # a change of data: a new job; the old one and its file are forgotten
    old_file = service.result_file(job)
    bump_data_version()
    assert c.get(PDF_URL).status_code == 200
    newer = Job.objects.get(kind="karte_file", subject=job.subject)
    assert newer.pk != job.pk and newer.version != job.version
    assert old_file is not None and not old_file.exists()


def test_progress_page_then_file(refdata, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY  # queued, and nobody runs it until the test does
    c = Client()
    waiting = c.get(PDF_URL)
    assert waiting.status_code == 202
    page = waiting.content.decode()
    job = Job.objects.get(kind="karte_file")
    status_url = reverse("jobs:status", args=[job.pk])
    assert f'data-job-status="{status_url}?format=json"' in page and "gunmane/jobs.js" in page
    assert "順番を待っています" in page and "<progress" in page and "<script>" not in page
    assert c.get(PDF_URL).status_code == 202 and Job.objects.filter(kind="karte_file").count() == 1  # asking again does not queue twice
    state = c.get(status_url + "?format=json").json()
    assert state == {"status": "queued", "status_label": "順番待ち", "progress": 0, "message": "", "finished": False,
                     "ready": False, "status_url": f"{status_url}?format=json"}
    views.make_karte_file.call(str(job.pk))  # what the worker does
    state = c.get(status_url + "?format=json").json()
    assert state["ready"] and state["progress"] == 100
    assert "できました" in c.get(status_url).content.decode()  # the panel the script swaps in
    assert c.get(PDF_URL).content.startswith(b"%PDF")
    # a failure says why, and asking again queues the work again
    bump_data_version()
    c.get(PDF_URL)
    failing = Job.objects.get(kind="karte_file", status=JobStatus.QUEUED)
    with patch.object(views, "_karte_file", side_effect=RuntimeError("壊れた")), pytest.raises(RuntimeError):
        views.make_karte_file.call(str(failing.pk))
    failed = c.get(PDF_URL)
    assert failed.status_code == 202  # asked again: queued again
    failing.refresh_from_db()
    assert failing.status == JobStatus.QUEUED


def test_failed_job_page_says_why(refdata, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DUMMY
    Client().get(PDF_URL)
    job = Job.objects.get(kind="karte_file")
    with patch.object(views, "_karte_file", side_effect=RuntimeError("壊れた")), pytest.raises(RuntimeError):
        views.make_karte_file.call(str(job.pk))
    panel = Client().get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert "作成できませんでした" in panel and "壊れた" in panel


def test_national_frames_served_until_the_new_ones_are_ready(refdata, settings) -> None:  # type: ignore[no-untyped-def]
    frames.clear_cache()
    c = Client()
    assert "計算し直しています" not in c.get("/karte/").content.decode()
    before = frames.fingerprint()
    settings.TASKS = DUMMY
    bump_data_version()
    key = frames.fingerprint()
    assert key[-1] == before[-1] and frames.pending()  # the previous national frames, while the new are queued
    assert "新しいデータで計算し直しています" in c.get("/karte/").content.decode()
    job = Job.objects.get(kind="national_frames")
    frames.rebuild_national_frames.call(str(job.pk))  # the worker builds them
    assert not frames.pending() and frames.fingerprint()[-1] == frames.data_fingerprint()
    assert "計算し直しています" not in c.get("/karte/").content.decode()
    frames.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_a_queued_job(refdata, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DATABASE
    c = Client()
    assert c.get(PDF_URL).status_code == 202
    job = Job.objects.get(kind="karte_file")
    assert job.status == JobStatus.QUEUED and job.task_result_id
    call_command("db_worker", batch=True, queue_name="*", reload=False, startup_delay=False, verbosity=0)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert c.get(PDF_URL).content.startswith(b"%PDF")


@pytest.mark.django_db
def test_the_worker_runs_below_the_pages_priority(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`gunmane worker` lowers its priority by 10 (--nice, 0 to keep it) before it takes work: a 100,000-row import
    on the queue must not take the CPU from the pages (docs/deployment.md, the load test with an import)."""
    import os

    import django.core.management

    from gunmane.cli import main

    settings.GUNMANE_TASKS = "database"
    seen: list[object] = []
    monkeypatch.setattr(os, "nice", seen.append)
    monkeypatch.setattr(django.core.management, "call_command", lambda name, **kw: seen.append((name, kw["batch"])))
    assert main(["worker", "--batch", "--quiet"]) == 0
    assert seen == [10, ("db_worker", True)]
    seen.clear()
    assert main(["worker", "--batch", "--quiet", "--nice", "0"]) == 0
    assert seen == [("db_worker", True)]


@task()
def _answer(job_id: str) -> None:
    """A value job for the race test (module level: django-tasks runs only importable functions)."""
    service.run_value(job_id, lambda job, progress: {"answer": 42})


@pytest.mark.django_db
def test_a_job_forgotten_by_newer_data_mid_request_is_no_server_error(settings) -> None:  # type: ignore[no-untyped-def]
    """Under load, a request on newer data forgets the older job (row and file) while another request is still
    serving it: the load test with an import met a 500 on the group overview there. Reading its value then finds
    nothing (not FileNotFoundError), and asking for it again neither fails nor brings the forgotten row back."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    job = service.start_value(_answer, kind="race", subject="s", version="v1")
    assert service.value(job) == {"answer": 42}
    service._values.clear()  # another process: nothing in memory
    path = service.result_file(job)
    assert path is not None
    real = service.result_file
    with patch.object(service, "result_file", side_effect=lambda j: (real(j), path.unlink())[0]):
        assert service.value(job) is None  # the file went between the look and the read

    def forgotten_meanwhile(j: Job) -> bool:  # the look finds it to run again; newer data forgets it right then
        Job.objects.filter(pk=j.pk).delete()
        return True

    with patch.object(service, "_needs_run", side_effect=forgotten_meanwhile):
        again = service.start_value(_answer, kind="race", subject="s", version="v1")
    assert again.pk == job.pk and not Job.objects.filter(kind="race").exists()  # not inserted again
