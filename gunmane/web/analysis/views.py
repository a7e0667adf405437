"""見える化 pages: national, prefecture, municipality カルテ and group, with downloads.

Public statistics (MLIT's, MIC's) are shown to everyone, signed in or not (Access.PUBLIC), for every scope. Figures derived
from a municipality's ledger are shown only to those groups.permissions.ledger_figure_codes allows
(its own staff, its prefecture, its accepted group partners, or everyone if it publishes them); for
everyone else that municipality counts as having no ledger, in every page, JSON, CSV, map and file; a page
without any visible ledger leaves the ledger indicators out and says why.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Hashable
from dataclasses import replace
from datetime import date
from typing import Any, TypedDict

import pandas as pd
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_tasks import task

from gunmane.engine import indicators
from gunmane.engine.indicator_types import Karte, Scope, ScopeKind
from gunmane.engine.indicators.definitions import SRC_LEDGER
from gunmane.io.reports.karte_pdf import karte_pdf
from gunmane.io.reports.karte_xlsx import karte_xlsx
from gunmane.io.reports.municipal_table import municipal_table_csv, municipal_table_xlsx
from gunmane.io.safe_cells import safe_csv_writer
from gunmane.io.shipped import vocab
from gunmane.web.accounts import permissions
from gunmane.web.analysis import services
from gunmane.web.common.downloads import XLSX, attachment
from gunmane.web.common.templatetags.gunmane import readable_series
from gunmane.web.groups import permissions as group_permissions
from gunmane.web.groups.models import Group
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job
from gunmane.web.registry import frames
from gunmane.web.registry.models import Municipality, MunicipalityKind, Prefecture

PAGE_SIZE = 50
DEFAULT_MAP_INDICATOR = "bridges_iii_iv_share"
KIND_JA = dict(MunicipalityKind.choices)


_download = attachment  # the name the workbook download below calls


def _indicator_defs() -> dict[str, Any]:
    return {d.id: d for d in indicators.INDICATORS}


def _visible(request: HttpRequest) -> frozenset[str] | None:
    return group_permissions.ledger_figure_codes(request.user)


def _fiscal_year(request: HttpRequest) -> int:
    latest = frames.latest_fiscal_year()
    try:
        year = int(request.GET.get("fy", latest))
    except ValueError:
        return latest
    return year if 2020 <= year <= latest else latest


class _Filters(TypedDict):
    """The keyword arguments of services.build_karte and services.municipal_table that narrow the ledger."""

    sector: str | None
    facility_type: str | None


def _filters(request: HttpRequest) -> _Filters:
    """?sector=road&type=bridge narrow the ledger indicators (codes from the vocabulary; others ignored)."""
    sectors = {s.code for s in vocab.sectors()}
    types = {t.code for t in vocab.facility_types()}
    sector = request.GET.get("sector") or None
    facility_type = request.GET.get("type") or None
    return {"sector": sector if sector in sectors else None,
            "facility_type": facility_type if facility_type in types else None}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _karte_response(request: HttpRequest, karte: Karte, template: str, context: dict[str, Any],
                    filename: str) -> HttpResponse:
    """The page, or the same カルテ as JSON / PDF / XLSX when ?format= asks for it (same numbers)."""
    fmt = request.GET.get("format")
    if fmt == "json":
        return JsonResponse(karte.as_json(), json_dumps_params={"ensure_ascii": False})
    if fmt in KARTE_FILES:
        return jobs.respond(request, _karte_file_job(request, karte, fmt, filename),
                            title=f"{filename}.{fmt}", back_url=request.path)
    karte = _without_unseen_ledger(karte)
    defs = _indicator_defs()
    groups: dict[str, list[Any]] = {}
    for value in karte.indicators:
        d = defs.get(value.id)
        groups.setdefault(d.group if d else "reference", []).append((value, d))
    context.update({
        "karte": karte, "indicator_groups": [(GROUP_LABELS[g], groups[g]) for g in GROUP_LABELS if g in groups],
        "series_json": [readable_series(s) for s in karte.series], "show_synthetic": karte.synthetic,
        "fiscal_year": karte.fiscal_year, "filename": filename, "frames_pending": frames.pending(),
        "fiscal_years": list(range(frames.latest_fiscal_year(), 2019, -1)), "sectors": vocab.sectors(), "facility_types": vocab.facility_types(), "filters": _filters(request),
    })
    return render(request, template, context)


def _without_unseen_ledger(karte: Karte) -> Karte:
    """The カルテ a page, PDF or workbook shows: without any ledger the reader may see, the ledger indicators
    and charts are left out (the page says why) rather than shown as rows of 「不明」 and empty charts. The
    JSON keeps them, as null, so that a program reads the same keys for every municipality."""
    if karte.has_ledger:
        return karte
    defs = _indicator_defs()
    return replace(karte, indicators=[v for v in karte.indicators if not (v.id in defs and defs[v.id].needs_ledger)],
                   series=[s for s in karte.series if s.source != SRC_LEDGER])


# -- the カルテ as a file, made on the task queue (gunmane.web.jobs) -----------------------------------------
KARTE_FILES = {"pdf": ("application/pdf", "PDF を描いています。"), "xlsx": (XLSX, "Excel を作っています。")}


def scope_spec(scope: Scope) -> str:
    """The text services.resolve_scope turns back into the scope (in the worker)."""
    return f"group:{scope.code}" if scope.kind == ScopeKind.GROUP else scope.code


def _karte_file_job(request: HttpRequest, karte: Karte, fmt: str, filename: str) -> Job:
    """The job that makes this reader's カルテ file: one per scope, year, filters, what the reader may see and
    data version, so a second request for unchanged data is served the stored file at once."""
    visible = _visible(request)
    params = {"scope": scope_spec(karte.scope), "fiscal_year": karte.fiscal_year, "format": fmt,
              "as_of": timezone.localdate().isoformat(), **_filters(request),
              "visible": None if visible is None else sorted(visible)}
    seen = "all" if visible is None else hashlib.sha256(",".join(sorted(visible)).encode()).hexdigest()[:16]
    subject = "|".join(str(params[k]) for k in ("scope", "fiscal_year", "format", "as_of", "sector", "facility_type"))
    return jobs.start(make_karte_file, kind="karte_file", subject=f"{subject}|{seen}",
                      version=jobs.version_of(frames.fingerprint()), label=f"{karte.scope.name}のカルテ（{fmt.upper()}）",
                      params=params, user=request.user, filename=f"{filename}.{fmt}",
                      content_type=KARTE_FILES[fmt][0])


@task()
def make_karte_file(job_id: str) -> None:
    """A カルテ PDF or workbook (the worker: gunmane worker)."""
    jobs.run(job_id, _karte_file)


def _karte_file(job: Job, progress: jobs.Progress) -> bytes:
    p = job.params
    progress(5, "カルテの数字を集めています。")
    karte = services.build_karte(services.resolve_scope(p["scope"]), fiscal_year=p["fiscal_year"],
                                 as_of=date.fromisoformat(p["as_of"]), sector=p["sector"],
                                 facility_type=p["facility_type"],
                                 visible=None if p["visible"] is None else frozenset(p["visible"]))
    progress(30, KARTE_FILES[p["format"]][1])
    buf = io.BytesIO()
    (karte_pdf if p["format"] == "pdf" else karte_xlsx)(_without_unseen_ledger(karte), buf)
    return buf.getvalue()


GROUP_LABELS = {"stock": "施設の量", "ageing": "高齢化", "condition": "健全性", "backlog": "措置の遅れ（措置未着手）",
                "capacity": "体制・財政", "reference": "公開統計"}


def national(request: HttpRequest) -> HttpResponse:
    fy = _fiscal_year(request)
    visible = _visible(request)
    table = services.municipal_table(fy, visible=visible)
    # the national カルテ is the public statistics: the few ledgers a reader may see (the demo's are synthetic)
    # summed as a 「全国」 figure would mislead, and would put a 合成データ banner over real statistics
    karte = services.build_karte(services.resolve_scope("national"), fiscal_year=fy, visible=frozenset())
    defs = _indicator_defs()
    indicator = request.GET.get("indicator", DEFAULT_MAP_INDICATOR)
    if indicator not in defs:
        indicator = DEFAULT_MAP_INDICATOR
    rows = _filtered_table(request, table, indicator)
    if request.GET.get("format") in ("csv", "xlsx") and request.GET.get("table"):
        return _table_download(rows, request.GET["format"], f"全国_市区町村_{fy}年度")
    # _RecordsPage takes slices only, which is all the Paginator asks; django-stubs' protocol wants more.
    page: Page[dict[Hashable, Any]] = Paginator(_RecordsPage(rows), PAGE_SIZE).get_page(  # type: ignore[arg-type]
        request.GET.get("page"))
    prefs = _prefecture_totals(table)
    return _karte_response(request, karte, "analysis/national.html", {
        "page_obj": page, "indicator": defs[indicator], "indicator_choices": _choices(table),
        "prefectures": prefs, "pref_options": Prefecture.objects.all(), "kinds": MunicipalityKind.choices[1:],
        "selected_pref": request.GET.get("pref", ""), "selected_kind": request.GET.get("kind", ""),
        "sort": request.GET.get("sort", ""), "map_url": "map.json", "kind_labels": KIND_JA,
    }, f"全国_カルテ_{fy}年度")


class _RecordsPage:
    """A frame the Paginator can slice: only the shown 50 rows become dicts (1,741 × 129 columns would not)."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def count(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: slice) -> list[dict[Hashable, Any]]:
        return list(self.rows.iloc[index].reset_index().to_dict("records"))


def _choices(table: pd.DataFrame) -> list[Any]:
    """The indicators a map or a sort can use: those with a value for some municipality the reader sees (a
    visitor is not offered a map of ledger figures that are all unknown to them)."""
    return [d for d in indicators.INDICATORS if d.id in table.columns and table[d.id].notna().any()]


def _filtered_table(request: HttpRequest, table: pd.DataFrame, indicator: str) -> pd.DataFrame:
    rows = table
    if pref := request.GET.get("pref"):
        rows = rows[rows["pref_code"] == pref]
    if kind := request.GET.get("kind"):
        rows = rows[rows["kind"] == kind]
    if q := request.GET.get("q", "").strip():
        rows = rows[rows["name"].str.contains(q, regex=False) | rows.index.str.startswith(q)]
    sort = request.GET.get("sort", "")
    column = sort.lstrip("-") or indicator
    if column in rows.columns:
        rows = rows.sort_values(column, ascending=not sort.startswith("-") if sort else False, na_position="last")
    return rows


def _prefecture_totals(table: pd.DataFrame) -> list[dict[str, Any]]:
    names = dict(Prefecture.objects.values_list("code", "name"))
    agg = table.groupby("pref_code").agg(
        municipalities=("name", "size"), population=("population", "sum"),
        bridges=("bridges_inspected", "sum"), iii_iv=("bridges_iii_iv", "sum"),
        civil=("civil_expenditure", "sum"))
    out = []
    for code, r in agg.iterrows():
        out.append({"code": code, "name": names.get(str(code), code), "municipalities": int(r["municipalities"]),
                    "population": r["population"], "bridges": r["bridges"], "iii_iv": r["iii_iv"],
                    "share": r["iii_iv"] / r["bridges"] if r["bridges"] else None,
                    "civil_per_capita": r["civil"] / r["population"] if r["population"] else None})
    return out


def _table_download(rows: pd.DataFrame, fmt: str, name: str) -> HttpResponse:
    defs = [d for d in indicators.INDICATORS if d.id in rows.columns]
    body = [[code, r["name"], r["pref_code"], KIND_JA.get(r["kind"], r["kind"])] + [_clean(r[d.id]) for d in defs]
            for code, r in rows.iterrows()]
    if fmt == "csv":
        out = io.StringIO()
        municipal_table_csv(out, defs, body)
        return _download(out.getvalue().encode("utf-8-sig"), f"{name}.csv", "text/csv; charset=utf-8")
    buf = io.BytesIO()
    municipal_table_xlsx(buf, defs, body)
    return _download(buf.getvalue(), f"{name}.xlsx", XLSX)


def map_data(request: HttpRequest) -> JsonResponse:
    """Points of every municipality for one indicator (the map switches indicator without reloading)."""
    fy = _fiscal_year(request)
    table = services.municipal_table(fy, visible=_visible(request))
    defs = _indicator_defs()
    indicator = request.GET.get("indicator", DEFAULT_MAP_INDICATOR)
    if indicator not in defs or indicator not in table.columns:
        return JsonResponse({"error": f"指標「{indicator}」はありません。"}, status=400,
                            json_dumps_params={"ensure_ascii": False})
    rows = table
    if pref := request.GET.get("pref"):
        rows = rows[rows["pref_code"] == pref]
    d = defs[indicator]
    points = [{"code": code, "name": r["name"], "lat": _clean(r["lat"]), "lon": _clean(r["lon"]),
               "value": _clean(r[indicator])} for code, r in rows.iterrows()]
    return JsonResponse({"indicator": {"id": d.id, "label_ja": d.label_ja, "unit": d.unit, "source": d.source,
                                       "higher_is": d.higher_is},
                         "fiscal_year": fy, "points": points}, json_dumps_params={"ensure_ascii": False})


def prefecture(request: HttpRequest, code: str) -> HttpResponse:
    pref = get_object_or_404(Prefecture, code=code)
    fy = _fiscal_year(request)
    visible = _visible(request)
    karte = services.build_karte(services.resolve_scope(code), fiscal_year=fy, visible=visible, **_filters(request))
    table = services.municipal_table(fy, visible=visible, **_filters(request))
    members = table[table["pref_code"] == code].sort_values("population", ascending=False, na_position="last")
    return _karte_response(request, karte, "analysis/prefecture.html", {
        "pref": pref, "members": members.reset_index().to_dict("records"),
        # the ledger column only where the reader sees some municipality's ledger figures
        "show_facilities": bool(members["facilities"].notna().any()) if "facilities" in members else False,
        "indicator_choices": _choices(table), "indicator": _indicator_defs()[DEFAULT_MAP_INDICATOR],
        "kind_labels": KIND_JA,
    }, f"{pref.name}_カルテ_{fy}年度")


def municipality(request: HttpRequest, lg_code: str) -> HttpResponse:
    muni = get_object_or_404(Municipality.objects.select_related("prefecture"), lg_code=lg_code)
    if muni.kind == MunicipalityKind.PREFECTURE:
        return prefecture(request, muni.prefecture.code)
    fy = _fiscal_year(request)
    karte = services.build_karte(services.resolve_scope(lg_code), fiscal_year=fy, visible=_visible(request),
                                 **_filters(request))
    return _karte_response(request, karte, "analysis/municipality.html", {
        "muni": muni, "can_view_ledger": permissions.can_view_ledger(request.user, muni),
        "ledger_hidden": not group_permissions.can_view_ledger_figures(request.user, muni),
        "can_publish": permissions.can_edit_ledger(request.user, muni),
    }, f"{muni.name}_カルテ_{fy}年度")


@require_POST
def publish_ledger_figures(request: HttpRequest, lg_code: str) -> HttpResponse:
    """The municipality's own editors choose whether its ledger figures are public (its カルテ page)."""
    muni = get_object_or_404(Municipality, lg_code=lg_code)
    permissions.require_edit(request.user, muni)
    publish = request.POST.get("publish") == "1"
    if muni.publishes_ledger_figures != publish:
        muni.publishes_ledger_figures = publish
        muni.save(update_fields=["publishes_ledger_figures"])
    messages.success(request, f"{muni.name}の台帳から計算した指標を"
                              + ("公開しました（施設ごとの台帳は公開されません）。" if publish else "非公開にしました。"))
    return redirect("analysis:municipality", lg_code=muni.lg_code)


def group(request: HttpRequest, pk: int) -> HttpResponse:
    grp = group_permissions.viewable_group(request.user, pk)
    fy = _fiscal_year(request)
    scope: Scope = services.resolve_scope(f"group:{grp.name}")
    visible = _visible(request)
    karte = services.build_karte(scope, fiscal_year=fy, visible=visible, **_filters(request))
    table = services.municipal_table(fy, visible=visible, **_filters(request))
    accepted = list(grp.accepted_members().select_related("municipality"))
    members = [(m, table.loc[m.municipality.lg_code].to_dict()) for m in accepted
               if m.municipality.lg_code in table.index]
    # a prefecture (a supporting member) has no row in the municipal statistics: named under the table
    # instead of an empty column
    outside = [m for m in accepted if m.municipality.lg_code not in table.index]
    compare = [d for d in indicators.INDICATORS if d.id in table.columns]
    shared = group_permissions.can_view_group(request.user, grp)
    return _karte_response(request, karte, "analysis/group.html", {
        "group": grp, "members": members, "compare": compare, "group_pk": str(grp.pk),
        "outside_table": outside, "can_view_group_ledger": shared,
    }, f"{grp.name}_カルテ_{fy}年度")


def series_csv(request: HttpRequest) -> HttpResponse:
    """One chart's numbers as CSV (every chart offers its table as a download)."""
    spec, series_id = request.GET.get("scope", ""), request.GET.get("series", "")
    try:
        scope = services.resolve_scope(spec)
    except services.ScopeNotFound as exc:
        raise Http404(str(exc)) from exc
    if scope.kind == ScopeKind.GROUP:
        grp = Group.objects.filter(name=scope.name).first()
        if grp is None or not group_permissions.can_view_group(request.user, grp):
            raise Http404("その群のカルテは見られません。")
    karte = services.build_karte(scope, fiscal_year=_fiscal_year(request), visible=_visible(request),
                                 **_filters(request))
    series = next((s for s in karte.series if s.id == series_id), None)
    if series is None:
        raise Http404("その図のデータはありません。")
    out = io.StringIO()
    w = safe_csv_writer(out, lineterminator="\r\n")
    w.writerow([series.x_label or "区分", *[f"{name}（{series.unit}）" for name in series.values]])
    for i, cat in enumerate(series.categories):
        w.writerow([cat, *[_clean(v[i]) for v in series.values.values()]])
    w.writerow([])
    w.writerow([f"出典：{series.source}"])
    if karte.synthetic:
        w.writerow(["【合成データ】架空の施設（デモ用の合成データ）を含みます。"])
    return _download(out.getvalue().encode("utf-8-sig"), f"{scope.name}_{series.label_ja}.csv",
                     "text/csv; charset=utf-8")


def groups_index(request: HttpRequest) -> HttpResponse:
    """The groups the reader belongs to (a group's composition is the group's business)."""
    return render(request, "analysis/groups_index.html", {"groups": group_permissions.groups_of(request.user)
                                                          .prefetch_related("members__municipality")})
