"""Write a validated ledger file into the database: all-or-nothing, idempotent, streamed.

The io layer (gunmane.io.ledger_reader) parses and checks each row; this module adds the checks
that need the database (municipality exists, the user may edit it, the facility exists), then
creates, updates or leaves each row unchanged by its natural key. One transaction covers the whole
file: any error (unless skip_invalid) or a dry run rolls everything back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import close_old_connections, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from gunmane.io.ledger_reader import Issue, LedgerReader, RowResult
from gunmane.io.ledger_schema import LedgerKind
from gunmane.web.accounts.permissions import editable_municipalities
from gunmane.web.registry.models import (
    Facility,
    FacilityType,
    ImportRecord,
    ImportStatus,
    Inspection,
    Measure,
    Municipality,
    Sector,
    bump_data_version,
)

CHUNK = 2000
MAX_REPORTED_ISSUES = 10_000

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """The outcome of one import, in the shape of the CLI's `--format json` contract."""

    status: str = "ok"  # ok | invalid | dry_run
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    errors_total: int = 0
    warnings_total: int = 0
    encoding: str = ""

    def add_error(self, issue: Issue) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_REPORTED_ISSUES:
            self.errors.append(issue)

    def add_warning(self, issue: Issue) -> None:
        self.warnings_total += 1
        if len(self.warnings) < MAX_REPORTED_ISSUES:
            self.warnings.append(issue)

    def as_json(self, lang: str = "ja") -> dict[str, Any]:
        return {
            "status": self.status,
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [e.as_dict(lang) for e in self.errors],
            "warnings": [w.as_dict(lang) for w in self.warnings],
        }


FACILITY_FIELDS = ("name", "sector_id", "facility_type_id", "built_year", "length_m", "width_m", "area_m2",
                   "lat", "lon", "route", "address", "structure", "national_id", "note", "attributes",
                   "is_synthetic")
RAW_FIELDS = {"built_year_raw"}


class LedgerImporter:
    def __init__(self, kind: LedgerKind | str, path: Path, *, municipality: Municipality | None = None,
                 user: AbstractBaseUser | None = None, dry_run: bool = False, skip_invalid: bool = False,
                 display_name: str | None = None, today: date | None = None,
                 progress: Progress | None = None) -> None:
        self.kind = LedgerKind(kind)
        self.path = Path(path)
        self.municipality = municipality
        self.user = user
        self.dry_run = dry_run
        self.skip_invalid = skip_invalid
        self.display_name = display_name or self.path.name
        self.today = today or timezone.localdate()
        self.progress = progress
        self.report = ImportReport()
        self._munis: dict[str, Municipality] = {}
        self._allowed: set[str] | None = None
        self._facilities: dict[int, dict[str, tuple[int, tuple[Any, ...]]]] = {}
        self._children: dict[int, dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]]] = {}
        self._touched_facilities: set[int] = set()
        self._writing = True
        self._headers: dict[str, str] = {}

    # -- public ----------------------------------------------------------------------------------
    def run(self) -> ImportReport:
        reader = LedgerReader(self.path, self.kind, lg_code=self.municipality.lg_code if self.municipality else None,
                              today=self.today, display_name=self.display_name)
        self.report.encoding = reader.encoding
        self._headers = reader.column_header
        if reader.file_issues:
            for issue in reader.file_issues:
                self.report.add_error(issue)
            self.report.status = "invalid"
            return self.report
        self._prepare()
        total = reader.rows_estimate
        with transaction.atomic():
            chunk: list[RowResult] = []
            for result in reader:
                chunk.append(result)
                if len(chunk) >= CHUNK:
                    self._process(chunk)
                    chunk = []
                    if self.progress:
                        self.progress(self.report.rows, max(total, self.report.rows))
            if chunk:
                self._process(chunk)
            if self.kind == LedgerKind.INSPECTIONS and self._writing:
                self._refresh_latest_grades()
            failed = self.report.invalid > 0 and not self.skip_invalid
            if failed or self.dry_run:
                transaction.set_rollback(True)
            elif self.report.created or self.report.updated:
                bump_data_version()  # cached indicator tables recompute (bulk writes send no signals)
        if self.progress:
            self.progress(self.report.rows, self.report.rows)
        if self.report.invalid > 0 and not self.skip_invalid:
            self.report.status = "invalid"
            # Nothing was written: say so rather than what would have been.
            self.report.created = self.report.updated = self.report.unchanged = 0
        elif self.dry_run:
            self.report.status = "dry_run"
        else:
            self.report.status = "ok"
        return self.report

    # -- setup -----------------------------------------------------------------------------------
    def _prepare(self) -> None:
        self._munis = {m.lg_code: m for m in Municipality.objects.all()}
        if self.user is not None:
            self._allowed = set(editable_municipalities(self.user).values_list("lg_code", flat=True))
        self._sectors = dict(Sector.objects.values_list("code", "id"))
        self._types = dict(FacilityType.objects.values_list("code", "id"))

    # -- per chunk -------------------------------------------------------------------------------
    def _process(self, chunk: list[RowResult]) -> None:
        good: list[tuple[RowResult, Municipality]] = []
        for result in chunk:
            self.report.rows += 1
            muni = self._check_municipality(result) if result.ok else None
            for w in result.warnings:
                self.report.add_warning(w)
            if muni is not None and result.ok:
                good.append((result, muni))
            else:
                self._reject(result)
        if self.kind == LedgerKind.FACILITIES:
            self._write_facilities(good)
        else:
            self._write_children(good)

    def _reject(self, result: RowResult) -> None:
        self.report.invalid += 1
        for e in result.errors:
            self.report.add_error(e)
        if not self.skip_invalid:
            self._writing = False

    def _check_municipality(self, result: RowResult) -> Municipality | None:
        lg = result.record["lg_code"]
        muni = self._munis.get(lg)
        column = self._headers.get("lg_code", "団体コード")
        if muni is None:
            result.errors.append(Issue(result.row, column, lg, "unknown_municipality",
                                       f"団体コード {lg} の団体が登録されていません。",
                                       f"No local government with code {lg}."))
            return None
        if self._allowed is not None and lg not in self._allowed:
            result.errors.append(Issue(result.row, column, lg, "no_permission",
                                       f"{muni.name}（{lg}）の施設台帳を編集する権限がありません。",
                                       f"You may not edit the ledger of {muni.name} ({lg})."))
            return None
        return muni

    # -- facilities ------------------------------------------------------------------------------
    def _existing_facilities(self, manager_id: int) -> dict[str, tuple[int, tuple[Any, ...]]]:
        if manager_id not in self._facilities:
            rows = Facility.objects.filter(manager_id=manager_id).values_list("id", "facility_id", *FACILITY_FIELDS)
            self._facilities[manager_id] = {r[1]: (r[0], tuple(r[2:])) for r in rows.iterator(chunk_size=5000)}
        return self._facilities[manager_id]

    def _facility_values(self, rec: dict[str, Any]) -> tuple[Any, ...]:
        return (rec["name"], self._sectors[rec["sector"]], self._types[rec["facility_type"]], rec.get("built_year"),
                rec.get("length_m"), rec.get("width_m"), rec.get("area_m2"), rec.get("lat"), rec.get("lon"),
                rec.get("route") or "", rec.get("address") or "", rec.get("structure") or "",
                rec.get("national_id") or "", rec.get("note") or "", rec.get("attributes") or {},
                bool(rec.get("is_synthetic")))

    def _write_facilities(self, good: list[tuple[RowResult, Municipality]]) -> None:
        creates: list[Facility] = []
        updates: list[Facility] = []
        now = timezone.now()  # bulk_update does not apply auto_now
        for result, muni in good:
            rec = result.record
            existing = self._existing_facilities(muni.pk)
            new_values = self._facility_values(rec)
            self.report.valid += 1
            current = existing.get(rec["facility_id"])
            if current is None:
                self.report.created += 1
                obj = Facility(manager_id=muni.pk, facility_id=rec["facility_id"],
                               built_year_raw=rec.get("built_year_raw") or "",
                               **dict(zip(FACILITY_FIELDS, new_values, strict=True)))
                creates.append(obj)
                existing[rec["facility_id"]] = (-1, new_values)
            elif current[1] == new_values:
                self.report.unchanged += 1
            else:
                self.report.updated += 1
                obj = Facility(pk=current[0], built_year_raw=rec.get("built_year_raw") or "", updated_at=now,
                               **dict(zip(FACILITY_FIELDS, new_values, strict=True)))
                updates.append(obj)
                existing[rec["facility_id"]] = (current[0], new_values)
        if not self._writing:
            return
        if creates:
            Facility.objects.bulk_create(creates, batch_size=500)
            for obj in creates:
                self._facilities[obj.manager_id][obj.facility_id] = (obj.pk,
                                                                     self._facilities[obj.manager_id][obj.facility_id][1])
        if updates:
            Facility.objects.bulk_update(updates, [*FACILITY_FIELDS, "built_year_raw", "updated_at"], batch_size=500)

    # -- inspections and measures ----------------------------------------------------------------
    def _facility_pk(self, manager_id: int, facility_id: str) -> int | None:
        entry = self._existing_facilities(manager_id).get(facility_id)
        return entry[0] if entry else None

    def _existing_children(self, manager_id: int) -> dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]]:
        if manager_id not in self._children:
            if self.kind == LedgerKind.INSPECTIONS:
                qs = Inspection.objects.filter(facility__manager_id=manager_id).values_list(
                    "id", "facility_id", "inspected_on", "kind", "grade", "inspector")
            else:
                qs = Measure.objects.filter(facility__manager_id=manager_id).values_list(
                    "id", "facility_id", "fiscal_year", "kind", "status", "cost_thousand_yen", "note")
            self._children[manager_id] = {(r[1], r[2], r[3]): (r[0], tuple(r[4:])) for r in qs.iterator(chunk_size=5000)}
        return self._children[manager_id]

    def _write_children(self, good: list[tuple[RowResult, Municipality]]) -> None:
        inspections = self.kind == LedgerKind.INSPECTIONS
        creates: list[Any] = []
        updates: list[Any] = []
        for result, muni in good:
            rec = result.record
            facility_pk = self._facility_pk(muni.pk, rec["facility_id"])
            if facility_pk is None or facility_pk < 0:
                result.errors.append(Issue(
                    result.row, self._headers.get("facility_id", "施設ID"), rec["facility_id"], "unknown_facility",
                    f"施設ID「{rec['facility_id']}」は{muni.name}の施設台帳にありません。先に施設を取り込んでください。",
                    f"Facility '{rec['facility_id']}' is not in the ledger of {muni.name}; import facilities first.",
                ))
                self._reject(result)
                continue
            self.report.valid += 1
            existing = self._existing_children(muni.pk)
            if inspections:
                key = (facility_pk, rec["inspected_on"], rec["kind"])
                new_values: tuple[Any, ...] = (rec["grade"], rec.get("inspector") or "")
            else:
                key = (facility_pk, rec["fiscal_year"], rec["kind"])
                new_values = (rec["status"], rec.get("cost_thousand_yen"), rec.get("note") or "")
            current = existing.get(key)
            if current is not None and current[1] == new_values:
                self.report.unchanged += 1
                continue
            self._touched_facilities.add(facility_pk)
            if inspections:
                obj = Inspection(facility_id=facility_pk, inspected_on=rec["inspected_on"], kind=rec["kind"],
                                 grade=rec["grade"], grade_raw=rec.get("grade_raw") or "",
                                 inspector=rec.get("inspector") or "")
            else:
                obj = Measure(facility_id=facility_pk, fiscal_year=rec["fiscal_year"], kind=rec["kind"],
                              status=rec["status"], cost_thousand_yen=rec.get("cost_thousand_yen"),
                              note=rec.get("note") or "")
            if current is None:
                self.report.created += 1
                creates.append(obj)
                existing[key] = (-1, new_values)
            else:
                self.report.updated += 1
                obj.pk = current[0]
                updates.append(obj)
                existing[key] = (current[0], new_values)
        if not self._writing:
            return
        model = Inspection if inspections else Measure
        if creates:
            model.objects.bulk_create(creates, batch_size=500)
        if updates:
            fields = ["grade", "grade_raw", "inspector"] if inspections else ["status", "cost_thousand_yen", "note"]
            model.objects.bulk_update(updates, fields, batch_size=500)

    def _refresh_latest_grades(self) -> None:
        """Facility.latest_grade/latest_inspected_on for every facility this import touched.

        Two inspections on the same latest day: the worse grade counts (the conservative reading).
        """
        ids = sorted(self._touched_facilities)
        latest = Inspection.objects.filter(facility_id=OuterRef("pk")).order_by("-inspected_on", "-grade")
        for start in range(0, len(ids), 5000):
            Facility.objects.filter(pk__in=ids[start:start + 5000]).update(
                latest_grade=Subquery(latest.values("grade")[:1]),
                latest_inspected_on=Subquery(latest.values("inspected_on")[:1]),
            )


# -- ImportRecord: the kept file, its report, and running in the background ----------------------
_progress: dict[int, tuple[int, int]] = {}
_progress_lock = threading.Lock()


def live_progress(record_id: int) -> tuple[int, int] | None:
    """(rows processed, rows expected) of an import running in this process, if any.

    Progress lives in memory, not in the database: the import holds its write transaction open
    until the end (all-or-nothing), so a row written for progress would be invisible and rolled back.
    """
    with _progress_lock:
        return _progress.get(record_id)


def create_record(kind: LedgerKind | str, source: Path | File, *, original_name: str,
                  municipality: Municipality | None, user: AbstractBaseUser | None, dry_run: bool,
                  skip_invalid: bool) -> ImportRecord:
    """Keep the original file and create the pending ImportRecord."""
    record = ImportRecord(kind=LedgerKind(kind).value, municipality=municipality, user=user,
                          original_name=original_name, dry_run=dry_run, skip_invalid=skip_invalid)
    if isinstance(source, Path):
        with source.open("rb") as fh:
            record.file.save(Path(original_name).name, File(fh), save=False)
    else:
        record.file.save(Path(original_name).name, source, save=False)
    record.save()
    return record


def run_record(record_id: int, *, today: date | None = None) -> ImportReport:
    """Run a pending ImportRecord and store its report on it."""
    record = ImportRecord.objects.select_related("municipality", "user").get(pk=record_id)
    record.status = ImportStatus.RUNNING
    record.save(update_fields=["status"])

    def progress(done: int, total: int) -> None:
        with _progress_lock:
            _progress[record_id] = (done, total)

    importer = LedgerImporter(record.kind, Path(record.file.path), municipality=record.municipality,
                              user=record.user, dry_run=record.dry_run, skip_invalid=record.skip_invalid,
                              display_name=record.original_name, today=today, progress=progress)
    try:
        report = importer.run()
    except Exception as exc:  # the record must say what happened; the server must not die
        record.status = ImportStatus.FAILED
        record.message = f"取り込み中に予期しないエラーが発生しました（{type(exc).__name__}: {exc}）。何も登録されていません。"
        record.finished_at = timezone.now()
        record.save()
        raise
    finally:
        with _progress_lock:
            _progress.pop(record_id, None)
    save_report(record, report)
    return report


def save_report(record: ImportRecord, report: ImportReport) -> None:
    record.status = {"ok": ImportStatus.SUCCEEDED, "dry_run": ImportStatus.DRY_RUN}.get(
        report.status, ImportStatus.INVALID)
    for name in ("rows", "valid", "invalid", "created", "updated", "unchanged"):
        setattr(record, name, getattr(report, name))
    record.rows_total = record.rows_processed = report.rows
    record.encoding = report.encoding
    record.errors = [e.as_dict() for e in report.errors]
    record.warnings = [w.as_dict() for w in report.warnings]
    record.errors_truncated = report.errors_total > len(report.errors)
    record.finished_at = timezone.now()
    record.save()


def start_in_background(record_id: int) -> None:
    """Run the import in a thread of this process (or inline when configured, as in tests)."""
    if not settings.GUNMANE_IMPORT_IN_BACKGROUND:
        run_record(record_id)
        return

    def target() -> None:
        try:
            run_record(record_id)
        except Exception:  # already recorded on the ImportRecord
            pass
        finally:
            close_old_connections()

    threading.Thread(target=target, name=f"import-{record_id}", daemon=True).start()
