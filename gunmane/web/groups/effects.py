"""効果試算 for a group, from the database: the scenario text (the same TOML the CLI reads), the group's
ledger as the engine's input, results cached by the data version, and the figures the pages and the
documents show (waterfall by lever, staff-hours per member, tornado, lots)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import tomli_w
from django_tasks import task

from gunmane.engine.calendar import fiscal_year
from gunmane.engine.costing import CostingError
from gunmane.engine.effects import EffectsError, ParameterSet, evaluate, sensitivity
from gunmane.engine.effects.sectors import SHARED
from gunmane.engine.lots import design_lots
from gunmane.io.documents.inputs import CostShare, EffectSummary, FacilityRow, LotInfo, MemberEffect
from gunmane.io.ledger.grades import grade_short, scale_of_type
from gunmane.io.scenario import (
    ScenarioFileError,
    build_group,
    engine_scenarios,
    lot_settings,
    read_scenario,
    share_rule,
)
from gunmane.io.shipped import vocab
from gunmane.io.shipped.costing import load_costing_edition
from gunmane.io.shipped.parameters import effects_parameters
from gunmane.web.groups.models import EffectScenario, Group, MemberRole, SavedDistricting
from gunmane.web.groups.workspace import ordered_members, settings_of
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job
from gunmane.web.registry import frames
from gunmane.web.registry.models import Facility, Municipality, MunicipalityKind, MunicipalYearStats

__all__ = ["ERRORS", "LEVERS", "Evaluation", "check_members", "compute_effects", "compute_lots", "effects_job",
           "error_text", "lots_job", "stored_summary", "cost_share_of", "default_scenario_toml", "design", "effect_summary",
           "evaluate_scenario", "group_for_scenario", "content_hash", "load_group", "lots_for_documents", "reference",
           "lot_sector_texts", "multisector_scenario_toml", "sector_rows", "summary_of",
           "waterfall"]

#: the levers of the scenario file, each explained in one sentence (shown in the editor)
LEVERS: tuple[tuple[str, str, str], ...] = (
    ("horizontal", "広域連携（水平）", "参加市町村の同じ分野・作業・年度の発注をまとめる（一つの契約、または共同発注で契約は団体ごと）。"),
    ("vertical", "広域連携（垂直）", "都道府県が発注を代行する、または積算・公告・入札を担い契約は団体ごとにする。"),
    ("multi_sector", "多分野連携", "道路・公園・河川など分野をまとめて発注する（分野が1つの群では適用できません）。"),
    ("years", "契約年数", "複数年度をまとめた契約にする（債務負担行為が必要）。"),
    ("process", "プロセスの束", "点検・設計・工事を一つの契約にし、判定から補修着手までを短くする。"),
    ("data", "データの束", "台帳を群で共有し、契約ごとの積算・準備の時間を減らす。"),
    ("performance_spec", "性能規定", "日常維持を要求水準による総価の包括契約にし、1作業の上限を超える工事は別に発注する。"),
)
LEVER_NAMES = {k: n for k, n, _ in LEVERS}


def current_fiscal_year(today: date | None = None) -> int:
    d = today or date.today()
    return fiscal_year(d)


def reference(codes: list[str]) -> dict[str, dict[str, Any]]:
    """Name, kind, office coordinates and the latest road length / park area of each member."""
    out: dict[str, dict[str, Any]] = {}
    for lg, name, kind, lat, lon in Municipality.objects.filter(lg_code__in=codes).values_list(
            "lg_code", "name", "kind", "office_lat", "office_lon"):
        out[lg] = {"name": name, "kind": kind, "lat": lat, "lon": lon}
    stats = (MunicipalYearStats.objects.filter(municipality__lg_code__in=codes)
             .order_by("municipality__lg_code", "fiscal_year")
             .values_list("municipality__lg_code", "road_length_m", "park_area_m2", "population"))
    for lg, road, park, population in stats:  # later fiscal years overwrite earlier ones; unknown stays unknown
        if road is not None:
            out[lg]["road_length_m"] = road
        if park is not None:
            out[lg]["park_area_m2"] = park
        if population is not None:
            out[lg]["population"] = population
    return out


def check_members(sf: Any, group: Group) -> None:
    """Refuse a scenario that names anyone but the group's accepted members (ScenarioFileError, in Japanese).

    The members of every computation come from the group, never from the file: a scenario that named a
    neighbour would otherwise read that neighbour's ledger."""
    allowed = set(group.member_codes())
    named = [m.lg_code for m in sf.members]
    for sc in sf.scenarios:
        for lever in sc.levers:
            named += [str(c) for c in lever.get("members", ())]
    outsiders = sorted(set(named) - allowed, key=named.index)
    if not outsiders:
        return
    names = dict(Municipality.objects.filter(lg_code__in=outsiders).values_list("lg_code", "name"))
    shown = "、".join(f"{names.get(c, '不明な団体')}（{c}）" for c in outsiders)
    raise ScenarioFileError(
        "member_not_in_group",
        f"{sf.path}: {shown}は群「{group.name}」の構成団体（参加を承諾した団体）ではありません。"
        "シナリオの members には群の構成団体だけを指定できます（招待中の団体は承諾後に使えます）。",
        f"{sf.path}: {', '.join(outsiders)} not accepted member(s) of the group \"{group.name}\".",
        key="members")


def group_for_scenario(sf: Any, name: str | None = None) -> Group | None:
    """The group a scenario file is run for on the command line: ``--group NAME``, else the group whose name
    is the scenario's ``name``. None when the scenario reads no ledger (public reference data only)."""
    wanted = name or sf.name
    group = Group.objects.filter(name=wanted).first()
    if group is None and sf.ledger == "database":
        raise ScenarioFileError(
            "group_not_found",
            f"{sf.path}: 群「{wanted}」が見つかりません。台帳を使うシナリオ（ledger = \"database\"）は群の構成団体の"
            "台帳だけを読みます。--group に群の名称を指定するか、シナリオの name を群の名称にしてください"
            "（gunmane groups list で一覧を確認できます）。",
            f"{sf.path}: no group named \"{wanted}\"; scenarios that read the ledger need --group NAME.",
            key="name")
    return group


def load_group(sf: Any, group: Group | None) -> Any:
    """The engine's GroupInput for a scenario of ``group``: members from the reference data, facilities
    from the ledger — after checking that the scenario names only the group's accepted members.
    ``group`` may be None only for a scenario that reads no ledger (``ledger = "none"``)."""
    if group is not None:
        check_members(sf, group)
    elif sf.ledger == "database":
        raise ValueError("a scenario that reads the ledger needs its group")
    codes = [m.lg_code for m in sf.members]
    ref = reference(codes)
    facilities, coords = None, {}
    if sf.ledger == "database":
        facilities = frames.ledger_frames(tuple(codes)).facilities
        coords = {i: (la, lo) for i, la, lo in Facility.objects.filter(manager__lg_code__in=codes)
                  .values_list("id", "lat", "lon")}
    return build_group(sf, ref, facilities, coords, start_fiscal_year=current_fiscal_year() + 1)


def default_scenario_toml(group: Group) -> str:
    """A scenario file for the group: its members, lead and sectors, and one scenario per applicable lever set."""
    s = settings_of(group)
    members = [m for m in ordered_members(group) if m.role != MemberRole.OBSERVER]
    lead = next((m for m in members if m.role == MemberRole.LEAD), members[0] if members else None)
    has_pref = any(m.municipality.kind == MunicipalityKind.PREFECTURE for m in members)
    member_tables: dict[str, Any] = {}
    for m in members:
        # the prefecture supports; its own roads are not part of the group's routine work
        member_tables[m.municipality.lg_code] = ({"road_length_km": 0, "park_area_m2": 0}
                                                 if m.municipality.kind == MunicipalityKind.PREFECTURE else {})
    scenarios: list[dict[str, Any]] = [
        {"name": "広域・一つの契約", "levers": [{"kind": "horizontal", "mode": "one_contract"}]},
        {"name": "広域・共同発注（契約は団体ごと）", "levers": [{"kind": "horizontal", "mode": "separate_contracts"}]},
        {"name": "広域＋プロセス", "levers": [{"kind": "horizontal"}, {"kind": "process"}]},
    ]
    if has_pref:
        scenarios.append({"name": "垂直（県が発注を代行）", "levers": [{"kind": "vertical", "mode": "one_contract"}]})
    scenarios += [
        {"name": "広域＋複数年（3年）", "levers": [{"kind": "horizontal"}, {"kind": "years", "years": 3}]},
        {"name": "広域＋データ＋性能規定", "levers": [{"kind": "horizontal"}, {"kind": "data"},
                                                 {"kind": "performance_spec"}]},
    ]
    if len(s.sectors) > 1:
        scenarios.append({"name": "多分野", "levers": [{"kind": "multi_sector"}]})
    doc: dict[str, Any] = {
        "name": group.name, "description": group.description or "", "horizon_years": 5,
        "costing_edition": "FY2022", "members": member_tables, "parameters": {}, "scenario": scenarios,
        "lots": {"min_lot_yen": 5_000_000, "max_lot_yen": 300_000_000, "max_radius_km": 30,
                 "work_type": "橋梁保全工事", "time_limit_s": 20},
    }
    if lead is not None:
        doc["lead"] = lead.municipality.lg_code
    if s.sectors:
        doc["sectors"] = list(s.sectors)
    return tomli_w.dumps(s.apply_cost_share(doc))  # the group's cost-share rule, agreed shares, supporting members


#: the 多分野 scenarios of a group (road, park, river, sewer under one comprehensive contract); the demo group
#: loads them as its second scenario, the same as examples/scenarios/nara-multisector.toml
MULTISECTOR_SECTORS = ("road", "park", "river", "sewer")
MULTISECTOR_SCENARIOS: tuple[dict[str, Any], ...] = (
    {"name": "多分野（分野ごとの積算）",
     "description": "団体ごとに、4分野の同じ作業・年度を一つの契約に。工事は工種区分（橋梁保全・舗装・河川維持・下水道）ごとにその諸経費率で積算",
     "levers": [{"kind": "multi_sector", "pricing": "by_work_type"}]},
    {"name": "多分野（主たる工種で積算）",
     "description": "同じ束ね方で、工事を契約の主たる工種（金額の最も大きい工種区分）の諸経費率で積算",
     "levers": [{"kind": "multi_sector"}]},
    {"name": "広域＋多分野（包括的な一つの契約）",
     "description": "4団体・4分野の同じ作業・年度を代表団体が一つの契約で発注（分野ごとの積算）",
     "levers": [{"kind": "horizontal", "mode": "one_contract"}, {"kind": "multi_sector", "pricing": "by_work_type"}]},
    {"name": "広域＋多分野＋性能規定（包括的民間委託）",
     "description": "三条市の包括的維持管理業務委託の形: 日常維持を要求水準による総価の契約に、点検・修繕も同じ受注者へ",
     "levers": [{"kind": "horizontal", "mode": "one_contract"}, {"kind": "multi_sector", "pricing": "by_work_type"},
                {"kind": "performance_spec"}, {"kind": "years", "years": 5}]},
)


def multisector_scenario_toml(group: Group) -> str:
    """The group's 多分野 scenario file: road (bridges, pavement), park (play equipment), river (sluices) and sewer
    (pipes) of every member bundled, with the lines per sector (``by_sector``) and the group's cost share."""
    members = [m for m in ordered_members(group) if m.role != MemberRole.OBSERVER]
    lead = next((m for m in members if m.role == MemberRole.LEAD), members[0] if members else None)
    doc: dict[str, Any] = {
        "name": group.name,
        "description": "道路（橋梁・舗装）・公園（遊具）・河川（樋門・樋管）・下水道（管渠）を、構成団体で一つの包括的な契約に"
                       "束ねた場合の効果",
        "horizon_years": 5, "costing_edition": "FY2022", "sectors": list(MULTISECTOR_SECTORS), "by_sector": True,
        "members": {m.municipality.lg_code: {} for m in members}, "parameters": {"staff.hourly_cost_yen": 5000},
        "scenario": [dict(sc) for sc in MULTISECTOR_SCENARIOS],
        "lots": {"min_lot_yen": 5_000_000, "max_lot_yen": 300_000_000, "max_radius_km": 30,
                 "work_type": "橋梁保全工事", "time_limit_s": 20},
    }
    if lead is not None:
        doc["lead"] = lead.municipality.lg_code
    return tomli_w.dumps(settings_of(group).apply_cost_share(doc))


@dataclass(frozen=True)
class Evaluation:
    scenario_file: Any
    group_input: Any
    scenarios: tuple[Any, ...]
    edition: Any
    params: ParameterSet
    result: Any


def _key(es: EffectScenario) -> tuple[Any, ...]:
    """Cache key of a stored scenario: its text and the group's accepted members (one leaving or joining
    recomputes — or refuses — at once)."""
    return (es.pk, hashlib.sha256(es.toml.encode("utf-8")).hexdigest(), tuple(es.group.member_codes()))


def content_hash(es: EffectScenario, *extra: Any) -> str:
    """A short digest of what a result of the stored scenario depends on besides the data: its cache key (text,
    accepted members) and ``extra`` — part of a task-queue job's version, so an edit is new work and the job of
    the old text is forgotten."""
    return hashlib.sha256(repr((*_key(es), *extra)).encode("utf-8")).hexdigest()[:24]


def evaluate_scenario(es: EffectScenario) -> Evaluation:
    """Evaluate the stored scenario text against today's ledger (cached until the data or the text changes).

    Raises ScenarioFileError / EffectsError / CostingError with Japanese messages."""
    def build() -> Evaluation:
        sf = read_scenario(f"{es.name}.toml", text=es.toml)
        scenarios = engine_scenarios(sf)
        edition = load_costing_edition(sf.costing_edition)
        params = effects_parameters().with_overrides(sf.parameters)
        group_input = load_group(sf, es.group)
        result = evaluate(group_input, scenarios, edition, params=params)
        return Evaluation(sf, group_input, scenarios, edition, params, result)

    return frames.cached("effects", frames.fingerprint(), _key(es), build)


def sensitivity_of(ev: Evaluation, es: EffectScenario) -> Any:
    return frames.cached("effects_sensitivity", frames.fingerprint(), _key(es),
                         lambda: sensitivity(ev.group_input, ev.scenarios, ev.edition, params=ev.params))


def design(ev: Evaluation, es: EffectScenario, time_limit_s: float | None = None) -> Any:
    settings = lot_settings(ev.scenario_file)
    if time_limit_s is not None:
        settings = replace(settings, time_limit_s=time_limit_s)
    saved = SavedDistricting.objects.filter(group=es.group).first()  # 「この地区割りをロット設計に使う」
    districts = dict(saved.assignment) if saved is not None else None
    stamp = saved.updated_at.isoformat() if saved is not None else ""
    return frames.cached("lots", frames.fingerprint(), (*_key(es), settings.time_limit_s, stamp),
                         lambda: design_lots(ev.group_input, ev.edition, params=ev.params, settings=settings,
                                             districts=districts))


def waterfall(ev: Evaluation, scenario_index: int, es: EffectScenario | None = None) -> list[dict[str, Any]]:
    """Savings of one scenario split by lever: the levers added one at a time in the scenario's order.

    Each step is evaluated with the same engine (baseline → +lever 1 → +lever 2 …), so the steps add up
    to the scenario's total; the order matters when levers interact, and it is shown. With the stored scenario
    the steps are cached like its evaluation (1.6 s at 100,000 facilities, once per data version and text)."""
    if es is not None:
        return frames.cached("waterfall", frames.fingerprint(), (*_key(es), scenario_index),
                             lambda: waterfall(ev, scenario_index))
    scenario = ev.scenarios[scenario_index]
    levers = list(scenario.levers)
    steps = [replace(scenario, name=f"step{i}", levers=tuple(levers[: i + 1])) for i in range(len(levers))]
    res = evaluate(ev.group_input, steps, ev.edition, params=ev.params)
    hourly = ev.params.f("staff.hourly_cost_yen")

    def cost(m: Any) -> float:
        return float(m.price_yen + m.staff_hours * hourly + m.deterioration_cost_yen)

    prev = cost(res.baseline.totals)
    out = []
    for lever, step in zip(levers, res.scenarios, strict=True):
        now = cost(step.totals)
        out.append({"lever": LEVER_NAMES.get(lever.kind.value, lever.kind.value), "saving_yen": prev - now})
        prev = now
    return out


def sector_rows(r: Any, scenario_index: int) -> list[dict[str, Any]]:
    """The per-sector lines of one scenario beside the baseline's (a 多分野 scenario file with ``by_sector``),
    each sector by its name, then the staff-hours no sector carries and the group's total; [] without lines."""
    if not r.scenarios or not r.baseline.sectors:
        return []
    sc = r.scenarios[scenario_index]
    rows = []
    for code, b in r.baseline.sectors.items():
        s = sc.sectors.get(code)
        if s is None:
            continue
        shared = code == SHARED
        rows.append({"name": "分野に分けない職員時間" if shared else vocab.sector(code).name,
                     "shared": shared, "b": b, "s": s,
                     "work_types": "・".join(b.work_types), "priced_by": "・".join(s.priced_by)})
    rows.sort(key=lambda row: (row["shared"], -row["b"].direct_cost_yen))
    rows.append({"name": "合計（群全体）", "total": True, "b": r.baseline.totals, "s": sc.totals,
                 "work_types": "", "priced_by": ""})
    return rows


def lot_sector_texts(dsg: Any) -> dict[str, str]:
    """Lot id → its facilities per sector in words (「道路 705・公園 36」), for a 多分野 design; {} otherwise."""
    if dsg is None or dsg.best is None or not any(lot.sectors for lot in dsg.best.lots):
        return {}
    names = {x.code: x.name for x in vocab.sectors()}
    order = {x.code: x.order for x in vocab.sectors()}
    return {str(lot.id): "・".join(f"{names.get(k, k)} {int(v['facilities']):,}"
                                  for k, v in sorted(lot.sectors.items(), key=lambda kv: order.get(kv[0], 99)))
            for lot in dsg.best.lots}


def effect_summary(es: EffectScenario) -> EffectSummary | None:
    """The chosen scenario against the baseline, as the documents state it (None when it cannot be evaluated).

    Built from the same cached evaluation the 効果試算 page and its Excel show, so price, contracts, staff-hours
    and each member's price (its share of the cost under the group's rule) are the same figures."""
    ev = _evaluation(es)
    if ev is None or not ev.result.scenarios:
        return None
    return summary_of(ev.result, es.chosen_index)


def _evaluation(es: EffectScenario) -> Evaluation | None:
    try:
        return evaluate_scenario(es)
    except Exception:  # noqa: BLE001 — a broken scenario must not stop document generation; the page shows the error
        return None


def summary_of(r: Any, chosen_index: int) -> EffectSummary:
    """The EffectSummary of scenario ``chosen_index`` of an engine result (the last one when out of range)."""
    idx = min(max(0, chosen_index), len(r.scenarios) - 1)
    sc, base = r.scenarios[idx], r.baseline
    per_member = tuple(
        MemberEffect(lg_code=m.lg_code, name=m.name, baseline_price_yen=float(base.members[m.lg_code].price_yen),
                     scenario_price_yen=float(sc.members[m.lg_code].price_yen),
                     baseline_contracts=float(base.members[m.lg_code].contracts),
                     scenario_contracts=float(sc.members[m.lg_code].contracts),
                     baseline_staff_hours=float(base.members[m.lg_code].staff_hours),
                     scenario_staff_hours=float(sc.members[m.lg_code].staff_hours))
        for m in r.members if m.lg_code in sc.members and m.lg_code in base.members)
    return EffectSummary(
        scenario_name=sc.name, start_fiscal_year=r.start_fiscal_year, horizon_years=r.horizon_years,
        baseline_contracts=base.totals.contracts, scenario_contracts=sc.totals.contracts,
        baseline_price_yen=base.totals.price_yen, scenario_price_yen=sc.totals.price_yen,
        baseline_staff_hours=base.totals.staff_hours, scenario_staff_hours=sc.totals.staff_hours,
        per_member=per_member, assumptions=tuple(r.assumptions), scenario_index=idx,
        source=f"効果試算（積算基準 {r.edition_label_ja}、{r.start_fiscal_year}年度から{r.horizon_years}年間）")


def cost_share_of(es: EffectScenario | None, names: dict[str, str], fallback: Any) -> CostShare:
    """The cost-share rule the chosen scenario was computed with (its file), named for the documents; without a
    scenario that can be read, the group's settings (``fallback``: GroupSettings)."""
    sf = None
    if es is not None:
        try:
            sf = read_scenario(f"{es.name}.toml", text=es.toml)
        except ScenarioFileError:
            sf = None
    if sf is not None:
        key = sf.cost_share
        equal = sf.parameters.get("share.equal_part", effects_parameters().f("share.equal_part"))
        agreed = tuple((names.get(m.lg_code, m.lg_code), float(m.overrides["share"])) for m in sf.members
                       if "share" in m.overrides and not m.overrides.get("supporting"))
    else:
        key = fallback.cost_share_rule
        equal = fallback.cost_share_equal_pct / 100
        agreed = tuple((names.get(c, c), float(v)) for c, v in (fallback.cost_share_agreed or {}).items())
    rule = share_rule(key)
    return CostShare(rule=key, name_ja=rule.name_ja, explanation_ja=rule.explanation_ja,
                     equal_part=float(equal) if rule.uses_equal_part else None,
                     agreed=agreed if key == "agreed" else ())


GRADE_JA = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}


def lots_for_documents(dsg: Any) -> list[LotInfo]:
    """The designed lots as 仕様書 lots (facility lists from the ledger)."""
    if dsg is None or dsg.best is None:
        return []
    types = {t.code: t.name for t in vocab.facility_types()}
    ids = [int(x) for x in dsg.assignment["facility"].tolist() if str(x).isdigit()]
    facs = {f.pk: f for f in Facility.objects.filter(pk__in=ids).select_related("manager", "facility_type")}
    base_names = dict(Municipality.objects.filter(lg_code__in={lot.base for lot in dsg.best.lots})
                      .values_list("lg_code", "name"))
    out = []
    for lot in dsg.best.lots:
        base = base_names.get(lot.base, lot.base) + ("" if lot.base_office else "（現地拠点）")
        rows = []
        for fid in dsg.assignment.loc[dsg.assignment["lot"] == lot.id, "facility"].tolist():
            f = facs.get(int(fid)) if str(fid).isdigit() else None
            if f is None:
                continue
            rows.append(FacilityRow(lg_code=f.manager.lg_code, manager_name=f.manager.name, facility_id=f.facility_id,
                                    name=f.name, facility_type_ja=types.get(f.facility_type.code, f.facility_type.name),
                                    route=f.route, built_year=f.built_year, length_m=f.length_m,
                                    grade=grade_short(scale_of_type(f.facility_type.code), f.latest_grade)
                                    if f.latest_grade else "", lat=f.lat, lon=f.lon))  # on its own scale
        out.append(LotInfo(lot_id=f"D{lot.id}", name=f"設計ロット{lot.id}（拠点：{base}）", facilities=tuple(rows),
                           tasks=("定期点検", "補修設計", "補修工事"), estimated_price_yen=lot.price_yen,
                           reporting=("月次の進捗報告", "点検調書・設計成果の納品", "損傷の緊急連絡（発見当日）")))
    return out


# -- on the task queue (docs/tasks.md): the evaluation and the lot design, once per scenario text and data version --
ERRORS = (ScenarioFileError, EffectsError, CostingError)


def error_text(exc: Exception) -> str:
    return str(getattr(exc, "message_ja", None) or exc)


def _refused(exc: Exception) -> dict[str, Any]:
    """A job's value when the scenario cannot be computed: the reason for the page (`error`) and the CLI's error
    JSON (`error_json`: code, message, key) for the API."""
    as_json = getattr(exc, "as_json", None)
    return {"error": error_text(exc),
            "error_json": as_json() if callable(as_json) else {"code": "invalid", "message": error_text(exc), "key": None}}


@task()
def compute_effects(job_id: str) -> None:
    """A scenario's evaluation, the waterfall of each of its scenarios (and the sensitivity when asked): the
    effects page, its Excel and the group overview's summary show them (the worker: gunmane worker)."""
    jobs.run_value(job_id, _compute_effects)


def _compute_effects(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    es = EffectScenario.objects.select_related("group").get(pk=job.params["scenario"])
    progress(5, "群の施設台帳を読み、基準とシナリオを試算しています。")
    try:
        ev = evaluate_scenario(es)
        steps = []
        for i, sc in enumerate(ev.result.scenarios):
            progress(40 + 40 * i // max(len(ev.result.scenarios), 1), f"「{sc.name}」の節減を手段ごとに分けています。")
            steps.append(waterfall(ev, i, es))
        sens = None
        if job.params.get("sensitivity") and ev.result.scenarios:
            progress(85, "係数を動かしたときの感度を計算しています。")
            sens = sensitivity_of(ev, es)
    except ERRORS as exc:
        return _refused(exc)
    return {"ev": ev, "waterfalls": steps, "sens": sens}


def job_version(es: EffectScenario, *extra: Any) -> str:
    """The data version of a scenario's jobs: the national frames' fingerprint and the scenario's content."""
    return f"{jobs.version_of(frames.fingerprint())}|{content_hash(es, *extra)}"


def effects_job(es: EffectScenario, user: Any, sensitivity: bool = False) -> Job:
    """The evaluation's job: one per scenario (with or without the sensitivity), its text and the data version."""
    return jobs.start_value(compute_effects, kind="effects", subject=f"{es.pk}|{'sensitivity' if sensitivity else ''}",
                            version=job_version(es), label=f"効果試算「{es.name}」",
                            params={"scenario": es.pk, "sensitivity": sensitivity}, user=user)


def stored_summary(es: EffectScenario, user: Any) -> tuple[EffectSummary | None, Job]:
    """The chosen scenario's summary from the evaluation job (started if need be), and that job: the summary is
    None while the job runs, and when the scenario cannot be evaluated (the job's value says why)."""
    job = effects_job(es, user)
    done = jobs.value(job)
    if done is None or "error" in done or not done["ev"].result.scenarios:
        return None, job
    return summary_of(done["ev"].result, es.chosen_index), job


@task()
def compute_lots(job_id: str) -> None:
    """A scenario's lot design (CP-SAT within the scenario's time limit, ~20 s; the worker: gunmane worker)."""
    jobs.run_value(job_id, _compute_lots)


def _compute_lots(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    es = EffectScenario.objects.select_related("group").get(pk=job.params["scenario"])
    progress(5, "群の施設台帳を読み、効果試算を用意しています。")
    try:
        ev = evaluate_scenario(es)
        progress(20, "ロットを設計しています（シナリオの計算時間の上限まで）。")
        return {"ev": ev, "design": design(ev, es)}
    except ERRORS as exc:
        return _refused(exc)


def lots_job(es: EffectScenario, user: Any) -> Job:
    """The lot design's job: per scenario text, accepted members, the saved districting it uses and data version."""
    saved = SavedDistricting.objects.filter(group=es.group).first()
    stamp = saved.updated_at.isoformat() if saved is not None else ""
    return jobs.start_value(compute_lots, kind="lots", subject=str(es.pk), version=job_version(es, stamp),
                            label=f"効果試算「{es.name}」のロット設計", params={"scenario": es.pk}, user=user)
