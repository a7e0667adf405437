"""Effects of the baseline and each scenario (効果試算): contracts, price, staff-hours, travel, tender risk,
repair delay — in total and per member — with every assumption and parameter listed.

Pipeline: :func:`derive_work` (ledger → work rows) → :func:`baseline_keys` → :func:`apply_levers` (scenario
keys) → :func:`_evaluate` (group rows into contracts and measure them). Vectorised over rows with numpy /
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
from gunmane.engine.effects.inputs import GroupInput, Member, Scenario
from gunmane.engine.effects.levers import LeverOutcome, ScenarioState, apply_levers, baseline_keys
from gunmane.engine.effects.parameters import ParameterSet
from gunmane.engine.effects.routing import TourSolver
from gunmane.engine.effects.work import WorkSet, derive_work

__all__ = ["METRICS", "EffectsResult", "Metrics", "ScenarioResult", "evaluate"]

METRICS = ("contracts", "price_yen", "overhead_yen", "staff_hours", "travel_km", "expected_failed_tenders",
           "days_to_repair", "deterioration_cost_yen")
STAGES = ("estimate", "notice", "tender", "supervision", "acceptance", "coordination")
KEYS = ["owner", "skey", "kkey", "ykey", "joint", "perf"]


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

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "levers": [x.as_json() for x in self.levers],
                "totals": self.totals.as_json(),
                "contracts_by_kind": {k: round(v, 3) for k, v in self.contracts_by_kind.items()},
                "members": {c: m.as_json() for c, m in self.members.items()}}


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


ASSUMPTIONS = (
    "基準（ベースライン）: 各団体が単独で、分野・作業（点検・設計・工事・日常維持）・年度ごとに発注する。",
    "作業量は試算期間に判定・実施される作業: 定期点検（前回点検から周期ごと、記録なし・期限超過は初年度）、"
    "Ⅲ・Ⅳの施設の修繕設計・修繕工事（初年度の判定分として計上）、点検で新たにⅢと判定される見込みの施設の設計・工事"
    "（マルコフ劣化ハザードモデルによる確率）、道路延長・公園面積からの日常維持。",
    "ランダムな補修需要の契約数は二項分布の期待値 E⌈(D+X)/L⌉（X ~ 二項分布(N, q̄)、q̄ は同じ発注単位の平均確率）。",
    "価格は積算基準の式による発注者の予定価格（入札額ではない）。1つの発注単位の契約は同じ規模に分けて積算し、"
    "工事の工種区分は金額の最も大きいもの（主たる工種）とする。業務（点検・設計）は諸経費の比率が一定のため規模の効果はない。",
    "職員時間は発注者側: 積算・公告・入札契約・監督・検査支払の段階別時間 × 契約数（複数年契約は監督・検査を年数分）"
    "＋施設ごとの監督時間＋連携の調整（協議会・協定・取りまとめ・台帳・モニタリング）。FTE = 職員時間 ÷ 年間勤務時間 ÷ 年数。",
    "移動距離は受注者の拠点（団体単独の契約は発注団体の庁舎、共同の契約は作業の重心に最も近い参加団体の庁舎）から: 点検・設計は1日の作業時間内の巡回（直線距離 × 迂回率）、"
    "工事は作業日ごとの往復。日常維持は各団体の地域の事業者（地域維持型JVの構成員を含む）が行い、1件ごとに団体内を往復する。",
    "契約数と不調・不落は発注者（団体・代表団体・都道府県）に計上し、価格は費用分担の規則で各団体に配分する。",
    "各団体の純効果 = 基準に対する（価格の負担の減少）＋（職員時間の減少 × 時間単価）＋（劣化による損失の減少）。"
    "移動距離は受注者の費用で予定価格の式に含まれないため、純効果には含めない。",
)


def evaluate(group: GroupInput, scenarios: Sequence[Scenario], edition: CostingEdition, *,
             params: ParameterSet | None = None, hazard_model: Any = None) -> EffectsResult:
    """Baseline and each scenario for ``group`` priced under ``edition``.

    ``hazard_model``: an optional :class:`gunmane.engine.deterioration.MarkovHazardModel` on grades
    Ⅰ–Ⅳ (3 hazards) or Ⅰ–Ⅲ(+Ⅳ) (2 hazards; the Ⅲ→Ⅳ hazard then comes from ``hazard.III``).
    """
    params = params or ParameterSet()
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
    assumptions = (
        *ASSUMPTIONS,
        f"劣化: Ⅰ→Ⅱ {work.theta[0]:.4f}/年、Ⅱ→Ⅲ {work.theta[1]:.5f}/年、Ⅲ→Ⅳ {work.theta[2]:.4f}/年（{work.hazard_source}）。",
        f"積算基準: {edition.id}（{edition.label_ja}）。{edition.note_ja}",
        f"巡回経路: {'OR-Tools の経路探索（' + str(int(params.f('travel.ortools_max_sites'))) + '施設以下の契約）とスイープ法の短い方' if params['travel.method'] == 'ortools' else 'スイープ法'}"
        f"（計算 OR-Tools {solver.calls['ortools']} 回、スイープ法 {solver.calls['sweep']} 回、再利用 {solver.calls['cached']} 回）。",
    )
    return EffectsResult(
        group_name=group.name, members=group.members, start_fiscal_year=group.start_fiscal_year,
        horizon_years=group.horizon_years, edition=edition.id, edition_label_ja=edition.label_ja, baseline=baseline,
        scenarios=tuple(results), assumptions=assumptions, parameters=tuple(params.used()), notes=work.notes,
        work_summary=summary)


class _Context:
    def __init__(self, group: GroupInput, edition: CostingEdition, params: ParameterSet, work: WorkSet,
                 solver: TourSolver) -> None:
        self.group, self.edition, self.p, self.work, self.solver = group, edition, params, work, solver
        self.codes = [m.lg_code for m in group.members]
        self.with_work: set[str] = set(self.codes)
        self.code_index = pd.Index(self.codes)
        self.svc_mult = {s: 1.0 / (1 - r.other_cost_ratio_pct / 100) / (1 - r.general_admin_ratio_pct / 100)
                         for s, r in edition.services.items()}
        curve = params["tender.failure_curve"]
        self.curve_x = np.log10([float(a) for a, _ in curve])
        self.curve_y = np.array([float(b) for _, b in curve])

    # -- one scenario ------------------------------------------------------------------------------------------
    def run(self, name: str, description: str, k: pd.DataFrame, st: ScenarioState, outcomes: tuple[LeverOutcome, ...],
            baseline: ScenarioResult | None = None) -> ScenarioResult:
        p = self.p
        if len(k) == 0:
            zero = _metrics_zero()
            return ScenarioResult(name, description, outcomes, zero, dict.fromkeys(self.codes, zero), pd.DataFrame(), {})
        k = k.reset_index(drop=True)
        gid = k.groupby(KEYS, sort=False).ngroup().to_numpy()
        ng = int(gid.max()) + 1
        pr = k["p"].to_numpy()
        val = pr * k["cost"].to_numpy()
        kind = k["kind"].to_numpy()
        kkey = k["kkey"].to_numpy()
        is_works = (k["cls"] == "works").to_numpy()
        det = pr >= 1.0
        routine = kind == "routine"
        sites = np.where(routine, 0.0, pr)
        g = pd.DataFrame({"gid": np.arange(ng)})
        first = k.groupby(gid, sort=True)[["owner", "skey", "kkey", "ykey", "joint", "perf"]].first()
        g = g.join(first, on="gid")
        g["nyears"] = k.groupby(gid, sort=True)["year"].nunique().to_numpy()
        g["value"] = np.bincount(gid, val, ng)
        g["value_works"] = np.bincount(gid, val * is_works, ng)
        g["value_service"] = g["value"] - g["value_works"]
        g["sites"] = np.bincount(gid, sites, ng)
        cap_count = det & ~routine & ~((kkey == "process") & (kind == "design"))
        g["det_sites"] = np.bincount(gid, cap_count.astype(float), ng)
        rnd = ~det & (kind == kkey)
        g["rnd_n"] = np.bincount(gid, rnd.astype(float), ng)
        g["rnd_p"] = np.bincount(gid, pr * rnd, ng)
        g["tasks"] = np.bincount(gid, k["n_sites"].to_numpy() * routine, ng)
        # -- contracts per group -------------------------------------------------------------------------------
        n = np.zeros(ng)
        gk, gperf, gny = g["kkey"].to_numpy(), g["perf"].to_numpy().astype(bool), g["nyears"].to_numpy()
        is_routine_g = gk == "routine"
        lot = p.f("cap.performance_lot_yen")
        n[is_routine_g & gperf] = np.maximum(1, np.ceil(g["value"].to_numpy()[is_routine_g & gperf] / (lot * gny[is_routine_g & gperf]) - 1e-9))
        n[is_routine_g & ~gperf] = g["tasks"].to_numpy()[is_routine_g & ~gperf]
        caps = {"inspection": p.f("cap.inspection_sites"), "design": p.f("cap.design_sites"),
                "works": p.f("cap.works_sites"), "process": p.f("cap.process_sites")}
        fac_idx = np.flatnonzero(~is_routine_g)
        det_sites, rnd_n, rnd_p = g["det_sites"].to_numpy(), g["rnd_n"].to_numpy(), g["rnd_p"].to_numpy()
        for i in fac_idx:
            cap = max(1.0, caps.get(gk[i], 1.0) * gny[i])
            if rnd_n[i] > 0:
                n[i] = expected_contracts_with_fixed(det_sites[i], int(rnd_n[i]), rnd_p[i] / rnd_n[i], cap)
            else:
                n[i] = math.ceil(det_sites[i] / cap - 1e-9)
        g["contracts"] = n
        # -- price -------------------------------------------------------------------------------------------------
        svc_price = val * k["ctype"].map(self.svc_mult).fillna(1.0).to_numpy(dtype=float) * ~is_works
        g["price_service"] = np.bincount(gid, svc_price, ng)
        wv = pd.DataFrame({"gid": gid[is_works], "ctype": k["ctype"].to_numpy()[is_works], "v": val[is_works]})
        price_works = np.zeros(ng)
        if len(wv):
            by = wv.groupby(["gid", "ctype"], sort=False)["v"].sum().reset_index()
            dom = by.loc[by.groupby("gid")["v"].idxmax()]
            gids = dom["gid"].to_numpy()
            for wt in dom["ctype"].unique():
                sel = gids[dom["ctype"].to_numpy() == wt]
                nn = np.maximum(n[sel], 1e-9)
                per = g["value_works"].to_numpy()[sel] / nn
                price_works[sel] = works_price_array(self.edition, str(wt), per)["price_yen"] * nn
        g["price"] = g["price_service"] + price_works
        g["overhead"] = g["price"] - g["value"]
        # -- failed tenders ----------------------------------------------------------------------------------------
        per_contract = np.where(n > 0, g["value"].to_numpy() / np.maximum(n, 1e-9), 0.0)
        pf = np.interp(np.log10(np.maximum(per_contract, 1.0)), self.curve_x, self.curve_y)
        g["failed_tenders"] = n * pf
        # -- staff hours per group (by stage) ---------------------------------------------------------------------
        stage_kind = np.where(is_routine_g & ~gperf, "routine_task", np.where(is_routine_g, "performance",
                              np.where(g["value_works"].to_numpy() > 0, "works", "service")))
        span = np.where(is_routine_g & ~gperf, 1, gny)
        h = {s: np.zeros(ng) for s in STAGES}
        for sk in np.unique(stage_kind):
            m = stage_kind == sk
            for s in ("estimate", "notice", "tender"):
                h[s][m] = p.f(f"staff.{sk}.{s}_h") * n[m]
            h["supervision"][m] = p.f(f"staff.{sk}.supervision_h") * n[m] * span[m]
            h["acceptance"][m] = p.f(f"staff.{sk}.acceptance_h") * n[m] * span[m]
        h["supervision"] += p.f("staff.supervision_per_site_h") * g["sites"].to_numpy()
        h["supervision"] = np.where(gperf, h["supervision"] * p.f("staff.performance_supervision_factor"), h["supervision"])
        if st.data:
            h["estimate"] *= p.f("staff.data_estimate_factor")
        joint = g["joint"].to_numpy()
        if (joint != "").any():
            bundle = g.groupby(["joint", "skey", "kkey", "ykey", "perf"], sort=False)["gid"].transform("count").to_numpy()
            f = np.where(joint != "", p.f("staff.joint_stage_factor") / np.maximum(bundle, 1), 1.0)
            for s in ("estimate", "notice", "tender"):
                h[s] = h[s] * f
        # -- who orders (contracts, preparation hours) ---------------------------------------------------------------
        leads = {**(st.owner_leads or {})}
        owner = g["owner"].to_numpy()
        orderer = np.array([leads.get(o, o) for o in owner], dtype=object)
        prep_to = np.where(joint != "", np.array([(st.joint_leads or {}).get(j, "") for j in joint], dtype=object), orderer)
        # members taking part in each group (for acceptance hours and cost shares)
        mem = k["member"].to_numpy()
        gm = pd.DataFrame({"gid": gid, "member": mem, "v": val, "s": np.where(routine, k["n_sites"].to_numpy(), pr)})
        gm = gm.groupby(["gid", "member"], sort=False)[["v", "s"]].sum().reset_index()
        nmem = gm.groupby("gid")["member"].transform("count").to_numpy()
        gv = g["value"].to_numpy()[gm["gid"].to_numpy()]
        gs = gm.groupby("gid")["s"].transform("sum").to_numpy()
        vshare = np.where(gv > 0, gm["v"].to_numpy() / np.where(gv > 0, gv, 1), 1.0 / nmem)
        rule = str(p["share.rule"])
        if rule == "facility_count":
            share = np.where(gs > 0, gm["s"].to_numpy() / np.where(gs > 0, gs, 1), vshare)
        elif rule == "equal_usage":
            e = p.f("share.equal_part")
            share = e / nmem + (1 - e) * vshare
        else:
            share = vshare
        gg = gm["gid"].to_numpy()
        member_rows = pd.DataFrame({
            "member": gm["member"].to_numpy(),
            "price": g["price"].to_numpy()[gg] * share, "overhead": g["overhead"].to_numpy()[gg] * share,
            "direct": gm["v"].to_numpy(),
            # own contracts: the owner accepts and pays. Group contracts (H:/V:): every participant inspects and pays
            # its part of each contract; individually ordered routine tasks belong to one member each.
            "acceptance": np.where(stage_kind[gg] == "routine_task", h["acceptance"][gg] * vshare, h["acceptance"][gg]),
        })
        # -- travel ------------------------------------------------------------------------------------------------------
        travel_row = self._travel(k, gid, g, orderer)
        # -- repairs, lead time, deterioration ----------------------------------------------------------------------
        works_rows = kind == "works"
        lead = np.where(kkey == "process", p.f("lead.days_process"), p.f("lead.days_baseline"))
        rep_w = np.where(works_rows, pr, 0.0)
        th3 = self.work.theta[2]
        p_iv = 1.0 - np.exp(-th3 * lead / 365.0)
        det_cost = np.where(works_rows & (k["grade"].to_numpy() != 4),
                            pr * p_iv * (p.f("deterioration.iv_cost_factor") - 1.0) * k["cost"].to_numpy(), 0.0)
        # -- per member ----------------------------------------------------------------------------------------------------
        res: dict[str, dict[str, Any]] = {c: _empty() for c in self.codes}
        o_i, p_i, m_i = self._index(orderer), self._index(prep_to), self._index(mem)
        r_i = self._index(member_rows["member"].to_numpy())
        self._add(res, None, "contracts", o_i, n)
        self._add(res, None, "failed", o_i, g["failed_tenders"].to_numpy())
        for s_ in ("estimate", "notice", "tender"):
            self._add(res, "stages", s_, p_i, h[s_])
        self._add(res, "stages", "supervision", o_i, h["supervision"])
        self._add(res, "stages", "acceptance", r_i, member_rows["acceptance"].to_numpy())
        for col in ("price", "overhead", "direct"):
            self._add(res, None, col, r_i, member_rows[col].to_numpy())
        self._add(res, None, "travel", m_i, travel_row)
        self._add(res, None, "repairs", m_i, rep_w)
        self._add(res, None, "lead_sum", m_i, rep_w * lead)
        self._add(res, None, "deterioration", m_i, det_cost)
        self.with_work = set(mem.tolist())
        self._coordination(res, st, g, n, orderer)
        members = {c: self._metrics(r) for c, r in res.items()}
        if baseline is not None:
            hc = p.f("staff.hourly_cost_yen")
            members = {c: _with_net(m, baseline.members[c], hc) for c, m in members.items()}
        totals = _sum_metrics(list(members.values()), self.p.f("fte.hours_per_year") * self.group.horizon_years)
        g["orderer"] = orderer
        g["travel_km"] = np.bincount(gid, travel_row, ng)
        for s in STAGES[:-1]:
            g[f"h_{s}"] = h[s]
        by_kind = g.groupby("kkey")["contracts"].sum().to_dict()
        return ScenarioResult(name, description, outcomes, totals, members, g, {str(a): float(b) for a, b in by_kind.items()})

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
    def _travel(self, k: pd.DataFrame, gid: np.ndarray, g: pd.DataFrame, orderer: np.ndarray) -> np.ndarray:
        p, solver = self.p, self.solver
        detour = p.f("travel.detour_factor")
        out = np.zeros(len(k))
        offices = self.work.offices
        x, y = k["x"].to_numpy(), k["y"].to_numpy()
        # base of the contractor: the orderer's office for a member's own contracts; for a group contract (H:/V:)
        # the office of the participating member nearest to the centroid of the contract's work
        gdep = np.array([offices.get(str(o), (0.0, 0.0)) for o in orderer])
        multi = np.flatnonzero(np.array([str(o) not in offices for o in g["owner"].to_numpy()])
                               | (g["owner"].astype(str).str.contains(":").to_numpy()))
        if multi.size:
            cx = np.bincount(gid, x, len(g)) / np.maximum(np.bincount(gid, minlength=len(g)), 1)
            cy = np.bincount(gid, y, len(g)) / np.maximum(np.bincount(gid, minlength=len(g)), 1)
            parts = pd.DataFrame({"g": gid, "m": k["member"].to_numpy()}).drop_duplicates()
            for gkey, ms in parts[parts["g"].isin(multi)].groupby("g")["m"]:
                gi = int(str(gkey))
                cand = np.array([offices.get(str(m), (0.0, 0.0)) for m in ms])
                best = int(np.argmin(np.hypot(cand[:, 0] - cx[gi], cand[:, 1] - cy[gi])))
                gdep[gi] = cand[best]
        depot = gdep[gid]
        pr = k["p"].to_numpy()
        kind = k["kind"].to_numpy()
        rt = 2.0 * np.hypot(x - depot[:, 0], y - depot[:, 1]) * detour
        # works: a round trip per crew-day
        w = kind == "works"
        out[w] = pr[w] * np.maximum(1.0, k["cost"].to_numpy()[w] / p.f("travel.works_yen_per_crew_day")) * rt[w]
        # random design visits: one round trip each (expected)
        rd = (kind == "design") & (pr < 1)
        out[rd] = pr[rd] * rt[rd]
        # routine: done by firms of the member's own area (地域維持型JV members included) — local driving per task
        r = kind == "routine"
        out[r] = k["n_sites"].to_numpy()[r] * 2.0 * p.f("travel.routine_local_km")
        # inspections and known design sites: day tours per contract group and year
        tour = (kind == "inspection") | ((kind == "design") & (pr >= 1))
        if tour.any():
            idx = np.flatnonzero(tour)
            svc = np.where(kind[idx] == "inspection", p.f("travel.inspection_site_h"), p.f("travel.design_site_h"))
            is_insp = kind[idx] == "inspection"
            svc = np.where(is_insp, p.f("travel.inspection_site_h"), p.f("travel.design_site_h"))
            years = k["year"].to_numpy()[idx]
            key = (gid[idx].astype(np.int64) * 4096 + (years - years.min())) * 2 + is_insp
            order = np.argsort(key, kind="stable")
            idx, key, svc = idx[order], key[order], svc[order]
            cuts = np.flatnonzero(np.diff(key)) + 1
            fidx = k["fidx"].to_numpy()
            for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, idx.size], strict=True):
                ii = idx[lo:hi]
                dep = (float(depot[ii[0], 0]), float(depot[ii[0], 1]))
                res = solver.tours(dep, np.column_stack([x[ii], y[ii]]), float(svc[lo]), ids=np.sort(fidx[ii]))
                out[ii] = res.km / len(ii)
        return out

    def _coordination(self, res: dict[str, dict[str, Any]], st: ScenarioState, g: pd.DataFrame, n: np.ndarray,
                      orderer: np.ndarray) -> None:
        p, years = self.p, self.group.horizon_years
        if st.collaboration:
            leads = set((st.owner_leads or {}).values()) | set((st.joint_leads or {}).values())
            for c in sorted(st.participants or self.codes):
                res[c]["stages"]["coordination"] += (p.f("coord.council_h_per_member_year") * years
                                                     + p.f("coord.agreement_h_per_member"))
            for c in leads:
                if c in res:
                    res[c]["stages"]["coordination"] += p.f("coord.lead_h_per_year") * years
        if st.data:
            for c in sorted(self.with_work):
                res[c]["stages"]["coordination"] += p.f("coord.data_h_per_member_year") * years
        perf = g["perf"].to_numpy().astype(bool) & (g["kkey"].to_numpy() == "routine")
        if perf.any():
            mon = p.f("coord.monitoring_h_per_contract_year") * n[perf] * g["nyears"].to_numpy()[perf]
            for code, v in pd.Series(mon).groupby(orderer[perf]).sum().items():
                res[str(code)]["stages"]["coordination"] += float(v)

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
