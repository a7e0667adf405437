"""Fill the ledger from national data: 道路メンテナンス年報 lists and xROAD files (DB side).

The io layer (gunmane.io.national.nenpo, gunmane.io.national.xroad) reads and checks the rows; this module resolves the
managers to local governments, matches rows to facilities already in the ledger, writes facilities and
inspections, and builds the quality report. One transaction covers a whole run (all files): any row error
(unless skip_invalid) or a dry run rolls everything back.

Matching (no identifier in the 年報 lists):

* a 年報 row is the same bridge as a facility of the same manager with the same (name, reading, route,
  construction year) — texts compared after NFKC / kana unification, the originals kept. Exactly one
  candidate that has no row of that list year yet: an *exact* match, the inspection is added to it.
  Two or more candidates: *ambiguous* — never merged; a new facility is made, marked 要確認 with its
  candidates, and listed in the report. None: *unmatched* — a new facility;
* an xROAD record is the facility with its national number (BR0-…), else the one facility of the manager
  with the same (name, route) (reading and construction year break ties); the facility is updated and the
  latest inspection added. Re-importing a file changes nothing (provenance: source, list year, file, row).

Inspections from these sources are known to the fiscal year only and are dated 1 October of it. The rows
are written in bulk (imports.bulk); the ImportRecord of an import is run and kept by imports.records.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from gunmane.engine.calendar import fiscal_year
from gunmane.io.issues import Issue
from gunmane.io.national.common import (
    NON_LG_LABEL,
    ManagerResolver,
    NationalFileError,
    fiscal_year_midpoint_month,
    match_text,
)
from gunmane.io.national.nenpo import NenpoRow, open_nenpo
from gunmane.io.national.xroad import XroadRecord, read_xroad
from gunmane.web.accounts.permissions import editable_municipalities
from gunmane.web.registry.imports.bulk import (
    Progress,
    TableWriter,
    batches,
    bulk_session,
    in_sql,
    refresh_latest_grades,
)
from gunmane.web.registry.models import (
    Facility,
    FacilityType,
    ImportRecord,
    Inspection,
    InspectionKind,
    Measure,
    Municipality,
    MunicipalityKind,
    Prefecture,
    Sector,
    bump_data_version,
)

DEFAULT_DISTANCE_KM = 10.0
PERIODIC = str(InspectionKind.PERIODIC)  # 定期点検: the statutory 5-yearly inspection
MAX_LISTED = 5000  # items per list in the report (counts stay exact)

_FAC_FIELDS = ("manager_id", "facility_id", "name", "name_kana", "sector_id", "facility_type_id", "built_year",
               "built_year_raw", "length_m", "width_m", "lat", "lon", "route", "national_id", "attributes",
               "is_synthetic", "latest_grade", "latest_band", "latest_inspected_on")
_FAC_INSERT = TableWriter(Facility, _FAC_FIELDS)
_UPD_FIELDS = ("name_kana", "built_year", "built_year_raw", "length_m", "width_m", "lat", "lon", "route",
               "national_id", "attributes")
_FAC_UPDATE = TableWriter(Facility, _UPD_FIELDS, update=True)
# National data grades road structures (健全性 Ⅰ〜Ⅳ), whose common band is the grade itself.
_INS_FIELDS = ("facility_id", "inspected_on", "kind", "grade", "band", "grade_raw", "source", "source_fiscal_year",
               "source_file", "source_row")
_INS_INSERT = TableWriter(Inspection, _INS_FIELDS)
_INS_UPDATE = TableWriter(Inspection, ("grade", "band", "grade_raw"), update=True)


@dataclass(frozen=True)
class Scope:
    """Which managers' facilities an import takes: one local government, a prefecture's, or all."""

    kind: str  # municipality | prefecture | all
    lg_code: str = ""
    pref_code: str = ""

    def label(self) -> str:
        return {"municipality": f"団体 {self.lg_code}", "prefecture": f"都道府県 {self.pref_code}"}.get(self.kind, "全国")


def inspection_day(fiscal_year: int) -> date:
    return date(fiscal_year, fiscal_year_midpoint_month, 1)


def _fy(day: date) -> int:
    return fiscal_year(day)


# -- the report ------------------------------------------------------------------------------------------
@dataclass
class QualityReport:
    """What an import of national data did and what looks wrong in the data (CLI JSON, the web page)."""

    source: str
    scope: str = ""
    status: str = "ok"  # ok | invalid | dry_run
    files: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    rows_imported: int = 0
    invalid: int = 0
    facilities_created: int = 0
    facilities_updated: int = 0
    facilities_unchanged: int = 0
    facilities_matched: int = 0
    inspections_created: int = 0
    inspections_updated: int = 0
    inspections_unchanged: int = 0
    inspections_already_recorded: int = 0
    exact: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    ambiguous_rows: list[dict[str, Any]] = field(default_factory=list)
    built_year_unknown: int = 0
    not_inspected: int = 0
    managers_resolved: Counter[str] = field(default_factory=Counter)
    managers_unresolved: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    managers_non_lg: Counter[tuple[str, str]] = field(default_factory=Counter)
    kept_other_managers: bool = False
    distance_km: float = DEFAULT_DISTANCE_KM
    outside: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)  # xROAD facilities left without a position
    improved: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Issue] = field(default_factory=list)
    skipped_total: int = 0
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def skip(self, issue: Issue) -> None:
        self.skipped_total += 1
        self.skipped_by_reason[issue.code] += 1
        if len(self.skipped) < MAX_LISTED:
            self.skipped.append(issue)

    def as_json(self, lang: str = "ja") -> dict[str, Any]:
        considered = self.rows_imported
        return {
            "status": self.status,
            "source": self.source,
            "scope": self.scope,
            "files": self.files,
            "rows": self.rows,
            "rows_imported": self.rows_imported,
            "rows_skipped": self.skipped_total,
            "invalid": self.invalid,
            "facilities": {"created": self.facilities_created, "updated": self.facilities_updated,
                           "unchanged": self.facilities_unchanged, "matched_across_years": self.facilities_matched},
            "inspections": {"created": self.inspections_created, "updated": self.inspections_updated,
                            "unchanged": self.inspections_unchanged,
                            "already_recorded": self.inspections_already_recorded},
            "matching": {"exact": self.exact, "ambiguous": self.ambiguous, "unmatched": self.unmatched,
                         "ambiguous_rows": self.ambiguous_rows},
            "built_year_unknown": {"count": self.built_year_unknown,
                                   "share": round(self.built_year_unknown / considered, 4) if considered else None},
            "not_inspected": self.not_inspected,
            "managers": {
                "resolved": len(self.managers_resolved),
                "unresolved": [{"name": n, "prefecture": p, "status": s, "rows": c}
                               for (n, p, s), c in self.managers_unresolved.most_common()],
                "unresolved_rows": sum(self.managers_unresolved.values()),
                "non_lg": [{"name": n, "category": cat, "category_label": NON_LG_LABEL.get(cat, cat), "rows": c,
                            "kept": self.kept_other_managers}
                           for (n, cat), c in self.managers_non_lg.most_common()],
                "non_lg_rows": sum(self.managers_non_lg.values()),
            },
            "coordinates_outside": {"threshold_km": self.distance_km, "count": len(self.outside),
                                    "items": self.outside[:MAX_LISTED]},
            # 年報 lists carry no position: only an xROAD import is checked for facilities without one.
            "coordinates_missing": {"checked": self.source == "xroad", "count": len(self.missing),
                                    "items": self.missing[:MAX_LISTED]},
            "grade_improved_without_measure": {"count": len(self.improved), "items": self.improved[:MAX_LISTED]},
            "skipped": {"total": self.skipped_total, "by_reason": dict(self.skipped_by_reason),
                        "rows": [s.as_dict(lang) for s in self.skipped]},
            "errors": [e.as_dict(lang) for e in self.errors[:MAX_LISTED]],
            "errors_total": len(self.errors),
            "warnings": [w.as_dict(lang) for w in self.warnings[:MAX_LISTED]],
        }

    # The counts an ImportRecord keeps.
    @property
    def created(self) -> int:
        return self.facilities_created + self.inspections_created

    @property
    def updated(self) -> int:
        return self.facilities_updated + self.inspections_updated

    def record_fields(self) -> dict[str, Any]:
        """What the ImportRecord keeps of this report (imports.records.save_report): the whole report as
        `quality`, the counts and the first errors and warnings as a ledger import keeps them."""
        return {
            "rows": self.rows, "valid": self.rows - self.invalid, "invalid": self.invalid,
            "created": self.created, "updated": self.updated,
            "unchanged": self.facilities_unchanged + self.inspections_unchanged,
            "encoding": "xlsx" if self.source == "nenpo" else "utf-8",
            "errors": [e.as_dict() for e in self.errors[:MAX_LISTED]],
            "warnings": [w.as_dict() for w in self.warnings[:MAX_LISTED]],
            "errors_truncated": len(self.errors) > MAX_LISTED,
            "quality": self.as_json(),
        }


# -- facilities in memory while matching -----------------------------------------------------------------
@dataclass(slots=True, eq=False)  # compared by identity
class _Fac:
    pk: int | None
    manager_id: int
    facility_id: str
    key: tuple[str, str, str, int | None]  # name, reading, route, built year (matching texts)
    years: dict[int, tuple[int | None, int, str]]  # fiscal year → (inspection pk, grade, source) of any inspection
    nenpo: dict[int, tuple[str, int]]  # list year → (file, row) of the 年報 rows matched to it
    values: dict[str, Any] = field(default_factory=dict)  # columns to insert (new) or update (existing)
    changed: bool = False
    inspections: list[tuple[int, int, str, str, str, int]] = field(default_factory=list)
    # (fiscal year, grade, grade_raw, source, file, row)
    grade_updates: list[tuple[int, int, str]] = field(default_factory=list)  # (inspection pk, grade, raw)


class NationalImporter:
    def __init__(self, source: str, paths: Sequence[Path], *, scope: Scope, fiscal_year: int | None = None,
                 dry_run: bool = False, skip_invalid: bool = False, keep_other_managers: bool = False,
                 user: User | None = None, display_names: Sequence[str] | None = None,
                 today: date | None = None, progress: Progress | None = None,
                 distance_km: float = DEFAULT_DISTANCE_KM) -> None:
        if source not in ("nenpo", "xroad"):
            raise ValueError(source)
        self.source = source
        self.paths = [Path(p) for p in paths]
        self.display_names: list[str | None] = list(display_names) if display_names else [None] * len(self.paths)
        self.scope = scope
        self.fiscal_year = fiscal_year
        self.dry_run = dry_run
        self.skip_invalid = skip_invalid
        self.keep_other = keep_other_managers
        self.user = user
        self.today = today or timezone.localdate()
        self.progress = progress
        self.report = QualityReport(source, scope.label(), kept_other_managers=keep_other_managers,
                                    distance_km=distance_km)
        self.resolver = ManagerResolver()
        self._facs: dict[int, dict[tuple[str, str, str, int | None], list[_Fac]]] = {}
        self._by_name_route: dict[int, dict[tuple[str, str], list[_Fac]]] = {}
        self._ids: dict[int, set[str]] = {}
        self._all: list[_Fac] = []
        self._by_national: dict[str, _Fac] = {}
        self._by_fid: dict[tuple[int, str], _Fac] = {}
        self._others: dict[str, Municipality] = {}
        self._seen: set[int] = set()
        self._with_facilities: set[int] | None = None
        self._stored_pks: set[int] = set()
        self._origin: dict[int, tuple[str, int]] = {}  # id(_Fac) → (file, row) of its last xROAD record
        self._file_failed = False

    @classmethod
    def for_record(cls, record: ImportRecord, progress: Progress | None = None, *,
                   fiscal_year: int | None = None) -> NationalImporter:
        """The import of a pending ImportRecord uploaded through the web: its kept file, for its municipality
        (an imports.records.Build once fiscal_year is given)."""
        muni = record.municipality
        scope = Scope("municipality", lg_code=muni.lg_code) if muni is not None else Scope("all")
        return cls(record.kind, [Path(record.file.path)], scope=scope, fiscal_year=fiscal_year,
                   dry_run=record.dry_run, skip_invalid=record.skip_invalid, user=record.user,
                   display_names=[record.original_name], progress=progress)

    # -- public ------------------------------------------------------------------------------------------
    def run(self) -> QualityReport:
        r = self.report
        opened = self._open_all()
        if r.errors and not opened:
            r.status = "invalid"
            return r
        self._munis = {m.lg_code: m for m in Municipality.objects.select_related("prefecture")}
        self._munis_by_pk = {m.pk: m for m in self._munis.values()}
        self._allowed = (set(editable_municipalities(self.user).values_list("lg_code", flat=True))
                         if self.user is not None else None)
        self._sector = Sector.objects.get(code="road").pk
        self._bridge = FacilityType.objects.get(code="bridge").pk
        total = sum(int(o[2]) for o in opened)
        with bulk_session(), transaction.atomic():
            for item in opened:
                if self.source == "nenpo":
                    self._nenpo_file(item[0], total)
                else:
                    self._xroad_file(item[0], total)
            # A file that cannot be read fails the import even with skip_invalid: a whole list would be missing.
            failed = (bool(r.errors) and not self.skip_invalid) or self._file_failed
            if not failed:
                touched = self._write()
                self._quality(touched)
                if (r.created or r.updated) and not self.dry_run:
                    bump_data_version()
            if failed or self.dry_run:
                transaction.set_rollback(True)
        if self.progress:
            self.progress(r.rows, r.rows)
        r.status = ("invalid" if (r.errors and not self.skip_invalid) or self._file_failed
                    else "dry_run" if self.dry_run else "ok")
        if r.status == "invalid":
            r.facilities_created = r.facilities_updated = r.inspections_created = r.inspections_updated = 0
        return r

    # -- reading -----------------------------------------------------------------------------------------
    def _open_all(self) -> list[tuple[Any, int, int]]:
        """Open every file (file errors reported); 年報 lists in fiscal-year order, so histories build forwards."""
        opened: list[tuple[Any, int, int]] = []
        for path, shown in zip(self.paths, self.display_names, strict=True):
            try:
                if self.source == "nenpo":
                    f = open_nenpo(path, fiscal_year=self.fiscal_year, display_name=shown)
                    self.report.warnings.extend(f.warnings)
                    opened.append((f, f.fiscal_year, f.rows_estimate))
                else:
                    x = read_xroad(path, display_name=shown, today=self.today)
                    opened.append((x, 0, x.rows))
            except NationalFileError as exc:
                self.report.errors.append(exc.issue)
                self._file_failed = True
        if self.source == "nenpo" and len(opened) > 1:
            for o in opened:  # several lists: do not hold every workbook's shared strings at once
                o[0].close()
        opened.sort(key=lambda o: o[1])
        return opened

    def _tick(self, total: int) -> None:
        if self.progress:
            self.progress(self.report.rows, max(total, self.report.rows))

    # -- managers ----------------------------------------------------------------------------------------
    def _in_scope(self, muni: Municipality, where_pref: str) -> bool:
        s = self.scope
        if s.kind == "municipality":
            return muni.lg_code == s.lg_code
        if s.kind == "prefecture":
            if muni.kind == MunicipalityKind.OTHER:
                return where_pref == s.pref_code
            return muni.prefecture.code == s.pref_code
        return True

    def _other_manager(self, name: str, code: str, pref_code: str) -> Municipality:
        """The manager record of a non-LG road manager (made on first use, kept under kind 'other')."""
        key = code or match_text(name)
        if key in self._others:
            return self._others[key]
        existing = Municipality.objects.filter(kind=MunicipalityKind.OTHER, name=name[:40]).first()
        if existing is None and code:
            existing = Municipality.objects.filter(kind=MunicipalityKind.OTHER, lg_code=code).first()
        if existing is None:
            taken = set(Municipality.objects.values_list("lg_code", flat=True))
            n = Municipality.objects.filter(kind=MunicipalityKind.OTHER).count() + 1
            while f"X{n:05d}" in taken:
                n += 1
            lg = code if code and code not in taken else f"X{n:05d}"
            code5s = set(Municipality.objects.values_list("code5", flat=True))
            code5 = f"X{n:04d}"
            while code5 in code5s:
                n += 1
                code5 = f"X{n:04d}"
            pref = Prefecture.objects.filter(code=pref_code).first() or Prefecture.objects.order_by("code").first()
            if pref is None:
                raise ValueError("都道府県がひとつも登録されていません。")
            existing = Municipality.objects.create(lg_code=lg, code5=code5, prefecture=pref, name=name[:40],
                                                   kind=MunicipalityKind.OTHER)
            self._munis[existing.lg_code] = existing
            self._munis_by_pk[existing.pk] = existing
        self._others[key] = existing
        return existing

    def _manager(self, file: str, row: int, column: str, name: str, pref_name: str, code: str = "",
                 kubun: str = "") -> Municipality | None:
        """The manager of a row, or None (the row is skipped with its reason in the report)."""
        r = self.report
        muni: Municipality | None = None
        pref_code = self.resolver.prefecture_code(pref_name) or ""
        if code and code in self._munis and self._munis[code].kind != MunicipalityKind.OTHER:
            muni = self._munis[code]
        else:
            res = self.resolver.resolve(name, pref_name)
            if res.lg_code and not (code and kubun in ("1", "3", "6")):
                muni = self._munis.get(res.lg_code)
            elif res.status == "non_lg" or kubun in ("1", "3", "6"):
                category = res.category or {"1": "national", "3": "corporation", "6": "expressway"}.get(kubun, "")
                r.managers_non_lg[(name, category)] += 1
                if not self.keep_other:
                    r.skip(Issue(row, column, name, "non_lg_manager",
                                 f"管理者「{name}」は地方公共団体ではない道路管理者（{NON_LG_LABEL.get(category, category)}）"
                                 "のため取り込みませんでした（--keep-other-managers で取り込めます）",
                                 f"Manager {name} is not a local government ({category}); not imported "
                                 "(use --keep-other-managers).", file=file))
                    return None
                muni = self._other_manager(name, code, pref_code)
            else:
                r.managers_unresolved[(name, pref_name, res.status)] += 1
                why = (f"「{pref_name}」にも全国にも同名の団体がありません" if res.status == "unresolved"
                       else f"同名の団体が複数あります（{'・'.join(res.candidates)}）")
                r.skip(Issue(row, column, name, "manager_unresolved",
                             f"管理者「{name}」を団体コードに対応づけられません（{why}）。参照データの団体名と"
                             "照らし合わせてください",
                             f"Manager {name} cannot be matched to a local government code.", file=file))
                return None
        if muni is None:
            r.managers_unresolved[(name, pref_name, "unknown_code")] += 1
            r.skip(Issue(row, column, code or name, "manager_unresolved",
                         f"管理者コード「{code}」「{name}」の団体が参照データにありません",
                         f"No local government with code {code} ({name}).", file=file))
            return None
        if not self._in_scope(muni, pref_code):
            r.skip(Issue(row, column, name, "out_of_scope",
                         f"管理者「{muni.name}」は取り込み範囲（{self.scope.label()}）外のため取り込みませんでした",
                         f"Manager {muni.name} is outside the scope ({self.scope.label()}).", file=file))
            return None
        if self._allowed is not None and muni.lg_code not in self._allowed:
            r.skip(Issue(row, column, name, "no_permission",
                         f"{muni.name}の施設台帳を編集する権限がないため取り込みませんでした",
                         f"You may not edit the ledger of {muni.name}.", file=file))
            return None
        if muni.kind != MunicipalityKind.OTHER:
            r.managers_resolved[muni.lg_code] += 1
        return muni

    # -- facilities already in the ledger ----------------------------------------------------------------
    def _load(self, manager_id: int) -> None:
        """Every facility of a manager, with the fiscal years of its inspections and its 年報 provenance."""
        if manager_id in self._facs:
            return
        if self._with_facilities is None:  # one query tells which managers have any facility at all
            self._with_facilities = set(Facility.objects.order_by().values_list("manager_id", flat=True).distinct())
        by_key: dict[tuple[str, str, str, int | None], list[_Fac]] = defaultdict(list)
        by_nr: dict[tuple[str, str], list[_Fac]] = defaultdict(list)
        ids: set[str] = set()
        facs: dict[int, _Fac] = {}
        if manager_id not in self._with_facilities:
            self._facs[manager_id], self._by_name_route[manager_id], self._ids[manager_id] = by_key, by_nr, ids
            return
        rows = Facility.objects.filter(manager_id=manager_id).order_by("pk").values_list(
            "pk", "facility_id", "name", "name_kana", "route", "built_year", "national_id")
        for pk, fid, name, kana, route, built, national in rows.iterator(chunk_size=10_000):
            f = _Fac(pk, manager_id, fid, (match_text(name), match_text(kana), match_text(route), built), {}, {})
            facs[pk] = f
            ids.add(fid)
            self._by_fid[(manager_id, fid)] = f
            by_key[f.key].append(f)
            by_nr[(f.key[0], f.key[2])].append(f)
            if national:
                self._by_national[national] = f
        if facs:
            ins = Inspection.objects.filter(facility__manager_id=manager_id).order_by("inspected_on").values_list(
                "facility_id", "inspected_on", "source", "source_fiscal_year", "source_file", "source_row", "pk",
                "grade")
            for fpk, day, source, sfy, sfile, srow, ipk, grade in ins.iterator(chunk_size=10_000):
                f = facs[fpk]
                f.years.setdefault(_fy(day), (ipk, grade, source))
                if source == "nenpo" and sfy is not None:
                    f.nenpo[sfy] = (sfile, srow or 0)
        self._facs[manager_id] = by_key
        self._by_name_route[manager_id] = by_nr
        self._ids[manager_id] = ids

    def _new_fac(self, manager_id: int, stem: str, key: tuple[str, str, str, int | None],
                 values: dict[str, Any]) -> _Fac:
        ids = self._ids[manager_id]
        fid, n = stem[:64], 2
        while fid in ids:
            fid = f"{stem[:60]}-{n}"
            n += 1
        ids.add(fid)
        f = _Fac(None, manager_id, fid, key, {}, {}, values, True)
        self._by_fid[(manager_id, fid)] = f
        self._facs[manager_id][key].append(f)
        self._by_name_route[manager_id][(key[0], key[2])].append(f)
        self._all.append(f)
        self.report.facilities_created += 1
        return f

    def _touch(self, f: _Fac) -> None:
        """Remember an existing facility this import reads or writes (new ones are in _all already)."""
        if f.pk is not None and id(f) not in self._seen:
            self._seen.add(id(f))
            self._stored_pks.add(f.pk)
            self._all.append(f)

    # -- 年報 ----------------------------------------------------------------------------------------------
    def _nenpo_file(self, nf: Any, total: int) -> None:
        r = self.report
        info = {"file": nf.display_name, "fiscal_year": nf.fiscal_year, "list_kind": nf.list_kind, "sheet": nf.sheet,
                "rows": 0}
        r.files.append(info)
        column = nf.header_of("manager")
        try:
            for i, (row, issues) in enumerate(nf.rows(), start=1):
                r.rows += 1
                info["rows"] += 1
                if i % 5000 == 0:
                    self._tick(total)
                if row is None:
                    r.invalid += 1
                    r.errors.extend(issues)
                    continue
                muni = self._manager(row.file, row.row, column, row.manager, row.prefecture)
                if muni is None:
                    continue
                self._nenpo_row(row, muni, nf.synthetic)
        except NationalFileError as exc:  # a limit reached deep in the file: the whole import is refused
            r.errors.append(exc.issue)
            self._file_failed = True

    def _nenpo_row(self, row: NenpoRow, muni: Municipality, synthetic: bool) -> None:
        r = self.report
        self._load(muni.pk)
        r.rows_imported += 1
        if row.built_year is None:
            r.built_year_unknown += 1
        key = (match_text(row.name or row.reading), match_text(row.reading), match_text(row.route), row.built_year)
        y = row.inspection_year
        cands = self._facs[muni.pk].get(key, [])
        # This very row imported before (by list year and row: the file may have been renamed since).
        same = [c for c in cands if c.nenpo.get(row.fiscal_year, ("", -1))[1] == row.row]
        if same:
            f = same[0]
            self._nenpo_inspection(f, row, y)
            return
        free = [c for c in cands if row.fiscal_year not in c.nenpo]
        if len(cands) == 1 and len(free) == 1:
            f = free[0]
            r.exact += 1
            r.facilities_matched += 1
        else:
            stem = f"NP{row.fiscal_year}-{row.list_kind or '00'}-{row.row:06d}"
            attrs: dict[str, Any] = {}  # the row's provenance is on its inspection (source, year, file, row)
            if free:
                r.ambiguous += 1
                ids = [c.facility_id for c in free]
                attrs["照合"] = f"要確認（同じ名称・よみ・路線・架設年度の候補 {len(free)} 件: {'、'.join(ids)}）"
                if len(r.ambiguous_rows) < MAX_LISTED:
                    r.ambiguous_rows.append({"file": row.file, "row": row.row, "fiscal_year": row.fiscal_year,
                                             "manager": muni.name, "name": row.name, "reading": row.reading,
                                             "route": row.route, "candidates": ids})
            else:
                r.unmatched += 1
            attrs.update(row.extra)
            f = self._new_fac(muni.pk, stem, key, {
                "name": row.name or row.reading, "name_kana": row.reading, "built_year": row.built_year,
                "built_year_raw": row.built_year_raw, "length_m": row.length_m, "width_m": row.width_m, "lat": None,
                "lon": None, "route": row.route, "national_id": "", "attributes": attrs, "is_synthetic": synthetic})
        f.nenpo[row.fiscal_year] = (row.file, row.row)
        self._nenpo_inspection(f, row, y)

    def _nenpo_inspection(self, f: _Fac, row: NenpoRow, y: int) -> None:
        self._add_inspection(f, y, row.grade, row.grade_raw, "nenpo", row.file, row.row)

    def _add_inspection(self, f: _Fac, y: int, grade: int, raw: str, source: str, file: str, row: int) -> None:
        """Add the inspection of fiscal year y unless one is stored: then the same grade is unchanged, another
        grade from the same source is updated, one from another source (the ledger, xROAD) is kept."""
        r = self.report
        self._touch(f)
        stored = f.years.get(y)
        if stored is None:
            f.years[y] = (None, grade, source)
            f.inspections.append((y, grade, raw, source, file, row))
            r.inspections_created += 1
            return
        pk, g, src = stored
        if g == grade:
            r.inspections_unchanged += 1
        elif src == source and pk is not None:
            f.grade_updates.append((pk, grade, raw))
            f.years[y] = (pk, grade, source)
            r.inspections_updated += 1
        else:
            r.inspections_already_recorded += 1

    # -- xROAD --------------------------------------------------------------------------------------------
    def _xroad_file(self, xf: Any, total: int) -> None:
        r = self.report
        r.files.append({"file": xf.display_name, "format": xf.file_format, "rows": xf.rows, "count": xf.count,
                        "retrieved_at": xf.retrieved_at})
        r.rows += xf.rows
        r.errors.extend(xf.errors)
        r.invalid += len({(e.file, e.row) for e in xf.errors})
        r.warnings.extend(xf.warnings)
        for i, rec in enumerate(xf.records, start=1):
            if i % 5000 == 0:
                self._tick(total)
            muni = self._manager(rec.file, rec.row, "kanrisya_code", rec.manager_name, rec.pref_name,
                                 rec.manager_code, rec.manager_kubun)
            if muni is None:
                continue
            self._xroad_record(rec, muni, xf.synthetic)

    def _xroad_record(self, rec: XroadRecord, muni: Municipality, synthetic: bool) -> None:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
        r = self.report
        self._load(muni.pk)
        r.rows_imported += 1
        if rec.built_year is None:
            r.built_year_unknown += 1
        key = (match_text(rec.name or rec.reading), match_text(rec.reading), match_text(rec.route), rec.built_year)
        f = self._by_national.get(rec.national_id) if rec.national_id else None
        if f is not None and f.manager_id != muni.pk:
            f = None
        if f is None and rec.shisetsu_id:  # made from an earlier xROAD file: its 施設ID is XR-<shisetsu_id>
            f = self._by_fid.get((muni.pk, f"XR-{rec.shisetsu_id}"))
        ambiguous = False
        if f is None:
            cands = self._by_name_route[muni.pk].get((key[0], key[2]), [])
            if len(cands) > 1:
                cands = [c for c in cands if c.key == key] or cands
            ambiguous = len(cands) > 1
            if len(cands) == 1:
                f = cands[0]
            elif ambiguous:
                r.ambiguous += 1
                ids = [c.facility_id for c in cands]
                if len(r.ambiguous_rows) < MAX_LISTED:
                    r.ambiguous_rows.append({"file": rec.file, "row": rec.row, "manager": muni.name, "name": rec.name,
                                             "reading": rec.reading, "route": rec.route, "candidates": ids})
        attrs = {k: v for k, v in rec.extra.items() if v}
        attrs["xroad.koushin_nichiji"] = rec.updated_at
        if rec.city_name:
            attrs["所在市区町村"] = f"{rec.pref_name}{rec.city_name}"
        if rec.structure:
            attrs["上部構造形式コード"] = rec.structure
        values = {"name_kana": rec.reading, "built_year": rec.built_year, "built_year_raw": rec.built_year_raw,
                  "length_m": rec.length_m, "width_m": rec.width_m, "lat": rec.lat, "lon": rec.lon,
                  "route": rec.route, "national_id": rec.national_id, "attributes": attrs}
        if f is None:
            if ambiguous:
                attrs["照合"] = f"要確認（同じ管理者・施設名・路線名の候補 {len(cands)} 件: {'、'.join(ids)}）"
            else:
                r.unmatched += 1
            stem = rec.national_id or f"XR-{rec.shisetsu_id or rec.row}"
            f = self._new_fac(muni.pk, stem, key, {"name": rec.name or rec.reading, "is_synthetic": synthetic, **values})
            if rec.national_id:
                self._by_national[rec.national_id] = f
        else:
            if f.pk is not None:
                r.exact += 1
                r.facilities_matched += 1
            self._xroad_update(f, values)
        self._origin[id(f)] = (rec.file, rec.row)
        if rec.inspection_year is None or rec.grade is None:
            r.not_inspected += 1
            return
        self._add_inspection(f, rec.inspection_year, rec.grade, rec.grade_raw, "xroad", rec.file, rec.row)

    def _xroad_update(self, f: _Fac, values: dict[str, Any]) -> None:
        """Newer xROAD values over the stored ones; unknown (None/blank) never overwrites a known value."""
        if f.pk is None:
            for k, v in values.items():
                if k == "attributes":
                    f.values["attributes"] = {**f.values.get("attributes", {}), **v}
                elif v not in (None, ""):
                    f.values[k] = v
            return
        if not f.values:
            stored = Facility.objects.filter(pk=f.pk).values(*_UPD_FIELDS).get()
            f.values = stored
        new = dict(f.values)
        for k, v in values.items():
            if k == "attributes":
                new["attributes"] = {**(new.get("attributes") or {}), **v}
            elif v not in (None, "") and not (k in ("national_id", "name_kana") and new.get(k)):
                new[k] = v
        if new != f.values:
            if not f.changed:
                self.report.facilities_updated += 1
            self._touch(f)
            f.values = new
            f.changed = True
        elif not f.changed:
            self.report.facilities_unchanged += 1
            self._touch(f)

    # -- writing --------------------------------------------------------------------------------------------
    def _write(self) -> list[int]:
        """Insert the new facilities, update the changed ones, add the inspections; the pks touched."""
        now = timezone.now()
        new = [f for f in self._all if f.pk is None]
        cols: list[list[Any]] = [[] for _ in _FAC_FIELDS]
        for f in new:
            v = f.values
            # Every inspection of a new facility comes from this import: its latest is known here (the worse
            # grade on the same day, as the ledger importer does).
            latest = max(((inspection_day(i[0]), i[1]) for i in f.inspections), default=(None, None))
            row = (f.manager_id, f.facility_id, v.get("name", "")[:200], v.get("name_kana", "")[:200], self._sector,
                   self._bridge, v.get("built_year"), v.get("built_year_raw", "")[:40], v.get("length_m"),
                   v.get("width_m"), v.get("lat"), v.get("lon"), v.get("route", "")[:200], v.get("national_id", "")[:40],
                   v.get("attributes") or {}, bool(v.get("is_synthetic")), latest[1], latest[1], latest[0])
            for c, x in zip(cols, row, strict=True):
                c.append(x)
        for start in range(0, len(new), 20_000):
            _FAC_INSERT.insert([c[start:start + 20_000] for c in cols], created_at=now, updated_at=now)
        self._fetch_pks(new)
        created = {id(f) for f in new}
        changed = [f for f in self._all if f.changed and f.pk is not None and id(f) not in created]
        for f in changed:
            for k, n in (("name_kana", 200), ("built_year_raw", 40), ("route", 200), ("national_id", 40)):
                if isinstance(f.values.get(k), str):
                    f.values[k] = f.values[k][:n]
        if changed:
            _FAC_UPDATE.update([[f.values.get(k) if k != "attributes" else (f.values.get(k) or {})
                                 for f in changed] for k in _UPD_FIELDS] + [[f.pk for f in changed]],
                               updated_at=now)
        icols: list[list[Any]] = [[] for _ in _INS_FIELDS]
        for f in self._all:
            for y, grade, raw, source, file, line in f.inspections:
                for c, x in zip(icols, (f.pk, inspection_day(y), PERIODIC, grade, grade, raw[:40], source, y, file[:255],
                                        line), strict=True):
                    c.append(x)
        for start in range(0, len(icols[0]), 20_000):
            _INS_INSERT.insert([c[start:start + 20_000] for c in icols], inspector="")
        updates = [u for f in self._all for u in f.grade_updates]
        if updates:
            _INS_UPDATE.update([[u[1] for u in updates], [u[1] for u in updates], [u[2] for u in updates],
                                [u[0] for u in updates]])
        touched = sorted({f.pk for f in self._all if f.pk is not None})
        refresh_latest_grades(f.pk for f in self._all
                              if f.pk is not None and id(f) not in created and (f.inspections or f.grade_updates))
        return touched

    def _fetch_pks(self, new: list[_Fac]) -> None:
        by_manager: dict[int, dict[str, _Fac]] = defaultdict(dict)
        for f in new:
            by_manager[f.manager_id][f.facility_id] = f
        qn = connection.ops.quote_name
        table = qn(Facility._meta.db_table)
        with connection.cursor() as cursor:
            for manager_id, facs in by_manager.items():
                for batch in batches(sorted(facs)):
                    where, params = in_sql(qn("facility_id"), batch)
                    cursor.execute(f"SELECT {qn('facility_id')}, {qn('id')} FROM {table} "
                                   f"WHERE {qn('manager_id')} = %s AND {where}", [manager_id, *params])
                    for fid, pk in cursor.fetchall():
                        facs[fid].pk = pk

    # -- quality checks ---------------------------------------------------------------------------------------
    def _quality(self, touched: list[int]) -> None:
        """Locations far from the manager, and grade improvements with no measure between: over the facilities
        this import touched that can have them (a position; two inspections or more)."""
        r = self.report
        if self.source == "xroad":
            self._missing_positions()
        located = [f.pk for f in self._all if f.pk is not None and (f.pk in self._stored_pks or f.values.get("lat"))]
        histories = [f.pk for f in self._all if f.pk is not None and len(f.years) >= 2]
        if not located and not histories:
            return
        facs: dict[int, tuple[Any, ...]] = {}
        for batch in batches(sorted(set(located) | set(histories))):
            for row in Facility.objects.filter(pk__in=batch).values_list(
                    "pk", "facility_id", "name", "manager_id", "lat", "lon"):
                facs[row[0]] = row
        # Coordinates far outside the manager's area: farther from its office than the radius of a circle of
        # its area (times 1.5 for elongated shapes) plus the set distance.
        for pk in located:
            _, fid, name, manager_id, lat, lon = facs[pk]
            m = self._munis_by_pk.get(manager_id)
            if lat is None or lon is None or m is None or m.office_lat is None or m.office_lon is None:
                continue
            radius = 1.5 * math.sqrt((m.area_km2 or 0) / math.pi)
            d = _haversine_km(lat, lon, m.office_lat, m.office_lon)
            if d > radius + r.distance_km:
                r.outside.append({"facility_id": fid, "name": name, "manager": m.name, "lg_code": m.lg_code,
                                  "lat": lat, "lon": lon, "distance_km": round(d, 1),
                                  "allowed_km": round(radius + r.distance_km, 1)})
        # Grade improvements with no measure recorded between the two inspections.
        history: dict[int, list[tuple[date, int]]] = defaultdict(list)
        measures: dict[int, list[int]] = defaultdict(list)
        for batch in batches(sorted(histories)):
            for fpk, day, grade in Inspection.objects.filter(facility_id__in=batch).order_by(
                    "facility_id", "inspected_on").values_list("facility_id", "inspected_on", "grade"):
                history[fpk].append((day, grade))
            for fpk, fy in Measure.objects.filter(facility_id__in=batch).values_list("facility_id", "fiscal_year"):
                measures[fpk].append(fy)
        for fpk, h in history.items():
            for (d1, g1), (d2, g2) in zip(h, h[1:], strict=False):
                if g2 < g1 and not any(_fy(d1) <= y <= _fy(d2) for y in measures.get(fpk, ())):
                    _, fid, name, manager_id, _, _ = facs[fpk]
                    m = self._munis_by_pk.get(manager_id)
                    r.improved.append({"facility_id": fid, "name": name, "manager": m.name if m else "",
                                       "lg_code": m.lg_code if m else "",
                                       "before": {"fiscal_year": _fy(d1), "grade": g1},
                                       "after": {"fiscal_year": _fy(d2), "grade": g2}})


    def _missing_positions(self) -> None:
        """The facilities of this xROAD import that have no position after it (none in the file, none stored, or
        one that could not be read — its warning names the cell): the map, routing and lots cannot place them."""
        facs = {f.pk: f for f in self._all if f.pk is not None and id(f) in self._origin}
        for batch in batches(sorted(facs)):
            for pk, fid, name, manager_id in Facility.objects.filter(
                    pk__in=batch).filter(Q(lat__isnull=True) | Q(lon__isnull=True)).order_by("pk").values_list(
                    "pk", "facility_id", "name", "manager_id"):
                m = self._munis_by_pk.get(manager_id)
                file, row = self._origin[id(facs[pk])]
                self.report.missing.append({"facility_id": fid, "name": name, "manager": m.name if m else "",
                                            "lg_code": m.lg_code if m else "", "file": file, "row": row})


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))
