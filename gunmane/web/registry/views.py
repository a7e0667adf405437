"""Views of the ledger: municipalities, facilities, imports and exports.

Every view requires login (LoginRequiredMiddleware) and asks gunmane.web.accounts.permissions
whether this user may see or change this municipality's ledger.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, FloatField, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_tasks import task

from gunmane.io.ledger import export as ledger_export
from gunmane.io.ledger.schema import LedgerKind
from gunmane.io.ledger.template import template_xlsx
from gunmane.io.reports.issues_xlsx import issues_xlsx
from gunmane.io.values.scales import BAND_LABEL, bands
from gunmane.web.accounts import permissions
from gunmane.web.common.downloads import XLSX, attachment
from gunmane.web.common.requests import AuthenticatedHttpRequest
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job
from gunmane.web.registry import exporting, frames, history
from gunmane.web.registry.filtersets import FacilityFilterSet, MunicipalityFilterSet
from gunmane.web.registry.forms import CivilEngineersForm, ImportForm
from gunmane.web.registry.imports import records
from gunmane.web.registry.models import (
    Facility,
    ImportRecord,
    ImportStatus,
    Municipality,
    MunicipalYearStats,
)

PAGE_SIZE = 50
KIND_JA = {"facilities": "施設", "inspections": "点検", "measures": "措置"}


def _latest_fiscal_year() -> int:
    return (MunicipalYearStats.objects.order_by("-fiscal_year").values_list("fiscal_year", flat=True).first()
            or 2024)


def municipality_list(request: HttpRequest) -> HttpResponse:
    year = _latest_fiscal_year()
    stats = MunicipalYearStats.objects.filter(municipality=OuterRef("pk"), fiscal_year=year)
    qs = (Municipality.objects.select_related("prefecture")
          .annotate(bridges=Subquery(stats.values("bridges_inspected")[:1]),
                    repair=Subquery(stats.values("bridges_need_repair")[:1]),
                    civil=Subquery(stats.values("civil_engineering_expenditure")[:1]))
          .annotate(repair_share=Cast(F("repair"), FloatField()) / F("bridges")))
    fs = MunicipalityFilterSet(request.GET, queryset=qs)
    items = fs.qs if request.GET.get("sort") else fs.qs.order_by("lg_code")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    viewable = set(permissions.viewable_municipalities(request.user).values_list("pk", flat=True))
    return render(request, "registry/municipality_list.html", {
        "filter": fs, "page_obj": page, "fiscal_year": year, "viewable": viewable,
    })


def municipality_detail(request: HttpRequest, lg_code: str) -> HttpResponse:
    muni = get_object_or_404(Municipality.objects.select_related("prefecture"), lg_code=lg_code)
    can_view = permissions.can_view_ledger(request.user, muni)
    can_edit = permissions.can_edit_ledger(request.user, muni)
    stats = list(muni.year_stats.order_by("fiscal_year"))
    context: dict[str, Any] = {"muni": muni, "stats": stats, "can_view": can_view, "can_edit": can_edit}
    if can_edit and stats:
        context["engineers_form"] = CivilEngineersForm(years=[s.fiscal_year for s in reversed(stats)])
    if can_view:
        facilities = Facility.objects.filter(manager=muni)
        context["n_facilities"] = facilities.count()
        context["by_type"] = (facilities.values("sector__name", "facility_type__name")
                              .annotate(n=Count("id"), n_iii_iv=Count("id", filter=Q(latest_band__gte=3)),
                                        n_unknown_year=Count("id", filter=Q(built_year__isnull=True)))
                              .order_by("sector__order", "facility_type__order"))
        # Across sectors: the common band of each facility's latest grade (each sector's scale on the カルテ).
        grades = dict(facilities.values_list("latest_band").annotate(n=Count("id")))
        context["grades"] = [(b.band, b.name, grades.get(b.band, 0)) for b in bands()]
        context["band_label"] = BAND_LABEL
        context["never_inspected"] = facilities.filter(latest_grade__isnull=True).count()
        context["show_synthetic"] = facilities.filter(is_synthetic=True).exists()
        context["imports"] = muni.imports.all()[:5]
    return render(request, "registry/municipality_detail.html", context)


@require_http_methods(["POST"])
def civil_engineers_update(request: HttpRequest, lg_code: str) -> HttpResponse:
    muni = get_object_or_404(Municipality, lg_code=lg_code)
    permissions.require_edit(request.user, muni)
    years = list(muni.year_stats.values_list("fiscal_year", flat=True))
    form = CivilEngineersForm(request.POST, years=years)
    if form.is_valid():
        stats = muni.year_stats.get(fiscal_year=form.cleaned_data["fiscal_year"])
        stats.civil_engineers = form.cleaned_data["civil_engineers"]
        stats.save(update_fields=["civil_engineers"])
        shown = "未入力" if stats.civil_engineers is None else f"{stats.civil_engineers} 人"
        messages.success(request, f"{stats.fiscal_year}年度の技術系職員数を「{shown}」にしました。")
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{' '.join(str(e) for e in errors)}")
    return redirect("registry:municipality_detail", lg_code=muni.lg_code)


def _viewable_muni(request: HttpRequest, lg_code: str) -> Municipality:
    muni = get_object_or_404(Municipality, lg_code=lg_code)
    permissions.require_view(request.user, muni)
    return muni


def facility_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    muni = _viewable_muni(request, lg_code)
    qs = Facility.objects.filter(manager=muni).select_related("sector", "facility_type")
    fs = FacilityFilterSet(request.GET, queryset=qs)
    items = fs.qs if request.GET.get("sort") else fs.qs.order_by("facility_id")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/facility_list.html", {
        "muni": muni, "filter": fs, "page_obj": page,
        "can_edit": permissions.can_edit_ledger(request.user, muni),
        "show_synthetic": any(f.is_synthetic for f in page.object_list),
        "current_sort": request.GET.get("sort", ""),
        "filtered": any(request.GET.get(k) for k in ("q", "sector", "facility_type", "grade", "age")),
    })


def facility_detail(request: HttpRequest, lg_code: str, facility_id: str) -> HttpResponse:
    muni = _viewable_muni(request, lg_code)
    facility = get_object_or_404(Facility.objects.select_related("sector", "facility_type", "manager"),
                                 manager=muni, facility_id=facility_id)
    return render(request, "registry/facility_detail.html", {
        "muni": muni, "facility": facility,
        "inspections": facility.inspections.order_by("-inspected_on"),
        "measures": facility.measures.order_by("-fiscal_year"),
        "show_synthetic": facility.is_synthetic,
        "can_edit": permissions.can_edit_ledger(request.user, muni),
        "changes": history.facility_history(facility),
    })


@require_http_methods(["GET", "POST"])
def facility_delete(request: AuthenticatedHttpRequest, lg_code: str, facility_id: str) -> HttpResponse:
    """Delete a facility (with its inspections and measures) after a confirmation page that counts them."""
    muni = get_object_or_404(Municipality, lg_code=lg_code)
    permissions.require_edit(request.user, muni)
    facility = get_object_or_404(Facility, manager=muni, facility_id=facility_id)
    if request.method == "POST":
        label = f"{facility.name}（{facility.facility_id}）"
        counts = history.delete_facility(facility, request.user)
        messages.success(request, f"施設「{label}」を削除しました（点検 {counts['inspections']} 件・措置 "
                                  f"{counts['measures']} 件も一緒に削除）。「削除した施設」から元に戻せます。")
        return redirect("registry:facility_list", lg_code=muni.lg_code)
    return render(request, "registry/facility_delete.html", {
        "muni": muni, "facility": facility, "n_inspections": facility.inspections.count(),
        "n_measures": facility.measures.count()})


def deleted_facility_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    muni = _viewable_muni(request, lg_code)
    return render(request, "registry/deleted_facilities.html", {
        "muni": muni, "entries": history.deleted_facilities(muni),
        "can_edit": permissions.can_edit_ledger(request.user, muni)})


@require_http_methods(["POST"])
def facility_restore(request: AuthenticatedHttpRequest, lg_code: str, history_id: int) -> HttpResponse:
    """「元に戻す」: bring back a deleted facility with the inspections and measures deleted with it."""
    muni = get_object_or_404(Municipality, lg_code=lg_code)
    permissions.require_edit(request.user, muni)
    try:
        facility = history.restore_facility(muni, history_id, request.user)
    except history.RestoreRefused as exc:
        messages.error(request, str(exc))
        return redirect("registry:deleted_facilities", lg_code=muni.lg_code)
    messages.success(request, f"施設「{facility.name}（{facility.facility_id}）」を元に戻しました。")
    return redirect("registry:facility_detail", lg_code=muni.lg_code, facility_id=facility.facility_id)


@require_http_methods(["GET", "POST"])
def import_create(request: AuthenticatedHttpRequest, lg_code: str) -> HttpResponse:
    muni = get_object_or_404(Municipality, lg_code=lg_code)
    permissions.require_edit(request.user, muni)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid() and form.cleaned_data["kind"] in ("nenpo", "xroad"):
        upload = form.cleaned_data["file"]
        record = records.create_record(form.cleaned_data["kind"], [(upload.name, upload)], municipality=muni,
                                       user=request.user, dry_run=form.cleaned_data["dry_run"],
                                       skip_invalid=form.cleaned_data["skip_invalid"])
        records.start(record, fiscal_year=form.cleaned_data.get("fiscal_year"))
        return redirect("registry:import_detail", pk=record.pk)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        record = records.create_record(form.cleaned_data["kind"], [(upload.name, upload)],
                                       municipality=muni, user=request.user,
                                       dry_run=form.cleaned_data["dry_run"],
                                       skip_invalid=form.cleaned_data["skip_invalid"],
                                       clear_blanks=form.cleaned_data["clear_blanks"])
        records.start(record)
        return redirect("registry:import_detail", pk=record.pk)
    return render(request, "registry/import_form.html", {"muni": muni, "form": form})


def _record_for(request: HttpRequest, pk: int) -> ImportRecord:
    record = get_object_or_404(ImportRecord.objects.select_related("municipality", "user"), pk=pk)
    if record.municipality is None:
        if not request.user.is_superuser:
            raise PermissionDenied("この取込記録を閲覧する権限がありません。")
    else:
        permissions.require_view(request.user, record.municipality)
    return record


def _require_edit_record(request: HttpRequest, record: ImportRecord) -> None:
    """Only an editor of the import's municipality changes what it did (a superuser for one without)."""
    if record.municipality is None:
        if not request.user.is_superuser:
            raise PermissionDenied("この取り込みを操作する権限がありません。")
    else:
        permissions.require_edit(request.user, record.municipality)


def import_list(request: HttpRequest) -> HttpResponse:
    records.mark_interrupted_imports()  # imports whose process stopped are shown as failed, not running
    qs = ImportRecord.objects.select_related("municipality", "user")
    if not request.user.is_superuser:
        qs = qs.filter(municipality__in=permissions.viewable_municipalities(request.user))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/import_list.html", {"page_obj": page})


CHANGES_PAGE_SIZE = 100


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record_for(request, pk)
    if not record.is_finished and records.mark_interrupted_imports([record]):
        record.refresh_from_db()
    template = "registry/_import_status.html" if request.headers.get("HX-Request") else "registry/import_detail.html"
    live = records.live_progress(record.pk)
    errors_page = Paginator(record.errors, 200).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "record": record, "live": live, "errors_page": errors_page,
        "percent": int(100 * live[0] / live[1]) if live and live[1] else record.progress_percent,
        "can_edit": _can_edit_record(request, record),
    }
    if record.is_finished and record.is_ledger_kind and record.status in (ImportStatus.SUCCEEDED, ImportStatus.UNDONE):
        changes = Paginator(history.import_changes(record), CHANGES_PAGE_SIZE).get_page(request.GET.get("changes"))
        context.update(change_counts=history.import_change_counts(record), changes_page=changes,
                       change_entries=history.describe_import_changes(record, list(changes.object_list)))
    return render(request, template, context)


def _can_edit_record(request: HttpRequest, record: ImportRecord) -> bool:
    if record.municipality is None:
        return bool(request.user.is_superuser)
    return permissions.can_edit_ledger(request.user, record.municipality)


@require_http_methods(["GET", "POST"])
def import_undo(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Undo an import after a confirmation page: what it would remove and put back, or why it cannot."""
    record = _record_for(request, pk)
    _require_edit_record(request, record)
    if request.method == "POST":
        try:
            result = history.undo_import(record, request.user)
        except history.UndoRefused as exc:
            return render(request, "registry/import_undo.html", {
                "record": record, "reasons": exc.reasons, "counts": history.import_change_counts(record)},
                status=409)
        messages.success(request, f"取り込みを取り消しました（登録した {result.deleted:,} 件を削除し、"
                                  f"変更した {result.restored:,} 件を元の値に戻しました）。")
        return redirect("registry:import_detail", pk=record.pk)
    return render(request, "registry/import_undo.html", {
        "record": record, "reasons": history.undo_reasons(record), "counts": history.import_change_counts(record)})


@require_http_methods(["POST"])
def import_rerun(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """「もう一度取り込む」: the kept file of a failed import, with the same options, as a new import."""
    record = _record_for(request, pk)
    _require_edit_record(request, record)
    if record.status != ImportStatus.FAILED or not record.is_ledger_kind:
        messages.error(request, "もう一度取り込めるのは、失敗した台帳ファイルの取り込みだけです。")
        return redirect("registry:import_detail", pk=record.pk)
    if not record.file or not Path(record.file.path).exists():
        messages.error(request, "元ファイルが見つからないため、もう一度取り込めません。ファイルを選び直してください。")
        return redirect("registry:import_detail", pk=record.pk)
    again = records.rerun(record, request.user)
    return redirect("registry:import_detail", pk=again.pk)


def national_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The quality report of a national-data import (年報 / xROAD): the page, or ?format=json."""
    record = _record_for(request, pk)
    if record.kind not in ("nenpo", "xroad"):
        raise Http404("この取り込みには品質レポートがありません（全国データの取り込みのみ）。")
    if request.GET.get("format") == "json":
        return JsonResponse(record.quality, json_dumps_params={"ensure_ascii": False, "indent": 1})
    q = record.quality or {}
    reasons = {"non_lg_manager": "地方公共団体以外の管理者", "manager_unresolved": "管理者を特定できない",
               "out_of_scope": "取り込み範囲外の管理者", "no_permission": "編集権限なし"}
    skipped = [(reasons.get(code, code), n) for code, n in (q.get("skipped", {}).get("by_reason") or {}).items()]
    return render(request, "registry/national_report.html", {"record": record, "q": q, "skipped_by_reason": skipped})


def national_guide(request: HttpRequest) -> HttpResponse:
    """全国データから台帳をつくる: which files to download from MLIT, where, and how to load them."""
    return render(request, "registry/national_guide.html", {
        "own": permissions.editable_municipalities(request.user).order_by("lg_code")[:20]})


def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    record = _record_for(request, pk)
    live = records.live_progress(record.pk)
    done, total = live if live else (record.rows_processed, record.rows_total)
    return JsonResponse({"status": record.status, "finished": record.is_finished, "rows_processed": done,
                         "rows_total": total, "created": record.created, "updated": record.updated,
                         "unchanged": record.unchanged, "invalid": record.invalid})


def import_issues_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """The error and warning report as an Excel file the user can sort, filter and work through."""
    record = _record_for(request, pk)
    buf = io.BytesIO()
    issues_xlsx(buf, file_name=record.original_name, kind_label=record.get_kind_display(),
                imported_at=record.created_at, errors=record.errors, warnings=record.warnings)
    name = f"import_{record.pk}_errors.xlsx"
    return _download(buf.getvalue(), name, XLSX)


def import_file(request: HttpRequest, pk: int) -> FileResponse:
    record = _record_for(request, pk)
    if not record.file or not Path(record.file.path).exists():
        raise Http404("元ファイルが見つかりません。")
    return FileResponse(record.file.open("rb"), as_attachment=True, filename=record.original_name)


_download = attachment  # the name the workbook download above calls


@task()
def make_export(job_id: str) -> None:
    """A municipality's ledger written as a file (the worker: gunmane worker)."""
    jobs.run(job_id, _make_export)


def _make_export(job: Job, progress: jobs.Progress) -> bytes:
    muni = Municipality.objects.get(lg_code=job.params["lg_code"])
    ledger_kind, fmt = LedgerKind(job.params["kind"]), job.params["fmt"]
    progress(5, f"{muni.name}の{KIND_JA[ledger_kind.value]}台帳を読んでいます。")
    recs = exporting.records(ledger_kind, muni)
    attrs = exporting.attribute_names(muni) if ledger_kind == LedgerKind.FACILITIES else []
    if fmt == "xlsx":
        progress(20, "Excel に書き出しています。")
        return ledger_export.to_bytes_xlsx(ledger_kind, recs, attribute_names=attrs,
                                           synthetic=exporting.has_synthetic(muni))
    out = io.StringIO()
    if fmt == "csv":
        ledger_export.write_csv(ledger_kind, recs, out, attribute_names=attrs)
        return out.getvalue().encode("utf-8-sig")
    ledger_export.write_json(ledger_kind, recs, out)
    return out.getvalue().encode("utf-8")


EXPORT_TYPES = {"xlsx": XLSX, "csv": "text/csv; charset=utf-8", "json": "application/json"}
EXPORT_NAMES = {"xlsx": "Excel", "csv": "CSV", "json": "JSON"}


def export(request: HttpRequest, lg_code: str, kind: str, fmt: str) -> HttpResponse:
    """The ledger as a file, made by the worker once per data version (20,000 facilities took 10–12 s as Excel);
    the next download of the same data is the stored file."""
    muni = _viewable_muni(request, lg_code)
    if kind not in KIND_JA or fmt not in EXPORT_TYPES:
        raise Http404("この形式では書き出せません。")
    name = f"{muni.lg_code}_{muni.name}_{KIND_JA[kind]}.{fmt}"
    job = jobs.start(make_export, kind="ledger_export", subject=f"{muni.lg_code}|{kind}|{fmt}",
                     version=jobs.version_of(frames.data_fingerprint()), label=f"{muni.name}の{KIND_JA[kind]}台帳（{EXPORT_NAMES[fmt]}）",
                     params={"lg_code": muni.lg_code, "kind": kind, "fmt": fmt}, user=request.user,
                     filename=name, content_type=EXPORT_TYPES[fmt])
    return jobs.respond(request, job, title=f"{muni.name}の{KIND_JA[kind]}台帳の書き出し",
                        back_url=reverse("registry:municipality_detail", args=[muni.lg_code]))


def template_download(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in KIND_JA:
        raise Http404("テンプレートがありません。")
    return _download(template_xlsx(LedgerKind(kind)), f"gunmane_{KIND_JA[kind]}台帳_テンプレート.xlsx", XLSX)
