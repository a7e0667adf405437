"""Every parameter of the effects engine, declared as data with its unit and source (the PyPSA habit).

A scenario overrides any of them by id (``[parameters]`` in the scenario file); the result lists every
parameter it used with its value and source. ``status`` says how strong the source is:

- ``official``   — a law or an official rule (e.g. 道路法施行規則: bridges inspected every 5 years);
- ``published``  — a published figure (quantitative-methods.md / gunmane-policy.md, with the link);
- ``derived``    — arithmetic on published figures (the working is in the source text);
- ``assumption`` — 「仮定値 — 利用者が設定してください」: no source found; set your own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from gunmane.engine.effects.errors import InvalidInput, UnknownParameter
from gunmane.engine.parameters import ASSUMPTION, STATUS_LABELS, Parameter

__all__ = ["ASSUMPTION", "DEFAULT_PARAMETERS", "Parameter", "ParameterSet", "STATUS_LABELS"]

QM = "quantitative-methods.md"
GP = "gunmane-policy.md"


def P(id: str, value: Any, unit: str, label_ja: str, source: str = ASSUMPTION, status: str = "assumption") -> Parameter:
    return Parameter(id, value, unit, label_ja, source, status)


# Facility types (vocab) → (inspection labour base ¥, per metre ¥, design labour ¥, repair direct base ¥,
# repair per metre ¥, costing work type of the repair works). All unit costs are direct costs (直接人件費 for
# services, 直接工事費 for works) before the overheads of the estimation rules.
_TYPES: dict[str, tuple[float, float, float, float, float, str]] = {
    "bridge": (100_000, 2_000, 1_500_000, 5_000_000, 500_000, "橋梁保全工事"),
    "footbridge": (150_000, 2_000, 1_500_000, 5_000_000, 500_000, "橋梁保全工事"),
    "tunnel": (500_000, 5_000, 3_000_000, 20_000_000, 50_000, "河川・道路構造物工事"),
    "culvert": (150_000, 0, 1_000_000, 5_000_000, 0, "河川・道路構造物工事"),
    "sign_gantry": (50_000, 0, 500_000, 3_000_000, 0, "河川・道路構造物工事"),
    "shed": (300_000, 2_000, 2_000_000, 15_000_000, 50_000, "河川・道路構造物工事"),
    "pavement": (0, 100, 500_000, 0, 8_000, "舗装工事"),
    "earthwork": (50_000, 0, 1_000_000, 5_000_000, 0, "河川・道路構造物工事"),
    "sluice": (100_000, 0, 1_000_000, 8_000_000, 0, "河川維持工事"),
    "levee": (0, 200, 1_000_000, 0, 50_000, "河川維持工事"),
    "pump_station_river": (300_000, 0, 3_000_000, 30_000_000, 0, "河川維持工事"),
    "sabo_dam": (100_000, 0, 1_000_000, 10_000_000, 0, "河川・道路構造物工事"),
    "seawall": (0, 200, 1_000_000, 0, 80_000, "河川・道路構造物工事"),
    "play_equipment": (20_000, 0, 200_000, 1_000_000, 0, "道路維持工事"),
    "park_facility": (30_000, 0, 500_000, 3_000_000, 0, "道路維持工事"),
    "sewer_pipe": (0, 1_000, 1_000_000, 0, 150_000, "下水道工事(2)"),
    "sewer_pump": (300_000, 0, 3_000_000, 30_000_000, 0, "下水道工事(2)"),
    "water_pipe": (0, 500, 1_000_000, 0, 150_000, "下水道工事(2)"),
    "quay": (200_000, 1_000, 2_000_000, 20_000_000, 100_000, "河川・道路構造物工事"),
    "other": (100_000, 0, 1_000_000, 5_000_000, 0, "河川・道路構造物工事"),
}
_BRIDGE_NOTE = ("橋梁点検の委託単価は1橋あたり約2.2万〜45万円（鳥取県 2万1,535円、御坊市 約28.3万円、筑西市 20万〜30万円、"
                f"茨城県内 約45万円/5年）[V2]（{QM} §A6）。業務価格 ≈ 直接人件費 × 2.37（α=β=35%）なので、15 m の橋で"
                "直接人件費 13万円 → 業務価格 約31万円になるよう置いた仮定値")
_REPAIR_NOTE = (f"佐賀県の橋梁修繕 420橋・108.7億円（1橋あたり約2,590万円、工事価格ベース）[V2]（{QM} §B4）を目安に、"
                "15 m の橋で直接工事費 1,250万円（工事価格 約2,300万円）となるよう置いた仮定値")
TYPE_JA = {"bridge": "橋梁", "footbridge": "横断歩道橋", "tunnel": "トンネル", "culvert": "大型カルバート",
           "sign_gantry": "門型標識等", "shed": "シェッド", "pavement": "舗装", "earthwork": "道路土工構造物",
           "sluice": "樋門・樋管", "levee": "堤防・護岸", "pump_station_river": "排水機場", "sabo_dam": "砂防堰堤",
           "seawall": "海岸堤防", "play_equipment": "遊具", "park_facility": "公園施設", "sewer_pipe": "管渠",
           "sewer_pump": "ポンプ場", "water_pipe": "水道管路", "quay": "係留施設", "other": "その他の施設"}


def _defaults() -> tuple[Parameter, ...]:
    ps: list[Parameter] = [
        # --- work derivation -----------------------------------------------------------------------------
        P("inspection.cycle_years.statutory", 5, "年", "法定点検の周期（橋梁・トンネル・横断歩道橋・大型カルバート・門型標識等・シェッド）",
          "道路法施行規則（平成26年改正）: 近接目視による5年に1回の点検（quantitative-methods.md §B1）", "official"),
        P("inspection.cycle_years.other", 5, "年", "法定周期のない施設の点検周期"),
        P("routine.road_yen_per_km", 250_000, "円/km・年", "道路の日常維持（巡回・清掃・除草・小規模補修）の直接工事費"),
        P("routine.park_yen_per_m2", 100, "円/m²・年", "公園の日常維持（清掃・除草・遊具の日常点検）の直接工事費"),
        P("routine.task_yen", 1_500_000, "円", "日常維持を個別に発注するときの1件の規模（直接工事費）",
          "下田市は市道 236 km の維持を年約40件で個別発注（1件 ≈ 236 km × 25万円 / 40 ≈ 150万円）[V2]（"
          f"{QM} §A7、{GP} §3.2）と仮定値 routine.road_yen_per_km から", "derived"),
        P("routine.work_type.road", "道路維持工事", "工種区分", "道路の日常維持の工種区分", "土木工事標準積算基準書の工種区分", "official"),
        P("routine.work_type.park", "道路維持工事", "工種区分", "公園の日常維持の工種区分（公園の区分は版にないため道路維持工事を代用）"),
        P("routine.work_type.river", "河川維持工事", "工種区分", "河川の日常維持の工種区分", "土木工事標準積算基準書の工種区分", "official"),
        # --- batching (how many facilities one contract takes) --------------------------------------------
        P("cap.inspection_sites", 150, "施設/契約・年", "点検業務1件あたりの上限施設数",
          f"山梨県の地域一括発注: 11市町村 494橋を4ロット（1ロット約124橋）[V2]（{GP} §3.2）を丸めた値", "derived"),
        P("cap.design_sites", 5, "施設/契約", "修繕設計1件あたりの上限施設数（L）",
          f"宮城県の研究で使われた1契約あたり上限 L = 5 橋 [V2]（{QM} §B5）", "published"),
        P("cap.works_sites", 5, "施設/契約", "修繕工事1件あたりの上限施設数（L）",
          f"宮城県の研究で使われた1契約あたり上限 L = 5 橋 [V2]（{QM} §B5）", "published"),
        P("cap.process_sites", 150, "施設/契約・年", "プロセス一括契約（点検・診断・設計・工事）1件あたりの上限施設数"),
        P("cap.performance_lot_yen", 100_000_000, "円/年", "性能規定の包括契約1ロットの年間規模の上限",
          f"府中市: 受注者が規模の経済を感じる年約1億円でロットを設計 [V2]（{QM} §A7、{GP} §3.2）", "published"),
        P("cap.performance_task_yen", 500_000, "円/件", "性能規定の包括契約で受注者が行う1作業の上限（超える工事は別途発注）",
          f"下田市・静岡県と府中市の上限 50万円 [V2]（{GP} §7.4）", "published"),
        # --- deterioration and repair demand -----------------------------------------------------------------
        P("hazard.I", 0.0908, "/年", "健全性Ⅰ→Ⅱ のハザード率",
          f"宮城県 RC 道路橋（全国道路施設点検DB）の推定値 θ_I = 0.0908 [V2]（{QM} §B3）", "published"),
        P("hazard.II", 0.01437, "/年", "健全性Ⅱ→Ⅲ のハザード率",
          f"宮城県 RC 道路橋の推定値 θ_II = 0.01437 [V2]（{QM} §B3）", "published"),
        P("hazard.III", 0.05, "/年", "健全性Ⅲ→Ⅳ のハザード率（全国の値は未発見）"),
        P("lead.days_baseline", 730, "日", "Ⅲ・Ⅳ判定から修繕工事着手までの日数（判定の翌年度に設計、翌々年度に工事）"),
        P("lead.days_process", 240, "日", "プロセスを束ねた場合の判定から工事着手までの日数（同じ契約で設計・工事）"),
        P("deterioration.iv_cost_factor", 1.5, "倍", "Ⅳに進んでから修繕する場合の工事費（Ⅲで修繕する場合に対する倍率）"),
        # --- staff-hours (発注者の職員時間) -------------------------------------------------------------------
        P("fte.hours_per_year", 1_860, "時間/人・年", "職員1人の年間勤務時間",
          "地方公務員の勤務時間 1日7時間45分 × 年約240日 [R]", "derived"),
        P("staff.hourly_cost_yen", 5_000, "円/時間", "職員1時間あたりの人件費（純効果の円換算に使う）"),
    ]
    stages = {"works": (24, 4, 8, 40, 8), "service": (16, 4, 8, 24, 6), "routine_task": (8, 2, 4, 8, 2),
              "performance": (24, 4, 8, 40, 8)}
    labels = {"works": "工事", "service": "業務（点検・設計）", "routine_task": "日常維持の個別発注（小規模）",
              "performance": "性能規定の包括契約"}
    stage_ja = {"estimate": "積算", "notice": "公告", "tender": "入札・契約", "supervision": "監督", "acceptance": "検査・支払"}
    eu = (f"日本の発注事務時間は未発見（{QM} §A7）。EU の調達1件あたり発注者側 11〜68 人日 [V2] と、"
          "技術職員1人が年5〜15件を担当するという証言 [V2] の範囲に収まるよう置いた仮定値")
    for kind, hours in stages.items():
        for stage, h in zip(stage_ja, hours, strict=True):
            ps.append(P(f"staff.{kind}.{stage}_h", h, "時間/契約", f"{labels[kind]}1件の{stage_ja[stage]}", eu))
    ps += [
        P("staff.supervision_per_site_h", 2.0, "時間/施設", "施設1か所あたりの監督・立会いの追加時間", eu),
        P("staff.joint_stage_factor", 1.25, "倍", "共同発注（契約は別）で積算・公告・入札を代表団体がまとめて行うときの手間（1団体分に対する倍率）"),
        P("staff.performance_supervision_factor", 0.5, "倍", "性能規定で監督がモニタリングに変わるときの監督時間の倍率"),
        P("staff.data_estimate_factor", 0.7, "倍", "データを束ねた（共有台帳）場合の積算時間の倍率"),
        P("coord.council_h_per_member_year", 36, "時間/団体・年", "協議会・調整会議（年6回 × 3時間 × 2人）"),
        P("coord.agreement_h_per_member", 80, "時間/団体", "協定書・覚書の作成と議会対応（初年度のみ）"),
        P("coord.lead_h_per_year", 120, "時間/年", "代表団体の取りまとめ（予算・進捗・精算）"),
        P("coord.data_h_per_member_year", 40, "時間/団体・年", "共有台帳の維持（データを束ねる）"),
        P("coord.monitoring_h_per_contract_year", 40, "時間/契約・年", "性能規定のモニタリング（要求水準の確認）"),
        # --- travel -------------------------------------------------------------------------------------------
        P("travel.detour_factor", 1.3, "倍", "道路距離 / 直線距離（迂回率）", "迂回率は一般に 1.2〜1.4 [R]; 仮定値"),
        P("travel.speed_kmh", 40.0, "km/時", "移動の平均速度"),
        P("travel.day_hours", 8.0, "時間/日", "1日の作業時間（移動を含む）"),
        P("travel.inspection_site_h", 2.0, "時間/施設", "点検の現地作業時間（1施設）",
          f"香川県 橋梁定期点検標準歩掛（15 m 未満、10橋あたり 3.5〜8.2 人日）[V2]（{QM} §A5）からの目安", "derived"),
        P("travel.design_site_h", 1.5, "時間/施設", "修繕設計の現地調査時間（1施設）"),
        P("travel.works_yen_per_crew_day", 400_000, "円/日", "修繕工事の1作業日あたり直接工事費（現場への往復回数の算定）"),
        P("travel.routine_local_km", 10.0, "km/件", "日常維持1件の団体内の移動距離"),
        P("travel.ortools_max_sites", 40, "施設", "OR-Tools で1日ごとの巡回経路を解く上限施設数（超える契約はスイープ法）",
          "計算時間の上限のための設定（利用者が変更可）", "user"),
        P("travel.method", "ortools", "", "巡回経路の計算法（ortools: OR-Tools の経路探索とスイープ法の短い方、sweep: スイープ法のみ）",
          "計算法の選択（利用者が変更可）", "user"),
        # --- failed tenders ------------------------------------------------------------------------------------
        P("tender.failure_curve", ((1_000_000, 0.25), (5_000_000, 0.15), (20_000_000, 0.10), (100_000_000, 0.06),
                                   (1_000_000_000, 0.05)), "(直接工事費 円, 確率)",
          "1契約の規模に対する不調・不落の確率（区間内は金額の対数で線形補間、区間外は端の値）",
          f"不調・不落率の全国の規模別データは未発見（{GP} §3.2 は減少を定性的に報告）; 仮定値"),
        # --- cost sharing ----------------------------------------------------------------------------------------
        P("share.rule", "direct_cost", "", "共同契約の費用分担（direct_cost: 直接費の比、facility_count: 施設数の比、"
          "equal_usage: 均等割 + 利用割）", "群が選ぶ規則（利用者の入力）", "user"),
        P("share.equal_part", 0.5, "割合", "均等割 + 利用割のときの均等割の割合"),
    ]
    for t, (ib, im, d, rb, rm, wt) in _TYPES.items():
        src = _BRIDGE_NOTE if t == "bridge" else ASSUMPTION
        ps.append(P(f"unit.inspection.{t}.base_yen", ib, "円/施設", f"{TYPE_JA[t]}の点検 直接人件費（1施設）", src,
                    "derived" if t == "bridge" else "assumption"))
        ps.append(P(f"unit.inspection.{t}.per_m_yen", im, "円/m", f"{TYPE_JA[t]}の点検 直接人件費（延長1mあたり）", src,
                    "derived" if t == "bridge" else "assumption"))
        ps.append(P(f"unit.design.{t}_yen", d, "円/施設", f"{TYPE_JA[t]}の修繕設計 直接人件費（1施設）"))
        rsrc = _REPAIR_NOTE if t == "bridge" else ASSUMPTION
        ps.append(P(f"unit.repair.{t}.base_yen", rb, "円/施設", f"{TYPE_JA[t]}の修繕工事 直接工事費（1施設）", rsrc,
                    "derived" if t == "bridge" else "assumption"))
        ps.append(P(f"unit.repair.{t}.per_m_yen", rm, "円/m", f"{TYPE_JA[t]}の修繕工事 直接工事費（延長1mあたり）", rsrc,
                    "derived" if t == "bridge" else "assumption"))
        ps.append(P(f"unit.repair.{t}.work_type", wt, "工種区分", f"{TYPE_JA[t]}の修繕工事の工種区分",
                    "土木工事標準積算基準書の工種区分（橋梁保全工事）" if t in ("bridge", "footbridge") else
                    f"土木工事標準積算基準書の工種区分から最も近いものを選んだ{ASSUMPTION}",
                    "official" if t in ("bridge", "footbridge") else "assumption"))
    return tuple(ps)


DEFAULT_PARAMETERS: tuple[Parameter, ...] = _defaults()


class ParameterSet(Mapping[str, Any]):
    """The parameters of one run: defaults, with user overrides marked ``status = "user"``."""

    def __init__(self, params: tuple[Parameter, ...] = DEFAULT_PARAMETERS) -> None:
        self._p = {p.id: p for p in params}

    def __getitem__(self, key: str) -> Any:
        return self._p[key].value

    def __iter__(self) -> Iterator[str]:
        return iter(self._p)

    def __len__(self) -> int:
        return len(self._p)

    def param(self, key: str) -> Parameter:
        return self._p[key]

    def f(self, key: str) -> float:
        return float(self._p[key].value)

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "シナリオファイルの [parameters]") -> ParameterSet:
        new = dict(self._p)
        for key, value in overrides.items():
            if key not in new:
                near = [k for k in new if k.split(".")[0] == key.split(".")[0]][:8]
                raise UnknownParameter("unknown_parameter",
                                       f"パラメータ「{key}」はありません。"
                                       + (f"同じ分類のパラメータ: {'、'.join(near)}" if near else "docs/effects.md の一覧を参照してください。"),
                                       f"No parameter '{key}'." + (f" Similar: {', '.join(near)}" if near else ""), field=key)
            old = new[key]
            if isinstance(old.value, int | float) and not isinstance(old.value, bool):
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    raise InvalidInput("invalid_parameter", f"パラメータ「{key}」には 0 以上の数値を指定してください（値: {value!r}）。",
                                       f"Parameter '{key}' needs a non-negative number (got {value!r}).", field=key)
            elif isinstance(old.value, tuple):
                value = tuple(tuple(float(v) for v in pair) for pair in value)
            new[key] = replace(old, value=value, source=f"{source}（既定値 {old.value!r}: {old.source}）", status="user")
        return ParameterSet(tuple(new.values()))

    def used(self) -> list[dict[str, Any]]:
        return [p.as_json() for p in self._p.values()]
