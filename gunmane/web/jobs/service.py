"""Start or reuse a job, run it in the worker with progress, and answer the page that asked.

``start`` never computes: it finds the job of the key or records a new one and enqueues its task (with the
immediate backend — the tests, GUNMANE_TASKS=immediate — the task runs inside ``enqueue``). ``run`` is the
body of every job's task: it marks the job running, lets ``make`` report progress, stores the bytes ``make``
returns under DATA_DIR/jobs/ and marks the job done (or failed, with the reason in Japanese).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from gunmane.web.common.downloads import attachment
from gunmane.web.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

#: a queued or running job this old is taken as lost (its worker stopped) and started again
LOST_AFTER = timedelta(minutes=30)
#: (percent 0–100, message in Japanese)
Progress = Callable[[int, str], None]


def jobs_dir() -> Path:
    path = Path(settings.DATA_DIR) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def version_of(parts: Any) -> str:
    """A data version as the text a job's key holds (registry.frames.fingerprint is a tuple)."""
    return "-".join(str(p) for p in parts) if isinstance(parts, tuple | list) else str(parts)


def result_file(job: Job) -> Path | None:
    """The stored file of a finished job, if it is still there."""
    if not job.result_path:
        return None
    path = jobs_dir() / job.result_path
    return path if path.is_file() else None


def _lost(job: Job, now: Any) -> bool:
    return job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and (job.started_at or job.created_at) < now - LOST_AFTER


def _needs_run(job: Job) -> bool:
    if job.status == JobStatus.FAILED:
        return True  # asked again: try again (the data or the program may have been fixed)
    if job.status == JobStatus.DONE:
        return bool(job.filename) and result_file(job) is None  # a stored file removed by hand
    return _lost(job, timezone.now())


def _forget_older(kind: str, subject: str, version: str) -> None:
    """Jobs (and files) of the same work for older data versions: nobody is served them any more."""
    for old in Job.objects.filter(kind=kind, subject=subject).exclude(version=version):
        if (path := result_file(old)) is not None:
            path.unlink(missing_ok=True)
        old.delete()


def start(task: Any, *, kind: str, subject: str, version: str, label: str = "", params: dict[str, Any] | None = None,
          user: Any = None, filename: str = "", content_type: str = "") -> Job:
    """The job of (kind, subject, version): the existing one, or a new one on the queue; ``task`` gets its id."""
    job = Job.objects.filter(kind=kind, subject=subject, version=version).first()
    if job is not None and not _needs_run(job):
        return job
    owner = None if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated else user
    if job is None:
        try:
            with transaction.atomic():
                job = Job.objects.create(kind=kind, subject=subject[:255], version=version[:255], label=label[:255],
                                         params=params or {}, user=owner, filename=filename[:255],
                                         content_type=content_type)
        except IntegrityError:  # another request recorded it a moment ago
            return Job.objects.get(kind=kind, subject=subject, version=version)
        _forget_older(kind, subject, version)
    else:
        job.status, job.progress, job.message, job.result_path = JobStatus.QUEUED, 0, "", ""
        job.started_at = job.finished_at = None
        job.created_at = timezone.now()
        job.save()
    result = task.enqueue(str(job.pk))
    Job.objects.filter(pk=job.pk).update(task_result_id=str(result.id)[:64])
    job.refresh_from_db()
    return job


def report(job_id: Any, percent: int, message: str = "") -> None:
    """Say how far a job has got (read by the progress panel)."""
    Job.objects.filter(pk=job_id).update(progress=max(0, min(100, int(percent))), message=message[:500])


def run(job_id: Any, make: Callable[[Job, Progress], bytes | None]) -> None:
    """The body of a job's task: ``make`` does the work (bytes = the job's file) and reports progress."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or (job.status == JobStatus.DONE and not _needs_run(job)):
        return  # forgotten (newer data), or already made by an earlier enqueue of the same key
    job.status, job.started_at, job.progress, job.message = JobStatus.RUNNING, timezone.now(), 0, "計算を始めました。"
    job.save(update_fields=["status", "started_at", "progress", "message"])
    def progress(percent: int, message: str = "") -> None:
        report(job.pk, percent, message)

    try:
        content = make(job, progress)
        if content is not None:
            name = f"{job.pk}{Path(job.filename).suffix}"
            tmp = jobs_dir() / f".{name}.part"
            tmp.write_bytes(content)
            os.replace(tmp, jobs_dir() / name)  # never a half-written file under the served name
            job.result_path = name
    except Exception as exc:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, finished_at=timezone.now(),
            message=f"作成中にエラーが発生しました（{type(exc).__name__}: {str(exc)[:200]}）。もう一度お試しください。")
        raise
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, progress=100, message="できました。",
                                         result_path=job.result_path, finished_at=timezone.now())


def respond(request: HttpRequest, job: Job, *, title: str, back_url: str = "") -> HttpResponse:
    """The job's file when it is ready; otherwise a page with its progress, which the browser polls and then
    reloads (the same address then serves the file, under the rule of the page that asked)."""
    if job.status == JobStatus.DONE and (path := result_file(job)) is not None:
        return attachment(path.read_bytes(), job.filename, job.content_type)
    return render(request, "jobs/progress.html", {"job": job, "title": title, "back_url": back_url},
                  status=500 if job.status == JobStatus.FAILED else 202)
