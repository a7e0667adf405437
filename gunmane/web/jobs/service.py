"""Start or reuse a job, run it in the worker with progress, and answer the page that asked.

``start`` never computes: it finds the job of the key or records a new one and enqueues its task (with the
immediate backend — the tests, GUNMANE_TASKS=immediate — the task runs inside ``enqueue``). ``run`` is the
body of every job's task: it marks the job running, lets ``make`` report progress, stores the bytes ``make``
returns under DATA_DIR/jobs/ and marks the job done (or failed, with the reason in Japanese).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from gunmane.web.common.downloads import attachment
from gunmane.web.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

#: a queued or running job this old is taken as lost (its worker stopped) and started again
LOST_AFTER = timedelta(minutes=30)
#: (percent 0–100, message in Japanese)
Progress = Callable[[int, str], None]
#: the content type of a job whose result is a computed value for a page (not a file to download)
VALUE = "application/x-gunmane-value"
#: computed values kept in this process after the first read of their file (newest last)
MAX_VALUES = 16
_values: OrderedDict[str, Any] = OrderedDict()
_values_lock = threading.Lock()


class Refused(Exception):
    """The work cannot be done for a reason the user can fix (a document contradicting itself …): its message,
    in Japanese, is the job's message as it is."""


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
        # an UPDATE only: save() would INSERT the row again if a request on newer data had forgotten it meanwhile
        if not Job.objects.filter(pk=job.pk).update(status=job.status, progress=0, message="", result_path="",
                                                    started_at=None, finished_at=None, created_at=job.created_at):
            return job  # forgotten: nothing to run for older data (its page polls, finds it gone and reloads)
    result = task.enqueue(str(job.pk))
    Job.objects.filter(pk=job.pk).update(task_result_id=str(result.id)[:64])
    # a request on newer data may have forgotten it meanwhile: this request's answer is still it (its page polls
    # the status, finds it gone and reloads on the newer data)
    with contextlib.suppress(Job.DoesNotExist):
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
    except Refused as exc:
        log.info("job %s (%s) refused: %s", job.pk, job.kind, exc)
        Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, finished_at=timezone.now(), message=str(exc)[:500])
        raise
    except Exception as exc:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, finished_at=timezone.now(),
            message=f"作成中にエラーが発生しました（{type(exc).__name__}: {str(exc)[:200]}）。もう一度お試しください。")
        raise
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, progress=100, message="できました。",
                                         result_path=job.result_path, finished_at=timezone.now())


def start_value(task: Any, *, kind: str, subject: str, version: str, label: str = "",
                params: dict[str, Any] | None = None, user: Any = None) -> Job:
    """Like :func:`start`, for work whose result is a value a page shows (a plan, a fit): the task calls
    :func:`run_value`, and the page reads the value with :func:`value` once the job is done."""
    return start(task, kind=kind, subject=subject, version=version, label=label, params=params, user=user,
                 filename="value.pickle", content_type=VALUE)


def run_value(job_id: Any, compute: Callable[[Job, Progress], Any]) -> None:
    """The body of a value job's task: ``compute`` returns the value, stored (pickled) as the job's file."""
    run(job_id, lambda job, progress: pickle.dumps(compute(job, progress), protocol=pickle.HIGHEST_PROTOCOL))


def value(job: Job) -> Any | None:
    """The value a finished value job computed, or None while it is not ready (queued, running, failed).

    The file was written by this program's own worker under DATA_DIR/jobs (never uploaded), so unpickling it
    is as safe as reading the database. Read once per process: a second request is served from memory."""
    if job.status != JobStatus.DONE or job.content_type != VALUE:
        return None
    key = str(job.pk)
    with _values_lock:
        if key in _values:
            _values.move_to_end(key)
            return _values[key]
    path = result_file(job)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except FileNotFoundError:  # newer data: another request forgot this job between the look and the read
        return None
    loaded = pickle.loads(data)  # our worker's own file: see the docstring
    with _values_lock:
        _values[key] = loaded
        while len(_values) > MAX_VALUES:
            _values.popitem(last=False)
    return loaded


def state(job: Job) -> dict[str, Any]:
    """What a poller needs to know of a job (the status page's JSON, and a `?format=json` request's answer while
    the job runs)."""
    return {"status": job.status, "status_label": job.get_status_display(), "progress": job.progress,
            "message": job.message, "finished": job.finished, "ready": job.status == JobStatus.DONE,
            "status_url": reverse("jobs:status", args=[job.pk]) + "?format=json"}


def respond(request: HttpRequest, job: Job, *, title: str, back_url: str = "") -> HttpResponse:
    """The job's file when it is ready; otherwise a page with its progress, which the browser polls and then
    reloads (the same address then serves the file, under the rule of the page that asked). A program that asked
    for JSON gets the job's state as JSON (HTTP 202 while it runs) and asks the same address again later."""
    if job.status == JobStatus.DONE and job.content_type != VALUE and (path := result_file(job)) is not None:
        return attachment(path.read_bytes(), job.filename, job.content_type)
    code = 500 if job.status == JobStatus.FAILED else 202
    if request.GET.get("format") == "json":
        return JsonResponse(state(job), status=code, json_dumps_params={"ensure_ascii": False})
    return render(request, "jobs/progress.html", {"job": job, "title": title, "back_url": back_url},
                  status=500 if job.status == JobStatus.FAILED else 202)
