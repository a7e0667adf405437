"""地域分割 of a group (issue #14): whom to group with — districts of the members' facilities that minimise the
expected contracts a year (gunmane.engine.districting), on a map, against the three baselines, with the D-curve of
a sweep, downloads (the io writers the CLI uses) and 「この地区割りをロット設計に使う」.

Every parameter travels in the query string (a run is a GET with ``run=1``; an uploaded fit JSON is read once and
carried on as its q values), so a result, its downloads and its saving are the same cached computation."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django_tasks import task

from gunmane.engine.districting import solve as solving
from gunmane.engine.districting.types import Instance, Result
from gunmane.io.districting import districts_geojson, districts_xlsx, result_json
from gunmane.io.reports import lots_geo
from gunmane.io.shipped import vocab
from gunmane.web.common.downloads import XLSX, attachment
from gunmane.web.common.requests import AuthenticatedHttpRequest
from gunmane.web.groups import districting, permissions
from gunmane.web.groups.models import Group, SavedDistricting
from gunmane.web.groups.pages import workspace_context
from gunmane.web.groups.permissions import viewable_group
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job
from gunmane.web.registry import frames
from gunmane.web.registry.models import Municipality

MAX_TIME_S = 60.0
MAX_SWEEP = 12  # distances of one sweep on the page (each up to the time limit)
STATUS_JA = {"optimal": "最適性を確認済み", "feasible": "実行可能解", "infeasible": "実行不能"}
Q_SOURCES = (("fit", "群の点検記録から推定（劣化予測）"), ("value", "値を入力"), ("file", "推定結果のファイル（劣化予測の JSON）"))
REGION_MODES = (("free", "指定しない"), ("exact", "ちょうど"), ("max", "最大"))


@dataclass(frozen=True)
class Params:
    """The question as asked on the page (validated); ``errors`` in Japanese."""

    distances: tuple[float, ...]
    sweep: bool
    bundle_limit: int
    region_mode: str
    regions: int | None
    q_source: str  # fit | value | given (an uploaded fit, carried on as numbers)
    q: float | None
    by_grade: bool
    grade_q: tuple[float, ...] | None
    q_label: str
    facility_type: str
    time_limit: float

    def query(self) -> dict[str, str]:
        d: dict[str, str] = {"bundle_limit": str(self.bundle_limit), "regions_mode": self.region_mode,
                             "q_source": self.q_source, "facility_type": self.facility_type,
                             "time_limit": f"{self.time_limit:g}"}
        if self.sweep:
            d.update(mode="sweep", sweep_from=f"{self.distances[0]:g}", sweep_to=f"{self.distances[-1]:g}",
                     sweep_step=f"{(self.distances[1] - self.distances[0]) if len(self.distances) > 1 else 5:g}")
        else:
            d.update(mode="single", d=f"{self.distances[0]:g}")
        if self.regions is not None:
            d["regions"] = str(self.regions)
        if self.q is not None and self.q_source != "fit":
            d["q"] = repr(self.q)
        if self.by_grade:
            d["by_grade"] = "1"
        if self.q_source == "given":
            d["q_label"] = self.q_label
            if self.grade_q:
                d["grade_q"] = ",".join(repr(x) for x in self.grade_q)
        return d


def _num(data: QueryDict, key: str, default: float, errors: list[str], label: str, lo: float, hi: float) -> float:
    raw = (data.get(key) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        errors.append(f"{label}は数で入力してください（入力: {raw[:20]}）。")
        return default
    if not (math.isfinite(value) and lo <= value <= hi):
        errors.append(f"{label}は {lo:g} 以上 {hi:g} 以下で入力してください。")
        return default
    return value


def parse(data: QueryDict) -> tuple[Params, list[str]]:
    """The page's parameters from a query (or a POST); defaults: D = 20 km, L = 5, q from the group's fit, 橋梁, 20 s."""
    errors: list[str] = []
    sweep = data.get("mode") == "sweep"
    if sweep:
        a = _num(data, "sweep_from", 15, errors, "距離の範囲（から）", 0.1, 1000)
        b = _num(data, "sweep_to", 50, errors, "距離の範囲（まで）", 0.1, 1000)
        step = _num(data, "sweep_step", 5, errors, "距離の刻み", 0.1, 1000)
        count = int(math.floor((b - a) / step + 1e-9)) + 1 if b >= a else 0
        if count < 1:
            errors.append("距離の範囲は「から」を「まで」以下にしてください。")
            count = 1
        if count > MAX_SWEEP:
            errors.append(f"距離は {MAX_SWEEP} 通りまでにしてください（{count} 通りになります）。刻みを大きくしてください。")
            count = MAX_SWEEP
        distances = tuple(round(a + i * step, 6) for i in range(count))
    else:
        distances = (_num(data, "d", 20, errors, "最大距離 D", 0.1, 1000),)
    bundle = int(_num(data, "bundle_limit", 5, errors, "1契約でまとめる補修の上限 L", 1, 1000))
    mode = str(data.get("regions_mode")) if data.get("regions_mode") in ("exact", "max") else "free"
    regions = int(_num(data, "regions", 1, errors, "地区の数", 1, 1000)) if mode != "free" else None
    source = str(data.get("q_source")) if data.get("q_source") in ("value", "given", "fit", "file") else "fit"
    q = None
    if source in ("value", "given"):
        q = _num(data, "q", 0.0, errors, "年間補修確率 q", 0.0, 1.0)
        if not q > 0:
            errors.append("年間補修確率 q を 0 より大きく 1 以下で入力してください。")
    grade_q = None
    if source == "given" and data.get("grade_q"):
        try:
            grade_q = tuple(float(x) for x in str(data.get("grade_q")).split(",")[:6])
        except ValueError:
            errors.append("健全性ごとの補修確率が読めません。推定結果のファイルをもう一度選んでください。")
    types = {ft.code for ft in vocab.facility_types()} | {"all"}
    ftype = data.get("facility_type") if data.get("facility_type") in types else "bridge"
    limit = _num(data, "time_limit", 20, errors, "計算時間の上限", 1, MAX_TIME_S)
    return Params(distances, sweep, bundle, mode, regions, source, q, data.get("by_grade") == "1", grade_q,
                  str(data.get("q_label") or "")[:120], str(ftype), limit), errors


@dataclass(frozen=True)
class Run:
    results: tuple[Result, ...]
    ledger: districting.LedgerPoints
    points: tuple[Any, ...]
    q: districting.RepairQ
    missing_grade: int
    source: str


def _repair_q(group: Group, p: Params) -> districting.RepairQ:
    if p.q_source == "fit":
        return districting.q_from_ledger_fit(group.member_codes(), p.facility_type, f"群「{group.name}」")
    if p.q_source == "given":
        return districting.RepairQ(float(p.q or 0), p.q_label or "推定結果のファイルの年間補修確率", p.grade_q)
    return districting.RepairQ(float(p.q or 0), f"年間補修確率 q = {p.q:g}（画面で入力）")


def compute(group: Group, p: Params) -> Run:
    """The districting of the group's facilities for the parameters (cached until the data or the members change).
    Raises districting.QSourceError (Japanese) when q cannot be had, ValueError when there is nothing to district."""
    codes = tuple(group.member_codes())

    def build() -> Run:
        lp = districting.ledger_points(codes, p.facility_type)
        rq = _repair_q(group, p)
        points, missing = districting.with_grade_q(lp, rq) if p.by_grade else (lp.points, 0)
        if not points:
            raise ValueError(f"群の構成団体の台帳に、緯度・経度のある{_type_name(p.facility_type)}がありません"
                             f"（緯度・経度のない施設 {len(lp.without):,} 件）。")
        source = rq.source + ("。" + districting.grade_q_text(rq, missing, len(points)) if p.by_grade else "")
        inst = Instance(points=points, max_distance_km=p.distances[0], bundle_limit=p.bundle_limit, q=rq.q,
                        regions=p.regions if p.region_mode == "exact" else None,
                        max_regions=p.regions if p.region_mode == "max" else None, q_source=source)
        results = (tuple(solving.sweep(inst, list(p.distances), time_limit_s=p.time_limit)) if p.sweep
                   else (solving.solve(inst, time_limit_s=p.time_limit),))
        return Run(results, lp, points, rq, missing, source)

    key = (group.pk, codes, tuple(sorted(p.query().items())))
    run: Run = frames.cached("districts", frames.fingerprint(), key, build)
    return run


@task()
def compute_districts(job_id: str) -> None:
    """A districting run of a group (solved within its time limit, each D of a sweep; the worker: gunmane worker)."""
    jobs.run_value(job_id, _compute_districts)


def _compute_districts(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    group = Group.objects.get(pk=job.params["group"])
    query = QueryDict(mutable=True)
    query.update(job.params["query"])
    params, _ = parse(query)
    progress(5, f"地区割りを計算しています（{len(params.distances)} 通りの距離、それぞれ最長 {params.time_limit:g} 秒）。")
    try:
        return {"run": compute(group, params)}
    except (districting.QSourceError, ValueError) as exc:
        return {"error": str(exc)}


def _job(request: HttpRequest, group: Group, p: Params) -> Job:
    """The run's job: per group, accepted members, parameters and data version."""
    query = p.query()
    digest = hashlib.sha256(repr((tuple(group.member_codes()), sorted(query.items()))).encode("utf-8")).hexdigest()
    return jobs.start_value(compute_districts, kind="districts", subject=f"{group.pk}|{digest[:32]}",
                            version=jobs.version_of(frames.fingerprint()), label=f"{group.name}の地域分割",
                            params={"group": group.pk, "query": query}, user=request.user)


def _run_address(group: Group, p: Params, show: Any = None) -> str:
    extra = {"show": str(show)} if show not in (None, "") else {}
    return reverse("groups:districts", args=[group.pk]) + "?" + urlencode({**p.query(), "run": "1", **extra})


def _type_name(code: str) -> str:
    if code == "all":
        return "施設"
    return next((ft.name for ft in vocab.facility_types() if ft.code == code), "施設")


def _names(codes: list[str]) -> dict[str, str]:
    return dict(Municipality.objects.filter(lg_code__in=codes).values_list("lg_code", "name"))


def _uploaded(request: HttpRequest, data: QueryDict, errors: list[str]) -> QueryDict:
    """A POSTed fit JSON becomes q values in the query (q_source=given), so the result's links carry them."""
    data = data.copy()
    upload = request.FILES.get("fit_file")
    if data.get("q_source") != "file":
        return data
    if upload is None:
        errors.append("推定結果のファイル（劣化予測の推定結果を保存した JSON）を選んでください。")
        data["q_source"] = "fit"
        return data
    try:
        rq = districting.q_from_fit_text(upload.read(2_000_000).decode("utf-8-sig", errors="replace"),
                                         upload.name or "ファイル")
    except districting.QSourceError as exc:
        errors.append(str(exc))
        data["q_source"] = "fit"
        return data
    data.update({"q_source": "given", "q": repr(rq.q), "q_label": rq.source})
    if rq.by_grade:
        data["grade_q"] = ",".join(repr(x) for x in rq.by_grade)
    return data


def districts(request: HttpRequest, pk: int) -> HttpResponse:
    group = viewable_group(request.user, pk)
    errors: list[str] = []
    data = _uploaded(request, request.POST, errors) if request.method == "POST" else request.GET
    params, problems = parse(data)
    errors += problems
    run_it = (request.method == "POST" or data.get("run") == "1") and not errors
    ctx = workspace_context(request, group, "districts", params=params, errors=errors, q_sources=Q_SOURCES,
                            region_modes=REGION_MODES, facility_types=vocab.facility_types(),
                            saved=SavedDistricting.objects.filter(group=group).first(), max_time=int(MAX_TIME_S))
    if run_it:
        job = _job(request, group, params)
        done = jobs.value(job)
        if done is None:
            if request.method == "POST":  # the progress page reloads its address: a GET that carries the question
                return redirect(_run_address(group, params, data.get("show")))
            return jobs.respond(request, job, title=f"{group.name}の地域分割",
                                back_url=reverse("groups:districts", args=[group.pk]))
        if "error" in done:
            ctx["errors"] = [*errors, done["error"]]
            return render(request, "groups/districts.html", ctx)
        ctx.update(_result_context(group, params, done["run"], request.GET.get("show") or data.get("show")))
    return render(request, "groups/districts.html", ctx)


def _pct(a: float | None, b: float | None) -> str:
    """The reduction of ``a`` against ``b`` in per cent, as shown («—» when either is unknown)."""
    return "—" if a is None or not b else f"{(b - a) / b * 100:.1f} %"


def _shown(run: Run, show: Any) -> int:
    i = int(show) if str(show or "").isdigit() else 0
    return min(i, len(run.results) - 1)


def _result_context(group: Group, p: Params, run: Run, show: Any) -> dict[str, Any]:
    i = _shown(run, show)
    r = run.results[i]
    names = _names(sorted({pt.lg_code for pt in run.points}))
    query = p.query()
    status = STATUS_JA[r.status] + (f"（ギャップ {r.gap * 100:.2f} %）" if r.gap else "")  # "optimal": gap ≤ 0.1 %
    base = r.baselines
    compare = [("地区割り（この結果）", r.objective, ""),
               ("各団体が単独で発注", base.separate, _pct(r.objective, base.separate)),
               *([("各団体が単独で、D の中で発注", base.separate_within_d, _pct(r.objective, base.separate_within_d))]
                 if base.separate_within_d is not None and abs(base.separate_within_d - base.separate) > 1e-9 else []),
               ("全体で1地区", base.single, _pct(r.objective, base.single)),
               ("1件ずつ発注（L = 1）", base.individual, _pct(r.objective, base.individual))]
    colours = district_colours(r, run.points)
    regions = [{"r": reg, "colour": colours[reg.id],
                "members": [(names.get(c, "不明な団体"), n) for c, n in reg.members.items()]} for reg in r.regions]
    sweep_rows = [{"i": k, "d": res.max_distance_km, "status": STATUS_JA[res.status], "objective": res.objective,
                   "gap": f"{res.gap * 100:.2f} %" if res.gap else "", "regions": len(res.regions), "separate": res.baselines.separate,
                   "single": res.baselines.single, "reduction": _pct(res.objective, res.baselines.separate),
                   "href": "?" + urlencode({**query, "run": "1", "show": str(k)})} for k, res in enumerate(run.results)]
    return {"run": run, "result": r, "shown": i, "status_ja": status, "compare": compare, "regions": regions,
            "names": names, "map": district_map(r, run.points, names), "curve": d_curve(run.results) if p.sweep else None,
            "sweep_rows": sweep_rows if p.sweep else [], "query": urlencode(query), "hidden": sorted(query.items()),
            "show_synthetic": run.ledger.synthetic}


MAP_W, MAP_H, MAP_PAD = 720.0, 540.0, 24.0


def district_colours(r: Result, points: tuple[Any, ...]) -> dict[int, str]:
    """District id → colour, neighbouring districts never alike (the map and the table use the same)."""
    by_id = {pt.id: pt for pt in points}
    return lots_geo.distinct_colours({reg.id: [(by_id[f].lon, by_id[f].lat) for f in reg.facility_ids if f in by_id]
                                      for reg in r.regions})


def district_map(r: Result, points: tuple[Any, ...], names: dict[str, str]) -> dict[str, Any] | None:
    """An SVG map (equirectangular around the facilities): points coloured by district, each district's convex
    hull, labels placed without overlap; None without districts."""
    if not r.regions:
        return None
    by_id = {pt.id: pt for pt in points}
    lat = [pt.lat for pt in points]
    lon = [pt.lon for pt in points]
    lat0, lat1, lon0, lon1 = min(lat), max(lat), min(lon), max(lon)
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    s = min((MAP_W - 2 * MAP_PAD) / max((lon1 - lon0) * kx, 1e-6), (MAP_H - 2 * MAP_PAD) / max(lat1 - lat0, 1e-6))
    ox, oy = (MAP_W - (lon1 - lon0) * kx * s) / 2, (MAP_H - (lat1 - lat0) * s) / 2

    def xy(lo: float, la: float) -> tuple[float, float]:
        return round(ox + (lo - lon0) * kx * s, 1), round(MAP_H - oy - (la - lat0) * s, 1)

    groups, items = [], []
    colours = district_colours(r, points)
    for reg in r.regions:
        colour = colours[reg.id]
        pts = [by_id[f] for f in reg.facility_ids if f in by_id]
        hull = lots_geo.convex_hull([(pt.lon, pt.lat) for pt in pts])
        members = "・".join(f"{names.get(c, '不明な団体')} {n}" for c, n in reg.members.items())
        groups.append({"id": reg.id, "c": colour, "title": f"地区{reg.id}：{reg.n:,} 施設（{members}）、"
                       f"最大距離 {reg.max_distance_km:.1f} km、期待契約件数 {reg.expected_contracts:.3f} 件／年",
                       "hull": " ".join("{},{}".format(*xy(x, y)) for x, y in hull) if len(hull) >= 3 else "",
                       "points": [{"xy": xy(pt.lon, pt.lat), "title": f"{pt.id}（{names.get(pt.lg_code, '')}）"}
                                  for pt in pts]})
        cx = sum(pt.lon for pt in pts) / len(pts)
        cy = sum(pt.lat for pt in pts) / len(pts)
        items.append((f"地区{reg.id}", *xy(cx, cy), "lot"))
    labels, skipped = lots_geo.place_labels(items, size=13.0, width=MAP_W, height=MAP_H)
    desc = "。".join(str(g["title"]) for g in groups)
    return {"w": int(MAP_W), "h": int(MAP_H), "groups": groups, "labels": labels, "skipped": skipped,
            "desc": f"{len(groups)} 地区、{len(points):,} 施設。{desc}。"}


CH_W, CH_H, CH_L, CH_R, CH_T, CH_B = 720.0, 360.0, 64.0, 16.0, 16.0, 48.0
SERIES = (("objective", "地区割り", "#0017c1"), ("separate", "各団体が単独で発注", "#d15b00"),
          ("single", "全体で1地区", "#1a7f37"), ("individual", "1件ずつ発注", "#6a1b9a"))


def d_curve(results: tuple[Result, ...]) -> dict[str, Any] | None:
    """The D-curve (expected contracts a year against D) with the baselines as lines, as SVG coordinates."""
    rows: list[tuple[float, dict[str, float | None]]] = [(r.max_distance_km, {"objective": r.objective, "separate": r.baselines.separate,
                                 "single": r.baselines.single, "individual": r.baselines.individual})
            for r in results]
    values = [v for _, vals in rows for v in vals.values() if v is not None]
    if len(rows) < 2 or not values:
        return None
    d0, d1 = rows[0][0], rows[-1][0]
    y1 = _nice(max(values) * 1.05)
    pw, ph = CH_W - CH_L - CH_R, CH_H - CH_T - CH_B

    def x(d: float) -> float:
        return round(CH_L + (d - d0) / max(d1 - d0, 1e-9) * pw, 1)

    def y(v: float) -> float:
        return round(CH_T + ph - v / y1 * ph, 1)

    series = []
    for key, label, colour in SERIES:
        pts = [(x(d), y(v), d, v) for d, vals in rows if (v := vals[key]) is not None]
        if pts:
            series.append({"label": label, "c": colour, "dash": key != "objective",
                           "points": " ".join(f"{a},{b}" for a, b, _, _ in pts),
                           "marks": [{"x": a, "y": b, "title": f"{label}：D = {d:g} km で {v:.3f} 件／年"}
                                     for a, b, d, v in pts]})
    yticks = [{"y": y(y1 * k / 4), "label": f"{y1 * k / 4:g}"} for k in range(5)]
    xticks = [{"x": x(d), "label": f"{d:g}"} for d, _ in rows]
    return {"w": int(CH_W), "h": int(CH_H), "series": series, "yticks": yticks, "xticks": xticks,
            "x0": CH_L, "x1": CH_W - CH_R, "y0": CH_T, "yb": CH_T + ph, "xt": CH_H - 8, "yl": CH_L - 8}


def _nice(v: float) -> float:
    """A round axis top at or above v (1, 2, 2.5, 5 × 10ⁿ)."""
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    return next(m * e for m in (1, 2, 2.5, 5, 10) if m * e >= v)


def districts_file(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The result as Excel (every D of a sweep) or GeoJSON (the shown D), written by the CLI's writers."""
    group = viewable_group(request.user, pk)
    if fmt not in ("xlsx", "geojson", "json"):
        raise Http404("この形式ではダウンロードできません。")
    params, errors = parse(request.GET)
    if errors:
        return HttpResponse("\n".join(errors), status=400, content_type="text/plain; charset=utf-8")
    job = _job(request, group, params)
    done = jobs.value(job)
    if done is None:
        return jobs.respond(request, job, title=f"{group.name}の地域分割", back_url=_run_address(group, params))
    if "error" in done:
        return HttpResponse(done["error"], status=409, content_type="text/plain; charset=utf-8")
    run = done["run"]
    names = _names(sorted({pt.lg_code for pt in run.points}))
    title = f"{group.name} 地域分割"
    source = f"台帳（群「{group.name}」の構成団体、{_type_name(params.facility_type)}）"
    if fmt == "xlsx":
        body = districts_xlsx(list(run.results), run.points, names, synthetic=run.ledger.synthetic, source=source,
                              without_coordinates=len(run.ledger.without))
        return attachment(body, f"{title}.xlsx", XLSX)
    if fmt == "json":
        docs = [result_json(r) for r in run.results]
        return attachment(json.dumps(docs if params.sweep else docs[0], ensure_ascii=False, indent=1),
                          f"{title}.json", "application/json; charset=utf-8")
    doc = districts_geojson(run.results[_shown(run, request.GET.get("show"))], run.points, names,
                            synthetic=run.ledger.synthetic)
    return attachment(json.dumps(doc, ensure_ascii=False), f"{title}.geojson", "application/json; charset=utf-8")


def districts_use(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """「この地区割りをロット設計に使う」: save the shown districting for the group (editors; POST)."""
    group = viewable_group(request.user, pk)
    permissions.require_edit_group(request.user, group)
    params, errors = parse(request.POST)
    back = reverse("groups:districts", args=[group.pk])
    if errors:
        for e in errors:
            messages.error(request, e)
        return redirect(back)
    done = jobs.value(_job(request, group, params))
    if done is None:  # not computed yet (or the data changed since): the run's page shows its progress
        messages.info(request, "地区割りを計算し直しています。できあがってから、もう一度「ロット設計に使う」を押してください。")
        return redirect(_run_address(group, params, request.POST.get("show")))
    if "error" in done:
        messages.error(request, done["error"])
        return redirect(back)
    run = done["run"]
    i = _shown(run, request.POST.get("show"))
    r = run.results[i]
    if not r.regions:
        messages.error(request, "実行不能の結果はロット設計に使えません。条件を緩めて計算し直してください。")
        return redirect(back + "?" + urlencode({**params.query(), "run": "1", "show": str(i)}))
    summary = (f"D = {r.max_distance_km:g} km、L = {r.bundle_limit}、{len(r.regions)} 地区・{sum(x.n for x in r.regions):,} 施設、"
               f"期待契約件数 {r.objective:.3f} 件／年（{STATUS_JA[r.status]}）")
    SavedDistricting.objects.update_or_create(group=group, defaults={
        "assignment": districting.facility_districts(r, run.ledger.pks), "summary": summary,
        "parameters": {**params.query(), "show": str(i), "max_distance_km": r.max_distance_km,
                       "q": run.q.q, "q_source": run.source},
        "created_by": request.user})
    messages.success(request, f"この地区割り（{summary}）を保存しました。効果試算のロット設計は、ロットが地区の境界を"
                              "またがないように設計します。")
    return redirect(back + "?" + urlencode({**params.query(), "run": "1", "show": str(i)}))


def districts_forget(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Stop using the saved districting in the lot design (editors; POST)."""
    group = viewable_group(request.user, pk)
    permissions.require_edit_group(request.user, group)
    SavedDistricting.objects.filter(group=group).delete()
    messages.success(request, "保存した地区割りを外しました。ロット設計は地区に関係なく設計します。")
    return redirect("groups:districts", pk=group.pk)
