"""The ledger importer: write a validated ledger file into the database, all-or-nothing, idempotent, streamed.

The io layer (gunmane.io.ledger.reader) parses and checks each row; this module adds the checks
that need the database (municipality exists, the user may edit it, the facility exists), then
creates, updates or leaves each row unchanged by its natural key. One transaction covers the whole
file: any error (unless skip_invalid) or a dry run rolls everything back.

An update changes only the columns the file has; a blank cell keeps the stored value (reported as a
warning) unless the import clears blanks. Every row created or changed gets a change record (history)
naming the import, written in bulk in the same transaction (bulk.copy_to_history), so that it can be
undone (registry.history). The ImportRecord of an import is run and kept by imports.records.

Built for 100,000s of rows (figures in docs/benchmarks.md):

* the reader hands over batches of CHUNK rows in which the rows with nothing to report are columns
  (RowBatch); they are checked and written column by column, the others row by row;
* rows are written with plain parametrised SQL (bulk.TableWriter; COPY on PostgreSQL), not the ORM's
  bulk_create/bulk_update (see imports.bulk);
* existing rows are looked up batch by batch by natural key (not at all on a ledger's first import),
  so memory does not grow with the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.utils import timezone

from gunmane.io.issues import Issue
from gunmane.io.ledger.grades import band_of, scale_of_type
from gunmane.io.ledger.reader import LedgerReader, RowBatch, RowResult
from gunmane.io.ledger.schema import LedgerKind
from gunmane.io.ledger.tabular import TableError
from gunmane.web.accounts.permissions import editable_municipalities
from gunmane.web.registry.imports.bulk import (
    IdAllocator,
    Progress,
    TableWriter,
    batches,
    bulk_session,
    copy_to_history,
    in_filter,
    in_sql,
    refresh_latest_grades,
)
from gunmane.web.registry.models import (
    REASON_IMPORT,
    Facility,
    FacilityType,
    ImportRecord,
    Inspection,
    Measure,
    Municipality,
    Sector,
    bump_data_version,
)

CHUNK = 2000
# An import that creates at least this many rows refreshes PostgreSQL's table statistics (see _analyze).
ANALYZE_AFTER = 10_000
MAX_REPORTED_ISSUES = 10_000
# Facilities of one manager read at once by an inspection or measure import (see _all_facility_pks).
ALL_PKS_LIMIT = 200_000
# New rows gathered before they are inserted (see LedgerImporter._insert).
INSERT_BATCH = 20_000


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
    # Columns of the file nothing was read from (「取り込まなかった列」).
    unused_columns: list[str] = field(default_factory=list)

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
            "unused_columns": list(self.unused_columns),
        }

    def record_fields(self) -> dict[str, Any]:
        """What the ImportRecord keeps of this report (imports.records.save_report)."""
        return {
            "rows": self.rows, "valid": self.valid, "invalid": self.invalid, "created": self.created,
            "updated": self.updated, "unchanged": self.unchanged, "encoding": self.encoding,
            "errors": [e.as_dict() for e in self.errors], "warnings": [w.as_dict() for w in self.warnings],
            "errors_truncated": self.errors_total > len(self.errors), "unused_columns": list(self.unused_columns),
        }


FACILITY_FIELDS = ("name", "sector_id", "facility_type_id", "built_year", "length_m", "width_m", "area_m2",
                   "lat", "lon", "route", "address", "structure", "national_id", "note", "attributes",
                   "is_synthetic")
# A facility's values as the importer reads, compares and writes them.
FACILITY_ROW = ("built_year_raw", *FACILITY_FIELDS)
# The fields of FACILITY_ROW that a column of the file sets (the reader's key → fields).
_FACILITY_COLUMN_FIELDS = {
    "name": ("name",), "sector": ("sector_id",), "facility_type": ("facility_type_id", "sector_id"),
    "built_year": ("built_year", "built_year_raw"), "length_m": ("length_m",), "width_m": ("width_m",),
    "area_m2": ("area_m2",), "lat": ("lat",), "lon": ("lon",), "route": ("route",), "address": ("address",),
    "structure": ("structure",), "national_id": ("national_id",), "note": ("note",),
    "is_synthetic": ("is_synthetic",)}
# Inspection and measure values besides the natural key (facility, date or fiscal year, kind); the raw text
# of a grade follows the grade.
CHILD_ROW = {LedgerKind.INSPECTIONS: ("grade", "grade_raw", "band", "measured_value", "inspector"),
             LedgerKind.MEASURES: ("status", "cost_thousand_yen", "note")}
_CHILD_KEY = {LedgerKind.INSPECTIONS: ("facility_id", "inspected_on", "kind"),
              LedgerKind.MEASURES: ("facility_id", "fiscal_year", "kind")}
# What a cleared cell becomes where the database has no blank (a measure without a state is 未着手).
NOT_STARTED = "未着手"  # MeasureStatus.NOT_STARTED
_CLEARED = {"status": NOT_STARTED}


def _blank(value: Any) -> bool:
    return value is None or value == ""


class LedgerImporter:
    """Import one ledger file (facilities, inspections or measures) into the database.

    Only the columns present in the file change a stored row, and a blank cell keeps the stored value
    (with a warning) unless `clear_blanks`: a file with fewer columns, or with gaps, never erases what is
    stored. Every row created or changed gets a change record (history) naming `import_record_id`.
    """

    def __init__(self, kind: LedgerKind | str, path: Path, *, municipality: Municipality | None = None,
                 user: User | None = None, dry_run: bool = False, skip_invalid: bool = False,
                 clear_blanks: bool = False, display_name: str | None = None, today: date | None = None,
                 progress: Progress | None = None, import_record_id: int | None = None) -> None:
        self.kind = LedgerKind(kind)
        self.path = Path(path)
        self.municipality = municipality
        self.user = user
        self.dry_run = dry_run
        self.skip_invalid = skip_invalid
        self.clear_blanks = clear_blanks
        self.display_name = display_name or self.path.name
        self.today = today or timezone.localdate()
        self.progress = progress
        self.import_record_id = import_record_id
        self.report = ImportReport()
        self._munis: dict[str, Municipality] = {}
        self._allowed: set[str] | None = None
        self._touched_facilities: set[int] = set()
        # Latest (inspected_on, grade, band) of facilities whose every inspection is written by this import.
        self._latest_new: dict[int, tuple[date, int, int | None]] = {}
        self._pending: dict[TableWriter, tuple[dict[str, Any], list[list[Sequence[Any]]]]] = {}
        self._pending_rows = 0
        self._all_pks: dict[int, dict[str, int] | None] = {}
        self._writing = True
        self._headers: dict[str, str] = {}
        self._ids = IdAllocator()
        self._created: dict[type[models.Model], list[int]] = {}  # inserted (or about to be), history pending
        self._now = timezone.now()
        # Set from the file's columns in run(): the fields this file may change, and how.
        self._present: tuple[str, ...] = ()
        self._update_writer: TableWriter | None = None
        self._extra_headers: list[str] = []
        # How _merge puts a row's values into a stored row: (position, field, position of its raw text or None)
        # for each present field, and the positions that may differ afterwards.
        self._plan: list[tuple[int, str, int | None]] = []
        self._compared: list[int] = []

    @classmethod
    def for_record(cls, record: ImportRecord, progress: Progress | None = None) -> LedgerImporter:
        """The import of a pending ImportRecord: its kept file, with its options (an imports.records.Build)."""
        return cls(record.kind, Path(record.file.path), municipality=record.municipality, user=record.user,
                   dry_run=record.dry_run, skip_invalid=record.skip_invalid, clear_blanks=record.clear_blanks,
                   display_name=record.original_name, progress=progress, import_record_id=record.pk)

    # -- public ----------------------------------------------------------------------------------
    def run(self) -> ImportReport:
        reader = LedgerReader(self.path, self.kind, lg_code=self.municipality.lg_code if self.municipality else None,
                              today=self.today, display_name=self.display_name,
                              facility_types=self._facility_type if self.kind == LedgerKind.INSPECTIONS else None)
        self.report.encoding = reader.encoding
        self._headers = reader.column_header
        if reader.file_issues:
            for issue in reader.file_issues:
                self.report.add_error(issue)
            self.report.status = "invalid"
            return self.report
        self._prepare()
        self._present_columns(reader)
        total = reader.rows_estimate
        self._now = timezone.now()  # one time for the whole import: its rows' created_at/updated_at and history
        file_failed = False
        with bulk_session(), transaction.atomic():
            try:
                for batch in reader.batches(CHUNK):
                    self._process(batch)
                    if self.progress and len(batch) == CHUNK:
                        self.progress(self.report.rows, max(total, self.report.rows))
            except TableError as exc:  # a limit reached deep in the file: the whole file is refused
                self.report.add_error(Issue(exc.row or 0, "", self.display_name, exc.code, exc.message_ja,
                                            exc.message_en))
                file_failed, self._writing = True, False
            self._flush()
            if self.kind == LedgerKind.INSPECTIONS and self._writing:
                self._refresh_latest_grades()
            if self._writing and self.report.created >= ANALYZE_AFTER:
                self._analyze()
            failed = (self.report.invalid > 0 and not self.skip_invalid) or file_failed
            if failed or self.dry_run:
                transaction.set_rollback(True)
            elif self.report.created or self.report.updated:
                bump_data_version()  # cached indicator tables recompute (bulk writes send no signals)
        if self.progress:
            self.progress(self.report.rows, self.report.rows)
        self.report.unused_columns = reader.unused_columns
        self.report.warnings.sort(key=lambda w: w.row)  # blank-cell warnings come after each batch's others
        if (self.report.invalid > 0 and not self.skip_invalid) or file_failed:
            self.report.status = "invalid"
            # Nothing was written: say so rather than what would have been.
            self.report.created = self.report.updated = self.report.unchanged = 0
        elif self.dry_run:
            self.report.status = "dry_run"
        else:
            self.report.status = "ok"
        return self.report

    def _present_columns(self, reader: LedgerReader) -> None:
        """The stored fields this file may change: those of its columns (never those it lacks)."""
        columns = reader.column_index
        if self.kind == LedgerKind.FACILITIES:
            fields = {f for key in columns for f in _FACILITY_COLUMN_FIELDS.get(key, ())}
            fields.add("name")  # a required column
            self._extra_headers = [text for _, text in reader.extra_columns]
            if self._extra_headers:
                fields.add("attributes")
            self._present = tuple(f for f in FACILITY_ROW if f in fields)
            self._update_writer = TableWriter(Facility, self._present, update=True)
            self._plan_merge(FACILITY_ROW)
            return
        row = CHILD_ROW[self.kind]
        present = {"grade", "grade_raw", "band", "measured_value"} if self.kind == LedgerKind.INSPECTIONS else set()
        present.update(f for f in row if f in columns)
        self._present = tuple(f for f in row if f in present)
        model = Inspection if self.kind == LedgerKind.INSPECTIONS else Measure
        self._update_writer = TableWriter(model, self._present, update=True) if self._present else None
        self._plan_merge(row)

    def _plan_merge(self, layout: Sequence[str]) -> None:
        index = {name: i for i, name in enumerate(layout)}
        self._plan = [(index[name], name, index.get(f"{name}_raw")) for name in self._present
                      if not name.endswith("_raw")]
        self._compared = [index[name] for name in self._present]

    def _history(self, history_type: str) -> dict[str, Any]:
        """The constants of this import's change records of one type (created "+" or changed "~")."""
        return {"history_date": self._now, "history_type": history_type,
                "history_user_id": self.user.pk if self.user is not None else None,
                "history_change_reason": REASON_IMPORT, "import_record_id": self.import_record_id}

    def _merge(self, new: Sequence[Any], stored: Sequence[Any], layout: Sequence[str], number: int,
               ) -> tuple[list[Any], dict[str, list[Any]]]:
        """A stored row with this file's values put in: only present fields, and a blank cell keeps the stored
        value (a warning) unless clear_blanks. Returns the merged values and {field: [before, after]}."""
        merged = list(stored)
        clear = self.clear_blanks
        for i, name, raw in self._plan:
            value = new[i]
            if name == "attributes":
                value = self._merge_attributes(value or {}, stored[i] or {}, number)
            elif value is None or value == "":
                if not clear:
                    old = stored[i]
                    if old is not None and old != "" and old != _CLEARED.get(name):  # else the blank means it
                        self._blank_kept(number, name, stored[raw] or old if raw is not None else old)
                    continue
                value = _CLEARED.get(name, value)
            merged[i] = value
            if raw is not None:  # the text of a year or grade follows its value
                merged[raw] = new[raw]
        changes = {layout[i]: [stored[i], merged[i]] for i in self._compared if merged[i] != stored[i]}
        return merged, changes

    def _merge_attributes(self, new: dict[str, Any], stored: dict[str, Any], number: int) -> dict[str, Any]:
        """Free attributes: the file's columns set theirs, a blank cell keeps (or clears) the stored one;
        attributes of columns the file does not have stay."""
        merged = dict(stored)
        for header in self._extra_headers:
            value = new.get(header)
            if value is not None:
                merged[header] = value
            elif header in merged:
                if self.clear_blanks:
                    del merged[header]
                else:
                    self._blank_kept(number, header, merged[header], header=header)
        return merged

    def _blank_kept(self, number: int, name: str, stored: Any, *, header: str | None = None) -> None:
        key = {"sector_id": "sector", "facility_type_id": "facility_type"}.get(name, name)
        column = header or self._headers.get(key, key)
        shown = _shown_value(stored)
        self.report.add_warning(Issue(
            number, column, "", "blank_kept",
            f"空欄のため、登録済みの値「{shown}」をそのまま残しました。空欄で値を消すには"
            "「空欄のセルで登録済みの値を消す」（--clear-blanks）を選んでください。",
            f"Blank cell: the stored value '{shown}' was kept. To clear values with blank cells, "
            "choose to clear blanks (--clear-blanks)."))

    # -- setup -----------------------------------------------------------------------------------
    def _prepare(self) -> None:
        self._munis = {m.lg_code: m for m in Municipality.objects.all()}
        self._munis_by_pk = {m.pk: m for m in self._munis.values()}
        if self.user is not None:
            self._allowed = set(editable_municipalities(self.user).values_list("lg_code", flat=True))
        self._sectors = dict(Sector.objects.values_list("code", "id"))
        self._types = dict(FacilityType.objects.values_list("code", "id"))
        self._had_rows: dict[int, bool] = {}
        self._type_of: dict[str | None, dict[str, str]] = {}

    def _facility_type(self, lg_code: str | None, facility_id: str | None) -> str | None:
        """The facility type (code) of a facility in the ledger, for reading its inspections' grades on the
        type's scale; None for a facility not in it (then an unknown-facility error)."""
        if lg_code not in self._type_of:
            self._type_of[lg_code] = dict(
                Facility.objects.filter(manager__lg_code=lg_code).order_by()
                .values_list("facility_id", "facility_type__code").iterator(chunk_size=10_000)) if lg_code else {}
        return self._type_of[lg_code].get(facility_id or "")

    def _had_rows_before(self, manager_id: int) -> bool:
        """Whether this manager had rows of the kind being imported when the import began.

        A first import of a ledger needs no lookups of existing rows: the reader has already refused
        duplicate keys within the file, so every valid row is new.
        """
        if manager_id not in self._had_rows:
            if self.kind == LedgerKind.FACILITIES:
                qs: models.QuerySet[Any] = Facility.objects.filter(manager_id=manager_id)
            elif self.kind == LedgerKind.INSPECTIONS:
                qs = Inspection.objects.filter(facility__manager_id=manager_id)
            else:
                qs = Measure.objects.filter(facility__manager_id=manager_id)
            self._had_rows[manager_id] = qs.exists()
        return self._had_rows[manager_id]

    # -- per batch -------------------------------------------------------------------------------
    def _process(self, batch: RowBatch) -> None:
        """Check one batch of rows against the database and write it (unless an earlier row failed)."""
        self.report.rows += len(batch)
        accepted = self._accept(batch)
        if self.kind == LedgerKind.FACILITIES:
            self._write_facilities(accepted)
        else:
            self._write_children(accepted)

    def _accept(self, batch: RowBatch) -> _Accepted:
        """The rows the reader found valid whose municipality exists and may be edited by the user.

        Errors and warnings are reported here in row order. The rows with nothing to report are taken
        as columns; their municipality is looked up once per distinct code.
        """
        results = batch.results
        codes = batch.column("lg_code")
        pk_of: dict[Any, int] = {}
        if codes is not None:
            munis = {code: self._municipality(code) for code in set(codes)}
            pk_of = {code: muni.pk for code, muni in munis.items() if muni is not None}
            if len(pk_of) < len(munis):  # a row without a RowResult fails: give it one to carry the error
                for i, code in enumerate(codes):
                    if code not in pk_of and i not in results:
                        batch.result(i)
        checked: dict[int, Municipality] = {}
        for i in sorted(results):
            result = results[i]
            muni = self._check_municipality(result) if result.ok else None
            for w in result.warnings:
                self.report.add_warning(w)
            if muni is not None:
                checked[i] = muni
            else:
                self._reject(result)
        if not results and codes is not None:
            return _Accepted(batch, list(range(len(batch))), list(map(pk_of.__getitem__, codes)))
        positions = [i for i in range(len(batch)) if i not in results or i in checked]
        if codes is None:  # no lg_code column: the rows taken are those with a RowResult, all checked
            return _Accepted(batch, positions, [checked[i].pk for i in positions])
        managers = [checked[i].pk if i in results else pk_of[codes[i]] for i in positions]
        return _Accepted(batch, positions, managers)

    def _municipality(self, code: Any) -> Municipality | None:
        """The municipality of a 団体コード if it exists and this user may edit it."""
        muni = self._munis.get(code) if isinstance(code, str) else None
        if muni is None or (self._allowed is not None and code not in self._allowed):
            return None
        return muni

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
    def _existing_facilities(self, manager_id: int,
                             facility_ids: Iterable[str]) -> dict[str, tuple[int, tuple[Any, ...]]]:
        """The stored values (FACILITY_ROW) of these facilities of one manager, by 施設ID (one batch's worth)."""
        pks = self._facility_pks(manager_id, facility_ids)
        found: dict[str, tuple[int, tuple[Any, ...]]] = {}
        for batch in batches(sorted(pks.values())):  # only facilities already in the ledger
            rows = Facility.objects.filter(in_filter(Facility, "id", batch)).order_by().values_list(
                "id", "facility_id", *FACILITY_ROW)
            found.update((r[1], (r[0], tuple(r[2:]))) for r in rows)
        return found

    def _write_facilities(self, rows: _Accepted) -> None:
        """Create or update the facilities by (manager, 施設ID); rows stored with the same values stay as they are."""
        column, blank = rows.column, rows.text
        facility_ids = column("facility_id")
        # FACILITY_ROW, column by column
        values: list[Sequence[Any]] = [
            blank("built_year_raw"), column("name"), list(map(self._sectors.__getitem__, column("sector"))),
            list(map(self._types.__getitem__, column("facility_type"))),
            column("built_year"), column("length_m"), column("width_m"), column("area_m2"), column("lat"),
            column("lon"), blank("route"), blank("address"), blank("structure"), blank("national_id"),
            blank("note"), [a or {} for a in column("attributes")], list(map(bool, column("is_synthetic")))]
        managers = rows.manager_ids
        creates: Sequence[int] = range(len(rows))
        updates: list[tuple[Any, ...]] = []  # (pk, merged FACILITY_ROW, changes)
        unchanged = 0
        if any(self._had_rows_before(m) for m in set(managers)):  # compare with the stored facilities
            existing: dict[tuple[int, str], tuple[int, tuple[Any, ...]]] = {}
            for m in set(managers):
                if self._had_rows_before(m):
                    ids = (f for f, n in zip(facility_ids, managers, strict=True) if n == m)
                    existing.update(((m, f), v) for f, v in self._existing_facilities(m, ids).items())
            compared = _getter([FACILITY_ROW.index(f) for f in self._present if f != "built_year_raw"])
            numbers = rows.numbers()
            creates = []
            for j, row in enumerate(zip(*values, strict=True)):
                current = existing.get((managers[j], facility_ids[j]))
                if current is None:
                    creates.append(j)
                    continue
                pk, stored = current
                if compared(row) == compared(stored):  # the usual case on a re-import: nothing to merge
                    unchanged += 1
                    continue
                merged, changes = self._merge(row, stored, FACILITY_ROW, numbers[j])
                if changes.keys() <= {"built_year_raw"}:
                    unchanged += 1
                else:
                    updates.append((pk, merged, changes))
        created = len(creates)
        self.report.valid += len(rows)
        self.report.created += created
        self.report.updated += len(updates)
        self.report.unchanged += unchanged
        # The pks of created facilities are not kept: an importer reads one kind of ledger, and the
        # inspection and measure importers look facilities up in the database.
        if not self._writing:
            return
        if created:
            if created < len(rows):
                values = [[v[j] for j in creates] for v in values]
                managers, facility_ids = [managers[j] for j in creates], [facility_ids[j] for j in creates]
            self._insert(_FACILITY_INSERT, [self._take(Facility, created), managers, facility_ids, *values],
                         created_at=self._now, updated_at=self._now)
        if updates:
            assert self._update_writer is not None
            pks = [u[0] for u in updates]
            self._update_writer.update([[u[1][i] for u in updates] for i in self._compared] + [pks],
                                       updated_at=self._now)
            copy_to_history(Facility, pks, changes={u[0]: u[2] for u in updates}, **self._history("~"))

    # -- inspections and measures ----------------------------------------------------------------
    def _facility_pks(self, manager_id: int, facility_ids: Iterable[str], *,
                      with_children: set[int] | None = None) -> dict[str, int]:
        """施設ID → pk of these facilities of one manager; `with_children` collects those that have
        inspections (or measures) already, in the same query."""
        qn = connection.ops.quote_name
        meta = Facility._meta
        table, pk = qn(meta.db_table), qn(meta.pk.column)
        children = ""
        if with_children is not None:
            child = (Inspection if self.kind == LedgerKind.INSPECTIONS else Measure)._meta
            children = (f", EXISTS (SELECT 1 FROM {qn(child.db_table)} AS c "
                        f"WHERE c.{qn(child.get_field('facility').column)} = {table}.{pk})")
        found: dict[str, int] = {}
        with connection.cursor() as cursor:
            for batch in batches(sorted(set(facility_ids))):
                where, params = in_sql(qn("facility_id"), batch)
                cursor.execute(f"SELECT {qn('facility_id')}, {pk}{children} FROM {table} "
                               f"WHERE {qn(meta.get_field('manager').column)} = %s AND {where}", [manager_id, *params])
                for row in cursor.fetchall():
                    found[row[0]] = row[1]
                    if with_children is not None and row[2]:
                        with_children.add(row[1])
        return found

    def _all_facility_pks(self, manager_id: int) -> dict[str, int] | None:
        """施設ID → pk of every facility of the manager, read once, if it has at most ALL_PKS_LIMIT of them.

        One query instead of one per batch when a whole ledger's inspections are imported; a larger
        ledger is looked up batch by batch, so that memory does not grow with it.
        """
        if manager_id not in self._all_pks:
            facilities = Facility.objects.filter(manager_id=manager_id).order_by()
            if facilities.count() > ALL_PKS_LIMIT:
                self._all_pks[manager_id] = None
            else:
                self._all_pks[manager_id] = dict(facilities.values_list("facility_id", "id").iterator(chunk_size=10_000))
        return self._all_pks[manager_id]

    def _existing_children(self, facility_pks: Iterable[int]) -> dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]]:
        """The stored inspections (or measures) of these facilities, by natural key (one batch's worth): their
        CHILD_ROW values."""
        model = Inspection if self.kind == LedgerKind.INSPECTIONS else Measure
        names = (*_CHILD_KEY[self.kind], *CHILD_ROW[self.kind])
        found: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = {}
        for batch in batches(sorted(set(facility_pks))):
            qs = model.objects.filter(in_filter(model, "facility", batch)).order_by().values_list("id", *names)
            found.update(((r[1], r[2], r[3]), (r[0], tuple(r[4:]))) for r in qs)
        return found

    def _write_children(self, rows: _Accepted) -> None:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
        """Create or update inspections (or measures) by natural key; unknown facilities are errors."""
        inspections = self.kind == LedgerKind.INSPECTIONS
        column, blank = rows.column, rows.text
        facility_ids, managers = column("facility_id"), rows.manager_ids
        numbers = rows.numbers()
        with_children: set[int] = set()
        found: dict[int, dict[str, int]] = {}
        for m in set(managers):
            if not self._had_rows_before(m) and (everything := self._all_facility_pks(m)) is not None:
                found[m] = everything
            else:
                found[m] = self._facility_pks(m, (f for f, n in zip(facility_ids, managers, strict=True) if n == m),
                                              with_children=with_children if self._had_rows_before(m) else None)
        if len(found) == 1:
            pks: list[int | None] = list(map(next(iter(found.values())).get, facility_ids))
        else:
            pks = [found[m].get(f) for f, m in zip(facility_ids, managers, strict=True)]
        keep = None
        if None in pks:  # in file order: each unknown facility is an error on its row
            keep = [j for j, pk in enumerate(pks) if pk is not None]
            for j in (j for j, pk in enumerate(pks) if pk is None):
                result, muni = rows.result(j), self._munis_by_pk[managers[j]]
                fid = result.record["facility_id"]
                result.errors.append(Issue(
                    result.row, self._headers.get("facility_id", "施設ID"), fid, "unknown_facility",
                    f"施設ID「{fid}」は{muni.name}の施設台帳にありません。先に施設を取り込んでください。",
                    f"Facility '{fid}' is not in the ledger of {muni.name}; import facilities first.",
                ))
                self._reject(result)
        # The natural key, then CHILD_ROW.
        if inspections:
            grades, types = column("grade"), map(self._facility_type, column("lg_code"), facility_ids)
            bands = [band_of(scale_of_type(t), g) for t, g in zip(types, grades, strict=True)]
            columns: list[Sequence[Any]] = [pks, column("inspected_on"), column("kind"), grades,
                                            blank("grade_raw"), bands, column("measured_value"), blank("inspector")]
        else:
            columns = [pks, column("fiscal_year"), column("kind"), column("status"), column("cost_thousand_yen"),
                       blank("note")]
        if keep is not None:
            columns = [[values[j] for j in keep] for values in columns]
            managers = [managers[j] for j in keep]
            numbers = [numbers[j] for j in keep]
        existing = self._existing_children(with_children) if with_children else {}
        layout = CHILD_ROW[self.kind]
        updates: list[tuple[Any, ...]] = []  # (pk, merged CHILD_ROW, changes)
        unchanged = 0
        changed: Sequence[int] = range(len(managers))  # positions of the rows created or updated
        creates: Sequence[int] = changed
        if existing:
            compared = _getter([3 + layout.index(f) for f in self._present if not f.endswith("_raw")])
            stored_compared = _getter([layout.index(f) for f in self._present if not f.endswith("_raw")])
            creates, changed = [], []
            for j, row in enumerate(zip(*columns, strict=True)):
                current = existing.get(row[:3])
                if current is None:
                    creates.append(j)
                elif compared(row) == stored_compared(current[1]):
                    unchanged += 1
                    continue
                else:
                    pk, stored = current
                    merged, changes = self._merge(row[3:], stored, layout, numbers[j])
                    if changes.keys() <= {"grade_raw"}:
                        unchanged += 1
                        continue
                    updates.append((pk, merged, changes))
                changed.append(j)
        # Facilities whose every inspection comes from this file get their latest worked out here.
        first_import = {m: inspections and not self._had_rows_before(m) for m in set(managers)}
        latest_new, touched = self._latest_new, self._touched_facilities
        facility_pks, days = columns[0], columns[1]
        for j in changed:
            pk = facility_pks[j]
            if first_import[managers[j]]:
                mark = (days[j], columns[3][j], columns[5][j])  # (inspected_on, grade, band)
                seen = latest_new.get(pk)
                if seen is None or mark > seen:
                    latest_new[pk] = mark
            else:
                touched.add(pk)
        self.report.valid += len(managers)
        self.report.created += len(creates)
        self.report.updated += len(updates)
        self.report.unchanged += unchanged
        if not self._writing:
            return
        if creates:
            if len(creates) < len(managers):
                columns = [[values[j] for j in creates] for values in columns]
            if not inspections:  # a new measure without a state is 未着手
                columns[3] = [v or NOT_STARTED for v in columns[3]]
            model = Inspection if inspections else Measure
            self._insert(_INSPECTION_INSERT if inspections else _MEASURE_INSERT,
                         [self._take(model, len(creates)), *columns])
        if updates:
            assert self._update_writer is not None
            ids = [u[0] for u in updates]
            self._update_writer.update([[u[1][i] for u in updates] for i in self._compared] + [ids])
            copy_to_history(Inspection if inspections else Measure, ids, changes={u[0]: u[2] for u in updates},
                            **self._history("~"))

    def _insert(self, writer: TableWriter, columns: list[Sequence[Any]], **constants: Any) -> None:
        """Insert new rows, gathered over batches: SQLite inserts a large batch markedly faster (its pages
        stay in the CPU caches). Nothing read later depends on them: the reader has refused duplicates."""
        parts = self._pending.setdefault(writer, (constants, []))[1]
        parts.append(columns)
        self._pending_rows += len(columns[0])
        if self._pending_rows >= INSERT_BATCH:
            self._flush()

    def _take(self, model: type[models.Model], n: int) -> list[int]:
        """Ids for n new rows of `model`; their change records are copied from the rows once inserted."""
        ids = self._ids.take(model, n)
        self._created.setdefault(model, []).extend(ids)
        return ids

    def _flush(self) -> None:
        if self._writing:
            for writer, (constants, parts) in self._pending.items():
                writer.insert([list(chain.from_iterable(column)) for column in zip(*parts, strict=True)],
                              **constants)
            for model, ids in self._created.items():
                copy_to_history(model, ids, **self._history("+"))
        self._pending.clear()
        self._created.clear()
        self._pending_rows = 0

    def _analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the table just filled (part of the transaction).

        Until autovacuum gets round to it the planner believes a freshly filled table is as small as
        before, and an import that follows at once looks rows up by scanning the whole table instead of
        using the index (measured: 9 s instead of 2 s for the facility lookups of 200,000 inspections).
        """
        if connection.vendor != "postgresql":
            return
        model = {LedgerKind.FACILITIES: Facility, LedgerKind.INSPECTIONS: Inspection}.get(self.kind, Measure)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    def _refresh_latest_grades(self) -> None:
        """Facility.latest_grade/latest_inspected_on for every facility this import touched.

        Facilities whose inspections all come from this file get the latest worked out while writing;
        the others through refresh_latest_grades. Neither changes updated_at (like QuerySet.update()).
        """
        if self._latest_new:
            latest = self._latest_new
            _FACILITY_LATEST.update([[grade for _, grade, _ in latest.values()],
                                     [band for _, _, band in latest.values()],
                                     [day for day, _, _ in latest.values()], list(latest)])
        refresh_latest_grades(self._touched_facilities)


def _getter(indexes: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The values at these positions of a row, as a tuple (for comparing rows on some of their fields)."""
    if not indexes:
        return lambda row: ()
    if len(indexes) == 1:
        i = indexes[0]
        return lambda row: (row[i],)
    return itemgetter(*indexes)


def _shown_value(value: Any) -> str:
    """A stored value as a warning shows it."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    return str(value)


class _Accepted:
    """The rows of a batch that passed the reader's and the municipality checks, column by column."""

    def __init__(self, batch: RowBatch, positions: list[int], manager_ids: list[int]) -> None:
        self.batch = batch
        self.positions = positions  # positions in the batch, in file order
        self.manager_ids = manager_ids

    def __len__(self) -> int:
        return len(self.positions)

    def column(self, key: str) -> Sequence[Any]:
        """The values of `key` (None where the record has no such key), one per accepted row."""
        batch = self.batch
        values = batch.column(key)
        if not batch.results:  # then every row is accepted and plain
            return values if values is not None else [None] * len(batch)
        merged = list(values) if values is not None else [None] * len(batch)
        for i, result in batch.results.items():
            merged[i] = result.record.get(key)
        return merged if len(self.positions) == len(batch) else [merged[i] for i in self.positions]

    def text(self, key: str) -> list[str]:
        """A text column as stored: blank rather than None."""
        return [v or "" for v in self.column(key)]

    def result(self, j: int) -> RowResult:
        """The RowResult of accepted row j (made for it if it had none)."""
        return self.batch.result(self.positions[j])

    def numbers(self) -> list[int]:
        """The file row number of each accepted row."""
        numbers = self.batch.numbers
        return numbers if len(self.positions) == len(numbers) else [numbers[i] for i in self.positions]


_FACILITY_NEW = ("id", "manager_id", "facility_id", *FACILITY_ROW)
_FACILITY_INSERT = TableWriter(Facility, _FACILITY_NEW)
_FACILITY_LATEST = TableWriter(Facility, ("latest_grade", "latest_band", "latest_inspected_on"), update=True)
_INSPECTION_NEW = ("id", *_CHILD_KEY[LedgerKind.INSPECTIONS], *CHILD_ROW[LedgerKind.INSPECTIONS])
_INSPECTION_INSERT = TableWriter(Inspection, _INSPECTION_NEW)
_MEASURE_NEW = ("id", *_CHILD_KEY[LedgerKind.MEASURES], *CHILD_ROW[LedgerKind.MEASURES])
_MEASURE_INSERT = TableWriter(Measure, _MEASURE_NEW)
