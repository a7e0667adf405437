"""劣化予測・LCC・対策計画 pages for a municipality, a prefecture or a group.

Unlike the カルテ statistics these pages work on facility-level ledger data (a plan lists facilities by
name), so each checks the ledger permission: a municipality's page needs the right to view its ledger;
a group's page an accepted member's (members share the group's views, computed from accepted members only); a prefecture's page the prefecture's own
staff; the national scope the administrators only.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from pathlib import Path
from typing import Any, cast

import numpy as np
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django_tasks import task

from gunmane.engine.deterioration import DeteriorationError, FitResult, StateSpace, fit, reach_curve_band
from gunmane.engine.indicator_types import Scope, ScopeKind
from gunmane.engine.lcc import STRATEGIES, LccError, prepare_assets
from gunmane.io.ledger.pairs import PairsFileError, read_pairs
from gunmane.io.reports.lcc_xlsx import (
    METHOD_JA,
    UNIT_JA,
    LccRun,
    grade_name,
    lcc_xlsx,
    mixed_plan_xlsx,
    plan_xlsx,
    remark_name,
    sector_lcc_xlsx,
)
from gunmane.io.shipped.lcc import LccDefaults, load_lcc_parameters
from gunmane.io.values.amounts import parse_yen
from gunmane.io.values.scales import scale_for_facility_type
from gunmane.web.accounts import permissions
from gunmane.web.analysis import lifecycle, services
from gunmane.web.analysis.unit_prices import lcc_defaults_for_scope
from gunmane.web.analysis.views import scope_spec
from gunmane.web.common.downloads import XLSX, attachment
from gunmane.web.groups import permissions as group_permissions
from gunmane.web.groups.models import Group
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job
from gunmane.web.registry import frames
from gunmane.web.registry.models import Municipality, MunicipalityKind

GRADES_JA = {"I": "Ⅰ", "II": "Ⅱ", "III": "Ⅲ", "IV": "Ⅳ", "III+IV": "Ⅲ・Ⅳ"}
COLORS = ["#1a7f37", "#d4a000", "#d15b00", "#8b0000"]
PALETTE = ["#0017c1", "#d15b00", "#1a7f37", "#8b0000"]
MAX_PLAN_ROWS = 500


# --------------------------------------------------------------------------- scope and permission


def _scope(request: HttpRequest, spec: str) -> tuple[Scope, str]:
    """URL spec (団体コード, 2-digit prefecture code, group-<pk>) → scope, after the permission check."""
    user = request.user
    if spec.startswith("group-") and spec[6:].isdigit():
        group = Group.objects.filter(pk=int(spec[6:])).first()
        if group is None:
            raise Http404("群が見つかりません。")
        # Accepted members share the group's views; the scope holds the accepted members only.
        group_permissions.require_view_group(user, group)
        return services.resolve_scope(f"group:{group.name}"), spec
    try:
        scope = services.resolve_scope(spec)
    except services.ScopeNotFound as exc:
        raise Http404(str(exc)) from exc
    if scope.kind == ScopeKind.NATIONAL:
        if not getattr(user, "is_superuser", False):
            raise PermissionDenied("全国の施設台帳を使う計算は管理者だけが実行できます。")
    elif scope.kind == ScopeKind.PREFECTURE:
        pref = Municipality.objects.filter(prefecture__code=scope.code, kind=MunicipalityKind.PREFECTURE).first()
        if pref is None or not permissions.can_view_ledger(user, pref):
            raise PermissionDenied(f"{scope.name}全体の施設台帳を閲覧する権限がありません（都道府県の職員のみ）。")
    else:
        muni = Municipality.objects.get(lg_code=scope.code)
        permissions.require_view(user, muni)
    return scope, spec


def _float(request: HttpRequest, name: str, lo: float, hi: float) -> tuple[float | None, str | None]:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None, None
    try:
        value = float(raw.replace(",", "").translate(str.maketrans("０１２３４５６７８９．", "0123456789.")))
    except ValueError:
        return None, f"「{raw}」は数値ではありません。"
    if not lo <= value <= hi:
        return None, f"{raw} は {lo:g}〜{hi:g} の範囲で指定してください。"
    return value, None


def _base_context(scope: Scope, spec: str, synthetic: bool, active: str) -> dict[str, Any]:
    return {"scope": scope, "spec": spec, "show_synthetic": synthetic, "active": active,
            "scope_label": scope.name, "charts": []}


def _synthetic(sl: lifecycle.ScopeLedger) -> bool:
    fac = sl.ledger.facilities
    return bool(len(fac) and fac["is_synthetic"].any())


def _r(x: float, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


# --------------------------------------------------------------------------- deterioration


@task()
def compute_fit(job_id: str) -> None:
    """A scope's deterioration fit, with the pooled comparison for a group (the worker: gunmane worker)."""
    jobs.run_value(job_id, _compute_fit)


def _compute_fit(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    p = job.params
    progress(2, "施設台帳と点検の記録を読んでいます。")
    sl = lifecycle.scope_ledger(services.resolve_scope(p["scope"]))
    return lifecycle.deterioration_summary(
        sl, merge_iv=p["merge_iv"], facility_type=p.get("facility_type", "bridge"), pool=p["pool"],
        progress=lambda step, steps, stage: progress(5 + 90 * step // max(steps, 1), f"{stage}（{step}/{steps}）。"))


def fit_job(scope: Scope, *, merge_iv: bool, facility_type: str, pool: bool, user: Any) -> Job:
    """The worker's job of a scope's fit (a group's first fit took 20 s at scale), once per data version: the page,
    its JSON and the API (/api/…/deterioration/) read the same job."""
    return jobs.start_value(compute_fit, kind="deterioration_fit",
                            subject=f"{scope_spec(scope)}|{merge_iv}|{facility_type}|{pool}",
                            version=jobs.version_of(frames.fingerprint()), label=f"{scope.name}の劣化予測",
                            params={"scope": scope_spec(scope), "merge_iv": merge_iv, "pool": pool,
                                    **({} if facility_type == "bridge" else {"facility_type": facility_type})},
                            user=user)


def deterioration(request: HttpRequest, spec: str) -> HttpResponse:
    scope, spec = _scope(request, spec)
    choices = fit_choices()
    ft = request.GET.get("facility_type", "bridge")
    ft = ft if ft in dict(choices) else "bridge"
    own = scale_for_facility_type(ft)
    road = own.id == "I-IV"
    merge_iv = road and request.GET.get("merge_iv") == "1"
    pool = scope.kind == ScopeKind.GROUP
    sl = lifecycle.scope_ledger(scope)
    wants_json = request.GET.get("format") == "json"
    job = fit_job(scope, merge_iv=merge_iv, facility_type=ft, pool=pool, user=request.user)
    summary = jobs.value(job)
    type_name = dict(choices)[ft]
    if summary is None:
        return jobs.respond(request, job, title=f"{scope.name}の{type_name}の劣化予測", back_url=request.path)
    ctx = _base_context(scope, spec, _synthetic(sl), "deterioration")
    ctx.update({"merge_iv": merge_iv, "fit_choices": choices, "facility_type": ft, "type_name": type_name,
                "road_scale": road, "scale": own, "unit_word": "橋" if ft == "bridge" else "施設"})
    ctx.update({"pairs": summary["pairs"], "error": summary["error"],
                "excluded": [(k, v) for k, v in summary["pairs"].excluded.items() if v]})
    result = summary["fit"]
    if wants_json:
        if result is None:
            return JsonResponse({"status": "invalid", "error": summary["error"].as_json()}, status=200,
                                json_dumps_params={"ensure_ascii": False})
        return JsonResponse(result.as_json(), json_dumps_params={"ensure_ascii": False})
    charts: list[dict[str, Any]] = []
    ctx["remedies"] = _remedies(request, scope, spec, merge_iv, pooled=summary.get("pooled") is not None,
                                facility_type=ft)
    if result is not None:
        labels = list(result.states.labels)
        fit_ctx = fit_context(result)
        charts += fit_ctx.pop("charts")
        ctx.update(fit_ctx)
        # where the scope's bridges are heading (no repairs), from today's distribution
        fac = lifecycle.facility_frame(sl)
        bridges = fac[fac["facility_type"] == ft]
        forecast = None
        if len(bridges):
            assets = prepare_assets(bridges, result.model, facility_types=(ft,), inspection_interval=5)
            counts = result.model.forecast(assets.initial.sum(axis=0), 30)
            forecast = counts
            charts.append({"id": "forecast", "type": "bar", "stacked": True,
                           "labels": [str(lifecycle.start_fiscal_year() + int(t)) for t in counts.index],
                           "datasets": [{"label": GRADES_JA.get(lab, lab), "data": [_r(v, 1) for v in counts[lab]],
                                         "color": COLORS[min(i, 3)]} for i, lab in enumerate(labels)],
                           "y_title": f"{type_name}の数（期待値）" if ft != "bridge" else "橋梁数（期待値）",
                           "x_title": "年度"})
        repair = result.repair_probability() if road else result.repair_probability((own.trigger or 3) - 1)
        ctx["repair"] = {**repair, "bridges": len(bridges), "per_year_count": repair["per_year"] * len(bridges),
                         "trigger_ja": GRADES_JA.get(repair["trigger"], repair["trigger"]),
                         "pct": f"{repair['per_year']:.2%}", "ci_pct": [f"{v:.2%}" for v in repair["ci"]]}
        ctx.update({"forecast": forecast,
                    "forecast_rows": [] if forecast is None else [
                        (lifecycle.start_fiscal_year() + int(t), [forecast.loc[t, lab] for lab in labels])
                        for t in forecast.index[::5]],
                    "pooled": summary.get("pooled"), "comparison": summary.get("comparison"),
                    "pool_error": summary.get("pool_error"), "comparison_error": summary.get("comparison_error")})
        if summary.get("pooled") is not None:
            names = dict(Municipality.objects.filter(lg_code__in=[m.member for m in summary["pooled"].members])
                         .values_list("lg_code", "name"))
            ctx["members"] = [(names.get(m.member, m.member), m) for m in summary["pooled"].members]
    ctx["charts"] = charts
    return render(request, "analysis/deterioration.html", ctx)


#: a figure whose 95 % interval spans more than this factor (upper ÷ lower) carries its caution next to it
#: (docs/deterioration.md §5.2): at 10 the figure is uncertain by an order of magnitude
WIDE_INTERVAL_RATIO = 10.0
#: a hazard estimated from fewer transitions out of its grade than this carries its caution next to it
FEW_TRANSITIONS = 20


def _caution(ratio: float, moved: float, grade: str) -> str | None:
    """The words next to a figure that should not be taken at face value, or None."""
    parts = []
    if not math.isfinite(ratio) or ratio > WIDE_INTERVAL_RATIO:
        parts.append("95%範囲が非常に広い" + (f"（上限が下限の {ratio:,.0f} 倍）" if math.isfinite(ratio) else ""))
    if moved < FEW_TRANSITIONS:
        parts.append(f"健全性{grade}から先へ進んだ点検ペアが {moved:,.0f} 組しかない（{FEW_TRANSITIONS} 組未満）")
    return "この値はそのまま使わないでください：" + "、".join(parts) + "。" if parts else None


def fit_choices() -> list[tuple[str, str]]:
    """Facility types the deterioration page fits: 橋梁 (the default) and each type with a graded scale of its own
    (舗装 Ⅰ〜Ⅲ, 管渠 緊急度, 遊具 A〜D …); a type judged by age (水道管路) has no Markov states."""
    from gunmane.io.shipped.vocab import facility_types

    out = [("bridge", "橋梁")]
    for t in facility_types():
        if t.code != "bridge" and scale_for_facility_type(t.code).graded and scale_for_facility_type(t.code).id != "I-IV":
            out.append((t.code, t.name))
    return out


def fit_context(result: FitResult) -> dict[str, Any]:
    """Hazard table, expected years and the reach curves with their 95 % band (shared by both fit pages);
    a figure with a very wide interval or resting on few transitions out of a grade carries its caution."""
    labels = list(result.states.labels)
    years = np.arange(0, 101, 1.0)
    ey = result.expected_years()
    moved = [float(result.transitions[i, i + 1:].sum()) for i in range(len(labels) - 1)]
    rows = []
    for i, lab in enumerate(labels[:-1]):
        so = ey[(ey["kind"] == "sojourn") & (ey["grade"] == lab)].iloc[0]
        lo, hi = result.conf_int[i]
        g = GRADES_JA.get(lab, lab)
        rows.append({"grade": g, "theta": result.hazards[i], "se": result.std_errors[i],
                     "ci": (lo, hi), "sojourn": so["years"], "sojourn_ci": (so["ci_low"], so["ci_high"]),
                     "moved": moved[i], "caution": _caution(hi / lo if lo > 0 else math.inf, moved[i], g)})
    from_new = []
    for j, r in enumerate(ey[ey["kind"] == "from_new"].to_dict("records"), start=1):
        weakest = int(np.argmin(moved[:j]))
        ratio = r["ci_high"] / r["ci_low"] if r["ci_low"] > 0 else math.inf
        from_new.append({"grade": GRADES_JA.get(r["grade"], r["grade"]), "years": r["years"],
                         "ci": (r["ci_low"], r["ci_high"]),
                         "caution": _caution(ratio, moved[weakest], GRADES_JA.get(labels[weakest], labels[weakest]))})
    datasets = []
    for target in range(1, len(labels)):
        c, lo_b, hi_b = reach_curve_band(result, years, target)
        color = COLORS[min(target, len(COLORS) - 1)]
        name = f"{GRADES_JA.get(labels[target], labels[target])}以上になっている確率"
        datasets += [
            {"label": f"{name}（95%下限）", "data": [_r(v) for v in lo_b], "color": color, "band": True},
            {"label": f"{name}（95%上限）", "data": [_r(v) for v in hi_b], "color": color, "band": True, "fill": "-1"},
            {"label": name, "data": [_r(v) for v in c], "color": color},
        ]
    chart = {"id": "reach", "type": "line", "labels": [int(y) for y in years], "datasets": datasets,
             "y_title": "確率", "x_title": "新設からの年数", "y_max": 1}
    return {"fit": result, "rows": rows, "from_new": from_new, "charts": [chart],
            "any_caution": any(r["caution"] for r in rows) or any(r["caution"] for r in from_new),
            "wide_ratio": WIDE_INTERVAL_RATIO, "few_transitions": FEW_TRANSITIONS,
            "labels_ja": [GRADES_JA.get(lab, lab) for lab in labels], "one_year": result.one_year_matrix().tolist()}


def _remedies(request: HttpRequest, scope: Scope, spec: str, merge_iv: bool, *, pooled: bool,
              facility_type: str = "bridge") -> list[tuple[str, str]]:
    """What the user can do about an uncertain fit, as working links: merge Ⅳ into Ⅲ (road scale), the group's
    pooled fit, more years of inspection records (the import page of each member the user may edit)."""
    out: list[tuple[str, str]] = []
    same_type = "" if facility_type == "bridge" else f"?facility_type={facility_type}"
    if not merge_iv and facility_type == "bridge":
        out.append(("Ⅳ をⅢにまとめて推定する（Ⅲ から先の記録が少ないとき）", "?merge_iv=1"))
    if scope.kind == ScopeKind.GROUP and pooled:
        out.append(("構成団体の点検ペアを群でまとめた推定を見る", "#members"))
    elif scope.kind == ScopeKind.MUNICIPALITY:
        for group in Group.objects.filter(members__municipality__lg_code=scope.code).distinct().order_by("name"):
            if group_permissions.can_view_group(request.user, group) and scope.code in group.member_codes():
                out.append((f"群「{group.name}」で構成団体の点検ペアをまとめて推定する",
                            reverse("analysis:deterioration", args=[f"group-{group.pk}"]) + same_type))
    codes = [scope.code] if scope.kind == ScopeKind.MUNICIPALITY else list(scope.members)
    for muni in Municipality.objects.filter(lg_code__in=codes).order_by("lg_code"):
        if permissions.can_edit_ledger(request.user, muni):
            out.append((f"{muni.name}の過去の点検記録を取り込む（年数が長いほど推定が安定します）",
                        reverse("registry:import_create", args=[muni.lg_code])))
    return out


MAX_PAIRS_UPLOAD = 20 * 1024 * 1024


def deterioration_pairs(request: HttpRequest) -> HttpResponse:
    """Fit on an uploaded pairs file (CSV/XLSX); the file is read, used and discarded, never stored."""
    merge_iv = request.POST.get("merge_iv") == "1"
    ctx: dict[str, Any] = {"merge_iv": merge_iv, "charts": [], "remedies_text": [
        *([] if merge_iv else ["「Ⅳ をⅢにまとめる」にチェックを入れて、もう一度推定する（Ⅲ から先の記録が少ないとき）"]),
        "複数の団体の点検ペアを一つのファイルにまとめ、「団体コード」の列をつけて推定する（群でまとめた推定）",
        "点検の年数が長い記録（過去の年度の点検）を加えて推定する"]}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            ctx["error_text"] = "ファイルを選んでください。"
        elif (size := upload.size or 0) > MAX_PAIRS_UPLOAD:
            ctx["error_text"] = f"ファイルが大きすぎます（{size / 1e6:.0f} MB、上限 20 MB）。"
        else:
            suffix = Path(upload.name or "").suffix.lower()
            states = StateSpace.grades(merge_iv=ctx["merge_iv"])
            with tempfile.NamedTemporaryFile(suffix=suffix if suffix in (".csv", ".xlsx") else ".csv") as tmp:
                for chunk in upload.chunks():
                    tmp.write(chunk)
                tmp.flush()
                try:
                    pairs = read_pairs(Path(tmp.name), states=states, display_name=upload.name).pairs
                    result = fit(pairs, states=states, covariates=pairs.covariates)
                    fit_ctx = fit_context(result)
                    ctx["charts"] = fit_ctx.pop("charts")
                    ctx.update(fit_ctx)
                    ctx["excluded"] = [(k, v) for k, v in result.excluded.items() if v]
                    ctx["filename"] = upload.name
                except PairsFileError as exc:
                    ctx["file_error"] = exc
                except DeteriorationError as exc:
                    ctx["error"] = exc
    return render(request, "analysis/deterioration_pairs.html", ctx)


# --------------------------------------------------------------------------- LCC


def _defaults_from_request(request: HttpRequest) -> tuple[LccDefaults, dict[str, float | None], dict[str, str]]:
    """The LCC defaults with the reader's discount rate and horizon, those overrides, and the input errors."""
    errors: dict[str, str] = {}
    rate, e1 = _float(request, "discount_rate", 0.0, 0.2)
    horizon, e2 = _float(request, "horizon", 10, 150)
    if e1:
        errors["discount_rate"] = e1
    if e2:
        errors["horizon"] = e2
    overrides = {"discount_rate": rate, "horizon_years": None if horizon is None else float(int(horizon))}
    return load_lcc_parameters().with_overrides(**overrides), overrides, errors


# -- LCC and plans computed on the task queue (gunmane.web.jobs, docs/tasks.md) ------------------------------
LIFECYCLE_JOBS = {"lcc": "LCC比較", "plan": "対策計画"}


def _on_queue(request: HttpRequest, kind: str, scope: Scope, inputs: dict[str, Any]) -> Any:
    """The (result, hazard choice) — or the LccError — of this LCC or plan for the current data, computed by the
    worker once per inputs and data version; an HttpResponse (the progress page) while it is not ready.

    The key holds the tables the computation reads besides the ledger (the shipped parameters with the
    municipality's own unit prices, the fiscal year it starts from), so a new unit price table is a new job."""
    d = lcc_defaults_for_scope(scope, load_lcc_parameters().with_overrides(**inputs.get("overrides", {})))
    params = {"kind": kind, "scope": scope_spec(scope), **inputs}
    tables = repr((d.params, d.plan, d.hazards, lifecycle.start_fiscal_year()))
    digest = hashlib.sha256(f"{sorted(params.items())!r}|{tables}".encode()).hexdigest()[:24]
    title = f"{scope.name}の{LIFECYCLE_JOBS[kind]}"
    job = jobs.start_value(compute_lifecycle, kind=kind, subject=f"{params['scope']}|{digest}",
                           version=jobs.version_of(frames.fingerprint()), label=title, params=params,
                           user=request.user)
    got = jobs.value(job)
    if got is None:
        return jobs.respond(request, job, title=title, back_url=request.path)
    return got


@task()
def compute_lifecycle(job_id: str) -> None:
    """An LCC comparison or a repair plan for one scope (the worker: gunmane worker)."""
    jobs.run_value(job_id, _compute_lifecycle)


def _compute_lifecycle(job: Job, progress: jobs.Progress) -> Any:
    p = job.params
    progress(5, "施設台帳と点検の記録を読んでいます。")
    scope = services.resolve_scope(p["scope"])
    progress(20, "劣化の進み方から費用を計算しています。" if p["kind"] == "lcc" else "予算の中で対策の順番を決めています。")
    sector = p.get("facility_type") or ""
    try:
        if p["kind"] == "lcc":
            if sector:
                result, run = lifecycle.sector_lcc_for_scope(scope, sector, overrides=p["overrides"])
                return result, run.choice
            return lifecycle.lcc_for_scope(scope, overrides=p["overrides"])
        if sector:
            d = load_lcc_parameters()
            types = sector_plan_types(d, sector)
            return lifecycle.mixed_plan_for_scope(scope, types, budget_yen=p["budget"], years=p["years"],
                                                  mode=p["mode"], strategy=p["strategy"])
        return lifecycle.plan_for_scope(scope, budget_yen=p["budget"], years=p["years"], mode=p["mode"],
                                        strategy=p["strategy"])
    except LccError as exc:  # the page explains it (too few inspections, …): a result, not a failure
        return exc


def sector_choices(d: LccDefaults, *, plan: bool) -> list[tuple[str, str]]:
    """(value, name) of the facility-type choice: road structures (the default), each sector with a cost table,
    and for plans every sector together (水道管路 as its renewal line)."""
    from gunmane.io.shipped.vocab import facility_types

    names = {t.code: t.name for t in facility_types()}
    road = "・".join(names.get(c, c) for c in d.params.facility_types)
    out = [("", f"{road}（道路構造物）")] + [(c, names.get(c, c)) for c in d.sector_types]
    if plan:
        out += [(r.facility_type, f"{names.get(r.facility_type, r.facility_type)}（更新の必要額）")
                for r in d.sectors.renewals]
        out.append(("all", "すべての分野（1つの予算で）"))
    return out


def sector_plan_types(d: LccDefaults, choice: str) -> tuple[str, ...]:
    """The facility types of a plan for the page's choice (all = every table, else road structures + that sector)."""
    if choice == "all":
        return (*d.params.facility_types, *d.sector_types, *(r.facility_type for r in d.sectors.renewals))
    return (choice,)


def _on_own_scale(row: dict[Any, Any]) -> dict[Any, Any]:
    """A plan row of a sector plan with its grade and remark on its facility type's scale (the engine labels
    grades by the scale's plain tokens: 「III」「D」)."""
    from gunmane.io.ledger.grades import scale_of_type

    sc = scale_of_type(str(row["facility_type"]))
    return {**row, "grade": grade_name(sc, str(row["grade"])), "note": remark_name(sc, str(row["note"] or ""))}


def _sector_choice(request: HttpRequest, d: LccDefaults, *, plan: bool) -> str:
    value = request.GET.get("facility_type", "")
    return value if value in {v for v, _ in sector_choices(d, plan=plan)} else ""


def _sector_actions(params: Any, labels: tuple[str, ...]) -> list[dict[str, Any]]:
    """The action table of a sector in its scale's labels (the road page keeps its 健全性 columns)."""
    from gunmane.io.shipped.vocab import facility_types

    names = {t.code: t.name for t in facility_types()}
    return [{"type": names.get(a.facility_type, a.facility_type), "grade": labels[a.grade - 1], "action": a.action_ja,
             "per_unit": a.per_m2_yen, "unit": UNIT_JA.get(a.unit, a.unit), "fixed": a.fixed_yen,
             "restores": labels[a.restores_to - 1], "assumption": a.assumption, "source": a.source}
            for a in params.actions]


def _unit_prices_url(spec: str) -> str | None:
    """The page where a municipality registers its own unit prices (analysis:unit_prices), when it exists."""
    for args in ((spec,), ()):
        try:
            return reverse("analysis:unit_prices", args=args)
        except NoReverseMatch:
            continue
    return None


def lcc(request: HttpRequest, spec: str) -> HttpResponse:
    scope, spec = _scope(request, spec)
    d, overrides, errors = _defaults_from_request(request)
    sector = _sector_choice(request, d, plan=False)
    got = _on_queue(request, "lcc", scope, {"overrides": overrides, **({"facility_type": sector} if sector else {})})
    if isinstance(got, HttpResponse):
        return got
    sl = lifecycle.scope_ledger(scope)
    ctx = _base_context(scope, spec, _synthetic(sl), "lcc")
    ctx.update({"errors": errors, "params": d.params if not sector else d.for_type(sector),
                "discount_rate": d.params.discount_rate.value, "sector": sector,
                "sector_choices": sector_choices(d, plan=False), "sector_name": dict(sector_choices(d, plan=False))[sector],
                "horizon": int(d.params.horizon_years.value), "unit_prices_url": _unit_prices_url(spec)})
    if sector:
        sc = scale_for_facility_type(sector)
        labels_sc = tuple(g.label for g in sc.grades)
        ctx.update({"scale": sc, "sector_actions": _sector_actions(ctx["params"], labels_sc),
                    "due_label": labels_sc[(sc.trigger or 1) - 1]})
    if isinstance(got, LccError):
        ctx["error"] = got
        return render(request, "analysis/lcc.html", ctx)
    result, choice = got
    ctx["params"] = result.params  # the table in use: the municipality's own unit prices when it registered them
    fmt = request.GET.get("format")
    if fmt == "xlsx" and sector:  # the sector on its own scale: its grade names, unit costs in its unit
        run = LccRun((sector,), ctx["scale"], result, choice.model.source, tuple(choice.reasons))
        return attachment(sector_lcc_xlsx([run], title=scope.name, synthetic=ctx["show_synthetic"]),
                          f"{scope.name}_LCC比較_{ctx['sector_name']}.xlsx", XLSX)
    if fmt == "xlsx":
        return attachment(lcc_xlsx(result, title=scope.name, synthetic=ctx["show_synthetic"]), f"{scope.name}_LCC比較.xlsx", XLSX)
    if fmt == "json":
        return JsonResponse({"scope": scope.name, "hazard_path": choice.path,
                             **({"facility_type": sector, "hazard_source": choice.model.source} if sector else {}),
                             **result.as_json()}, json_dumps_params={"ensure_ascii": False})
    years = [str(result.start_year + int(t)) for t in result.strategies[0].annual.index]
    cumulative: dict[str, Any] = {"id": "cumulative", "type": "line", "labels": years, "y_title": "累計費用（億円）",
                  "x_title": "年度", "datasets": [
                      {"label": s.strategy.name_ja, "data": [_r(v / 1e8, 3) for v in s.annual["total"].cumsum()],
                       "color": PALETTE[i]} for i, s in enumerate(result.strategies)]}
    annual: dict[str, Any] = {"id": "annual", "type": "line", "labels": years, "y_title": "年間費用（億円）", "x_title": "年度",
              "datasets": []}
    for i, s in enumerate(result.strategies):
        if "p05" in s.annual:
            annual["datasets"] += [
                {"label": f"{s.strategy.name_ja}（5%）", "data": [_r(v / 1e8, 3) for v in s.annual["p05"]],
                 "color": PALETTE[i], "band": True},
                {"label": f"{s.strategy.name_ja}（95%）", "data": [_r(v / 1e8, 3) for v in s.annual["p95"]],
                 "color": PALETTE[i], "band": True, "fill": "-1"}]
        annual["datasets"].append({"label": s.strategy.name_ja, "data": [_r(v / 1e8, 3) for v in s.annual["total"]],
                                   "color": PALETTE[i]})
    labels = list(result.model.states.labels)
    due = (ctx["scale"].trigger or 3) - 1 if sector else 2
    due_title = f"{labels[due]}以上の施設数（期待値）" if sector else "Ⅲ・Ⅳ の施設数（期待値）"
    grades = {"id": "grades", "type": "line", "labels": years, "y_title": due_title, "x_title": "年度",
              "datasets": [{"label": s.strategy.name_ja, "data": [_r(v, 2) for v in s.occupancy[labels[due:]].sum(axis=1)],
                            "color": PALETTE[i]} for i, s in enumerate(result.strategies)]}
    table_years = list(range(0, len(years), 10))
    ctx.update({"result": result, "choice": choice, "charts": [cumulative, annual, grades],
                "labels_ja": [GRADES_JA.get(lab, lab) for lab in labels],
                "summary": [(s, [s.facility_years[lab] for lab in labels]) for s in result.strategies],
                "annual_rows": [(years[t], [float(s.annual["total"].iloc[t]) for s in result.strategies],
                                 [float(s.annual["total"].iloc[: t + 1].sum()) for s in result.strategies])
                                for t in table_years],
                "assumptions": result.as_json(annual=False)["assumptions"]})
    return render(request, "analysis/lcc.html", ctx)


# --------------------------------------------------------------------------- plan


def plan(request: HttpRequest, spec: str) -> HttpResponse:
    scope, spec = _scope(request, spec)
    sl = lifecycle.scope_ledger(scope)
    ctx = _base_context(scope, spec, _synthetic(sl), "plan")
    mode = request.GET.get("mode", "budget")
    mode = mode if mode in ("budget", "level") else "budget"
    strategy = request.GET.get("strategy", "early_corrective")
    strategy = strategy if strategy in {s.key for s in STRATEGIES} else "early_corrective"
    years_raw = request.GET.get("years", "10")
    budget_raw = request.GET.get("budget", "").strip()
    errors: dict[str, str] = {}
    years = int(years_raw) if years_raw.isdigit() and 1 <= int(years_raw) <= 30 else None
    if years is None:
        errors["years"] = "計画期間は 1〜30 年の整数で指定してください。"
    budget: float | None = None
    if budget_raw:
        try:
            budget = parse_yen(budget_raw)
        except ValueError as exc:
            errors["budget"] = str(exc)
    elif mode == "budget" and "budget" in request.GET:
        errors["budget"] = "年間の予算を入力してください。"
    d = load_lcc_parameters()
    sector = _sector_choice(request, d, plan=True)
    ctx.update({"mode": mode, "strategy": strategy, "years": years_raw, "budget_raw": budget_raw, "errors": errors,
                "strategies": STRATEGIES, "method_ja": METHOD_JA, "sector": sector,
                "sector_choices": sector_choices(d, plan=True)})
    ready = not errors and years is not None and (mode == "level" or budget is not None)
    if not ready:
        return render(request, "analysis/plan.html", ctx)
    assert years is not None
    got = _on_queue(request, "plan", scope, {"budget": budget, "years": years, "mode": mode, "strategy": strategy,
                                             **({"facility_type": sector} if sector else {})})
    if isinstance(got, HttpResponse):
        return got
    if isinstance(got, LccError):
        ctx["error"] = got
        return render(request, "analysis/plan.html", ctx)
    result, choice = got
    renewal_lines: tuple[Any, ...] = ()
    if sector:  # a plan of sectors: the second item holds the renewal lines of the types without grades
        renewal_lines, choice = choice, None
        ctx["renewal_lines"] = [{"name": dict(sector_choices(d, plan=True)).get(line.facility_type,
                                                                                 line.facility_type),
                                 "line": line, "rows": line.table.to_dict("records")} for line in renewal_lines]
    fmt = request.GET.get("format")
    if fmt == "json" and sector:
        return JsonResponse({"scope": scope.name, "budget_yen_per_year": budget, **result.as_json(),
                             "renewal_lines": [line.as_json() for line in renewal_lines]},
                            json_dumps_params={"ensure_ascii": False})
    if fmt == "xlsx" and sector:  # each sector on its own scale, the budget across sectors with the renewal lines
        return attachment(mixed_plan_xlsx(result, renewal_lines, title=scope.name, synthetic=ctx["show_synthetic"],
                                          budget_yen=budget), f"{scope.name}_対策計画_分野別.xlsx", XLSX)
    if fmt == "xlsx":
        return attachment(plan_xlsx(result, title=scope.name, synthetic=ctx["show_synthetic"]), f"{scope.name}_対策計画.xlsx", XLSX)
    if fmt == "json":
        return JsonResponse({"scope": scope.name, "budget_yen_per_year": budget, **result.as_json()},
                            json_dumps_params={"ensure_ascii": False})
    b = result.budget
    chart: dict[str, Any] = {"id": "budget", "type": "bar", "labels": [str(y) for y in b.index], "y_title": "対策費（百万円）",
             "x_title": "年度", "datasets": [
                 {"label": METHOD_JA[k], "data": [_r(v / 1e6, 2) for v in b[k]], "color": PALETTE[i]}
                 for i, k in enumerate(("plan", "worst_first", "unconstrained"))]}
    if mode == "budget":
        chart["datasets"].insert(0, {"label": "予算上限", "data": [_r(v / 1e6, 2) for v in b["cap"]],
                                     "color": "#333333", "line": True})
    table = result.table
    rows = table.head(MAX_PLAN_ROWS).to_dict("records")
    if sector:  # each grade and remark as its type's manual names it (「Ⅲ」「健全度C」「緊急度Ⅱ」), as in the Excel
        rows = [_on_own_scale(r) for r in rows]
    ctx.update({"result": result, "choice": choice, "charts": [chart],
                "rows": rows, "n_rows": len(table),
                "max_rows": MAX_PLAN_ROWS,
                "budget_rows": [(int(cast(int, fy)), rec) for fy, rec in b.iterrows()],  # the index: fiscal years
                "totals": [(METHOD_JA[str(k)], rec) for k, rec in result.totals.iterrows()],
                "assumptions": list(result.assumptions), "plan_params": result.plan_params.all()})
    return render(request, "analysis/plan.html", ctx)
