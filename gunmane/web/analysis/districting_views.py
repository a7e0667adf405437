"""見える化 「全国の束ね効果」 (issue #14 §4): for every prefecture, the expected repair contracts a year if each
municipality orders alone vs the best districts at a distance D, and whom each municipality would be grouped
with — the result of `gunmane districts national` (saved with --save), or the one shipped with gunmane
(gunmane/data/districting/national.json, the office approximation from the reference data).

Who sees what (docs/permissions.md): the page is public. A visitor sees only results computed from the public
reference data (office approximation: ``office_only`` runs or the shipped file); a run that used municipal
ledgers is shown to signed-in users only.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from gunmane.io.districting import NATIONAL_BASIS_JA, national_xlsx, shipped_national
from gunmane.web.analysis.models import NationalDistricting
from gunmane.web.registry.models import Municipality

#: reduction bins (%) of the map's colours: below 10, 10–20, … , 50 and more
BINS = (10.0, 20.0, 30.0, 40.0, 50.0)
BIN_LABELS = ("10 % 未満", "10〜20 %", "20〜30 %", "30〜40 %", "40〜50 %", "50 % 以上")
SORTS = {"code": "都道府県コード", "reduction": "削減率", "separate": "単独発注の契約数", "facilities": "橋梁数"}
# the map's frame: Japan's offices lie within 122.5–146.5°E, 24–46°N (小笠原村 at 142.2°E, 27.1°N included)
_LON0, _LAT0, _LAT1 = 122.5, 46.0, 24.0
_SCALE = 1000.0 / (_LAT0 - _LAT1)
_COS = math.cos(math.radians(35.0))


def _result(request: HttpRequest) -> tuple[dict[str, Any], str]:
    """The document to show and where it came from (Japanese)."""
    runs = NationalDistricting.objects.all()
    if not request.user.is_authenticated:
        runs = runs.filter(office_only=True)
    run = runs.first()
    if run is not None:
        return dict(run.result), f"保存された計算結果（{run.computed_at:%Y年%m月%d日 %H:%M}）"
    return shipped_national(), "群マネに同梱の計算結果（参照データの役所位置による近似）"


def _bin(value: float | None) -> str:
    if value is None:
        return "none"
    return str(sum(value >= b for b in BINS))


def _muni_reduction(m: dict[str, Any], d: str) -> float | None:
    """The municipality's share of its district's contracts (by its bridges), against ordering alone."""
    alone, f, n = m.get("separate"), m.get("district_contracts", {}).get(d), m.get("district_facilities", {}).get(d)
    if not alone or f is None or not n:
        return None
    return (alone - f * m["facilities"] / n) / alone * 100


def national_districting(request: HttpRequest) -> HttpResponse:
    doc, origin = _result(request)
    fmt = request.GET.get("format")
    if fmt == "json":
        js = JsonResponse(doc, json_dumps_params={"ensure_ascii": False, "indent": 1})
        js["Content-Disposition"] = "attachment; filename*=UTF-8''national-districting.json"
        return js
    if fmt == "xlsx":
        resp = HttpResponse(national_xlsx(doc), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        resp["Content-Disposition"] = "attachment; filename*=UTF-8''national-districting.xlsx"
        return resp
    sweep = list(doc["sweep"])
    d = request.GET.get("d", "")
    if d not in sweep:
        d = "30" if "30" in sweep else sweep[len(sweep) // 2]
    sort = request.GET.get("sort", "-reduction")
    key = sort.lstrip("-")
    if key not in SORTS:
        sort, key = "-reduction", "reduction"
    prefs = [{**p, "districted_d": p["districted"].get(d), "reduction_d": p["reduction"].get(d),
              "task": p.get("tasks", {}).get(d, {})} for p in doc["prefectures"]]
    field = {"reduction": "reduction_d"}.get(key, key)
    prefs.sort(key=lambda p: (p[field] is None, p[field] if p[field] is not None else 0), reverse=sort.startswith("-"))
    if sort.startswith("-"):  # unknowns last in both directions
        prefs.sort(key=lambda p: p[field] is None)
    codes = [p["code"] for p in doc["prefectures"]]
    pref = request.GET.get("pref", "")
    if pref not in codes:
        pref = max(doc["prefectures"], key=lambda p: p["reduction"].get(d) or -1)["code"] if codes else ""
    names = {m["lg_code"]: m["name"] for m in doc["municipalities"]}
    munis = [{**m, "reduction_d": _muni_reduction(m, d), "basis_ja": NATIONAL_BASIS_JA.get(m["basis"], m["basis"]),
              "district_facilities_d": m.get("district_facilities", {}).get(d),
              "district_contracts_d": m.get("district_contracts", {}).get(d),
              "neighbours_ja": "、".join(names.get(x, x) for x in m["neighbours"].get(d, [])),
              "neighbour_count": len(m["neighbours"].get(d, []))}
             for m in doc["municipalities"] if m["prefecture"] == pref]
    total_sep = math.fsum(p["separate"] for p in doc["prefectures"])
    total_dis = math.fsum(p["districted"].get(d) or p["separate"] for p in doc["prefectures"])
    return render(request, "analysis/national_districting.html", {
        "doc": doc, "origin": origin, "d": d, "sweep": sweep, "prefectures": prefs, "sort": sort, "sorts": SORTS,
        "pref": pref, "pref_name": next((p["name"] for p in doc["prefectures"] if p["code"] == pref), ""),
        "pref_options": [(p["code"], p["name"]) for p in doc["prefectures"]], "municipalities": munis,
        "map_points": _map_points(doc, d), "bin_labels": list(enumerate(BIN_LABELS)),
        "total_separate": total_sep, "total_districted": total_dis,
        "total_reduction": (total_sep - total_dis) / total_sep * 100 if total_sep else None,
        "facilities": sum(p["facilities"] for p in doc["prefectures"]),
        "basis": {k: sum(p["basis"][k] for p in doc["prefectures"]) for k in ("ledger", "office", "none")},
        "provenance": doc.get("provenance") or {},
        "max_gap": max((t.get("gap") or 0.0 for p in doc["prefectures"] for t in p.get("tasks", {}).values()),
                       default=0.0) * 100,
    })


def _map_points(doc: dict[str, Any], d: str) -> list[dict[str, Any]]:
    """One dot per municipality at its office, coloured by its reduction at D (SVG coordinates)."""
    where: dict[str, tuple[float, float]] = {
        lg: (float(lat or 0.0), float(lon or 0.0)) for lg, lat, lon in Municipality.objects.filter(
            office_lat__isnull=False, office_lon__isnull=False).values_list("lg_code", "office_lat", "office_lon")}
    out = []
    for m in doc["municipalities"]:
        if m["lg_code"] not in where:
            continue
        lat, lon = where[m["lg_code"]]
        red = _muni_reduction(m, d)
        out.append({"x": round((lon - _LON0) * _COS * _SCALE, 1), "y": round((_LAT0 - lat) * _SCALE, 1),
                    "bin": _bin(red), "title": f"{m['name']}: "
                    + (f"削減率 {red:.1f} %" if red is not None else "橋梁数の資料なし"), "pref": m["prefecture"]})
    return out
