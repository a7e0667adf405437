"""Effects of the baseline and each scenario (効果試算): contracts, price, staff-hours, travel, tender risk,
repair delay — in total and per member — with every assumption and parameter listed.

Pipeline: :func:`derive_work` (ledger → work rows) → :func:`baseline_keys` → :func:`apply_levers` (scenario
keys) → ``_Context.run`` (group rows into contracts and measure them, step by step). Vectorised over rows with numpy /
pandas; only the random-demand pools (binomial formula) and the day tours loop over contract groups.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gunmane.engine.costing import CostingEdition, works_price_array
from gunmane.engine.effects.contracts import expected_contracts_with_fixed
from gunmane.engine.effects.errors import InvalidInput
from gunmane.engine.effects.inputs import GroupInput, Member, Scenario
from gunmane.engine.effects.levers import LeverOutcome, ScenarioState, apply_levers, baseline_keys
from gunmane.engine.effects.parameters import ParameterSet
from gunmane.engine.effects.routing import TourSolver
from gunmane.engine.effects.sectors import SectorLine, sector_lines
from gunmane.engine.effects.work import WorkSet, derive_work

__all__ = ["METRICS", "SHARE_RULES", "SHARE_RULE_NAMES", "EffectsResult", "Metrics", "ScenarioResult", "evaluate"]

METRICS = ("contracts", "price_yen", "overhead_yen", "staff_hours", "travel_km", "expected_failed_tenders",
           "days_to_repair", "deterioration_cost_yen")
STAGES = ("estimate", "notice", "tender", "supervision", "acceptance", "coordination")
KEYS = ["owner", "skey", "kkey", "ykey", "joint", "perf"]
#: the cost-share rules the engine implements (``share.rule``); their names, explanations and sources are data
#: (gunmane/data/effects/share_rules.csv, whose keys a test holds equal to these)
SHARE_RULE_NAMES = {"facility_count": "施設数割", "length_area": "延長・面積割", "equal_facility": "均等割＋施設割",
                    "population": "人口割", "agreed": "協定で定める割合", "direct_cost": "直接費割",
                    "equal_usage": "均等割＋直接費割"}
SHARE_RULES = tuple(SHARE_RULE_NAMES)


@dataclass(frozen=True)
class Metrics:
    """One member's (or the group's) effects over the horizon."""

    contracts: float
    price_yen: float
    overhead_yen: float
    direct_cost_yen: float
    staff_hours: float
    staff_hours_by_stage: Mapping[str, float]
    fte: float
    travel_km: float
    expected_failed_tenders: float
    days_to_repair: float | None
    deterioration_cost_yen: float
    repairs: float
    net_effect_yen: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "contracts": round(self.contracts, 3), "price_yen": round(self.price_yen),
            "overhead_yen": round(self.overhead_yen), "staff_hours": round(self.staff_hours, 1),
            "travel_km": round(self.travel_km, 1), "expected_failed_tenders": round(self.expected_failed_tenders, 3),
            "days_to_repair": None if self.days_to_repair is None else round(self.days_to_repair, 1),
            "deterioration_cost_yen": round(self.deterioration_cost_yen),
            "direct_cost_yen": round(self.direct_cost_yen), "fte": round(self.fte, 3),
            "staff_hours_by_stage": {k: round(v, 1) for k, v in self.staff_hours_by_stage.items()},
            "repairs": round(self.repairs, 3), "net_effect_yen": round(self.net_effect_yen),
        }


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    description: str
    levers: tuple[LeverOutcome, ...]
    totals: Metrics
    members: Mapping[str, Metrics]
    contracts: pd.DataFrame  # one row per contract group (ordering key)
    contracts_by_kind: Mapping[str, float]
    sectors: Mapping[str, SectorLine] = field(default_factory=dict)  # only when the group asks (by_sector)

    def as_json(self) -> dict[str, Any]:
        out = {"name": self.name, "description": self.description, "levers": [x.as_json() for x in self.levers],
               "totals": self.totals.as_json(),
               "contracts_by_kind": {k: round(v, 3) for k, v in self.contracts_by_kind.items()},
               "members": {c: m.as_json() for c, m in self.members.items()}}
        if self.sectors:
            out["sectors"] = {k: v.as_json() for k, v in self.sectors.items()}
        return out


@dataclass(frozen=True)
class EffectsResult:
    group_name: str
    members: tuple[Member, ...]
    start_fiscal_year: int
    horizon_years: int
    edition: str
    edition_label_ja: str
    baseline: ScenarioResult
    scenarios: tuple[ScenarioResult, ...]
    assumptions: tuple[str, ...]
    parameters: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = ()
    work_summary: Mapping[str, float] = field(default_factory=dict)

    def scenario(self, name: str) -> ScenarioResult:
        for s in (self.baseline, *self.scenarios):
            if s.name == name:
                return s
        raise KeyError(name)

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group_name,
            "members": [{"lg_code": m.lg_code, "name": m.name, "kind": m.kind} for m in self.members],
            "horizon": {"start_fiscal_year": self.start_fiscal_year, "years": self.horizon_years},
            "costing_edition": {"id": self.edition, "label_ja": self.edition_label_ja},
            "work": {k: round(v, 3) for k, v in self.work_summary.items()},
            "baseline": self.baseline.as_json(),
            "scenarios": [s.as_json() for s in self.scenarios],
            "assumptions": list(self.assumptions),
            "parameters": list(self.parameters),
            "notes": list(self.notes),
        }


#: The assumptions every result states, in plain Japanese for the pages and the documents (no formulas: the
#: formulas are in docs/effects.md). The cost-share sentence names the rule the run used.
ASSUMPTIONS = (
    "基準：各団体が単独で、分野・作業（点検・設計・工事・日常維持）・年度ごとに発注する場合と比べます。",
    "作業量：試算期間に行う作業を台帳から見込みます。定期点検は前回の点検から法定の周期ごと（点検の記録がない施設と"
    "期限を過ぎた施設は初年度）、健全性Ⅲ・Ⅳの施設の修繕設計・修繕工事は初年度、点検で新たにⅢと判定される見込みの"
    "施設の設計・工事は劣化の予測から求めた確率、日常維持は道路の延長と公園の面積から見込みます。",
    "ランダムな補修需要（点検で新たにⅢと判定される見込みの施設）の契約数は、年ごとの件数のばらつきを見込んだ期待値"
    "（平均的に見込まれる件数）です。1つの契約にまとめる施設数には上限があるため、件数の多い年に契約が増えることも含みます。",
    "価格：積算基準の計算方法による発注者の予定価格です（入札額ではありません）。同じ発注単位の契約は同じ規模に分けて積算し、"
    "工事の工種区分は金額の最も大きいもの（主たる工種）とします。業務（点検・設計）は諸経費の比率が規模によらず一定のため、"
    "まとめても単価は下がりません。",
    "職員時間：発注者側の時間です。積算・公告・入札契約・監督・検査支払の段階ごとに1契約あたりの時間を契約数だけ見込み"
    "（複数年契約は監督・検査を年数分）、施設ごとの監督の時間と、連携の調整（協議会・協定・取りまとめ・台帳・モニタリング）の"
    "時間を加えます。職員数（人・年）は、職員時間を1人の年間勤務時間と試算の年数で割った値です。",
    "移動距離：受注者の拠点（単独の契約は発注団体の庁舎、共同の契約は作業の中心に最も近い参加団体の庁舎）からの距離です。"
    "点検・設計は1日の作業時間の中で施設を巡回し（直線距離に道路の迂回を見込みます）、工事は作業日ごとに往復します。"
    "日常維持は各団体の地域の事業者（地域維持型JVの構成員を含む）が行い、1件ごとに団体の中を往復します。",
    "各団体の純効果：基準と比べた、価格の負担の減少、職員時間の減少を人件費に換算した額、劣化による損失の減少の合計です。"
    "移動距離は受注者の費用で予定価格の計算に含まれないため、純効果には含めません。",
)


def _share_assumption(params: ParameterSet) -> str:
    rule = str(params["share.rule"])
    name = SHARE_RULE_NAMES.get(rule, rule)
    if rule in ("equal_facility", "equal_usage"):
        name += f"（均等割の割合 {min(1.0, max(0.0, params.f('share.equal_part'))):.0%}）"
    return ("契約数と不調・不落は発注する団体（各団体・代表団体・都道府県）に数えます。価格は、団体ごとの契約はその団体が、"
            f"共同の契約はその契約に施設がある団体が費用分担の規則「{name}」で負担します。")


def _hazard_assumption(params: ParameterSet, theta: tuple[float, float, float], model_source: str) -> str:
    """The hazards as the chance of moving to the next grade within a year (no symbols)."""
    moves = "、".join(f"{a}→{b} 約{1 - math.exp(-h):.1%}" for (a, b), h in
                     zip((("Ⅰ", "Ⅱ"), ("Ⅱ", "Ⅲ"), ("Ⅲ", "Ⅳ")), theta, strict=True))
    if model_source:
        source = model_source
    elif any(params.param(k).status == "user" for k in ("hazard.I", "hazard.II", "hazard.III") if k in params):
        source = "シナリオで設定した値"
    else:
        source = "既定値：Ⅰ→Ⅱ・Ⅱ→Ⅲは宮城県の鉄筋コンクリート道路橋の点検結果からの推定値、Ⅲ→Ⅳは仮定値"
    return f"劣化の速さ（1年のうちに次の区分へ進む確率）：{moves}（{source}）。"


def evaluate(group: GroupInput, scenarios: Sequence[Scenario], edition: CostingEdition, *,
             params: ParameterSet, hazard_model: Any = None) -> EffectsResult:
    """Baseline and each scenario for ``group`` priced under ``edition``.

    ``hazard_model``: an optional :class:`gunmane.engine.deterioration.MarkovHazardModel` on grades
    Ⅰ–Ⅳ (3 hazards) or Ⅰ–Ⅲ(+Ⅳ) (2 hazards; the Ⅲ→Ⅳ hazard then comes from ``hazard.III``).
    """
    theta, src = None, ""
    if hazard_model is not None:
        hz = tuple(float(h) for h in hazard_model.hazards)
        theta = (hz[0], hz[1], hz[2] if len(hz) >= 3 else params.f("hazard.III"))
        src = f"マルコフ劣化ハザードモデル（{hazard_model.source}）"
    work = derive_work(group, params, theta, src)
    solver = TourSolver(detour=params.f("travel.detour_factor"), speed_kmh=params.f("travel.speed_kmh"),
                        day_hours=params.f("travel.day_hours"), ortools_max_sites=int(params.f("travel.ortools_max_sites")),
                        method=str(params["travel.method"]))
    ctx = _Context(group, edition, params, work, solver)
    base_keys = baseline_keys(work.rows)
    baseline = ctx.run("基準（各団体が単独で発注）", "", base_keys, ScenarioState(), ())
    results = []
    for sc in scenarios:
        k, st, outcomes = apply_levers(base_keys.copy(), group, sc.levers)
        results.append(ctx.run(sc.name, sc.description, k, st, tuple(outcomes), baseline))
    rows = work.rows
    summary = {
        "inspections": float((rows["kind"] == "inspection").sum()),
        "backlog_repairs": float(((rows["kind"] == "works") & (rows["origin"] == "backlog")).sum()),
        "expected_new_repairs": float(rows.loc[(rows["kind"] == "works") & (rows["origin"] == "new"), "p"].sum()),
        "routine_tasks": float(rows.loc[rows["kind"] == "routine", "n_sites"].sum()),
    }
    routes = ("1日ごとの巡回経路を経路探索で求め、簡便な方法（スイープ法）と比べて短い方を使います"
              f"（{int(params.f('travel.ortools_max_sites'))}施設を超える契約は簡便な方法だけ）"
              if params["travel.method"] == "ortools" else "1日ごとの巡回経路は簡便な方法（スイープ法）で求めます")
    assumptions = (
        *ASSUMPTIONS[:6], _share_assumption(params), ASSUMPTIONS[6],
        _hazard_assumption(params, work.theta, src),
        f"積算基準：{edition.label_ja}。{edition.note_ja}",
        f"巡回経路：{routes}。",
    )
    return EffectsResult(
        group_name=group.name, members=group.members, start_fiscal_year=group.start_fiscal_year,
        horizon_years=group.horizon_years, edition=edition.id, edition_label_ja=edition.label_ja, baseline=baseline,
        scenarios=tuple(results), assumptions=assumptions, parameters=tuple(params.used()), notes=work.notes,
        work_summary=summary)


@dataclass(frozen=True)
class _Rows:
    """A scenario's work rows (one per facility, kind and year, or a member's routine tasks) as arrays, each
    with the contract group it is ordered in."""

    items: pd.DataFrame  # the work rows with their ordering keys (KEYS), index 0 … n − 1
    group: np.ndarray  # contract group of each row, 0 … n_groups − 1 in order of first appearance
    n_groups: int
    probability: np.ndarray  # chance that the work falls in the horizon (1 = certain)
    expected_value: np.ndarray  # probability × direct cost (yen)
    kind: np.ndarray  # inspection / design / works / routine
    kind_key: np.ndarray  # the kind it is ordered under ("process" when a lever bundles the kinds)
    priced_as_works: np.ndarray  # bool: priced by the works rules (工事), otherwise as a service (業務)
    routine: np.ndarray  # bool: routine maintenance tasks (日常維持)
    member: np.ndarray  # lg_code of the member the work belongs to

    @classmethod
    def of(cls, work_items: pd.DataFrame) -> _Rows:
        """Number the contract groups (rows sharing every ordering key) and take the columns the steps use."""
        items = work_items.reset_index(drop=True)
        group = items.groupby(KEYS, sort=False).ngroup().to_numpy()
        probability = items["p"].to_numpy()
        kind = items["kind"].to_numpy()
        return cls(items=items, group=group, n_groups=int(group.max()) + 1, probability=probability,
                   expected_value=probability * items["cost"].to_numpy(), kind=kind,
                   kind_key=items["kkey"].to_numpy(), priced_as_works=(items["cls"] == "works").to_numpy(),
                   routine=kind == "routine", member=items["member"].to_numpy())


class _Context:
    """What the baseline and every scenario of one evaluation share: group, edition, parameters, work, tours."""

    def __init__(self, group: GroupInput, edition: CostingEdition, params: ParameterSet, work: WorkSet,
                 solver: TourSolver) -> None:
        self.group, self.edition, self.p, self.work, self.solver = group, edition, params, work, solver
        self.codes = [m.lg_code for m in group.members]
        self.names = {m.lg_code: m.name for m in group.members}
        self.member_by_code = {m.lg_code: m for m in group.members}
        # the facilities as derive_work numbers them (``fidx``: the ledger rows of the group's sectors, in order)
        sectors = set(group.sectors)
        self.facility_measure = np.array([_facility_measure(f) for f in group.facilities
                                          if not sectors or f.sector in sectors], dtype=float)
        self.with_work: set[str] = set(self.codes)
        self.code_index = pd.Index(self.codes)
        self.svc_mult = {s: 1.0 / (1 - r.other_cost_ratio_pct / 100) / (1 - r.general_admin_ratio_pct / 100)
                         for s, r in edition.services.items()}
        curve = params["tender.failure_curve"]
        self.curve_x = np.log10([float(a) for a, _ in curve])
        self.curve_y = np.array([float(b) for _, b in curve])

    # -- one scenario ------------------------------------------------------------------------------------------
    def run(self, name: str, description: str, work_items: pd.DataFrame, state: ScenarioState,
            outcomes: tuple[LeverOutcome, ...], baseline: ScenarioResult | None = None) -> ScenarioResult:
        """Group the scenario's work rows into contracts, measure them, and allocate the effects to the members."""
        if len(work_items) == 0:
            zero = _metrics_zero()
            return ScenarioResult(name, description, outcomes, zero, dict.fromkeys(self.codes, zero), pd.DataFrame(), {})
        rows = _Rows.of(work_items)
        groups = self._contract_groups(rows)
        n_contracts = self._count_contracts(groups)
        groups["contracts"] = n_contracts
        row_price, priced_by = self._price(groups, rows, n_contracts)
        groups["failed_tenders"] = self._failed_tenders(groups, n_contracts)
        staff_kind = self._staff_kind(groups)
        hours = self._staff_hours(groups, n_contracts, staff_kind, state)
        orderer, preparer = self._who_orders(groups, state)
        member_rows = self._member_rows(groups, rows, staff_kind, hours)
        travel_km = self._travel(rows, groups, orderer)
        repairs, lead_days, deterioration_yen = self._repair_delay(rows)
        per_member = self._per_member(rows, groups, n_contracts, hours, orderer, preparer, member_rows, travel_km,
                                      repairs, lead_days, deterioration_yen, state)
        members = {c: self._metrics(r) for c, r in per_member.items()}
        if baseline is not None:
            hourly_cost = self.p.f("staff.hourly_cost_yen")
            members = {c: _with_net(m, baseline.members[c], hourly_cost) for c, m in members.items()}
        totals = _sum_metrics(list(members.values()), self.p.f("fte.hours_per_year") * self.group.horizon_years)
        groups["orderer"] = orderer
        groups["travel_km"] = np.bincount(rows.group, travel_km, rows.n_groups)
        for s in STAGES[:-1]:
            groups[f"h_{s}"] = hours[s]
        by_kind = groups.groupby("kkey")["contracts"].sum().to_dict()
        sectors = (sector_lines(rows, groups, hours, row_price, priced_by, totals.staff_hours)
                   if self.group.by_sector else {})
        return ScenarioResult(name, description, outcomes, totals, members, groups,
                              {str(a): float(b) for a, b in by_kind.items()}, sectors)

    def _contract_groups(self, rows: _Rows) -> pd.DataFrame:
        """One row per contract group: its keys, years spanned, expected value, sites and random demand."""
        items, group, n_groups = rows.items, rows.group, rows.n_groups
        certain = rows.probability >= 1.0
        expected_sites = np.where(rows.routine, 0.0, rows.probability)
        groups = pd.DataFrame({"gid": np.arange(n_groups)})
        first = items.groupby(group, sort=True)[["owner", "skey", "kkey", "ykey", "joint", "perf"]].first()
        groups = groups.join(first, on="gid")
        groups["nyears"] = items.groupby(group, sort=True)["year"].nunique().to_numpy()
        groups["value"] = np.bincount(group, rows.expected_value, n_groups)
        groups["value_works"] = np.bincount(group, rows.expected_value * rows.priced_as_works, n_groups)
        groups["value_service"] = groups["value"] - groups["value_works"]
        groups["sites"] = np.bincount(group, expected_sites, n_groups)
        # certain sites fill the contracts up to the cap; the design of a process bundle is not counted apart
        # from its facility's other work in the bundle
        counted_sites = certain & ~rows.routine & ~((rows.kind_key == "process") & (rows.kind == "design"))
        groups["det_sites"] = np.bincount(group, counted_sites.astype(float), n_groups)
        # random repair demand (new Ⅲ expected from inspections), pooled by the binomial formula
        random_demand = ~certain & (rows.kind == rows.kind_key)
        groups["rnd_n"] = np.bincount(group, random_demand.astype(float), n_groups)
        groups["rnd_p"] = np.bincount(group, rows.probability * random_demand, n_groups)
        groups["tasks"] = np.bincount(group, items["n_sites"].to_numpy() * rows.routine, n_groups)
        return groups

    def _count_contracts(self, groups: pd.DataFrame) -> np.ndarray:
        """Expected contracts per group: routine by task or by performance lot, facility work by the site caps."""
        p = self.p
        n_contracts = np.zeros(len(groups))
        kind_key = groups["kkey"].to_numpy()
        performance = groups["perf"].to_numpy().astype(bool)
        years = groups["nyears"].to_numpy()
        routine = kind_key == "routine"
        lot_yen = p.f("cap.performance_lot_yen")
        n_contracts[routine & performance] = np.maximum(1, np.ceil(
            groups["value"].to_numpy()[routine & performance] / (lot_yen * years[routine & performance]) - 1e-9))
        n_contracts[routine & ~performance] = groups["tasks"].to_numpy()[routine & ~performance]
        site_caps = {"inspection": p.f("cap.inspection_sites"), "design": p.f("cap.design_sites"),
                     "works": p.f("cap.works_sites"), "process": p.f("cap.process_sites")}
        certain_sites, random_rows = groups["det_sites"].to_numpy(), groups["rnd_n"].to_numpy()
        random_p_sum = groups["rnd_p"].to_numpy()
        for i in np.flatnonzero(~routine):
            cap = max(1.0, site_caps.get(kind_key[i], 1.0) * years[i])
            if random_rows[i] > 0:
                n_contracts[i] = expected_contracts_with_fixed(certain_sites[i], int(random_rows[i]),
                                                               random_p_sum[i] / random_rows[i], cap)
            else:
                n_contracts[i] = math.ceil(certain_sites[i] / cap - 1e-9)
        return n_contracts

    def _price(self, groups: pd.DataFrame, rows: _Rows, n_contracts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add the orderer's estimated price and overhead per group: services by their rates, works by the rules
        of the group's dominant work type (主たる工種) on equal contracts — or, in a 多分野 bundle priced by work
        type (``bywt``), each work type's part by its own rates at the bundle's scale.

        Returns each row's part of its group's price (services exactly, works in proportion to the row's expected
        value within what one rate prices) and the work type (or service) that priced it."""
        group, n_groups, priced_as_works = rows.group, rows.n_groups, rows.priced_as_works
        ctype = rows.items["ctype"].to_numpy()
        service_rate = rows.items["ctype"].map(self.svc_mult).fillna(1.0).to_numpy(dtype=float)
        row_price = rows.expected_value * service_rate * ~priced_as_works
        priced_by = ctype.astype(object).copy()
        groups["price_service"] = np.bincount(group, row_price, n_groups)
        by_work_type = rows.items["bywt"].to_numpy().astype(bool) if "bywt" in rows.items else np.zeros(len(group), bool)
        works_rows = np.flatnonzero(priced_as_works)
        works_values = pd.DataFrame({"gid": group[works_rows], "ctype": ctype[works_rows],
                                     "v": rows.expected_value[works_rows], "bywt": by_work_type[works_rows]})
        price_works = np.zeros(n_groups)
        if len(works_values):
            by_type = works_values.groupby(["gid", "ctype"], sort=False).agg(v=("v", "sum"), bywt=("bywt", "first"))
            by_type = by_type.reset_index()
            dominant = by_type.loc[by_type.groupby("gid")["v"].idxmax()]
            # the rate each (group, work type) is priced by: its own (bywt) or its group's dominant type
            dominant_of = dict(zip(dominant["gid"].to_numpy(), dominant["ctype"].to_numpy(), strict=True))
            by_type["rate_type"] = np.where(by_type["bywt"].to_numpy(), by_type["ctype"].to_numpy(),
                                            [dominant_of[g] for g in by_type["gid"].to_numpy()])
            by_type["price"] = 0.0
            for work_type in by_type["rate_type"].unique():
                m = (by_type["rate_type"] == work_type).to_numpy()
                gids = by_type["gid"].to_numpy()[m]
                contracts = np.maximum(n_contracts[gids], 1e-9)
                # dominant pricing prices the whole works value of the group; by type only its own part
                own = by_type["bywt"].to_numpy()[m]
                value = np.where(own, by_type["v"].to_numpy()[m], groups["value_works"].to_numpy()[gids])
                price = works_price_array(self.edition, str(work_type), value / contracts)["price_yen"] * contracts
                # a dominant group's price sits on its dominant row only (so each group is counted once)
                is_dominant = by_type["ctype"].to_numpy()[m] == work_type
                by_type.loc[m, "price"] = np.where(own | is_dominant, price, 0.0)
            price_works = np.bincount(by_type["gid"].to_numpy(), by_type["price"].to_numpy(), n_groups).astype(float)
            # each works row's part: within what one rate prices (the group, or the group's work type)
            gid_w, type_w = group[works_rows], ctype[works_rows]
            own_w = by_work_type[works_rows]
            key = np.where(own_w, pd.Series(gid_w).astype(str) + "|" + pd.Series(type_w).astype(str),
                           pd.Series(gid_w).astype(str))
            value_w = rows.expected_value[works_rows]
            key_total = pd.Series(value_w).groupby(key).transform("sum").to_numpy()
            type_price = dict(zip(by_type["gid"].astype(str) + "|" + by_type["ctype"].astype(str), by_type["price"],
                                  strict=True))
            key_price = np.array([type_price[k] if o else price_works[g] for k, o, g in zip(key, own_w, gid_w, strict=True)])
            row_price[works_rows] = np.where(key_total > 0, key_price * value_w / np.maximum(key_total, 1e-300),
                                             key_price / pd.Series(value_w).groupby(key).transform("count").to_numpy())
            priced_by[works_rows] = np.where(own_w, type_w, [dominant_of[g] for g in gid_w])
        groups["price"] = groups["price_service"] + price_works
        groups["overhead"] = groups["price"] - groups["value"]
        return row_price, priced_by

    def _failed_tenders(self, groups: pd.DataFrame, n_contracts: np.ndarray) -> np.ndarray:
        """Expected failed tenders (不調・不落) per group from the failure curve of the value per contract."""
        per_contract = np.where(n_contracts > 0, groups["value"].to_numpy() / np.maximum(n_contracts, 1e-9), 0.0)
        failure_probability = np.interp(np.log10(np.maximum(per_contract, 1.0)), self.curve_x, self.curve_y)
        return n_contracts * failure_probability

    @staticmethod
    def _staff_kind(groups: pd.DataFrame) -> np.ndarray:
        """Which staff-hour parameters a group's contracts use (staff.<kind>.<stage>_h)."""
        routine = groups["kkey"].to_numpy() == "routine"
        performance = groups["perf"].to_numpy().astype(bool)
        return np.where(routine & ~performance, "routine_task", np.where(routine, "performance",
                        np.where(groups["value_works"].to_numpy() > 0, "works", "service")))

    def _staff_hours(self, groups: pd.DataFrame, n_contracts: np.ndarray, staff_kind: np.ndarray,
                     state: ScenarioState) -> dict[str, np.ndarray]:
        """Orderer's staff-hours per group and stage: per contract (supervision and acceptance per contract year),
        per site supervised, reduced by shared data and shared among the members of a joint order."""
        p = self.p
        performance = groups["perf"].to_numpy().astype(bool)
        supervised_years = np.where(staff_kind == "routine_task", 1, groups["nyears"].to_numpy())
        hours = {s: np.zeros(len(groups)) for s in STAGES}
        for kind in np.unique(staff_kind):
            m = staff_kind == kind
            for s in ("estimate", "notice", "tender"):
                hours[s][m] = p.f(f"staff.{kind}.{s}_h") * n_contracts[m]
            hours["supervision"][m] = p.f(f"staff.{kind}.supervision_h") * n_contracts[m] * supervised_years[m]
            hours["acceptance"][m] = p.f(f"staff.{kind}.acceptance_h") * n_contracts[m] * supervised_years[m]
        hours["supervision"] += p.f("staff.supervision_per_site_h") * groups["sites"].to_numpy()
        hours["supervision"] = np.where(performance, hours["supervision"] * p.f("staff.performance_supervision_factor"),
                                        hours["supervision"])
        if state.data:
            hours["estimate"] *= p.f("staff.data_estimate_factor")
        joint = groups["joint"].to_numpy()
        if (joint != "").any():
            bundle_size = groups.groupby(["joint", "skey", "kkey", "ykey", "perf"], sort=False)["gid"].transform(
                "count").to_numpy()
            joint_factor = np.where(joint != "", p.f("staff.joint_stage_factor") / np.maximum(bundle_size, 1), 1.0)
            for s in ("estimate", "notice", "tender"):
                hours[s] = hours[s] * joint_factor
        return hours

    @staticmethod
    def _who_orders(groups: pd.DataFrame, state: ScenarioState) -> tuple[np.ndarray, np.ndarray]:
        """The member that orders each group (a group owner's lead, else the owner) and the one that prepares it
        (a joint order's lead, else the orderer)."""
        owner_leads = {**(state.owner_leads or {})}
        orderer = np.array([owner_leads.get(o, o) for o in groups["owner"].to_numpy()], dtype=object)
        joint = groups["joint"].to_numpy()
        preparer = np.where(joint != "", np.array([(state.joint_leads or {}).get(j, "") for j in joint], dtype=object),
                            orderer)
        return orderer, preparer

    def _member_rows(self, groups: pd.DataFrame, rows: _Rows, staff_kind: np.ndarray,
                     hours: dict[str, np.ndarray]) -> pd.DataFrame:
        """One row per group and participating member: its share of price and overhead (``share.rule``, see
        :func:`_shares`), its direct cost and its acceptance hours."""
        parts = pd.DataFrame({"gid": rows.group, "member": rows.member, "v": rows.expected_value,
                              "s": np.where(rows.routine, rows.items["n_sites"].to_numpy(), rows.probability),
                              "m": self._measure(rows)})
        parts = parts.groupby(["gid", "member"], sort=False)[["v", "s", "m"]].sum().reset_index()
        gid = parts["gid"].to_numpy()
        value_share = _within(gid, parts["v"].to_numpy(), None)
        share = self._shares(parts, value_share)
        return pd.DataFrame({
            "member": parts["member"].to_numpy(),
            "price": groups["price"].to_numpy()[gid] * share, "overhead": groups["overhead"].to_numpy()[gid] * share,
            "direct": parts["v"].to_numpy(),
            # own contracts: the owner accepts and pays. Group contracts (H:/V:): every participant inspects and pays
            # its part of each contract; individually ordered routine tasks belong to one member each.
            "acceptance": np.where(staff_kind[gid] == "routine_task", hours["acceptance"][gid] * value_share,
                                   hours["acceptance"][gid]),
        })

    def _shares(self, parts: pd.DataFrame, value_share: np.ndarray) -> np.ndarray:
        """Each participant's share of its contract group (the shares of a group add up to 1).

        The rules (``share.rule``; names and sources in gunmane/data/effects/share_rules.csv): ``direct_cost`` the
        ratio of direct cost; ``facility_count`` of facilities (expected, routine tasks for routine work);
        ``length_area`` of length (m) or area (m²); ``equal_facility`` / ``equal_usage`` ``share.equal_part``
        equally and the rest by facilities / direct cost; ``population`` and ``agreed`` by the members' population
        or agreed share. A group whose weights are all zero falls back to the direct-cost ratio, so a member
        without work in a contract never pays for it."""
        rule = str(self.p["share.rule"])
        if rule not in SHARE_RULES:
            raise InvalidInput("unknown_share_rule", f"費用分担の規則「{rule}」はありません。指定できる規則: "
                               f"{'、'.join(SHARE_RULES)}", f"Unknown cost-share rule '{rule}'.", field="share.rule")
        gid = parts["gid"].to_numpy()
        n_participants = parts.groupby("gid")["member"].transform("count").to_numpy()
        facility_share = _within(gid, parts["s"].to_numpy(), value_share)
        if rule == "direct_cost":
            return value_share
        if rule == "facility_count":
            return facility_share
        if rule == "length_area":
            return _within(gid, parts["m"].to_numpy(), value_share)
        if rule in ("equal_facility", "equal_usage"):
            equal_part = min(1.0, max(0.0, self.p.f("share.equal_part")))
            rest = facility_share if rule == "equal_facility" else value_share
            return equal_part / n_participants + (1 - equal_part) * rest
        attr, what = ("population", "人口") if rule == "population" else ("agreed_share", "協定で定める割合")
        weights = {m.lg_code: getattr(m, attr) for m in self.group.members}
        members = parts["member"].to_numpy().astype(str)
        shared = n_participants > 1  # a member's own contracts are its own whatever its weight
        missing = sorted({self.names.get(c, c) for c in members[shared] if weights.get(c) is None})
        if missing:
            raise InvalidInput("missing_share_weight", f"費用分担の規則「{SHARE_RULE_NAMES[rule]}」には各団体の{what}が必要です"
                               f"（{'・'.join(missing)}にありません）。",
                               f"The cost-share rule '{rule}' needs the {attr} of every member with work.",
                               field="share.rule")
        w = np.array([max(0.0, float(weights.get(c) or 0.0)) for c in members])
        return _within(gid, w, value_share)

    def _measure(self, rows: _Rows) -> np.ndarray:
        """Length (m) or area (m²) of each row's facility times its probability; for routine work the member's
        road length (road) or park area (park)."""
        items = rows.items
        fidx = items["fidx"].to_numpy()
        out = np.zeros(len(items))
        facility = fidx >= 0
        if facility.any():
            out[facility] = self.facility_measure[fidx[facility]] * rows.probability[facility]
        routine = np.flatnonzero(rows.routine)
        if routine.size:
            sector, member = items["sector"].to_numpy(), rows.member
            for i in routine:
                m = self.member_by_code.get(str(member[i]))
                if m is not None:
                    out[i] = m.road_length_km * 1000.0 if sector[i] == "road" else (
                        m.park_area_m2 if sector[i] == "park" else 0.0)
        return out

    def _repair_delay(self, rows: _Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: expected repairs, days from judgment to works, and the expected extra cost of a Ⅲ that
        deteriorates to Ⅳ while it waits."""
        p = self.p
        repair = rows.kind == "works"
        lead_days = np.where(rows.kind_key == "process", p.f("lead.days_process"), p.f("lead.days_baseline"))
        repairs = np.where(repair, rows.probability, 0.0)
        hazard_iii_iv = self.work.theta[2]
        p_to_iv = 1.0 - np.exp(-hazard_iii_iv * lead_days / 365.0)
        deterioration_yen = np.where(
            repair & (rows.items["grade"].to_numpy() != 4),
            rows.probability * p_to_iv * (p.f("deterioration.iv_cost_factor") - 1.0) * rows.items["cost"].to_numpy(),
            0.0)
        return repairs, lead_days, deterioration_yen

    def _per_member(self, rows: _Rows, groups: pd.DataFrame, n_contracts: np.ndarray, hours: dict[str, np.ndarray],
                    orderer: np.ndarray, preparer: np.ndarray, member_rows: pd.DataFrame, travel_km: np.ndarray,
                    repairs: np.ndarray, lead_days: np.ndarray, deterioration_yen: np.ndarray,
                    state: ScenarioState) -> dict[str, dict[str, Any]]:
        """Sum the effects to the members: contracts and supervision to the orderer, preparation to the preparer,
        money and acceptance by share, travel and repairs to the row's member; then coordination."""
        per_member: dict[str, dict[str, Any]] = {c: _empty() for c in self.codes}
        at_orderer, at_preparer = self._index(orderer), self._index(preparer)
        at_member, at_share = self._index(rows.member), self._index(member_rows["member"].to_numpy())
        self._add(per_member, None, "contracts", at_orderer, n_contracts)
        self._add(per_member, None, "failed", at_orderer, groups["failed_tenders"].to_numpy())
        for s in ("estimate", "notice", "tender"):
            self._add(per_member, "stages", s, at_preparer, hours[s])
        self._add(per_member, "stages", "supervision", at_orderer, hours["supervision"])
        self._add(per_member, "stages", "acceptance", at_share, member_rows["acceptance"].to_numpy())
        for col in ("price", "overhead", "direct"):
            self._add(per_member, None, col, at_share, member_rows[col].to_numpy())
        self._add(per_member, None, "travel", at_member, travel_km)
        self._add(per_member, None, "repairs", at_member, repairs)
        self._add(per_member, None, "lead_sum", at_member, repairs * lead_days)
        self._add(per_member, None, "deterioration", at_member, deterioration_yen)
        self.with_work = set(rows.member.tolist())
        self._coordination(per_member, state, groups, n_contracts, orderer)
        return per_member

    def _index(self, codes: np.ndarray) -> np.ndarray:
        idx = self.code_index.get_indexer(pd.Index(codes.astype(str)))
        if (idx < 0).any():
            raise ValueError(f"unknown member codes {set(codes[idx < 0])}")
        return idx

    def _add(self, res: dict[str, dict[str, Any]], sub: str | None, key: str, idx: np.ndarray, values: np.ndarray) -> None:
        sums = np.bincount(idx, np.asarray(values, dtype=float), len(self.codes))
        for c, v in zip(self.codes, sums, strict=True):
            (res[c][sub] if sub else res[c])[key] += float(v)

    # -- travel per row (km), allocated to the row's member ------------------------------------------------------------
    def _travel(self, rows: _Rows, groups: pd.DataFrame, orderer: np.ndarray) -> np.ndarray:
        """Contractor's travel per row (km): crew-day round trips to works, one trip per random design visit,
        local driving for routine tasks, day tours for inspections and known design sites."""
        p = self.p
        items, kind, probability = rows.items, rows.kind, rows.probability
        km = np.zeros(len(items))
        x, y = items["x"].to_numpy(), items["y"].to_numpy()
        base = self._contractor_bases(rows, groups, orderer)[rows.group]
        round_trip = 2.0 * np.hypot(x - base[:, 0], y - base[:, 1]) * p.f("travel.detour_factor")
        # works: a round trip per crew-day
        works = kind == "works"
        crew_days = np.maximum(1.0, items["cost"].to_numpy()[works] / p.f("travel.works_yen_per_crew_day"))
        km[works] = probability[works] * crew_days * round_trip[works]
        # random design visits: one round trip each (expected)
        random_design = (kind == "design") & (probability < 1)
        km[random_design] = probability[random_design] * round_trip[random_design]
        # routine: done by firms of the member's own area (地域維持型JV members included) — local driving per task
        routine = kind == "routine"
        km[routine] = items["n_sites"].to_numpy()[routine] * 2.0 * p.f("travel.routine_local_km")
        # inspections and known design sites: day tours per contract group and year
        toured = (kind == "inspection") | ((kind == "design") & (probability >= 1))
        if toured.any():
            self._day_tours(km, rows, base, np.flatnonzero(toured))
        return km

    def _contractor_bases(self, rows: _Rows, groups: pd.DataFrame, orderer: np.ndarray) -> np.ndarray:
        """Base (x, y) of each group's contractor: the orderer's office for a member's own contracts; for a group
        contract (H:/V:) the office of the participating member nearest to the centroid of the contract's work."""
        offices = self.work.offices
        bases = np.array([offices.get(str(o), (0.0, 0.0)) for o in orderer])
        shared = np.flatnonzero(np.array([str(o) not in offices for o in groups["owner"].to_numpy()])
                                | (groups["owner"].astype(str).str.contains(":").to_numpy()))
        if shared.size:
            group, n_groups = rows.group, len(groups)
            x, y = rows.items["x"].to_numpy(), rows.items["y"].to_numpy()
            cx = np.bincount(group, x, n_groups) / np.maximum(np.bincount(group, minlength=n_groups), 1)
            cy = np.bincount(group, y, n_groups) / np.maximum(np.bincount(group, minlength=n_groups), 1)
            parts = pd.DataFrame({"g": group, "m": rows.member}).drop_duplicates()
            for gkey, participants in parts[parts["g"].isin(shared)].groupby("g")["m"]:
                gi = int(str(gkey))
                offices_of = np.array([offices.get(str(m), (0.0, 0.0)) for m in participants])
                nearest = int(np.argmin(np.hypot(offices_of[:, 0] - cx[gi], offices_of[:, 1] - cy[gi])))
                bases[gi] = offices_of[nearest]
        return bases

    def _day_tours(self, km: np.ndarray, rows: _Rows, base: np.ndarray, toured: np.ndarray) -> None:
        """Fill ``km`` of the ``toured`` rows: one set of day tours per contract group, year and kind (inspection or
        design), each site carrying an equal part of its tours' distance."""
        p = self.p
        items = rows.items
        x, y = items["x"].to_numpy(), items["y"].to_numpy()
        idx = toured
        is_insp = rows.kind[idx] == "inspection"
        site_hours = np.where(is_insp, p.f("travel.inspection_site_h"), p.f("travel.design_site_h"))
        years = items["year"].to_numpy()[idx]
        key = (rows.group[idx].astype(np.int64) * 4096 + (years - years.min())) * 2 + is_insp
        order = np.argsort(key, kind="stable")
        idx, key, site_hours = idx[order], key[order], site_hours[order]
        cuts = np.flatnonzero(np.diff(key)) + 1
        fidx = items["fidx"].to_numpy()
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, idx.size], strict=True):
            tour_rows = idx[lo:hi]
            depot = (float(base[tour_rows[0], 0]), float(base[tour_rows[0], 1]))
            tours = self.solver.tours(depot, np.column_stack([x[tour_rows], y[tour_rows]]), float(site_hours[lo]),
                                      ids=np.sort(fidx[tour_rows]))
            km[tour_rows] = tours.km / len(tour_rows)

    def _coordination(self, per_member: dict[str, dict[str, Any]], state: ScenarioState, groups: pd.DataFrame,
                      n_contracts: np.ndarray, orderer: np.ndarray) -> None:
        """Add the coordination hours of working together: council and agreement, leading, the shared ledger,
        and monitoring of performance-specified contracts."""
        p, years = self.p, self.group.horizon_years
        if state.collaboration:
            leads = set((state.owner_leads or {}).values()) | set((state.joint_leads or {}).values())
            for c in sorted(state.participants or self.codes):
                per_member[c]["stages"]["coordination"] += (p.f("coord.council_h_per_member_year") * years
                                                            + p.f("coord.agreement_h_per_member"))
            for c in leads:
                if c in per_member:
                    per_member[c]["stages"]["coordination"] += p.f("coord.lead_h_per_year") * years
        if state.data:
            for c in sorted(self.with_work):
                per_member[c]["stages"]["coordination"] += p.f("coord.data_h_per_member_year") * years
        performance = groups["perf"].to_numpy().astype(bool) & (groups["kkey"].to_numpy() == "routine")
        if performance.any():
            monitoring = (p.f("coord.monitoring_h_per_contract_year") * n_contracts[performance]
                          * groups["nyears"].to_numpy()[performance])
            for code, v in pd.Series(monitoring).groupby(orderer[performance]).sum().items():
                per_member[str(code)]["stages"]["coordination"] += float(v)

    def _metrics(self, r: dict[str, Any]) -> Metrics:
        hours = sum(r["stages"].values())
        fte_den = self.p.f("fte.hours_per_year") * self.group.horizon_years
        return Metrics(
            contracts=r["contracts"], price_yen=r["price"], overhead_yen=r["overhead"], direct_cost_yen=r["direct"],
            staff_hours=hours, staff_hours_by_stage=dict(r["stages"]), fte=hours / fte_den, travel_km=r["travel"],
            expected_failed_tenders=r["failed"],
            days_to_repair=(r["lead_sum"] / r["repairs"]) if r["repairs"] > 1e-12 else None,
            deterioration_cost_yen=r["deterioration"], repairs=r["repairs"])


def _empty() -> dict[str, Any]:
    return {"contracts": 0.0, "failed": 0.0, "price": 0.0, "overhead": 0.0, "direct": 0.0, "travel": 0.0,
            "repairs": 0.0, "lead_sum": 0.0, "deterioration": 0.0, "stages": dict.fromkeys(STAGES, 0.0)}


def _metrics_zero() -> Metrics:
    return Metrics(0.0, 0.0, 0.0, 0.0, 0.0, dict.fromkeys(STAGES, 0.0), 0.0, 0.0, 0.0, None, 0.0, 0.0)


def _with_net(m: Metrics, base: Metrics, hourly: float) -> Metrics:
    net = ((base.price_yen - m.price_yen) + (base.staff_hours - m.staff_hours) * hourly
           + (base.deterioration_cost_yen - m.deterioration_cost_yen))
    return Metrics(**{**m.__dict__, "net_effect_yen": net})


def _sum_metrics(ms: list[Metrics], fte_den: float) -> Metrics:
    stages = {s: sum(m.staff_hours_by_stage[s] for m in ms) for s in STAGES}
    hours = sum(stages.values())
    repairs = sum(m.repairs for m in ms)
    lead = sum((m.days_to_repair or 0.0) * m.repairs for m in ms)
    return Metrics(
        contracts=sum(m.contracts for m in ms), price_yen=sum(m.price_yen for m in ms),
        overhead_yen=sum(m.overhead_yen for m in ms), direct_cost_yen=sum(m.direct_cost_yen for m in ms),
        staff_hours=hours, staff_hours_by_stage=stages, fte=hours / fte_den, travel_km=sum(m.travel_km for m in ms),
        expected_failed_tenders=sum(m.expected_failed_tenders for m in ms),
        days_to_repair=lead / repairs if repairs > 1e-12 else None,
        deterioration_cost_yen=sum(m.deterioration_cost_yen for m in ms), repairs=repairs,
        net_effect_yen=sum(m.net_effect_yen for m in ms))


def _facility_measure(f: Any) -> float:
    """A facility's size for 延長・面積割: its length (m), else its area (m²), else 0 (unknown)."""
    for v in (f.length_m, f.area_m2):
        if v is not None and math.isfinite(v) and v > 0:
            return float(v)
    return 0.0


def _within(gid: np.ndarray, weights: np.ndarray, fallback: np.ndarray | None) -> np.ndarray:
    """Each row's weight over the sum of its group's weights; groups whose weights add up to 0 take
    ``fallback`` (or an equal split when it is None)."""
    total = pd.Series(weights).groupby(gid).transform("sum").to_numpy()
    count = pd.Series(weights).groupby(gid).transform("count").to_numpy()
    other = fallback if fallback is not None else 1.0 / count
    return np.where(total > 0, weights / np.where(total > 0, total, 1.0), other)
