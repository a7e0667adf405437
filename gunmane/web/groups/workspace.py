"""The group workspace's rules in one place: who may see and edit a group, its settings with defaults,
the checklist seeded from the guide, the profile the helpers read, and the data a document is built from."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from gunmane.engine.calendar import fiscal_year
from gunmane.engine.grouping import GroupProfile, judgement_warnings, match_cases, suggest_mechanisms
from gunmane.io import vocab
from gunmane.io.documents.inputs import (
    DocumentInput,
    FacilityRow,
    LotInfo,
    MechanismInfo,
    MemberInfo,
    ScheduleItem,
)
from gunmane.io.group_catalogue import catalogue
from gunmane.web.accounts import permissions
from gunmane.web.groups.models import (
    ChecklistItem,
    CostShareRule,
    Group,
    GroupMember,
    GroupSettings,
    MemberDuties,
    MemberRole,
    Stage,
)
from gunmane.web.registry.models import Facility, MunicipalityKind

KIND_JA = dict(MunicipalityKind.choices)
GRADE_JA = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}


# --------------------------------------------------------------------------- permissions


def can_view(user: Any, group: Group) -> bool:
    """Staff of the group's accepted members see its shared views (the rule lives in accounts.permissions)."""
    return permissions.can_view_group(user, group)


def can_edit(user: Any, group: Group) -> bool:
    """Editors of an accepted (non-observer) member change the group's shared settings and checklist."""
    return permissions.can_edit_group(user, group)


def can_edit_member(user: Any, member: GroupMember) -> bool:
    """Each member edits only its own duties (and only once it has accepted)."""
    return member.is_accepted and permissions.can_edit_ledger(user, member.municipality)


def require_view(user: Any, group: Group) -> None:
    permissions.require_view_group(user, group)


def require_edit(user: Any, group: Group) -> None:
    permissions.require_edit_group(user, group)


def visible_groups(user: Any) -> list[Group]:
    return list(permissions.groups_of(user).prefetch_related("members__municipality"))


# --------------------------------------------------------------------------- settings and checklist


@transaction.atomic
def settings_of(group: Group) -> GroupSettings:
    """The group's settings, created with the checklist of the guide on first use."""
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


# --------------------------------------------------------------------------- documents


def _member_figures(codes: list[str]) -> dict[str, dict[str, Any]]:
    """Figures of each member's カルテ: reference statistics and, where imported, the ledger."""
    from gunmane.web.analysis import frames

    ref = frames.reference_frames()
    stats = ref.stats
    latest = stats[stats["lg_code"].isin(codes)].sort_values("fiscal_year").groupby("lg_code").last()
    ledger = frames.ledger_frames(tuple(codes))
    fac = ledger.facilities
    bridges = fac[fac["facility_type"] == "bridge"]
    this_year = timezone.localdate().year
    out: dict[str, dict[str, Any]] = {}
    for code in codes:
        row = latest.loc[code] if code in latest.index else None
        b = bridges[bridges["lg_code"] == code]
        known_age = b["built_year"].dropna()

        def val(col: str, r: Any = row) -> Any:
            if r is None or col not in r or pd.isna(r[col]):
                return None
            return r[col]

        out[code] = {
            "population": int(val("population")) if val("population") is not None else None,
            "bridges": int(len(b)) if len(b) else (int(val("bridges_inspected")) if val("bridges_inspected") else None),
            "bridges_iii_iv": int((b["latest_grade"] >= 3).sum()) if len(b) else (
                int(val("bridges_need_repair")) if val("bridges_need_repair") is not None else None),
            "share_50y": float((this_year - known_age >= 50).mean()) if len(known_age) else None,
            "civil_engineers": int(val("civil_engineers")) if val("civil_engineers") is not None else None,
            "civil_expenditure_yen": int(val("civil_engineering_expenditure"))
            if val("civil_engineering_expenditure") is not None else None,
        }
    return out


def _shares(rule: str, counts: dict[str, int], costs: dict[str, float]) -> dict[str, float]:
    """Cost shares by the group's rule (fractions summing to 1 over the paying members)."""
    codes = list(counts)
    if not codes:
        return {}
    if rule == CostShareRule.DIRECT_COST and sum(costs.values()) > 0:
        total = sum(costs.values())
        return {c: costs.get(c, 0.0) / total for c in codes}
    total_n = sum(counts.values())
    if rule == CostShareRule.EQUAL_USAGE and total_n > 0:
        return {c: 0.5 / len(codes) + 0.5 * counts[c] / total_n for c in codes}
    if total_n == 0:
        return {c: 1.0 / len(codes) for c in codes}
    return {c: counts[c] / total_n for c in codes}


def default_lots(group: Group, codes: list[str], horizon_years: int = 1) -> list[LotInfo]:
    """Lots the group can order today without the lot designer: one inspection lot of the bridges due
    within ``horizon_years`` and one repair-design lot of the III/IV bridges (each across all members)."""
    types = {t.code: t.name for t in vocab.facility_types()}
    qs = (Facility.objects.filter(manager__lg_code__in=codes, facility_type__code="bridge")
          .select_related("manager", "facility_type").order_by("manager__lg_code", "facility_id"))
    today = timezone.localdate()
    due, repair = [], []
    for f in qs:
        row = FacilityRow(lg_code=f.manager.lg_code, manager_name=f.manager.name, facility_id=f.facility_id,
                          name=f.name, facility_type_ja=types.get(f.facility_type.code, f.facility_type.name),
                          route=f.route, built_year=f.built_year, length_m=f.length_m,
                          grade=GRADE_JA.get(f.latest_grade or 0, ""), lat=f.lat, lon=f.lon)
        last = f.latest_inspected_on
        if last is None or (today - last).days >= 365 * (5 - horizon_years):
            due.append(row)
        if (f.latest_grade or 0) >= 3:
            repair.append(row)
    lots = []
    if due:
        lots.append(LotInfo(lot_id="L1", name=f"橋梁定期点検（{today.year}年度に期限を迎える橋梁）", facilities=tuple(due),
                            tasks=("道路橋定期点検要領にもとづく近接目視点検", "点検調書の作成", "健全性の診断の補助資料の作成"),
                            service_levels=(("点検調書", "各橋の本来管理者が健全性の診断を行える内容と精度"),),
                            reporting=("月次の進捗報告", "橋ごとの点検調書（電子データ）", "損傷の緊急連絡（発見当日）"),
                            term_years=1))
    if repair:
        lots.append(LotInfo(lot_id="L2", name="Ⅲ・Ⅳ 判定橋梁の補修設計", facilities=tuple(repair),
                            tasks=("詳細調査", "補修設計", "概算工事費の算出"),
                            service_levels=(("補修設計", "次回点検まで（5年以内）に措置できる工程と工法"),),
                            per_task_cap_yen=None, reporting=("設計成果の照査報告", "構成団体ごとの成果の納品"),
                            term_years=1))
    return lots


ROLE_ORDER = {MemberRole.LEAD: 0, MemberRole.MEMBER: 1, MemberRole.PREFECTURE: 2, MemberRole.OBSERVER: 3}


def ordered_members(group: Group) -> list[GroupMember]:
    """The accepted members: lead first, then members, the supporting prefecture, observers (each by 団体コード)."""
    members = list(group.accepted_members().select_related("municipality", "duties"))
    members.sort(key=lambda m: (ROLE_ORDER.get(MemberRole(m.role), 9), m.municipality.lg_code))
    return members


def latest_scenario(group: Group) -> Any:
    return group.effect_scenarios.order_by("-updated_at").first()


def _effects(group: Group) -> Any:
    from gunmane.web.groups.effects import effect_summary

    es = latest_scenario(group)
    return effect_summary(es) if es is not None else None


def document_input(group: Group, *, version: int = 1, prepared_on: date | None = None) -> DocumentInput:
    """Everything the documents say, read from the group's own data."""
    s = settings_of(group)
    cat = catalogue()
    members = ordered_members(group)
    codes = [m.municipality.lg_code for m in members]
    figures = _member_figures(codes)
    paying = [m.municipality.lg_code for m in members if m.role != MemberRole.OBSERVER]
    counts = {c: int(figures[c]["bridges"] or 0) for c in paying}
    shares = _shares(s.cost_share_rule, counts, {c: float(counts[c]) for c in paying})
    task_names = {t.key: t.name for t in cat.tasks}
    infos = []
    for m in members:
        duties = getattr(m, "duties", None)
        f = figures[m.municipality.lg_code]
        infos.append(MemberInfo(
            lg_code=m.municipality.lg_code, name=m.municipality.name,
            kind_ja=KIND_JA.get(m.municipality.kind, ""), role_ja=m.get_role_display(),
            population=f["population"], bridges=f["bridges"], bridges_iii_iv=f["bridges_iii_iv"],
            share_50y=f["share_50y"], civil_engineers=f["civil_engineers"],
            civil_expenditure_yen=f["civil_expenditure_yen"],
            delegated_tasks=tuple(task_names.get(k, k) for k in (duties.delegated_tasks if duties else [])),
            kept_judgements=tuple(task_names.get(k, k) for k in (duties.kept_judgements if duties else [])),
            cost_share=shares.get(m.municipality.lg_code),
            plans=tuple(ln.strip() for ln in (duties.plans if duties else "").splitlines() if ln.strip())))
    mech = cat.mechanism(s.mechanism or "agreement")
    assert mech is not None
    sectors = {x.code: x.name for x in vocab.sectors()}
    work = dict(cat.work_kinds)
    levers = {k: n for k, n, _ in cat.levers}
    start = s.start_fiscal_year or fiscal_year(timezone.localdate()) + 1
    schedule = (ScheduleItem(start - 1, "実施方針の策定・協定の締結・予算要求"),
                ScheduleItem(start, "発注・実施（初年度）、モニタリング"),
                *(ScheduleItem(start + i, "実施・モニタリング") for i in range(1, max(1, s.term_years))),
                ScheduleItem(start + max(1, s.term_years), "評価・次期事業の検討"))
    synthetic = Facility.objects.filter(manager__lg_code__in=codes, is_synthetic=True).exists()
    return DocumentInput(
        group_name=group.name, prepared_on=prepared_on or timezone.localdate(), members=tuple(infos),
        collaboration_types_ja=tuple(group.collaboration_labels()),
        sectors_ja=tuple(sectors.get(c, c) for c in s.sectors), work_kinds_ja=tuple(work.get(k, k) for k in s.work_kinds),
        mechanism=MechanismInfo(key=mech.key, name_ja=mech.name, article_ja=mech.article, authority_ja=mech.authority,
                                needs_resolution=mech.needs_resolution),
        target_area_ja=s.target_area or "構成団体の区域", issues=tuple(s.issue_lines()), schedule=schedule,
        cost_share_rule_ja=s.get_cost_share_rule_display(),
        bundles=tuple((k, v) for k, v in (("自治体の束", s.bundle_owners), ("技術者の束", s.bundle_people),
                                          ("事業者の束", s.bundle_contractors)) if v),
        levers=tuple(levers.get(k, k) for k in s.levers), effects=_effects(group),
        lots=tuple(default_lots(group, paying)),
        term_years=s.term_years, synthetic=synthetic, version=version)
