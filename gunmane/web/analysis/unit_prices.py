"""A municipality's own unit prices for the LCC and the repair plan: download, edit, upload (analysis:unit_prices).

The LCC page used to tell web users to copy CSV files and run 「gunmane lcc … --params DIR」. Here a municipal
engineer downloads the table in use (Excel or CSV), puts in the prices of their own contracts and uploads it;
the checks of gunmane.io.shipped.unit_prices list every problem with its row, column and value. The latest
upload is used by that municipality's LCC and plan — on the pages and in `gunmane lcc`/`gunmane plan` alike —
through :func:`lcc_defaults_for_scope`, which gunmane.web.analysis.lifecycle calls.

Who may do what: the municipality's ledger viewers (its own staff, its prefecture, the administrators) see the
table and download it; its editors upload and go back to the defaults; anyone else gets 403 (access.URL_RULES:
ledger_view for GET, ledger_edit for POST).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from gunmane.engine.indicator_types import Scope, ScopeKind
from gunmane.engine.lcc import LccParameters
from gunmane.io.errors import IoFileError
from gunmane.io.shipped.lcc import EDITION, LccDefaults, load_lcc_parameters
from gunmane.io.shipped.unit_prices import (
    COLUMNS,
    GRADE_JA,
    UnitPriceFileError,
    actions_from_json,
    read_unit_prices,
    unit_prices_csv,
    unit_prices_xlsx,
    with_actions,
)
from gunmane.io.shipped.vocab import facility_types
from gunmane.web.accounts import permissions
from gunmane.web.analysis.models import MunicipalUnitPrices
from gunmane.web.common.downloads import CSV, XLSX, attachment
from gunmane.web.common.requests import AuthenticatedHttpRequest
from gunmane.web.registry.models import Municipality

__all__ = ["current_table", "lcc_defaults_for_scope", "unit_prices"]

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a table of a few dozen rows; anything larger is not one


def current_table(lg_code: str) -> MunicipalUnitPrices | None:
    """The unit-price table the municipality uses now, or None (the shipped table)."""
    return MunicipalUnitPrices.objects.filter(municipality__lg_code=lg_code, active=True).select_related(
        "municipality").first()


def _edition(table: MunicipalUnitPrices) -> str:
    return f"{table.municipality.name}の単価表（{timezone.localtime(table.uploaded_at):%Y-%m-%d} 登録）"


def _params_of(table: MunicipalUnitPrices | None, base: LccParameters) -> LccParameters:
    return base if table is None else with_actions(base, actions_from_json(table.actions), _edition(table))


def lcc_defaults_for_scope(scope: Scope, defaults: LccDefaults) -> LccDefaults:
    """The LCC defaults with the municipality's own unit prices, when the scope is one municipality that uploaded
    them and the caller brought the shipped table (a table given explicitly — `--params DIR` — wins)."""
    if scope.kind != ScopeKind.MUNICIPALITY or defaults.params.edition != EDITION:
        return defaults
    table = current_table(scope.code)
    return defaults if table is None else replace(defaults, params=_params_of(table, defaults.params))


def _person(user: Any, muni: Municipality) -> str:
    """The uploader as a colleague would name them: full name and organisation (not the login name)."""
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return f"{full or user.get_username()}（{muni.name}）"


def _rows(params: LccParameters) -> list[dict[str, Any]]:
    names = {t.code: t.name for t in facility_types()}
    return [{"type": names.get(a.facility_type, a.facility_type), "grade": GRADE_JA[a.grade - 1], "action": a.action_ja,
             "per_m2_yen": a.per_m2_yen, "fixed_yen": a.fixed_yen, "restores_to": GRADE_JA[a.restores_to - 1],
             "source": a.source, "assumption": a.assumption} for a in params.actions]


def _upload(request: AuthenticatedHttpRequest, muni: Municipality, base: LccParameters) -> tuple[list[Any], str]:
    """Check and store an uploaded table; the issues (row, column, value, message) or a file error."""
    upload = request.FILES.get("file")
    if upload is None:
        return [], "単価表のファイル（Excel または CSV）を選んでください。"
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        return [], f"{upload.name}: ファイルが大きすぎます（{MAX_UPLOAD_BYTES // 1024 // 1024} MB まで）。単価表のファイルを選んでください。"
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in (".csv", ".xlsx", ".txt"):
        return [], f"{upload.name}: Excel（.xlsx）か CSV（.csv）のファイルを選んでください。"
    today = timezone.localdate()
    own = f"{muni.name}の単価（{upload.name}、{today:%Y-%m-%d} 登録）"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        with path.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        try:
            table = read_unit_prices(path, base, display_name=upload.name, own_source=own)
        except UnitPriceFileError as exc:
            return list(exc.issues), exc.message_ja
        except IoFileError as exc:
            return [], exc.message_ja
    MunicipalUnitPrices.objects.filter(municipality=muni, active=True).update(active=False)
    MunicipalUnitPrices.objects.create(municipality=muni, actions=table.as_json(), changed=list(table.changed),
                                       kept=list(table.kept), file_name=upload.name or "", uploaded_by=request.user,
                                       uploaded_by_name=_person(request.user, muni))
    changed = "、".join(table.changed) if table.changed else "なし（既定と同じ単価）"
    messages.success(request, f"{muni.name}の単価表を登録しました（既定から変えた行：{changed}）。"
                              "この団体の LCC と対策計画はこの単価で計算します。")
    return [], ""


def unit_prices(request: AuthenticatedHttpRequest, lg_code: str) -> HttpResponse:
    """GET: the table in use and its downloads; POST (editors): upload a table, or go back to the defaults."""
    muni = get_object_or_404(Municipality, lg_code=lg_code)
    permissions.require_view(request.user, muni)
    shipped = load_lcc_parameters().params
    issues: list[Any] = []
    error = ""
    if request.method == "POST":
        permissions.require_edit(request.user, muni)
        if request.POST.get("action") == "reset":
            n = MunicipalUnitPrices.objects.filter(municipality=muni, active=True).update(active=False)
            if n:
                messages.success(request, f"{muni.name}の単価表を既定（同梱の単価表）に戻しました。")
            return redirect("analysis:unit_prices", lg_code=muni.lg_code)
        issues, error = _upload(request, muni, shipped)
        if not error:
            return redirect("analysis:unit_prices", lg_code=muni.lg_code)
    table = current_table(muni.lg_code)
    params = shipped if request.GET.get("table") == "shipped" else _params_of(table, shipped)
    fmt = request.GET.get("format")
    label = "既定" if params is shipped else "使用中"
    if fmt == "xlsx":
        title = f"{muni.name} LCC の単価表（{params.edition if params is not shipped else '同梱の既定値'}）"
        return attachment(unit_prices_xlsx(params, title=title), f"{muni.name}_単価表_{label}.xlsx", XLSX)
    if fmt == "csv":
        return attachment(unit_prices_csv(params), f"{muni.name}_単価表_{label}.csv", CSV)
    ctx = {"muni": muni, "table": table, "rows": _rows(_params_of(table, shipped)), "columns": COLUMNS,
           "can_edit": permissions.can_edit_ledger(request.user, muni), "issues": issues, "error": error,
           "history": MunicipalUnitPrices.objects.filter(municipality=muni)[:10]}
    return render(request, "analysis/unit_prices.html", ctx, status=400 if error else 200)
