"""The group workspace's state: its settings with defaults, the checklist seeded from the guide and its
progress, the profile the helpers read, its members in order and its latest scenario.

Who may see and edit a group is gunmane.web.groups.permissions; the data a document is built from is
gunmane.web.groups.documents; 効果試算 is gunmane.web.groups.effects (which reads this module, never the
other way round)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from gunmane.engine.grouping import GroupProfile, judgement_warnings, match_cases, suggest_mechanisms
from gunmane.io.shipped.cases import catalogue
from gunmane.web.groups.models import (
    ChecklistItem,
    Group,
    GroupMember,
    GroupSettings,
    MemberDuties,
    MemberRole,
    Stage,
)
from gunmane.web.registry.models import MunicipalityKind

# --------------------------------------------------------------------------- settings and checklist


def settings_of(group: Group) -> GroupSettings:
    """The group's settings, created with the checklist of the guide on first use.

    Every workspace page asks for them: when all is there (the usual case) this only reads — three queries, no
    transaction, no write — so that a page view never takes a write lock (load test: the group overview was the
    slowest simple page under 20 users, PostgreSQL, docs/benchmarks.md 負荷試験)."""
    s = GroupSettings.objects.filter(group=group).first()
    if (s is not None and group.checklist.exists()
            and not group.accepted_members().filter(duties__isnull=True).exists()):
        return s
    return _create_settings(group)


@transaction.atomic
def _create_settings(group: Group) -> GroupSettings:
    s, created = GroupSettings.objects.get_or_create(group=group)
    if created or not group.checklist.exists():
        seed_checklist(group)
    for m in group.accepted_members():
        MemberDuties.objects.get_or_create(member=m)
    return s


def seed_checklist(group: Group) -> int:
    items = []
    for stage in catalogue().stages:
        for i, item in enumerate(stage["items"]):
            items.append(ChecklistItem(group=group, stage=stage["key"], order=i, title=item["title"],
                                       evidence_hint=item.get("evidence", "")))
    ChecklistItem.objects.bulk_create(items)
    return len(items)


def progress(group: Group) -> list[dict[str, Any]]:
    """Per stage: items, done (incl. not applicable), share — for the overview and the board."""
    rows = []
    items = list(group.checklist.all())
    for key, name in Stage.choices:
        of_stage = [i for i in items if i.stage == key]
        done = sum(1 for i in of_stage if i.status in ("done", "na"))
        rows.append({"key": key, "name": name, "total": len(of_stage), "done": done,
                     "share": done / len(of_stage) if of_stage else 0.0})
    return rows


def current_stage(group: Group) -> str:
    for row in progress(group):
        if row["total"] and row["done"] < row["total"]:
            return str(row["name"])
    return "完了"


# --------------------------------------------------------------------------- helpers' profile


def _size(group: Group) -> str:
    kinds = [m.municipality.kind for m in group.accepted_members().exclude(role=MemberRole.OBSERVER).select_related("municipality")
             if m.municipality.kind != MunicipalityKind.PREFECTURE]
    if any(k == MunicipalityKind.VILLAGE for k in kinds):
        return "village"
    if any(k == MunicipalityKind.TOWN for k in kinds):
        return "town"
    return "city"


def profile(group: Group) -> GroupProfile:
    s = settings_of(group)
    members = list(group.accepted_members().select_related("municipality", "duties"))
    delegations = tuple((m.municipality.name, m.role, tuple(m.duties.delegated_tasks))
                        for m in members if hasattr(m, "duties"))
    return GroupProfile(
        types=tuple(group.collaboration_types), n_members=len([m for m in members if m.role != MemberRole.OBSERVER]),
        has_prefecture=any(m.municipality.kind == MunicipalityKind.PREFECTURE for m in members),
        sectors=tuple(s.sectors), size=_size(group), levers=tuple(s.levers), wants_permanent=s.wants_permanent,
        executes_for_others=s.executes_for_others, shared_engineers=s.shared_engineers, mechanism=s.mechanism,
        delegations=delegations)


def helpers(group: Group) -> dict[str, Any]:
    cat = catalogue()
    p = profile(group)
    return {"profile": p, "suggestions": suggest_mechanisms(p, cat.mechanisms),
            "cases": match_cases(p, cat.cases), "warnings": judgement_warnings(p, cat.tasks, cat.mechanisms)}


# --------------------------------------------------------------------------- members and scenarios


ROLE_ORDER = {MemberRole.LEAD: 0, MemberRole.MEMBER: 1, MemberRole.PREFECTURE: 2, MemberRole.OBSERVER: 3}


def ordered_members(group: Group) -> list[GroupMember]:
    """The accepted members: lead first, then members, the supporting prefecture, observers (each by 団体コード)."""
    members = list(group.accepted_members().select_related("municipality", "duties"))
    members.sort(key=lambda m: (ROLE_ORDER.get(MemberRole(m.role), 9), m.municipality.lg_code))
    return members


def latest_scenario(group: Group) -> Any:
    return group.effect_scenarios.order_by("-updated_at").first()
