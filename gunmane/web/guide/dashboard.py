"""The signed-in home: for each government the user works for, its status, groups and one next step.

A municipality sees three bridge figures from its カルテ (the same build_karte call and cache entry as the カルテ
page, so the numbers are identical): facilities 50+ years old, Ⅲ・Ⅳ without a measure started, overdue
inspections — each with its 類似団体 position — then the public bridge figure, its groups with their stage
and next item, invitations waiting for an answer, its recent imports and one suggested next step
(guide.nextstep). A prefecture sees its municipalities ranked by need, its groups and the municipalities
in no group. An administrator sees a summary with links. Ledger figures follow
groups.permissions.ledger_figure_codes everywhere (the カルテ's ``visible``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from gunmane.engine.indicator_types import IndicatorValue, Karte
from gunmane.web.accounts.models import Membership
from gunmane.web.accounts.permissions import EDITING_ROLES, viewable_municipalities
from gunmane.web.analysis import services
from gunmane.web.common.requests import AuthenticatedHttpRequest
from gunmane.web.groups import permissions as group_permissions
from gunmane.web.groups import workspace
from gunmane.web.groups.models import ChecklistItem, Group, GroupMember, ItemStatus, Stage
from gunmane.web.guide import nextstep
from gunmane.web.registry import frames
from gunmane.web.registry.models import Facility, ImportRecord, Municipality, MunicipalityKind

RECENT_IMPORTS = 5
RANKING_SHOWN = 10  # the rest of a prefecture's ranking is folded under a disclosure
STAGE_KEYS = {str(label): key for key, label in Stage.choices}


# --------------------------------------------------------------------------- the three figures


@dataclass(frozen=True)
class Figure:
    """One headline figure: a count out of a base (with the share), its unit, and its place among peers."""

    id: str  # the indicator it is read from (the カルテ row it links to)
    label: str
    count: int | None  # None = unknown (no ledger, or none of the base)
    unit: str
    base: int | None
    base_label: str
    share: float | None  # % of base
    peers: str  # 「類似団体（…）12団体中 3位」 or why there is no position
    url: str
    source: str
    alert: bool = False


def _round(value: float | None) -> int | None:
    return None if value is None or math.isnan(value) else int(round(value))


def _share(count: int | None, base: int | None) -> float | None:
    return None if count is None or not base else count / base * 100.0


# (indicator whose value is ranked, label, unit, base label)
FIGURES = (
    ("age_50plus_share", "建設後50年以上の橋梁", "橋", "建設年度が分かる橋梁"),
    ("backlog", "判定区分Ⅲ・Ⅳで措置未着手の橋梁", "橋", "最新の判定がⅢ・Ⅳの橋梁"),
    ("inspection_overdue", "点検期限（5年）を過ぎた橋梁", "橋", "台帳の橋梁"),
)
#: the headline figures are the bridges' (issue #13 §2: bridges are where every municipality has a 5-year
#: inspection duty and a national figure to compare with); the カルテ links carry the same filter
FIGURE_TYPE = "bridge"
PUBLIC_FIGURE = ("bridges_iii_iv_share", "判定区分Ⅲ・Ⅳの橋梁（公開統計）", "橋", "点検済み橋梁")


def counts_from(values: Mapping[str, tuple[float | None, int | None]]) -> dict[str, tuple[int | None, int | None]]:
    """(count, base) of each headline figure from indicator (value, n) pairs — a カルテ's or a table row's.

    建設後50年以上: value is the share of the n facilities with a known year. 措置未着手: value is a count; its
    base is the facilities whose latest grade is Ⅲ・Ⅳ (grade_iii_iv_share × its n). 点検期限: a count out of
    n facilities of the five-year types. The public figure: Ⅲ・Ⅳ bridges out of inspected bridges."""
    def get(key: str) -> tuple[float | None, int | None]:
        value, n = values.get(key, (None, None))
        return (None if value is None or math.isnan(value) else float(value)), n

    age, age_n = get("age_50plus_share")
    grade, grade_n = get("grade_iii_iv_share")
    backlog, _ = get("backlog")
    overdue, overdue_n = get("inspection_overdue")
    bridges, _ = get("bridges_iii_iv")
    inspected, _ = get("bridges_inspected")
    return {
        "age_50plus_share": (None if age is None else _round(age * (age_n or 0) / 100.0), age_n or None),
        "backlog": (_round(backlog), None if grade is None else _round(grade * (grade_n or 0) / 100.0)),
        "inspection_overdue": (_round(overdue), overdue_n or None),
        "bridges_iii_iv_share": (_round(bridges), _round(inspected)),
    }


def _peer_position(value: IndicatorValue, ind: str, lg_code: str, table: pd.DataFrame) -> str:
    """「類似団体 12団体中 3位」 from the table the カルテ's percentile comes from (the same peers, the same
    values the reader may see); none where the カルテ shows no percentile (fewer than five known values)."""
    if value.value is None:
        return ""
    if lg_code not in table.index:
        return ""
    peers = table[table["peer_key"] == table.at[lg_code, "peer_key"]][ind].dropna()
    if value.peer_percentile is None:
        return f"類似団体で値が分かるのは{len(peers)}団体のため順位なし（5団体以上で表示）"
    rank = int((peers > value.value).sum()) + 1
    return f"類似団体 {len(peers)}団体中 {rank}位（多い方から）"


def municipal_figures(karte: Karte, table: pd.DataFrame, karte_url: str) -> list[Figure]:
    """The three ledger figures and the public bridge figure of a municipality's カルテ, with peer positions."""
    values = {i.id: (i.value, i.n) for i in karte.indicators}
    counts = counts_from(values)
    out = []
    for ind, name, unit, base_label in (*FIGURES, PUBLIC_FIGURE):
        v = karte.indicator(ind)
        count, base = counts[ind]
        share = v.value if ind.endswith("_share") else _share(count, base)
        out.append(Figure(
            id=ind, label=name, count=count, unit=unit, base=base, base_label=base_label, share=share,
            peers=_peer_position(v, ind, karte.scope.code, table), url=f"{karte_url}#ind-{ind}",
            source=v.source, alert=bool(count) and ind in ("backlog", "inspection_overdue")))
    return out


# --------------------------------------------------------------------------- groups, invitations, imports


def _next_item(group: Group, stage_name: str) -> ChecklistItem | None:
    key = STAGE_KEYS.get(stage_name)
    if key is None:
        return None
    return (group.checklist.filter(stage=key).exclude(status__in=[ItemStatus.DONE, ItemStatus.NOT_APPLICABLE])
            .select_related("owner").order_by("order", "id").first())


def group_rows(groups: list[Group], own_ids: set[int]) -> list[dict[str, Any]]:
    rows = []
    for g in groups:
        progress = workspace.progress(g)
        stage = workspace.current_stage(g)
        current = next((p for p in progress if p["name"] == stage), None)
        members = list(g.accepted_members().select_related("municipality"))
        rows.append({
            "group": g, "stage": stage, "current": current, "item": _next_item(g, stage),
            "members": [m.municipality.name for m in members],
            "roles": [m.get_role_display() for m in members if m.municipality_id in own_ids],
        })
    return rows


def _task(row: dict[str, Any]) -> nextstep.GroupTask:
    g, item = row["group"], row["item"]
    return nextstep.GroupTask(
        group=g.name, stage=row["stage"], url=reverse("groups:process", args=[g.pk]) if item else
        reverse("groups:overview", args=[g.pk]), item=item.title if item else None,
        owner=item.owner.name if item and item.owner else None, due=item.due_date if item else None)


def _imports(municipalities: list[Municipality]) -> list[ImportRecord]:
    return list(ImportRecord.objects.filter(municipality__in=municipalities)
                .select_related("municipality", "user").order_by("-created_at")[:RECENT_IMPORTS])


# --------------------------------------------------------------------------- a municipality's panel


def municipal_panel(request: HttpRequest, membership: Membership, visible: frozenset[str] | None,
                    fy: int) -> dict[str, Any]:
    muni = membership.municipality
    karte = services.build_karte(services.resolve_scope(muni.lg_code), fiscal_year=fy, visible=visible,
                                 facility_type=FIGURE_TYPE)
    table = services.municipal_table(fy, visible=visible, facility_type=FIGURE_TYPE)
    karte_url = f"{reverse('analysis:municipality', args=[muni.lg_code])}?type={FIGURE_TYPE}"
    figures = municipal_figures(karte, table, karte_url)
    groups = group_rows(list(Group.objects.filter(members__in=GroupMember.objects.accepted().filter(
        municipality=muni)).distinct().order_by("name")), {muni.pk})
    invitations = list(group_permissions.pending_invitations(request.user).filter(municipality=muni))
    can_edit = membership.role in EDITING_ROLES
    state = nextstep.State(
        municipality=muni.name, can_edit=can_edit, has_ledger=karte.has_ledger,
        links=nextstep.Links(
            import_page=reverse("registry:import_create", args=[muni.lg_code]),
            template=reverse("registry:template", args=["facilities"]),
            start_group=f"{reverse('guide:start')}?lg={muni.lg_code}", karte=karte_url,
            cases=reverse("guide:cases")),
        invitations=tuple(nextstep.Invitation(i.group.name, reverse("groups:invitation", args=[i.group_id, i.pk]))
                          for i in invitations),
        groups=tuple(_task(r) for r in groups),
        needs=tuple(f"{f.label} {f.count:,}{f.unit}" for f in figures if f.alert))
    return {"kind": "municipality", "muni": muni, "role": membership.get_role_display(), "can_edit": can_edit,
            "karte": karte, "figures": figures[:3], "public_figure": figures[3], "karte_url": karte_url,
            "groups": groups, "invitations": invitations, "imports": _imports([muni]),
            "next_step": nextstep.next_step(state)}


# --------------------------------------------------------------------------- a prefecture's panel


def _need_key(row: dict[str, Any]) -> tuple[float, ...]:
    """Most in need first: 措置未着手, then 点検期限切れ, then the share 50+ years old (unknown last)."""
    def v(key: str) -> float:
        x = row.get(key)
        return -1.0 if x is None else float(x)
    return (-v("backlog"), -v("inspection_overdue"), -v("age_share"))


def ranking(table: pd.DataFrame, pref_code: str, memberships: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
    """The prefecture's municipalities ranked by need: those whose ledger figures the reader sees by the three
    ledger figures, the others by the public share of Ⅲ・Ⅳ bridges (MLIT's 道路メンテナンス年報)."""
    members = table[table["pref_code"] == pref_code]
    ledger: list[dict[str, Any]] = []
    public: list[dict[str, Any]] = []
    for code, r in members.iterrows():
        values = {c: (r[c], int(r[f"{c}__n"])) for c in ("age_50plus_share", "grade_iii_iv_share", "backlog",
                                                           "inspection_overdue", "bridges_iii_iv",
                                                           "bridges_inspected")}
        counts = counts_from(values)
        age_share = r["age_50plus_share"]
        row = {
            "code": code, "name": r["name"], "groups": memberships.get(str(code), []),
            "age": counts["age_50plus_share"], "age_share": None if pd.isna(age_share) else float(age_share),
            "backlog": counts["backlog"][0], "backlog_base": counts["backlog"][1],
            "inspection_overdue": counts["inspection_overdue"][0], "overdue_base": counts["inspection_overdue"][1],
            "bridges": counts["bridges_iii_iv_share"],
            "bridges_share": None if pd.isna(r["bridges_iii_iv_share"]) else float(r["bridges_iii_iv_share"]),
            "url": f"{reverse('analysis:municipality', args=[code])}?type={FIGURE_TYPE}",
        }
        (ledger if bool(r["has_ledger"]) else public).append(row)
    ledger.sort(key=_need_key)
    public.sort(key=lambda x: (-(x["bridges_share"] if x["bridges_share"] is not None else -1.0), x["name"]))
    return {"ledger": ledger, "public": public}


def prefecture_panel(request: HttpRequest, membership: Membership, visible: frozenset[str] | None,
                     fy: int) -> dict[str, Any]:
    muni = membership.municipality
    pref = muni.prefecture
    table = services.municipal_table(fy, visible=visible, facility_type=FIGURE_TYPE)
    visible_groups = {g.pk for g in group_permissions.groups_of(request.user)}
    accepted = (GroupMember.objects.accepted().filter(municipality__prefecture=pref)
                .select_related("group", "municipality"))
    memberships: dict[str, list[str]] = {}
    in_groups: set[int] = set()
    for m in accepted:
        in_groups.add(m.group_id)
        # a group the prefecture has not joined is not named (its settings are its members' — docs/permissions.md)
        memberships.setdefault(m.municipality.lg_code, []).append(
            m.group.name if m.group_id in visible_groups else "県が参加していない群")
    ranked = ranking(table, pref.code, memberships)
    everyone = ranked["ledger"] + ranked["public"]
    groups = group_rows(list(Group.objects.filter(pk__in=in_groups & visible_groups).order_by("name")), {muni.pk})
    return {"kind": "prefecture", "muni": muni, "pref": pref, "role": membership.get_role_display(),
            "fiscal_year": fy, "ledger_rows": ranked["ledger"], "public_top": ranked["public"][:RANKING_SHOWN],
            "public_rest": ranked["public"][RANKING_SHOWN:], "groups": groups,
            "hidden_groups": len(in_groups - visible_groups),
            "without_group": sorted((r for r in everyone if not r["groups"]), key=lambda r: r["code"]),
            "karte_url": reverse("analysis:prefecture", args=[pref.code]),
            "invitations": list(group_permissions.pending_invitations(request.user).filter(municipality=muni)),
            "imports": _imports(list(viewable_municipalities(request.user)))}


# --------------------------------------------------------------------------- administrator and the page


def admin_summary() -> dict[str, Any]:
    with_ledger = Facility.objects.values("manager").distinct().count()
    groups = list(Group.objects.order_by("name"))
    by_stage: dict[str, int] = {}
    for g in groups:
        stage = workspace.current_stage(g)
        by_stage[stage] = by_stage.get(stage, 0) + 1
    return {"municipalities_with_ledger": with_ledger, "facilities": Facility.objects.count(),
            "groups": len(groups), "by_stage": sorted(by_stage.items(), key=lambda kv: -kv[1]),
            "imports": list(ImportRecord.objects.select_related("municipality", "user")
                            .order_by("-created_at")[:RECENT_IMPORTS]),
            "users": Membership.objects.values("user").distinct().count()}


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in home (guide.home shows it only to a signed-in user)."""
    user = cast(AuthenticatedHttpRequest, request).user
    visible = group_permissions.ledger_figure_codes(user)
    fy = frames.latest_fiscal_year()
    panels = []
    for m in Membership.objects.filter(user=user).select_related("municipality__prefecture").order_by(
            "municipality__lg_code"):
        if m.municipality.kind == MunicipalityKind.PREFECTURE:
            panels.append(prefecture_panel(request, m, visible, fy))
        else:
            panels.append(municipal_panel(request, m, visible, fy))
    return render(request, "guide/dashboard.html", {
        "panels": panels, "fiscal_year": fy,
        "admin": admin_summary() if user.is_superuser else None,
    })
