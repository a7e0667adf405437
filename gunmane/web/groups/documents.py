"""A group's documents (実施方針・協定書・仕様書): the data each is built from, read from the group's own
data, and rendering it in the chosen format with the writers of gunmane.io.documents."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from django.utils import timezone

from gunmane.engine.calendar import fiscal_year
from gunmane.io.documents.figures import build_schedule
from gunmane.io.documents.inputs import DocumentInput, FacilityRow, LotInfo, MechanismInfo, MemberInfo
from gunmane.io.scenario import ScenarioFileError, read_scenario
from gunmane.io.shipped import vocab
from gunmane.io.shipped.cases import catalogue
from gunmane.io.values.scales import scale_for_facility_type
from gunmane.web.groups.effects import GRADE_JA, cost_share_of, evaluate_scenario, stored_summary, summary_of
from gunmane.web.groups.models import GeneratedDocument, Group, MemberRole
from gunmane.web.groups.workspace import latest_scenario, ordered_members, settings_of
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job, JobStatus
from gunmane.web.registry import frames
from gunmane.web.registry.models import Facility, Municipality, MunicipalityKind

KIND_JA = dict(MunicipalityKind.choices)
INSPECTION_CYCLE_YEARS = 5  # 道路法施行規則: close visual inspection of road bridges once in five years


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


def default_lots(group: Group, codes: list[str], first_year: int) -> list[LotInfo]:
    """Lots the group can order in the first year of its period without the lot designer: one inspection lot of
    the bridges due by ``first_year`` (never inspected, or inspected five or more fiscal years before it — as the
    effects engine derives the inspections) and one repair-design lot of the III/IV bridges."""
    types = {t.code: t.name for t in vocab.facility_types()}
    qs = (Facility.objects.filter(manager__lg_code__in=codes, facility_type__code="bridge")
          .select_related("manager", "facility_type").order_by("manager__lg_code", "facility_id"))
    due, repair = [], []
    for f in qs:
        row = FacilityRow(lg_code=f.manager.lg_code, manager_name=f.manager.name, facility_id=f.facility_id,
                          name=f.name, facility_type_ja=types.get(f.facility_type.code, f.facility_type.name),
                          route=f.route, built_year=f.built_year, length_m=f.length_m,
                          grade=GRADE_JA.get(f.latest_grade or 0, ""), lat=f.lat, lon=f.lon)
        last = f.latest_inspected_on
        if last is None or fiscal_year(last) + INSPECTION_CYCLE_YEARS <= first_year:
            due.append(row)
        if (f.latest_grade or 0) >= 3:
            repair.append(row)
    lots = []
    if due:
        lots.append(LotInfo(lot_id="L1", name=f"橋梁定期点検（{first_year}年度に点検の期限を迎える橋梁）", facilities=tuple(due),
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


def _grade_label(facility_type: str, grade: int | None) -> str:
    """A facility's latest grade on its own type's scale (Ⅲ, C, d, 緊急度Ⅱ …); "" when never graded."""
    if not grade:
        return ""
    try:
        sc = scale_for_facility_type(facility_type)
        return sc.label(int(grade))
    except (KeyError, ValueError):
        return GRADE_JA.get(grade, "")


def multisector_lots(es: Any, codes: list[str], years: int) -> list[LotInfo]:
    """The 多分野 lot of a scenario that asks for lines per sector (``by_sector``) over two or more sectors: every
    facility of those sectors of the paying members, each with its sector, its member and its grade on its own
    scale, as one comprehensive contract (包括的な維持管理). [] for any other scenario."""
    if es is None:
        return []
    try:
        sf = read_scenario(f"{es.name}.toml", text=es.toml)
    except ScenarioFileError:
        return []
    if not sf.by_sector or len(sf.sectors) < 2:
        return []
    sectors = {x.code: x.name for x in vocab.sectors()}
    types = {t.code: t.name for t in vocab.facility_types()}
    qs = (Facility.objects.filter(manager__lg_code__in=codes, sector__code__in=sf.sectors)
          .select_related("manager", "facility_type", "sector").order_by("sector__order", "manager__lg_code", "facility_id"))
    rows = tuple(FacilityRow(
        lg_code=f.manager.lg_code, manager_name=f.manager.name, facility_id=f.facility_id, name=f.name,
        facility_type_ja=types.get(f.facility_type.code, f.facility_type.name), route=f.route, built_year=f.built_year,
        length_m=f.length_m, grade=_grade_label(f.facility_type.code, f.latest_grade), lat=f.lat, lon=f.lon,
        sector_ja=sectors.get(f.sector.code, f.sector.code)) for f in qs)
    if not rows:
        return []
    named = "・".join(sectors.get(c, c) for c in sf.sectors)
    return [LotInfo(lot_id="M1", name=f"{named}の包括的な維持管理", facilities=rows,
                    tasks=("各分野の点検要領にもとづく定期点検（道路橋・舗装・公園施設・樋門・管渠）", "点検結果の報告と診断の補助資料の作成",
                           "日常の巡回・清掃・除草・小規模な補修", "Ⅲ・Ⅳ（各分野の措置が必要な区分）の施設の補修設計"),
                    service_levels=(("日常維持", "各分野の管理水準（通行・利用に支障となる損傷を発見から定めた期間内に処置）"),),
                    per_task_cap_yen=500_000,
                    reporting=("月次の業務報告（分野ごと・団体ごと）", "施設ごとの点検調書（電子データ）", "損傷の緊急連絡（発見当日）"),
                    term_years=years)]


def author_label(user: Any, group: Group | None = None) -> str:
    """作成者 as the documents print it: the person's name and organisation (「山田 太郎（宇陀市）」), never the login
    name; the organisation is the user's government that is a member of the group (else its first one)."""
    if user is None or not getattr(user, "pk", None):
        return ""
    name = " ".join(x for x in (user.last_name.strip(), user.first_name.strip()) if x)
    munis = list(Municipality.objects.filter(memberships__user=user).order_by("lg_code"))
    if group is not None:
        members = set(group.member_codes(include_observers=True))
        munis = [m for m in munis if m.lg_code in members] or munis
    org = munis[0].name if munis else ""
    if not name:
        return org
    return name if not org or org in name else f"{name}（{org}）"


def document_input(group: Group, *, version: int = 1, prepared_on: date | None = None,
                   author: str = "", effects: tuple[Any, str] | None = None) -> DocumentInput:
    """Everything the documents say, read from the group's own data: the members' カルテ figures, their roles,
    and — from the chosen effect scenario, evaluated once — price, contracts, staff-hours, each member's share
    of the price and the period; the schedule follows the scenario's years.

    ``effects``: the scenario's (summary, note) when the caller has them — the page reads the evaluation job's
    (``page_effects``), so that no request evaluates a scenario; None evaluates it here (the worker making a
    document, the CLI)."""
    s = settings_of(group)
    cat = catalogue()
    members = ordered_members(group)
    codes = [m.municipality.lg_code for m in members]
    figures = _member_figures(codes)
    paying = [m.municipality.lg_code for m in members if m.role != MemberRole.OBSERVER]
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
            plans=tuple(ln.strip() for ln in (duties.plans if duties else "").splitlines() if ln.strip())))
    mech = cat.mechanism(s.mechanism or "agreement")
    assert mech is not None
    sectors = {x.code: x.name for x in vocab.sectors()}
    work = dict(cat.work_kinds)
    levers = {k: n for k, n, _ in cat.levers}
    day = prepared_on or timezone.localdate()
    es = latest_scenario(group)
    summary, failure = _effects(es) if effects is None else effects
    if summary is not None:  # the period of the work is the scenario's
        start, years = summary.start_fiscal_year, summary.horizon_years
    else:
        start, years = s.start_fiscal_year or fiscal_year(day) + 1, s.term_years
    names = {i.lg_code: i.name for i in infos}
    payers = [c for c in paying if c not in s.supporting_codes()]
    synthetic = Facility.objects.filter(manager__lg_code__in=codes, is_synthetic=True).exists()
    return DocumentInput(
        group_name=group.name, prepared_on=day, members=tuple(infos),
        collaboration_types_ja=tuple(group.collaboration_labels()),
        sectors_ja=tuple(sectors.get(c, c) for c in s.sectors), work_kinds_ja=tuple(work.get(k, k) for k in s.work_kinds),
        mechanism=MechanismInfo(key=mech.key, name_ja=mech.name, article_ja=mech.article, authority_ja=mech.authority,
                                needs_resolution=mech.needs_resolution),
        target_area_ja=s.target_area or "構成団体の区域", issues=tuple(s.issue_lines()),
        schedule=build_schedule(start, years, day), cost_share=cost_share_of(es, names, s),
        bundles=tuple((k, v) for k, v in (("自治体の束", s.bundle_owners), ("技術者の束", s.bundle_people),
                                          ("事業者の束", s.bundle_contractors)) if v),
        levers=tuple(levers.get(k, k) for k in s.levers), effects=summary,
        lots=(*default_lots(group, payers, start), *multisector_lots(es, payers, years)),
        effects_note=failure, synthetic=synthetic, version=version, author_ja=author)


def _effects(es: Any) -> tuple[Any, str]:
    """The chosen scenario's summary, or why the documents state no effect: a scenario that cannot be computed
    is named and the reader sent to the 効果試算 page for the reason (the documents never call it 「未実施」)."""
    if es is None:
        return None, ""
    try:
        ev = evaluate_scenario(es)
    except Exception:  # noqa: BLE001 — any refusal of the scenario is noted; the 効果試算 page gives the reason
        return None, _cannot_compute(es)
    if not ev.result.scenarios:
        return None, ""
    return summary_of(ev.result, es.chosen_index), ""


def _cannot_compute(es: Any) -> str:
    return (f"効果試算のシナリオ「{es.name}」を計算できないため、効果と負担額を記載していません"
            "（理由は群の『効果試算』のページに表示されます）。")


def page_effects(group: Group, user: Any) -> tuple[tuple[Any, str], Job | None]:
    """(summary, note) for ``document_input`` from the chosen scenario's evaluation job — the one the 効果試算 page
    and the group overview read, started if need be — and that job while it runs (the page shows its progress and
    reloads). Evaluating in the request took about 0.6 s at 100,000 facilities (#15 §3)."""
    es = latest_scenario(group)
    if es is None:
        return (None, ""), None
    summary, job = stored_summary(es, user)
    if summary is not None:
        return (summary, ""), None
    done = jobs.value(job)
    if job.status == JobStatus.FAILED or (done is not None and "error" in done):
        return (None, _cannot_compute(es)), None
    if done is not None:  # evaluated, and the scenario file names no scenario
        return (None, ""), None
    return (None, f"効果試算「{es.name}」を計算しています。終わると、効果と負担額がこのページと文書に入ります。"), job


# --------------------------------------------------------------------------- versions


def jsonable(value: Any) -> Any:
    """A document input (dataclasses as dicts) as JSON values: dates as ISO text, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _content_key(inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs of a document without its version: two files with the same key state the same content."""
    return {k: v for k, v in inputs.items() if k != "version"}


def document_version(group: Group, kind: str, lot: str, inputs: dict[str, Any]) -> tuple[int, GeneratedDocument | None]:
    """The version a document of ``kind`` (and ``lot``) built from ``inputs`` carries, and the latest document of
    that kind: the latest version when its content is the same (the Word and the PDF of one content share their
    number), else the next one. Versions count per kind and lot (the 仕様書 of each lot is its own document)."""
    latest = (GeneratedDocument.objects.filter(group=group, kind=kind, lot=lot).order_by("-version", "-pk").first())
    if latest is None:
        return 1, None
    if _content_key(latest.inputs) == _content_key(inputs):
        return latest.version, latest
    return latest.version + 1, latest


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
