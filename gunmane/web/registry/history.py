"""The ledger's change history (変更履歴): what changed, undoing an import, deleting and restoring a facility.

Every create, change and delete of a facility, inspection or measure has a change record (a
django-simple-history row): who, when, which import (ChangeRecordBase.import_record) or which page
(history_change_reason holds the path), the row after the change and, for a change, each field before
and after (ChangeRecordBase.changes). Imports write theirs in bulk (registry.imports.bulk); single saves and
deletes get theirs from simple-history's signals (completed in registry.models).

Undoing an import puts back every value it changed and removes what it created, and is itself recorded;
it is refused, with the reason, when something done after the import touched the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.utils import timezone

from gunmane.io.ledger.grades import grade_long, scale_by_id
from gunmane.web.registry.imports import bulk
from gunmane.web.registry.models import (
    REASON_DELETE,
    REASON_IMPORT,
    REASON_RESTORE,
    REASON_UNDO,
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

HistoricalFacility: Any = Facility.history.model
HistoricalInspection: Any = Inspection.history.model
HistoricalMeasure: Any = Measure.history.model
MODEL_OF_KIND: dict[str, type[models.Model]] = {"facilities": Facility, "inspections": Inspection, "measures": Measure}
MODEL_LABEL = {Facility: "施設", Inspection: "点検", Measure: "措置"}
TYPE_LABEL = {"+": "登録", "~": "変更", "-": "削除"}
REASON_LABEL = {REASON_IMPORT: "取り込み", REASON_UNDO: "取り込みの取り消し", REASON_DELETE: "施設の削除",
                REASON_RESTORE: "削除した施設を元に戻す"}
# Conflicting later changes named in a refusal (the rest are counted).
SHOWN_CONFLICTS = 10


def history_model(model: type[models.Model]) -> Any:
    return model.history.model  # type: ignore[attr-defined]  # simple-history adds the manager at run time


def tracked(model: type[models.Model]) -> list[str]:
    """The attnames a change record of `model` keeps."""
    return [f.attname for f in history_model(model).tracked_fields]


# -- showing changes ---------------------------------------------------------------------------------
@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class ChangeEntry:
    """One change record as the pages show it."""

    when: datetime
    who: str
    action: str  # 登録・変更・削除
    what: str  # 施設・点検・措置
    target: str  # which facility / inspection / measure
    source: str  # 取り込み・画面 …
    import_record_id: int | None
    fields: list[FieldChange] = field(default_factory=list)
    history_id: int = 0
    restorable: bool = False


class _Names:
    """Names of the ids a change record holds (分野, 施設種別, facilities), looked up once per page."""

    def __init__(self) -> None:
        self.sectors = dict(Sector.objects.values_list("id", "name"))
        self.types = dict(FacilityType.objects.values_list("id", "name"))
        self.facilities: dict[int, str] = {}
        self.scales: dict[int, str] = {}  # facility pk → its type's scale id (an inspection's grade is on it)

    def load_facilities(self, pks: Iterable[int]) -> None:
        wanted = set(pks) - self.facilities.keys()
        if not wanted:
            return
        for pk, fid, name, sid in Facility.objects.filter(pk__in=wanted).values_list(
                "id", "facility_id", "name", "facility_type__health_scale"):
            self.facilities[pk] = f"{name}（{fid}）"
            self.scales[pk] = sid
        gone = wanted - self.facilities.keys()
        if gone:  # deleted since: the name it had
            for pk, fid, name in (HistoricalFacility.objects.filter(id__in=gone).order_by("id", "-history_id")
                                  .values_list("id", "facility_id", "name")):
                self.facilities.setdefault(pk, f"{name}（{fid}）")

    def value(self, name: str, value: Any, facility_pk: int | None = None) -> str:
        if value is None or value == "" or value == {}:
            return "（空欄）"
        if name == "sector_id":
            return self.sectors.get(value, str(value))
        if name == "facility_type_id":
            return self.types.get(value, str(value))
        if name == "grade" and isinstance(value, int):  # on the facility type's scale: 「健全度C 全体的に劣化」
            return grade_long(scale_by_id(self.scales.get(facility_pk or 0)), value)
        if isinstance(value, bool):
            return "はい" if value else "いいえ"
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else repr(value)
        if isinstance(value, dict):
            return "、".join(f"{k}: {v}" for k, v in value.items())
        return str(value)


def _field_changes(model: type[models.Model], changes: dict[str, Any], names: _Names,
                   facility_pk: int | None = None) -> list[FieldChange]:
    out: list[FieldChange] = []
    for name, (before, after) in changes.items():
        label = str(bulk.concrete_field(model, name).verbose_name)
        if name == "attributes" and isinstance(before, dict) and isinstance(after, dict):
            for key in dict.fromkeys(chain(before, after)):
                if before.get(key) != after.get(key):
                    out.append(FieldChange(f"{label}「{key}」", names.value("", before.get(key)),
                                           names.value("", after.get(key))))
            continue
        out.append(FieldChange(label, names.value(name, before, facility_pk), names.value(name, after, facility_pk)))
    return out


def _target(model: type[models.Model], row: Any, names: _Names) -> str:
    if model is Facility:
        return f"{row.name}（{row.facility_id}）"
    facility = names.facilities.get(row.facility_id, f"施設 {row.facility_id}")
    if model is Inspection:
        return f"{facility} {row.inspected_on:%Y-%m-%d} {row.kind}"
    return f"{facility} {row.fiscal_year}年度 {row.kind}"


def _source(row: Any) -> str:
    reason = row.history_change_reason or ""
    if reason in REASON_LABEL:
        label = REASON_LABEL[reason]
        return f"{label}（#{row.import_record_id}）" if row.import_record_id else label
    if reason.startswith("/admin/"):
        return "管理画面"
    if reason.startswith("/"):
        return f"画面（{reason}）"
    return reason or "—"


def _who(row: Any) -> str:
    user = row.history_user
    if user is not None:
        return user.get_full_name() or user.get_username()
    if row.history_change_reason in (REASON_IMPORT, REASON_UNDO):
        return "サーバーでの操作（担当者）"
    return "—"


def describe(model: type[models.Model], rows: Sequence[Any], names: _Names | None = None) -> list[ChangeEntry]:
    """Change records of one model as entries to show, in the order given."""
    names = names or _Names()
    if model is not Facility:
        names.load_facilities(r.facility_id for r in rows)
    entries = []
    for row in rows:
        changes = row.changes
        if row.history_type == "~" and changes is None and (previous := row.prev_record) is not None:
            # a change recorded without its values (not by gunmane): compare with the record before it
            delta = row.diff_against(previous)
            changes = {c.field if c.field in tracked(model) else f"{c.field}_id": [c.old, c.new]
                       for c in delta.changes}
        entries.append(ChangeEntry(
            when=row.history_date, who=_who(row), action=TYPE_LABEL.get(row.history_type, row.history_type),
            what=MODEL_LABEL[model], target=_target(model, row, names), source=_source(row),
            import_record_id=row.import_record_id,
            fields=_field_changes(model, changes, names, None if model is Facility else row.facility_id)
            if row.history_type == "~" and changes else [],
            history_id=row.history_id))
    return entries


def facility_history(facility: Facility, limit: int = 100) -> list[ChangeEntry]:
    """The changes of a facility and of its inspections and measures, newest first."""
    names = _Names()
    names.facilities[facility.pk] = f"{facility.name}（{facility.facility_id}）"
    names.scales[facility.pk] = facility.facility_type.health_scale
    entries: list[ChangeEntry] = []
    for model, rows in (
            (Facility, HistoricalFacility.objects.filter(id=facility.pk)),
            (Inspection, HistoricalInspection.objects.filter(facility_id=facility.pk)),
            (Measure, HistoricalMeasure.objects.filter(facility_id=facility.pk))):
        entries += describe(model, list(rows.select_related("history_user").order_by("-history_id")[:limit]), names)
    entries.sort(key=lambda e: (e.when, e.history_id), reverse=True)
    return entries[:limit]


def import_changes(record: ImportRecord) -> Any:
    """The change records of an import (and of its undo), oldest first: a queryset to page through."""
    model = MODEL_OF_KIND.get(record.kind)
    if model is None:
        return HistoricalFacility.objects.none()
    return history_model(model).objects.filter(import_record=record).select_related("history_user").order_by(
        "history_id")


def import_change_counts(record: ImportRecord) -> dict[str, int]:
    """How many rows the import created and changed, and how many its undo removed and put back."""
    counts = {"created": 0, "updated": 0, "undo_deleted": 0, "undo_restored": 0}
    key = {(REASON_IMPORT, "+"): "created", (REASON_IMPORT, "~"): "updated", (REASON_UNDO, "-"): "undo_deleted",
           (REASON_UNDO, "~"): "undo_restored"}
    for reason, kind, n in (import_changes(record).order_by().values_list("history_change_reason", "history_type")
                            .annotate(n=Count("history_id"))):
        if (reason, kind) in key:
            counts[key[reason, kind]] = n
    return counts


def describe_import_changes(record: ImportRecord, rows: Sequence[Any]) -> list[ChangeEntry]:
    model = MODEL_OF_KIND[record.kind]
    return describe(model, rows)


# -- undoing an import -------------------------------------------------------------------------------
class UndoRefused(Exception):
    """The import cannot be undone; `reasons` say why, in Japanese."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons


@dataclass
class UndoResult:
    record_id: int
    deleted: int = 0  # rows the import had created, removed
    restored: int = 0  # rows the import had changed, put back

    def as_json(self) -> dict[str, Any]:
        return {"status": "undone", "import": self.record_id, "deleted": self.deleted, "restored": self.restored,
                "reasons": []}


def _status_reasons(record: ImportRecord) -> list[str]:
    if record.status == ImportStatus.UNDONE:
        when = timezone.localtime(record.undone_at).strftime("%Y-%m-%d %H:%M") if record.undone_at else ""
        return [f"この取り込みはすでに取り消されています（{when}）。"]
    if not record.is_ledger_kind:
        return [f"{record.get_kind_display()}の取り込みは取り消せません（変更履歴を記録していません）。"]
    if record.status != ImportStatus.SUCCEEDED:
        return [f"登録まで終わった取り込みだけを取り消せます（この取り込みは「{record.get_status_display()}」です）。"]
    if not record.created and not record.updated:
        return ["この取り込みで登録・変更された行はありません（取り消すものがありません）。"]
    return []


def undo_reasons(record: ImportRecord) -> list[str]:
    """Why this import cannot be undone now ([] if it can), without changing anything."""
    reasons = _status_reasons(record)
    if reasons:
        return reasons
    plan = _UndoPlan(record)
    return plan.reasons


class _UndoPlan:
    """What undoing an import would do, and what stands in the way (read only)."""

    def __init__(self, record: ImportRecord) -> None:
        self.record = record
        self.model = MODEL_OF_KIND[record.kind]
        self.history = history_model(self.model)
        self.fields = tracked(self.model)
        mine = self.history.objects.filter(import_record=record, history_change_reason=REASON_IMPORT)
        self.created: list[int] = []
        self.changed: list[tuple[int, dict[str, list[Any]]]] = []
        for pk, kind, changes in mine.order_by("history_id").values_list("id", "history_type", "changes"):
            if kind == "+":
                self.created.append(pk)
            elif kind == "~" and changes:
                self.changed.append((pk, changes))
        self.reasons: list[str] = []
        self.names = _Names()
        if not self.created and not self.changed:
            self.reasons.append("この取り込みの変更履歴がないため取り消せません（変更履歴を記録する前の取り込みです）。")
            return
        self._later_changes(mine)
        if self.model is Facility:
            self._later_children()
        self.current = self._current()
        self._changed_since()

    def _label(self, pk: int, values: dict[str, Any] | None = None) -> str:
        if self.model is Facility:
            self.names.load_facilities([pk])
            return f"施設「{self.names.facilities.get(pk, pk)}」"
        row = values or self.history.objects.filter(id=pk).order_by("-history_id").values(*self.fields).first() or {}
        facility_pk = int(row.get("facility_id") or 0)
        self.names.load_facilities([facility_pk])
        facility = self.names.facilities.get(facility_pk, "")
        if self.model is Inspection:
            return f"{facility}の点検（{row.get('inspected_on')}・{row.get('kind')}）"
        return f"{facility}の措置（{row.get('fiscal_year')}年度・{row.get('kind')}）"

    def _later_changes(self, mine: Any) -> None:
        """Change records of the same rows made after this import by anything else (an import, a page).

        An import undone since does not count: its undo put back what it had found.
        """
        own = mine.filter(id=OuterRef("id")).values("history_id")[:1]
        later = (self.history.objects.filter(id__in=mine.values("id"))
                 .exclude(import_record=self.record).exclude(import_record__status=ImportStatus.UNDONE)
                 .annotate(own=Subquery(own))
                 .filter(history_id__gt=F("own")).select_related("history_user").order_by("history_id"))
        n = later.count()
        for row in later[:SHOWN_CONFLICTS]:
            by = (f"取り込み #{row.import_record_id}" if row.import_record_id
                  else _source(row) if row.history_change_reason else "画面")
            self.reasons.append(
                f"{self._label(row.id)}は、この取り込みの後に{_who(row)}が"
                f"{timezone.localtime(row.history_date):%Y-%m-%d %H:%M}に{by}で{TYPE_LABEL[row.history_type]}しています。"
                + ("先にその取り込みを取り消してください。" if row.import_record_id else ""))
        if n > SHOWN_CONFLICTS:
            self.reasons.append(f"ほかに {n - SHOWN_CONFLICTS} 件、この取り込みの後に変更された行があります。")

    def _later_children(self) -> None:
        """Inspections or measures added later to facilities this import created."""
        for child in (Inspection, Measure):
            counts = list(child.objects.filter(facility_id__in=self.created).values("facility_id")
                          .annotate(n=Count("id")).order_by("facility_id")[:SHOWN_CONFLICTS])
            for row in counts:
                self.reasons.append(
                    f"{self._label(row['facility_id'])}には、この取り込みの後に{MODEL_LABEL[child]}が{row['n']}件"
                    f"登録されています。先にその{MODEL_LABEL[child]}の取り込みを取り消すか、削除してください。")

    def _current(self) -> dict[int, dict[str, Any]]:
        pks = sorted({*self.created, *(pk for pk, _ in self.changed)})
        current: dict[int, dict[str, Any]] = {}
        for batch in bulk.batches(pks):
            for row in self.model._default_manager.filter(bulk.in_filter(self.model, "id", batch)).order_by().values(
                    "id", *self.fields):
                current[row["id"]] = row
        return current

    def _changed_since(self) -> None:
        """Values this import set that are no longer there although no change record says why (a change
        made by a bulk tool that keeps no history)."""
        shown = 0
        for pk, changes in self.changed:
            row = self.current.get(pk)
            if row is None:
                self.reasons.append(f"この取り込みが変更した行（{self.model._meta.verbose_name} {pk}）がありません。")
                shown += 1
            else:
                for name, (_, after) in changes.items():
                    if _stored(row.get(name)) != after:
                        label = bulk.concrete_field(self.model, name).verbose_name
                        self.reasons.append(
                            f"{self._label(pk, row)}の「{label}」は、この取り込みの後に変更されています"
                            f"（取り込んだ値「{self.names.value(name, after)}」、"
                            f"現在「{self.names.value(name, row.get(name))}」）。")
                        shown += 1
                        break
            if shown >= SHOWN_CONFLICTS:
                break


def _stored(value: Any) -> Any:
    """A stored value as a change record's JSON holds it (dates as ISO text)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def undo_import(record: ImportRecord, user: User | None) -> UndoResult:
    """Undo an import: remove the rows it created, put back the values it changed, all or nothing.

    Raises UndoRefused with the reasons when it cannot (already undone, not finished, or later changes to
    the same rows — those must be undone first). The undo is recorded: change records with reason "undo"
    that name the import, and the import shows 「取り消し済み」.
    """
    with transaction.atomic():
        record = ImportRecord.objects.select_for_update().get(pk=record.pk)
        reasons = _status_reasons(record)
        if reasons:
            raise UndoRefused(reasons)
        plan = _UndoPlan(record)
        if plan.reasons:
            raise UndoRefused(plan.reasons)
        now = timezone.now()
        constants: dict[str, Any] = {"history_date": now, "history_user_id": user.pk if user is not None else None,
                     "history_change_reason": REASON_UNDO, "import_record_id": record.pk}
        model = plan.model
        facilities: set[int] = set()
        # Put back the values it changed: one UPDATE per set of changed fields.
        groups: dict[tuple[str, ...], list[tuple[int, dict[str, list[Any]]]]] = defaultdict(list)
        for pk, changes in plan.changed:
            groups[tuple(sorted(changes))].append((pk, changes))
        for names, rows in groups.items():
            extra = {"updated_at": now} if model is Facility else {}
            bulk.TableWriter(model, names, update=True).update(
                [[_value(model, name, changes[name][0]) for _, changes in rows] for name in names]
                + [[pk for pk, _ in rows]], **extra)
        restored = [pk for pk, _ in plan.changed]
        reverted = {pk: {name: [after, before] for name, (before, after) in changes.items()}
                    for pk, changes in plan.changed}
        bulk.copy_to_history(model, restored, changes=reverted, history_type="~", **constants)
        # Remove what it created (recorded first, with the values they had).
        gone = [plan.current[pk] for pk in plan.created if pk in plan.current]
        bulk.copy_to_history(model, [row["id"] for row in gone], history_type="-", **constants)
        if model is not Facility:
            facilities.update(row["facility_id"] for row in gone)
            facilities.update(plan.current[pk]["facility_id"] for pk in restored)
        _delete(model, [row["id"] for row in gone])
        if model is Inspection:
            bulk.refresh_latest_grades(facilities)
        bump_data_version()
        record.status = ImportStatus.UNDONE
        record.undone_at = now
        record.undone_by = user if user is not None and user.is_authenticated else None
        record.save(update_fields=["status", "undone_at", "undone_by"])
    return UndoResult(record.pk, deleted=len(gone), restored=len(restored))


def _value(model: type[models.Model], name: str, value: Any) -> Any:
    """A value from a change record's JSON as the field takes it (dates come back as text)."""
    if value is None:
        return None
    return bulk.concrete_field(model, name).to_python(value)


def _delete(model: type[models.Model], pks: list[int]) -> None:
    """Delete rows by pk in plain SQL: the change records are written already, and a model delete() would
    write them again through simple-history's signals."""
    qn = connection.ops.quote_name
    meta = model._meta
    assert meta.pk is not None
    with connection.cursor() as cursor:
        for batch in bulk.batches(pks):
            where, params = bulk.in_sql(qn(meta.pk.column), batch)
            cursor.execute(f"DELETE FROM {qn(meta.db_table)} WHERE {where}", params)


# -- deleting and restoring a facility ---------------------------------------------------------------
def delete_facility(facility: Facility, user: User | None) -> dict[str, int]:
    """Delete a facility with its inspections and measures, each with a change record (reason "delete",
    one time for all of them), so that restore_facility can bring them all back."""
    with transaction.atomic():
        now = timezone.now()
        counts = {"inspections": 0, "measures": 0}
        for key, objects in (("inspections", facility.inspections.all()), ("measures", facility.measures.all())):
            for obj in objects:
                _mark(obj, REASON_DELETE, user, now)
                obj.delete()
                counts[key] += 1
        _mark(facility, REASON_DELETE, user, now)
        facility.delete()
    return counts


def _mark(obj: models.Model, reason: str, user: User | None, when: datetime | None = None) -> None:
    """What simple-history records with the next save or delete of `obj`."""
    marked: Any = obj  # simple-history reads these attributes, which models.Model does not declare
    marked._change_reason = reason
    if user is not None and user.is_authenticated:
        marked._history_user = user
    if when is not None:
        marked._history_date = when


def deleted_facilities(municipality: Municipality, limit: int = 500) -> list[ChangeEntry]:
    """Facilities of the municipality deleted on a page and not restored, newest first."""
    existing = Facility.objects.filter(manager=municipality).values("id")
    rows = (HistoricalFacility.objects.filter(manager_id=municipality.pk, history_type="-",
                                              history_change_reason=REASON_DELETE)
            .exclude(id__in=existing).select_related("history_user").order_by("-history_id")[:limit])
    latest: dict[int, Any] = {}
    for row in rows:
        latest.setdefault(row.id, row)
    entries = describe(Facility, list(latest.values()))
    counts = _deleted_children(list(latest.values()))
    for entry, row in zip(entries, latest.values(), strict=True):
        entry.restorable = True
        n_i, n_m = counts.get((row.id, row.history_date), (0, 0))
        entry.fields = [FieldChange("一緒に削除した点検・措置", "", f"点検 {n_i} 件・措置 {n_m} 件")]
    return entries


def _deleted_children(rows: list[Any]) -> dict[tuple[int, datetime], tuple[int, int]]:
    out: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0, 0])
    ids = [r.id for r in rows]
    for i, child in enumerate((HistoricalInspection, HistoricalMeasure)):
        for pk, when, n in (child.objects.filter(facility_id__in=ids, history_type="-",
                                                 history_change_reason=REASON_DELETE)
                            .values_list("facility_id", "history_date").annotate(n=Count("history_id"))):
            out[pk, when][i] = n
    return {k: (v[0], v[1]) for k, v in out.items()}


class RestoreRefused(Exception):
    pass


def restore_facility(municipality: Municipality, history_id: int, user: User | None) -> Facility:
    """Bring back a facility deleted on a page, with the inspections and measures deleted with it.

    Refused (RestoreRefused, in Japanese) when it is back already or another facility has taken its 施設ID.
    """
    with transaction.atomic():
        row = HistoricalFacility.objects.filter(history_id=history_id, manager_id=municipality.pk,
                                                history_type="-", history_change_reason=REASON_DELETE).first()
        if row is None:
            raise RestoreRefused("削除した施設の記録が見つかりません。")
        if Facility.objects.filter(pk=row.id).exists():
            raise RestoreRefused(f"施設「{row.name}（{row.facility_id}）」はすでに元に戻されています。")
        if Facility.objects.filter(manager_id=row.manager_id, facility_id=row.facility_id).exists():
            raise RestoreRefused(f"施設ID「{row.facility_id}」の施設がすでに登録されているため、元に戻せません。"
                                 "先にその施設の施設IDを変えるか、削除してください。")
        facility = row.instance
        _mark(facility, REASON_RESTORE, user)
        facility.save(force_insert=True)
        # created_at is the original one (auto_now_add set it to now)
        Facility.objects.filter(pk=facility.pk).update(created_at=row.created_at)
        HistoricalFacility.objects.filter(id=facility.pk, history_type="+", history_change_reason=REASON_RESTORE,
                                          history_id__gt=row.history_id).update(created_at=row.created_at)
        for child in (HistoricalInspection, HistoricalMeasure):
            for deleted in child.objects.filter(facility_id=row.id, history_type="-", history_date=row.history_date,
                                                history_change_reason=REASON_DELETE):
                obj = deleted.instance
                _mark(obj, REASON_RESTORE, user)
                obj.save(force_insert=True)
        bulk.refresh_latest_grades([facility.pk])
        bump_data_version()
    facility.refresh_from_db()
    return facility
