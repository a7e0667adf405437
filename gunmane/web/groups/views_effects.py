"""効果試算 pages of a group: scenarios, the editor (levers explained, parameters with their sources), the
results side by side (waterfall by lever, staff-hours per member, tornado, lots on a map) and Excel.

The scenario is stored as the TOML text `gunmane effects` reads, so the CLI gives the same numbers."""

from __future__ import annotations

import io
import json
import math
import tomllib
from typing import Any

import tomli_w
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from gunmane.engine.effects import EffectsError
from gunmane.engine.effects.parameters import STATUS_LABELS
from gunmane.io.reports import lots_geo
from gunmane.io.reports.effects_xlsx import effects_xlsx
from gunmane.io.scenario import ScenarioFileError, engine_scenarios, read_scenario
from gunmane.io.shipped.costing import costing_editions
from gunmane.io.shipped.parameters import share_rules
from gunmane.io.shipped.vocab import sectors as vocab_sectors
from gunmane.web.common.downloads import XLSX, attachment
from gunmane.web.common.requests import AuthenticatedHttpRequest
from gunmane.web.groups import effects, permissions, workspace
from gunmane.web.groups.forms import MAX_SCENARIOS, ScenarioForm, numeric_parameters
from gunmane.web.groups.models import EffectScenario, Group, MemberRole, SavedDistricting
from gunmane.web.groups.pages import workspace_context
from gunmane.web.groups.permissions import viewable_group
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job
from gunmane.web.registry.models import Facility

PALETTE = ["#0017c1", "#d15b00", "#1a7f37", "#8b0000", "#6a1b9a", "#00838f", "#5d4037", "#c2185b", "#455a64"]
# money in 千円 (the unit the group documents print), expected counts labelled as such, one decimal
METRICS = (("contracts", "契約数（期待件数、試算期間の合計）", 1), ("price_yen", "予定価格（千円）", 0),
           ("overhead_yen", "うち諸経費（千円）", 0),
           ("staff_hours", "職員時間（時間）", 0), ("fte", "職員（FTE、人・年）", 2), ("travel_km", "移動距離（km）", 0),
           ("expected_failed_tenders", "不調・不落（期待件数）", 1), ("days_to_repair", "判定から補修着手まで（日）", 0),
           ("deterioration_cost_yen", "遅れによる劣化の損失（千円）", 0), ("net_effect_yen", "純効果（千円）", 0))
SEN = 1000.0


def _in_unit(key: str, value: Any) -> Any:
    """A total in the unit of its row: yen → 千円 (rounded as the documents round)."""
    if key.endswith("_yen") and value is not None:
        return round(float(value) / SEN)
    return value
ERRORS = effects.ERRORS
compute_effects, compute_lots = effects.compute_effects, effects.compute_lots  # the tasks (older queued rows name them here)


def _scenario(request: HttpRequest, pk: int, sid: int) -> tuple[Group, EffectScenario]:
    group = viewable_group(request.user, pk)
    return group, get_object_or_404(EffectScenario, pk=sid, group=group)


_error_text = effects.error_text


def effects_list(request: HttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    return render(request, "groups/effects_list.html", workspace_context(
        request, group, "effects", scenarios=group.effect_scenarios.all()))


def effects_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """POST creates a scenario; a GET (a bookmarked or typed address) goes to the list, whose button creates one —
    a GET never changes data."""
    group = viewable_group(request.user, pk)
    if request.method != "POST":
        return redirect("groups:effects", pk=group.pk)
    permissions.require_edit_group(request.user, group)
    es = EffectScenario.objects.create(group=group, name=f"{group.name} 効果試算", toml=effects.default_scenario_toml(group),
                                       created_by=request.user)
    messages.success(request, "群の構成団体と分野から、代表的な束ね方のシナリオをつくりました。必要に応じて編集してください。")
    return redirect("groups:effects_edit", pk=group.pk, sid=es.pk)


def effects_edit(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    group, es = _scenario(request, pk, sid)
    permissions.require_edit_group(request.user, group)
    data = tomllib.loads(es.toml)
    errors: list[str] = []
    if request.method == "POST":
        if upload := request.FILES.get("toml_file"):
            text = upload.read().decode("utf-8-sig", errors="replace")
        else:
            form = ScenarioForm(request.POST, stored=data)
            errors = form.messages()
            text = tomli_w.dumps(form.document()) if not errors else ""
        if not errors:
            try:
                sf = read_scenario(f"{es.name}.toml", text=text)
                effects.check_members(sf, group)
                engine_scenarios(sf)
                chosen = request.POST.get("chosen_index", str(es.chosen_index))
                es.toml, es.name = text, str(tomllib.loads(text).get("name") or es.name)[:100]
                es.chosen_index = int(chosen) if chosen.isdigit() else 0
                es.save()
                messages.success(request, "シナリオを保存しました。")
                return redirect("groups:effects_result", pk=group.pk, sid=es.pk)
            except (ScenarioFileError, EffectsError, tomllib.TOMLDecodeError, ValueError) as exc:
                errors.append(_error_text(exc))
    overrides = dict(data.get("parameters") or {})
    params = [{"p": p, "override": overrides.get(p.id, ""), "status": STATUS_LABELS.get(p.status, p.status),
               "key": p.id in _KEY_PARAMS} for p in numeric_parameters()]
    rows = list(data.get("scenario") or [])
    rows += [{"name": "", "levers": []}] * max(0, min(MAX_SCENARIOS, len(rows) + 2) - len(rows))
    scenario_rows = []
    for i, sc in enumerate(rows[:MAX_SCENARIOS]):
        kinds = {lv.get("kind"): lv for lv in sc.get("levers", [])}
        scenario_rows.append({"i": i, "name": sc.get("name", ""), "kinds": kinds,
                              "h_mode": (kinds.get("horizontal") or {}).get("mode", "one_contract"),
                              "v_mode": (kinds.get("vertical") or {}).get("mode", "one_contract"),
                              "years": (kinds.get("years") or {}).get("years", 3)})
    members = [m for m in workspace.ordered_members(group) if m.role != MemberRole.OBSERVER]
    return render(request, "groups/effects_edit.html", workspace_context(
        request, group, "effects", es=es, data=data, errors=errors, params=params, scenario_rows=scenario_rows,
        levers=effects.LEVERS, members=members, sectors=vocab_sectors(), editions=costing_editions(),
        key_params=[x for x in params if x["key"]], other_params=[x for x in params if not x["key"]],
        share_rule_name=_share_rule_name(str(data.get("cost_share", "")))))


def _share_rule_name(key: str) -> str:
    """The group's cost-share rule by its name (the group settings decide it; the editor only shows it)."""
    return next((r.name_ja for r in share_rules() if r.key == key), key or "未設定")


_KEY_PARAMS = {"staff.hourly_cost_yen", "hazard.II", "hazard.III", "lead.days_baseline", "lead.days_process",
               "unit.repair.bridge.base_yen", "unit.inspection.bridge.base_yen", "routine.road_yen_per_km",
               "cap.inspection_sites", "cap.works_sites", "staff.joint_stage_factor", "fte.hours_per_year"}


def effects_result(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    group, es = _scenario(request, pk, sid)
    fmt = request.GET.get("format")
    if fmt == "toml":  # the stored text itself: nothing to compute
        return attachment(es.toml, f"{es.name}.toml", "application/toml; charset=utf-8")
    want_sens = bool(request.GET.get("sensitivity"))
    # the evaluation and its waterfalls (2.2 s a view at 100,000 facilities) are the worker's, once per data version
    job = _effects_job(request, es, want_sens)
    done = jobs.value(job)
    if done is None:
        return jobs.respond(request, job, title=f"効果試算「{es.name}」", back_url=reverse("groups:effects", args=[group.pk]))
    ctx = workspace_context(request, group, "effects", es=es)
    if "error" in done:
        ctx["error"] = done["error"]
        return render(request, "groups/effects_result.html", ctx)
    ev, sens = done["ev"], done["sens"]
    if fmt == "xlsx":
        buf = io.BytesIO()
        effects_xlsx(ev.result, buf, sens)
        return attachment(buf.getvalue(), f"{es.name}.xlsx", XLSX)
    r = ev.result
    runs = [r.baseline, *r.scenarios]
    table = [{"label": label, "digits": digits,
              "values": [_in_unit(key, getattr(s.totals, key)) for s in runs]} for key, label, digits in METRICS]
    chosen = min(es.chosen_index, max(0, len(r.scenarios) - 1))
    show = int(request.GET.get("scenario", chosen)) if str(request.GET.get("scenario", "")).isdigit() else chosen
    show = min(show, max(0, len(r.scenarios) - 1))
    charts: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    if r.scenarios:
        steps = done["waterfalls"][show]
        running, bars = 0.0, []
        for st in steps:
            bars.append([round(running / SEN), round((running + st["saving_yen"]) / SEN)])
            running += st["saving_yen"]
        charts.append({"id": "waterfall", "type": "bar", "labels": [s["lever"] for s in steps] + ["合計"],
                       "floating": True, "y_title": "節減額（千円、費用＋職員時間＋劣化の損失）",
                       "datasets": [{"label": "節減（手段ごと）", "data": [*bars, [0, round(running / SEN)]],
                                     "color": PALETTE[2]}]})
        names = {m.lg_code: m.name for m in r.members}
        codes = [c for c in r.baseline.members]
        sc = r.scenarios[show]
        charts.append({"id": "staff", "type": "bar", "labels": [names.get(c, c) for c in codes],
                       "y_title": "職員時間（時間、試算期間の合計）", "datasets": [
                           {"label": "基準", "data": [round(r.baseline.members[c].staff_hours) for c in codes],
                            "color": PALETTE[0]},
                           {"label": sc.name, "data": [round(sc.members[c].staff_hours) if c in sc.members else None
                                                       for c in codes], "color": PALETTE[1]}]})
    if sens is not None:
        name = r.scenarios[show].name
        rows = sens.tornado(name)[:12]
        base = sens.base[name]
        charts.append({"id": "tornado", "type": "bar", "horizontal": True, "floating": True,
                       "labels": [row.label_ja[:28] for row in rows], "y_title": "純効果（千円）",
                       "datasets": [{"label": f"±{sens.spread:.0%} の範囲", "color": PALETTE[3], "data": [
                           sorted([round(row.low[name] / SEN), round(row.high[name] / SEN)]) for row in rows]}],
                       "base": round(base / SEN)})
    members_rows = []
    if r.scenarios:
        sc = r.scenarios[show]
        for m in r.members:
            b = r.baseline.members.get(m.lg_code)
            s = sc.members.get(m.lg_code)
            if b is None or s is None:
                continue
            members_rows.append({"name": m.name, "b": b, "s": s})
    ctx.update({"shown_name": r.scenarios[show].name if r.scenarios else "", "ev": ev, "result": r, "runs": runs, "table": table, "charts": charts, "steps": steps,
                "show": show, "sens": sens, "members_rows": members_rows, "sector_rows": effects.sector_rows(r, show),
                "levers": [(s.name, s.levers) for s in r.scenarios],
                "show_synthetic": group_is_synthetic(group)})
    return render(request, "groups/effects_result.html", ctx)


def group_is_synthetic(group: Group) -> bool:
    return Facility.objects.filter(manager__lg_code__in=group.member_codes(), is_synthetic=True).exists()


def _effects_job(request: HttpRequest, es: EffectScenario, sensitivity: bool = False) -> Job:
    return effects.effects_job(es, request.user, sensitivity)


def _lots_job(request: HttpRequest, es: EffectScenario) -> Job:
    return effects.lots_job(es, request.user)


def effects_lots(request: HttpRequest, pk: int, sid: int) -> HttpResponse:
    """Lot design on a map: the worker runs CP-SAT within the scenario's time limit (once per data version and
    scenario); the page shows its progress, then the design."""
    group, es = _scenario(request, pk, sid)
    ctx = workspace_context(request, group, "effects", es=es)
    run = request.method == "POST" or bool(request.GET.get("run"))
    job = _lots_job(request, es) if run else _effects_job(request, es)
    done = jobs.value(job)
    if done is None:
        title = f"効果試算「{es.name}」のロット設計" if run else f"効果試算「{es.name}」"
        return jobs.respond(request, job, title=title, back_url=reverse("groups:effects_result", args=[group.pk, es.pk]))
    if "error" in done:
        ctx["error"] = done["error"]
        return render(request, "groups/effects_lots.html", ctx)
    ev, dsg = done["ev"], done.get("design")
    if dsg is not None and request.GET.get("format") == "geojson":  # the address older links use
        return _geo_file(es, ev, dsg, "geojson")
    member_names = {m.lg_code: m.name for m in ev.result.members}
    ctx.update({"design": dsg, "map": _lot_map(dsg, ev, _map_names(dsg, ev)) if dsg is not None else None,
                "lot_sectors": effects.lot_sector_texts(dsg),
                "saved_districting": SavedDistricting.objects.filter(group=group).first(),
                "member_names": member_names, "show_synthetic": group_is_synthetic(group)})
    return render(request, "groups/effects_lots.html", ctx)


# GeoJSON as application/json (what GIS and browsers accept; the site's checks read JSON as data, not prose)
GEO_FORMATS = {"geojson": ("geojson", "application/json; charset=utf-8"),
               "kml": ("kml", "application/vnd.google-earth.kml+xml; charset=utf-8"), "png": ("png", "image/png")}


def effects_lots_geo(request: HttpRequest, pk: int, sid: int, fmt: str) -> HttpResponse:
    """The lot design as a file: GeoJSON or KML (facilities by lot, lot and member areas, day tours) or a PNG map,
    written from the worker's design (its progress page while the design is being made)."""
    group, es = _scenario(request, pk, sid)
    if fmt not in GEO_FORMATS:
        raise Http404("この形式ではダウンロードできません。")
    job = _lots_job(request, es)
    done = jobs.value(job)
    if done is None:
        return jobs.respond(request, job, title=f"効果試算「{es.name}」のロット設計",
                            back_url=reverse("groups:effects_lots", args=[group.pk, es.pk]))
    if "error" in done:
        return HttpResponse(done["error"], status=409, content_type="text/plain; charset=utf-8")
    return _geo_file(es, done["ev"], done["design"], fmt)


def _geo_file(es: EffectScenario, ev: Any, dsg: Any, fmt: str) -> HttpResponse:
    names = _map_names(dsg, ev)
    ext, content_type = GEO_FORMATS[fmt]
    title = f"{es.name} ロット設計"
    synthetic = group_is_synthetic(es.group)
    if fmt == "geojson":
        body: bytes | str = json.dumps(lots_geo.lots_geojson(dsg, names, synthetic=synthetic), ensure_ascii=False)
    elif fmt == "kml":
        body = lots_geo.lots_kml(dsg, names, title, synthetic=synthetic)
    else:
        offices = {m.lg_code: (m.office_lat, m.office_lon) for m in ev.group_input.members
                   if m.office_lat and m.office_lon}
        body = lots_geo.lots_png(dsg, names, offices, title, synthetic=synthetic)
    return attachment(body, f"{title}.{ext}", content_type)


def _map_names(dsg: Any, ev: Any) -> lots_geo.LotMapNames:
    """The ledger's facility names and the members' names for the map files."""
    ids = [int(r["facility"]) for r in lots_geo.facility_rows(dsg) if r["facility"].isdigit()]
    facilities = {str(k): v for k, v in Facility.objects.filter(pk__in=ids).values_list("pk", "name")}
    return lots_geo.LotMapNames(facilities=facilities, members={m.lg_code: m.name for m in ev.result.members})


MAP_W, MAP_H, MAP_PAD, LABEL_PX = 720.0, 540.0, 24.0, 13.0


def _lot_map(dsg: Any, ev: Any, names: lots_geo.LotMapNames) -> dict[str, Any]:
    """An SVG map (equirectangular around the group's facilities; no tiles needed): each member's area (the
    convex hull of its facilities), each lot as a focusable group (its area, day tours, facilities), offices,
    and labels placed without overlap (the ones that do not fit are listed)."""
    rows = lots_geo.facility_rows(dsg)
    if not rows:
        return {"points": []}  # no partition: nothing to draw
    lat0, lat1 = min(r["lat"] for r in rows), max(r["lat"] for r in rows)
    lon0, lon1 = min(r["lon"] for r in rows), max(r["lon"] for r in rows)
    offices = [(m.lg_code, m.office_lat, m.office_lon) for m in ev.group_input.members if m.office_lat and m.office_lon]
    inside = [o for o in offices if lat0 - 0.02 <= o[1] <= lat1 + 0.02 and lon0 - 0.02 <= o[2] <= lon1 + 0.02]
    lat0, lat1 = min([lat0, *[o[1] for o in inside]]), max([lat1, *[o[1] for o in inside]])
    lon0, lon1 = min([lon0, *[o[2] for o in inside]]), max([lon1, *[o[2] for o in inside]])
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    s = min((MAP_W - 2 * MAP_PAD) / max((lon1 - lon0) * kx, 1e-6), (MAP_H - 2 * MAP_PAD) / max(lat1 - lat0, 1e-6))
    ox = (MAP_W - (lon1 - lon0) * kx * s) / 2  # centre the group in the frame
    oy = (MAP_H - (lat1 - lat0) * s) / 2

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return round(ox + (lon - lon0) * kx * s, 1), round(MAP_H - oy - (lat - lat0) * s, 1)

    def pts(hull: list[tuple[float, float]]) -> str:
        return " ".join("{},{}".format(*xy(x, y)) for x, y in hull)

    def centre(hull: list[tuple[float, float]]) -> tuple[float, float]:
        return xy(sum(x for x, _ in hull) / len(hull), sum(y for _, y in hull) / len(hull))

    lots = sorted({r["lot"] for r in rows})
    colour = {lot: lots_geo.colour_of(i) for i, lot in enumerate(lots)}
    summary = {x.id: x for x in dsg.best.lots}
    lot_hulls = lots_geo.lot_areas(rows)
    groups = []
    for lot in lots:
        part = [r for r in rows if r["lot"] == lot]
        name = lots_geo.lot_name(lot, part[0]["base"], names)
        sm = summary.get(lot)
        total = (f"{name}：施設 {sm.facilities:,} 件、団体 {'・'.join(names.member(c) for c in sm.members)}、"
                 f"予定価格（年）{round(sm.price_yen / SEN):,} 千円、移動 {round(sm.travel_km):,} km、"
                 f"不調・不落の確率 {sm.failure_probability:.0%}") if sm else name
        routes = [{"points": " ".join("{},{}".format(*xy(c[0], c[1])) for c in rt["coordinates"]),
                   "title": f"{rt['day']}日目の巡回（{rt['sites']} 施設、{rt['km']:.1f} km）"}
                  for rt in dsg.routes if int(rt["lot"]) == lot]
        groups.append({"lot": lot, "c": colour[lot], "name": name, "summary": total, "routes": routes,
                       "hull": pts(lot_hulls[lot]) if len(lot_hulls[lot]) >= 3 else "",
                       "points": [{"xy": xy(r["lon"], r["lat"]), "title": f"{names.facility(r['facility'])}"
                                   f"（{names.member(r['member'])}）"} for r in part]})
    member_hulls = [(names.member(code), hull) for code, hull in lots_geo.member_areas(rows).items() if len(hull) >= 3]
    areas = [{"name": name, "points": pts(hull)} for name, hull in member_hulls]
    office_xy = [(names.member(code), xy(lon, lat)) for code, lat, lon in inside]
    office_marks = [{"name": name, "xy": p} for name, p in office_xy]
    # a field base (a member wider than the lot radius is split; its far part is served from there), a diamond
    base_xy = [(f"ロット{lot.id}の現地拠点（{names.member(lot.base)}）", xy(lot.base_lon, lot.base_lat))
               for lot in dsg.best.lots if not lot.base_office and lot.base_lat is not None and lot.base_lon is not None]
    field_bases = [{"name": name, "xy": (x, y),
                    "points": f"{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}"}
                   for name, (x, y) in base_xy]
    obstacles = [(x - 6, y - 6, x + 6, y + 6) for _, (x, y) in office_xy + base_xy]
    items: list[tuple[str, float, float, str]] = [(name, *centre(hull), "area") for name, hull in member_hulls]
    items += [(f"ロット{lot}", *centre(lot_hulls[lot]), "lot") for lot in lots]
    labels, skipped = lots_geo.place_labels(items, size=LABEL_PX, width=MAP_W, height=MAP_H, obstacles=obstacles)
    outside = [names.member(code) for code, *_ in offices if all(code != o[0] for o in inside)]
    return {"points": rows, "lots": groups, "areas": areas, "offices": office_marks, "bases": field_bases,
            "labels": labels,
            "skipped": skipped, "outside": outside, "w": int(MAP_W), "h": int(MAP_H),
            "legend": [(g["lot"], g["c"], g["name"]) for g in groups]}
