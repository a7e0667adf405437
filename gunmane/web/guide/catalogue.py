"""Cases, process, decisions and 素地, readable without a group (public: no login).

The guide's questions 3–6 — 具体例 (the case catalogue and cases like ours), 一歩 (the standard process and
"start a group"), 何を決める (the plan items and the mechanism helper), 素地 (人の群マネ and the survey
templates) — from the same catalogue (gunmane/data/groups, gunmane/data/surveys) and the same engine
(gunmane.engine.grouping) as a group's own pages, which show them through the same partials
(groups/templates/groups/_*.html). Nothing here reads a ledger: the figures are public statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from gunmane.engine.grouping import (
    REGIONS,
    SECTOR_JA,
    SIZE_JA,
    TYPE_JA,
    GroupProfile,
    Neighbour,
    Place,
    filter_cases,
    match_cases,
    nearest_places,
    size_of,
    suggest_mechanisms,
)
from gunmane.engine.surveys import build
from gunmane.io.shipped import surveys as survey_templates
from gunmane.io.shipped.cases import catalogue
from gunmane.io.shipped.parameters import share_rules
from gunmane.web.accounts.permissions import editable_municipalities
from gunmane.web.groups.models import CollaborationType, PeopleMeasure
from gunmane.web.registry.models import Municipality, MunicipalityKind, MunicipalYearStats
from gunmane.web.surveys.models import QuestionKind

#: how many neighbours the start page suggests, and how many of them it ticks
NEIGHBOURS, TICKED = 8, 3
#: where the population and the office coordinates come from (gunmane/data/refdata/jp-municipalities)
REFDATA_SOURCE = "人口：住民基本台帳に基づく2024年度の人口、庁舎の位置：全国地方公共団体の庁舎所在地（同梱の参照データ）"
#: municipalities a group can be made of (not the prefecture's own government, not non-government road managers)
NOT_MEMBERS = (MunicipalityKind.PREFECTURE, MunicipalityKind.OTHER)
MEASURE_EXPLAIN = {
    PeopleMeasure.Kind.TRAINING: "点検・診断・発注の研修を群で計画し、少ない技術職員の知識をそろえる。",
    PeopleMeasure.Kind.SHARED_ENGINEER: "技術職員を共有する・共同で置く（機関等の共同設置など）。",
    PeopleMeasure.Kind.ADVISOR: "国・都道府県・センターのアドバイザーに伴走してもらう。",
    PeopleMeasure.Kind.NETWORK: "職員どうしのネットワーク・交流で、困りごとと工夫を共有する。",
}


# --------------------------------------------------------------------------- choosing a municipality


@dataclass(frozen=True)
class Chosen:
    """The municipality a page is about (``?lg=``) and the search that finds one (``?q=``)."""

    municipality: Municipality | None
    query: str
    found: list[Municipality]
    unknown: bool  # ?lg= named no municipality a group can be made of


def choose(request: HttpRequest) -> Chosen:
    candidates = Municipality.objects.exclude(kind__in=NOT_MEMBERS).select_related("prefecture")
    lg, query = request.GET.get("lg", "").strip(), request.GET.get("q", "").strip()[:40]
    municipality = candidates.filter(lg_code=lg).first() if lg else None
    found = list(candidates.filter(Q(name__contains=query) | Q(name_kana__contains=query))[:30]) if query else []
    return Chosen(municipality, query, found, unknown=bool(lg) and municipality is None)


def place(m: Municipality) -> Place:
    return Place(code=m.lg_code, name=m.name, kind=m.kind, lat=m.office_lat, lon=m.office_lon,
                 population=m.population)


def neighbours(m: Municipality, limit: int = NEIGHBOURS) -> list[Neighbour]:
    """The municipalities of the same prefecture whose offices are nearest to m's."""
    others = Municipality.objects.filter(prefecture_id=m.prefecture_id).exclude(kind__in=NOT_MEMBERS)
    return nearest_places(place(m), [place(o) for o in others], limit=limit)


def prefecture_government(m: Municipality) -> Municipality | None:
    return Municipality.objects.filter(prefecture_id=m.prefecture_id, kind=MunicipalityKind.PREFECTURE).first()


# --------------------------------------------------------------------------- 具体例: the case catalogue


def _area_choices() -> list[tuple[str, Any]]:
    """Regions (8地方区分) that have a case, each with the prefectures of its cases."""
    in_cases = {p for c in catalogue().cases for p in c.prefectures}
    out: list[tuple[str, Any]] = [("", "すべての地域")]
    for region, prefs in REGIONS.items():
        present = [p for p in prefs if p in in_cases]
        if present:
            out.append((region, [(region, f"{region}のすべて")] + [(p, p) for p in present]))
    return out


class CaseFilterForm(forms.Form):
    """The case catalogue's filters (GET); an empty choice keeps every case."""

    type = forms.ChoiceField(label="連携の型", required=False,
                             choices=[("", "すべて")] + list(CollaborationType.choices))
    sector = forms.ChoiceField(label="分野", required=False, choices=[("", "すべて")] + list(SECTOR_JA.items()))
    area = forms.ChoiceField(label="地域", required=False, choices=_area_choices)
    size = forms.ChoiceField(label="規模", required=False, choices=[("", "すべて")] + list(SIZE_JA.items()))
    kind = forms.ChoiceField(label="区分", required=False,
                             choices=[("", "すべて"), ("model_region", "モデル地域"), ("precedent", "先行事例")])


class LikeOursForm(forms.Form):
    """What "cases like ours" assumes beyond the municipality: whether the prefecture takes part, the sectors."""

    pref = forms.ChoiceField(label="都道府県の関わり", required=False, initial="1",
                             choices=[("1", "都道府県が支援する"), ("0", "市町村だけ")])
    sectors = forms.MultipleChoiceField(label="対象分野", required=False, widget=forms.CheckboxSelectMultiple,
                                        choices=list(SECTOR_JA.items()))


def cases(request: HttpRequest) -> HttpResponse:
    cat = catalogue()
    form = CaseFilterForm(request.GET or None)
    chosen = choose(request)
    criteria = form.cleaned_data if form.is_valid() else {}
    shown = filter_cases(cat.cases, types=[criteria["type"]] if criteria.get("type") else [],
                         sectors=[criteria["sector"]] if criteria.get("sector") else [],
                         area=criteria.get("area", ""), size=criteria.get("size", ""), kind=criteria.get("kind", ""))
    like: dict[str, Any] | None = None
    if chosen.municipality is not None:
        like = cases_like(chosen.municipality, request)
    return render(request, "guide/cases.html", {
        "form": form, "cases": shown, "total": len(cat.cases), "filtered": any(criteria.values()),
        "chosen": chosen, "like": like, "source": cat.sources["cases"]})


def cases_like(m: Municipality, request: HttpRequest) -> dict[str, Any]:
    """Cases like a group of m, its nearest neighbours (the ones "start a group" ticks) and, unless told
    otherwise, its prefecture: the profile is stated on the page so the ranking can be judged."""
    form = LikeOursForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    with_pref = data.get("pref", "1") != "0"
    sectors = tuple(data.get("sectors") or ("road",))
    near = neighbours(m, limit=TICKED)
    kinds = [m.kind] + [n.place.kind for n in near]
    n_members = 1 + len(near) + (1 if with_pref else 0)
    types = (("horizontal",) if near else ()) + (("vertical",) if with_pref else ())
    profile = GroupProfile(types=types, n_members=n_members, has_prefecture=with_pref, sectors=sectors,
                           size=size_of(kinds), prefecture=m.prefecture.name)
    if not form.is_bound or "sectors" not in request.GET:
        form = LikeOursForm(initial={"pref": "1" if with_pref else "0", "sectors": list(sectors)})
    return {"form": form, "matches": match_cases(profile, catalogue().cases), "near": near, "with_pref": with_pref,
            "profile": profile, "types": "・".join(TYPE_JA[t] for t in types) or "単独",
            "sectors": "・".join(SECTOR_JA.get(s, s) for s in sectors), "size": SIZE_JA[profile.size],
            "own_cases": [c for c in catalogue().cases if m.name in c.members
                          and m.prefecture.name in c.prefectures]}


# --------------------------------------------------------------------------- 一歩: the process and "start a group"


def process(request: HttpRequest) -> HttpResponse:
    cat = catalogue()
    return render(request, "guide/process.html", {"stages": cat.stages, "source": cat.sources["process"]})


def start(request: HttpRequest) -> HttpResponse:
    """A municipality and its suggested neighbours; the button opens the group form prefilled (signed in)."""
    chosen = choose(request)
    m = chosen.municipality
    context: dict[str, Any] = {"chosen": chosen}
    if m is not None:
        near = neighbours(m)
        stats = latest_stats([m.lg_code] + [n.place.code for n in near])
        rows: list[dict[str, Any]] = [{"n": n, "ticked": i < TICKED, "stats": stats.get(n.place.code),
                                       "kind": MunicipalityKind(n.place.kind).label} for i, n in enumerate(near)]
        pref = prefecture_government(m)
        editable = editable_municipalities(request.user)
        context.update(
            m=m, kind=MunicipalityKind(m.kind).label, rows=rows, own_stats=stats.get(m.lg_code), pref=pref,
            no_office=m.office_lat is None or m.office_lon is None,
            own_cases=case_partners(m), signed_in=request.user.is_authenticated, may_lead=editable.filter(pk=m.pk).exists(),
            may_create=editable.exclude(kind=MunicipalityKind.PREFECTURE).exists(),
            refdata_source=REFDATA_SOURCE, stats_source=next((s.source for s in stats.values() if s.source), ""))
    return render(request, "guide/start.html", context)


def case_partners(m: Municipality) -> list[dict[str, Any]]:
    """The cases m is a member of, each with its partners in m's prefecture and the group form prefilled with them."""
    out = []
    for c in catalogue().cases:
        if m.name not in c.members or m.prefecture.name not in c.prefectures:
            continue
        partners = list(Municipality.objects.filter(prefecture_id=m.prefecture_id, name__in=c.members)
                        .exclude(kind__in=NOT_MEMBERS).exclude(pk=m.pk))
        query = {"lead": m.lg_code, "members": ",".join(p.lg_code for p in partners),
                 "prefecture": "1" if c.prefecture_involved else "0"}
        out.append({"case": c, "partners": "・".join(p.name for p in partners),
                    "create_url": reverse("groups:create") + "?" + urlencode(query)})
    return out


def latest_stats(codes: list[str]) -> dict[str, MunicipalYearStats]:
    """Each municipality's latest year of public statistics that has road-bridge figures, by 団体コード."""
    out: dict[str, MunicipalYearStats] = {}
    rows = (MunicipalYearStats.objects.filter(municipality__lg_code__in=codes, bridges_inspected__isnull=False)
            .select_related("municipality").order_by("municipality_id", "-fiscal_year"))
    for s in rows:
        out.setdefault(s.municipality.lg_code, s)
    return out


# --------------------------------------------------------------------------- 何を決める: plan items and mechanisms


class MechanismForm(forms.Form):
    """The situation the mechanism helper needs, without a group (GET)."""

    n_members = forms.IntegerField(label="構成団体の数（都道府県を含む）", min_value=1, max_value=60, initial=4)
    kinds = forms.MultipleChoiceField(label="構成団体の種類", required=False, widget=forms.CheckboxSelectMultiple,
                                      choices=[("city", "市"), ("town", "町"), ("village", "村")])
    prefecture = forms.BooleanField(label="都道府県が加わる（垂直連携）", required=False)
    wants = forms.MultipleChoiceField(label="いっしょにしたいこと", required=False, widget=forms.CheckboxSelectMultiple,
                                      choices=[("executes_for_others", "ある団体（都道府県を含む）がほかの団体の作業を代わりに行う"),
                                               ("shared_engineers", "技術職員を共有する・共同の事務所を置く"),
                                               ("wants_permanent", "首長が替わっても続く枠組みにする"),
                                               ("multi_year", "複数年の契約をまとめて発注する")])


def decisions(request: HttpRequest) -> HttpResponse:
    cat = catalogue()
    form = MechanismForm(request.GET or None)
    suggestions, profile = None, None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        wants = set(d["wants"])
        types = (("horizontal",) if d["n_members"] - (1 if d["prefecture"] else 0) >= 2 else ()) \
            + (("vertical",) if d["prefecture"] else ())
        profile = GroupProfile(types=types, n_members=d["n_members"], has_prefecture=d["prefecture"], sectors=(),
                               size=size_of(d["kinds"]), levers=("multi_year",) if "multi_year" in wants else (),
                               wants_permanent="wants_permanent" in wants,
                               executes_for_others="executes_for_others" in wants,
                               shared_engineers="shared_engineers" in wants)
        suggestions = suggest_mechanisms(profile, cat.mechanisms)
    return render(request, "guide/decisions.html", {
        "form": form, "suggestions": suggestions, "mechanisms": cat.mechanisms,
        "types": CollaborationType.choices, "sectors": SECTOR_JA, "work_kinds": cat.work_kinds, "levers": cat.levers,
        "delegable": "・".join(t.name for t in cat.tasks if not t.owner_judgement),
        "judgements": "「" + "」「".join(t.name for t in cat.tasks if t.owner_judgement) + "」", "share_rules": share_rules(), "source": cat.sources["mechanisms"],
        "tasks_source": cat.sources["tasks"]})


# --------------------------------------------------------------------------- 素地: people and survey templates


def foundation(request: HttpRequest) -> HttpResponse:
    cat = catalogue()
    return render(request, "guide/foundation.html", {
        "bodies": cat.support_bodies, "source": cat.sources["support_bodies"],
        "measures": [(label, MEASURE_EXPLAIN[PeopleMeasure.Kind(key)]) for key, label in PeopleMeasure.Kind.choices],
        "templates": survey_templates.templates().values()})


def survey_template(request: HttpRequest, key: str) -> HttpResponse:
    """A template's questions as they read for a group that covers every sector and every work kind."""
    template = survey_templates.templates().get(key)
    if template is None:
        raise Http404("そのアンケートのひな形はありません。")
    sectors, works = survey_templates.sector_names(), survey_templates.work_kind_names()
    built = build(template, group_name="（群の名称）", sectors=list(sectors), works=list(works),
                  members=["（構成団体）"], sector_names=sectors, work_names=works)
    number = {q.key: i for i, q in enumerate(built.questions, 1)}
    kinds = dict(QuestionKind.choices)
    items = [{"q": q, "kind": kinds.get(q.kind, ""), "condition": number.get(q.show_if_key or "")}
             for q in built.questions]
    return render(request, "guide/survey_template.html", {
        "template": template, "built": built, "items": items,
        "others": [t for t in survey_templates.templates().values() if t.key != key]})

