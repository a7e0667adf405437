"""The life of an ImportRecord, the same for every import (ledger files, 年報 lists, xROAD files).

* create_record — keep the uploaded file(s) (several as one zip) with a pending record;
* start — put the import of a pending record on the task queue (docs/tasks.md): a job of kind "import" whose
  task, `run_import`, rebuilds the importer from the record's kind and options (`build_importer`) in the worker.
  A restart or recycling of a web process does not touch it, and every web process reads its state from the
  database; rerun — a new record of a kept file, started so;
* run — run an importer for a record in this process: mark the record running here (claim), beat while it
  runs where the database allows, mark it failed if the importer raises (a crash, Ctrl+C), store the result
  (save_report); run_pending — the same for a pending record by id (the task's body, and `gunmane import`);
* report_progress / progress_reporter / live_progress — the rows done of a running import: in memory in the
  process that runs it, and in a small file under DATA_DIR/imports/progress that every process on the host
  reads (the import's transaction keeps its own database writes invisible; SQLite takes no second writer);
* mark_interrupted_imports — mark failed the imports whose process stopped (`gunmane serve`, the import pages):
  a running record whose worker process is gone (or, on another host, silent too long), a pending record whose
  job is no longer waiting in the queue.

An importer is anything with run() → a result; a result has `status` (ok | invalid | dry_run) and
record_fields(), what the ImportRecord keeps of it. The importer keeps its import all-or-nothing (one
transaction); nothing here writes inside that transaction.
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import OperationalError, connection
from django.utils import timezone
from django_tasks import task

from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job, JobStatus
from gunmane.web.registry.imports.bulk import Progress
from gunmane.web.registry.models import ImportKind, ImportRecord, ImportStatus, Municipality


class Result(Protocol):
    status: str  # ok | invalid | dry_run

    def record_fields(self) -> dict[str, Any]:
        """The ImportRecord fields this result sets (counts, issues, …)."""
        ...


R = TypeVar("R", bound=Result)
R_co = TypeVar("R_co", bound=Result, covariant=True)


class Importer(Protocol[R_co]):
    def run(self) -> R_co: ...


# The importer of a pending record: its kind's importer over the kept file, with the record's options.
Build = Callable[[ImportRecord, Progress], Importer[R]]

# How often a running import says it is alive (ImportRecord.heartbeat_at), where the database allows it.
HEARTBEAT_SECONDS = 5
STALE_SECONDS_DEFAULT = 120
INTERRUPTED_MESSAGE = "取り込みを実行していたプロセスが停止したため中断しました。何も登録されていません。"
# Stored file names: short enough for every file system (255 bytes) and for ImportRecord.file (300 chars)
# once the folder and a random suffix are added; the full name stays in ImportRecord.original_name.
STORED_NAME_BYTES = 120
ORIGINAL_NAME_CHARS = 255

# How often a running import writes its progress file (report_progress).
PROGRESS_FILE_SECONDS = 1.0
# The Job.kind of an import on the task queue (gunmane.web.jobs); its subject is the record's id.
JOB_KIND = "import"

# Imports running in this process, guarded by _lock: those claimed and not finished (record ids; alive,
# whatever their heartbeat says), their progress, and when their progress file was last written.
_lock = threading.Lock()
_running: set[int] = set()
_progress: dict[int, tuple[int, int]] = {}
_written: dict[int, float] = {}


# -- the kept file ---------------------------------------------------------------------------------------
def _truncate(name: str, *, max_chars: int, max_bytes: int | None = None) -> str:
    """`name` shortened in its stem, its extension kept."""
    stem, suffix = os.path.splitext(name)
    if len(suffix) > 16:  # not an extension
        stem, suffix = name, ""
    stem = stem[:max(1, max_chars - len(suffix))]
    if max_bytes is not None:
        while stem and len((stem + suffix).encode()) > max_bytes:
            stem = stem[:-1]
    return (stem or "file") + suffix


def stored_file_name(original_name: str) -> str:
    """The name the kept copy of an upload gets (the folder and, on a clash, a random suffix are added)."""
    return _truncate(Path(original_name.replace("\\", "/")).name or "file", max_chars=80, max_bytes=STORED_NAME_BYTES)


def _as_file(content: Path | File | bytes) -> File:
    if isinstance(content, Path):
        return ContentFile(content.read_bytes())
    return content if isinstance(content, File) else ContentFile(content)


def create_record(kind: str, files: Sequence[tuple[str, Path | File | bytes]], *,
                  municipality: Municipality | None, user: User | None, dry_run: bool,
                  skip_invalid: bool, clear_blanks: bool = False) -> ImportRecord:
    """Keep the original file(s) — (name as shown, content) each; several as one zip — with a pending ImportRecord.

    A long name is shortened for the stored copy (file systems take 255 bytes, 85 Japanese characters)
    and, beyond 255 characters, for the record; both keep the extension.
    """
    if not files:
        raise ValueError("an import needs a file")
    record = ImportRecord(kind=ImportKind(kind).value, municipality=municipality, user=user, dry_run=dry_run,
                          skip_invalid=skip_invalid, clear_blanks=clear_blanks)
    if len(files) == 1:
        name, content = files[0]
        record.original_name = _truncate(name, max_chars=ORIGINAL_NAME_CHARS)
        if isinstance(content, Path):
            with content.open("rb") as fh:
                record.file.save(stored_file_name(name), File(fh), save=False)
        else:
            record.file.save(stored_file_name(name), _as_file(content), save=False)
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, content in files:
                z.writestr(name, _as_file(content).read())
        record.original_name = _truncate(f"{files[0][0]} ほか{len(files) - 1}件.zip", max_chars=ORIGINAL_NAME_CHARS)
        record.file.save(f"{record.kind}_{len(files)}files.zip", ContentFile(buf.getvalue()), save=False)
    record.save()
    return record


# -- progress --------------------------------------------------------------------------------------------
def _progress_path(record_id: int) -> Path:
    return Path(settings.DATA_DIR) / "imports" / "progress" / f"{int(record_id)}.txt"


def report_progress(record_id: int, done: int, total: int) -> None:
    """Say how far the import of this record, running in this process, has got: in memory, and at most every
    PROGRESS_FILE_SECONDS in its progress file for the other processes (the web pages)."""
    now = time.monotonic()
    with _lock:
        _progress[record_id] = (done, total)
        due = now - _written.get(record_id, -PROGRESS_FILE_SECONDS) >= PROGRESS_FILE_SECONDS or done >= total
        if due:
            _written[record_id] = now
    if due:
        with suppress(OSError):  # progress is a courtesy: the import goes on without it
            path = _progress_path(record_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text(f"{int(done)} {int(total)}")
            os.replace(tmp, path)  # a reader never sees half a line


def progress_reporter(record_id: int) -> Progress:
    """An importer's `progress` callback that reports for this record."""
    return partial(report_progress, record_id)


def live_progress(record_id: int) -> tuple[int, int] | None:
    """(rows processed, rows expected) of a running import, if any: from memory in the process that runs it,
    from its progress file in any other process of the host.

    Progress does not go through the database: the import holds its write transaction open until the end
    (all-or-nothing), so a row written for progress inside it would be invisible and rolled back (see _Heartbeat).
    """
    with _lock:
        if record_id in _progress:
            return _progress[record_id]
    try:
        done, total = _progress_path(record_id).read_text().split()
        return int(done), int(total)
    except (OSError, ValueError):
        return None


def _forget_progress(record_id: int) -> None:
    with _lock:
        _progress.pop(record_id, None)
        _written.pop(record_id, None)
    _progress_path(record_id).unlink(missing_ok=True)


def running_here(record_id: int) -> bool:
    """Whether this process runs the import of this record (claimed and not finished)."""
    with _lock:
        return record_id in _running or record_id in _progress


# -- running ---------------------------------------------------------------------------------------------
def claim(record: ImportRecord) -> None:
    """Mark the record running in this process: who runs it (host, pid, the process's start time)."""
    with _lock:
        _running.add(record.pk)
    now = timezone.now()
    record.status = ImportStatus.RUNNING
    record.worker_host = socket.gethostname()[:255]
    record.worker_pid = os.getpid()
    record.worker_started_at = datetime.fromtimestamp(PROCESS_STARTED, tz=UTC)
    record.heartbeat_at = now
    record.save(update_fields=["status", "worker_host", "worker_pid", "worker_started_at", "heartbeat_at"])


def release(record_id: int) -> None:
    """This process no longer runs the import of this record (finished, failed or never started)."""
    with _lock:
        _running.discard(record_id)
    _forget_progress(record_id)


def beat(record_id: int) -> None:
    """Say that the import of this record is alive, with its progress (a connection of its own)."""
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    if (live := live_progress(record_id)) is not None:
        fields["rows_processed"], fields["rows_total"] = live
    ImportRecord.objects.filter(pk=record_id, status=ImportStatus.RUNNING).update(**fields)


class _Heartbeat(threading.Thread):
    """Writes ImportRecord.heartbeat_at every HEARTBEAT_SECONDS while an import runs.

    A thread with its own database connection, because the import's transaction keeps its writes invisible
    until the end. Only where the database takes a second writer meanwhile (PostgreSQL): SQLite has a single
    write lock, which the import holds, so there the process itself is checked instead (_worker_alive).
    """

    def __init__(self, record_id: int) -> None:
        super().__init__(name=f"import-{record_id}-heartbeat", daemon=True)
        self.record_id = record_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_SECONDS):
                with suppress(Exception):  # a missed beat is not worth failing the import; the next may pass
                    beat(self.record_id)
        finally:
            connection.close()

    @classmethod
    @contextmanager
    def running(cls, record_id: int) -> Iterator[None]:
        if connection.vendor == "sqlite":
            yield
            return
        thread = cls(record_id)
        thread.start()
        try:
            yield
        finally:
            thread.stopped.set()
            thread.join(timeout=HEARTBEAT_SECONDS)


def _failed(record: ImportRecord, exc: BaseException) -> None:
    """The record says the import stopped (nothing was written: an import is one transaction)."""
    record.status = ImportStatus.FAILED
    record.message = (INTERRUPTED_MESSAGE if isinstance(exc, KeyboardInterrupt) else
                      f"取り込み中に予期しないエラーが発生しました（{type(exc).__name__}: {exc}）。何も登録されていません。")
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "message", "finished_at"])


def run(record: ImportRecord, importer: Importer[R], *, save: bool = True) -> R:
    """Run `importer` for `record` in this thread, and (unless not `save`) store its result on the record.

    An exception — a crash, Ctrl+C — marks the record failed and is raised again.
    """
    claim(record)
    try:
        with _Heartbeat.running(record.pk):
            result = importer.run()
    except BaseException as exc:  # the record must say what happened
        _failed(record, exc)
        raise
    finally:
        release(record.pk)
    if save:
        save_report(record, result)
    return result


def save_report(record: ImportRecord, result: Result) -> None:
    """Store the result of a finished import on its record."""
    record.status = {"ok": ImportStatus.SUCCEEDED, "dry_run": ImportStatus.DRY_RUN}.get(
        result.status, ImportStatus.INVALID)
    for name, value in result.record_fields().items():
        setattr(record, name, value)
    record.rows_total = record.rows_processed = record.rows
    record.finished_at = timezone.now()
    record.message = ""  # a record marked interrupted while the import was in fact alive is set right here
    record.save()


def run_pending(record_id: int, build: Build[R]) -> R:
    """Run a pending ImportRecord: the importer `build` makes of it, reporting its progress here."""
    record = ImportRecord.objects.select_related("municipality", "user").get(pk=record_id)
    try:
        importer = build(record, progress_reporter(record_id))
    except BaseException as exc:
        _failed(record, exc)
        raise
    return run(record, importer)


# -- on the task queue -------------------------------------------------------------------------------
def build_importer(record: ImportRecord, progress: Progress, options: dict[str, Any] | None = None) -> Importer[Any]:
    """The importer of a pending record, rebuilt from what the database keeps: its kind, its kept file, its
    options (the record's flags, and `options` — the 年度 of a national list — kept with its job)."""
    if record.kind in (ImportKind.NENPO, ImportKind.XROAD):
        from gunmane.web.registry.imports.national import NationalImporter

        return NationalImporter.for_record(record, progress, fiscal_year=(options or {}).get("fiscal_year"))
    from gunmane.web.registry.imports.ledger import LedgerImporter

    return LedgerImporter.for_record(record, progress)


def _import_job(job: Job, progress: Any) -> None:
    run_pending(int(job.params["record"]), partial(build_importer, options=job.params.get("options") or {}))


@task()
def run_import(job_id: str) -> None:
    """The task of an import: run the pending record of the job (its state and report are on the record)."""
    jobs.run(job_id, _import_job)


def import_job(record_id: int) -> Job | None:
    """The job that runs (ran) the import of this record on the queue, if it was started so."""
    return Job.objects.filter(kind=JOB_KIND, subject=str(record_id)).first()


def start(record: ImportRecord, **options: Any) -> Job:
    """Put the import of a pending record on the task queue (GUNMANE_TASKS=immediate: run it here and now).

    `options` are what the record does not keep (the 年度 of a national list); JSON values."""
    return jobs.start(run_import, kind=JOB_KIND, subject=str(record.pk), version="1",
                      label=f"取り込み：{record.original_name}"[:255], user=record.user,
                      params={"record": record.pk, "options": options})


def rerun(record: ImportRecord, user: User | None) -> ImportRecord:
    """A new import of the kept file of `record`, with the same options (「もう一度取り込む」), started."""
    again = ImportRecord(kind=record.kind, municipality=record.municipality, user=user or record.user,
                         original_name=record.original_name, dry_run=record.dry_run,
                         skip_invalid=record.skip_invalid, clear_blanks=record.clear_blanks, rerun_of=record)
    again.file.name = record.file.name  # the same kept file: imports never change it
    again.save()
    previous = import_job(record.pk)
    start(again, **((previous.params.get("options") or {}) if previous is not None else {}))
    return again


# -- imports interrupted by a crash ------------------------------------------------------------------
def process_start(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), where the system tells (Linux /proc), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime "))
    except (OSError, StopIteration):
        return None
    ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22 of stat(5), after "pid (comm)"
    return int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")


PROCESS_STARTED = process_start(os.getpid()) or time.time()


def _pid_exists(pid: int) -> bool | None:
    """Whether a process with this id exists on this host (None where that cannot be asked)."""
    if Path("/proc/self").exists():
        return Path(f"/proc/{pid}").exists()
    if os.name != "posix":
        return None  # on Windows os.kill(pid, 0) would send a Ctrl+C event
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_alive(record: ImportRecord) -> bool | None:
    """Whether the process running this import is still there: None when that cannot be told from here
    (another host, or a system that does not say), then its heartbeat decides."""
    if running_here(record.pk):
        return True
    if not record.worker_host or record.worker_pid is None:
        return None
    if record.worker_host != socket.gethostname()[:255]:
        return None
    if record.worker_pid == os.getpid():
        return False  # this very process, yet not running it: an earlier process had the same pid
    started = process_start(record.worker_pid)
    if started is not None:  # the pid may have been reused by another process since
        return record.worker_started_at is None or abs(started - record.worker_started_at.timestamp()) < 2
    return _pid_exists(record.worker_pid)


def stale_seconds() -> int:
    value = getattr(settings, "GUNMANE_IMPORT_STALE_SECONDS", None) or os.environ.get("GUNMANE_IMPORT_STALE_SECONDS")
    return int(value) if value else STALE_SECONDS_DEFAULT


def _waiting_in_queue(record: ImportRecord, now: datetime) -> bool | None:
    """Whether a pending record is still waiting for a worker: its job queued (however long the queue), or just
    picked up (the worker is opening the file). None for a record started without the queue (a command line)."""
    job = import_job(record.pk)
    if job is None:
        return None
    if job.status == JobStatus.QUEUED:
        return True
    if job.status == JobStatus.RUNNING:
        return (now - (job.started_at or job.created_at)).total_seconds() <= stale_seconds()
    return False  # the job ended and the record never ran


def is_interrupted(record: ImportRecord, now: datetime | None = None) -> bool:
    """A pending import no longer waiting for a worker, or a running one whose process is gone (or, if that
    cannot be told, silent too long)."""
    if record.is_finished:
        return False
    now = now or timezone.now()
    if record.status == ImportStatus.PENDING and (waiting := _waiting_in_queue(record, now)) is not None:
        return not waiting
    alive = _worker_alive(record)
    if alive is not None:
        return not alive
    last = record.heartbeat_at or record.created_at
    return (now - last).total_seconds() > stale_seconds()


def mark_interrupted_imports(records: Iterable[ImportRecord] | None = None) -> list[int]:
    """Mark failed the pending or running imports whose process stopped (server crash, Ctrl+C, power).

    Called when the server starts and when imports are listed. An import is one transaction, so nothing
    of it was written: the record says so. Returns the ids marked.
    """
    now = timezone.now()
    if records is None:
        records = ImportRecord.objects.filter(status__in=[ImportStatus.PENDING, ImportStatus.RUNNING]).only(
            "id", "status", "created_at", "heartbeat_at", "worker_host", "worker_pid", "worker_started_at")
    stale = [r for r in records if is_interrupted(r, now)]
    marked: list[int] = []
    if not stale:
        return marked
    with _short_lock_wait():
        for r in stale:  # only if nothing changed since it was read (it may have just finished)
            if ImportRecord.objects.filter(pk=r.pk, status=r.status, heartbeat_at=r.heartbeat_at).update(
                    status=ImportStatus.FAILED, message=INTERRUPTED_MESSAGE, finished_at=now):
                marked.append(r.pk)
                _forget_progress(r.pk)
        Job.objects.filter(kind=JOB_KIND, subject__in=[str(pk) for pk in marked],
                           status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
            status=JobStatus.FAILED, message=INTERRUPTED_MESSAGE, finished_at=now)
    return marked


@contextmanager
def _short_lock_wait() -> Iterator[None]:
    """On SQLite, wait at most 2 s for the write lock (a page must not hang behind a long import), and
    give up quietly: the next listing tries again."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA busy_timeout = 2000")
    try:
        yield
    except OperationalError:
        pass
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(previous)}")
