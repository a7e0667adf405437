"""A group's documents (実施方針・協定書・仕様書): the data each is built from, read from the group's own
data, and rendering it in the chosen format with the writers of gunmane.io.documents."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from django.utils import timezone

from gunmane.engine.calendar import fiscal_year
from gunmane.io.documents.inputs import (
    DocumentInput,
    FacilityRow,
    LotInfo,
    MechanismInfo,
    MemberInfo,
    ScheduleItem,
)
from gunmane.io.shipped import vocab
from gunmane.io.shipped.cases import catalogue
from gunmane.web.groups.effects import GRADE_JA, effect_summary
from gunmane.web.groups.models import CostShareRule, Group, MemberRole
from gunmane.web.groups.workspace import latest_scenario, ordered_members, settings_of
from gunmane.web.registry import frames
from gunmane.web.registry.models import Facility, MunicipalityKind

KIND_JA = dict(MunicipalityKind.choices)


# --------------------------------------------------------------------------- the data a document is built from


def _member_figures(codes: list[str]) -> dict[str, dict[str, Any]]:
    """Figures of each member's カルテ: reference statistics and, where imported, the ledger."""
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


def _effects(group: Group) -> Any:
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


# --------------------------------------------------------------------------- rendering


def render_document(kind: str, file_format: str, inp: DocumentInput, lot: str = "") -> bytes:
    """kind: policy | agreement | spec (spec needs ``lot``); file_format: docx | pdf."""
    # python-docx and the PDF writers load when a document is made, not when the site or the CLI starts
    from gunmane.io.documents import agreement, policy, spec

    if file_format not in ("docx", "pdf"):
        raise ValueError(f"形式「{file_format}」には対応していません（docx または pdf）。")
    if kind == "policy":
        return policy.policy_docx(inp) if file_format == "docx" else policy.policy_pdf(inp)
    if kind == "agreement":
        return agreement.agreement_docx(inp) if file_format == "docx" else agreement.agreement_pdf(inp)
    if kind == "spec":
        return spec.spec_docx(inp, lot) if file_format == "docx" else spec.spec_pdf(inp, lot)
    raise ValueError(f"文書の種類「{kind}」はありません（policy・agreement・spec）。")
