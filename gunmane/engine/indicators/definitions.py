"""Every 見える化 indicator declared as data (ids are a public contract, documented in docs/indicators.md)."""

from __future__ import annotations

from gunmane.engine.indicator_types import IndicatorDef

SRC_POPULATION = "住民基本台帳に基づく人口（総務省）を Ina299/local_gov_vis が集計"
SRC_AREA = "全国都道府県市区町村別面積調（国土地理院）を Ina299/local_gov_vis が集計"
SRC_BRIDGES = "道路メンテナンス年報（FY2020–2024 橋梁点検結果）を Ina299/local_gov_vis が集計"
SRC_FINANCE = "地方財政状況調査（総務省、Japan Dashboard 地方財政）を Ina299/local_gov_vis が集計"
SRC_ROAD = "公共施設状況調経年比較表（総務省、道路実延長）を Ina299/local_gov_vis が集計"
SRC_USER = "利用者入力"
SRC_LEDGER = "施設台帳（gunmane）"

# The national comparison figure for backlog_5y_share (docs/domain/gunmane-policy.md §5.1).
NATIONAL_BACKLOG_5Y_SHARE = 17.0
NATIONAL_BACKLOG_5Y_SOURCE = "建通新聞 2025-03-19（国土交通省の集計：地方公共団体管理橋梁）"

# Facility types with a statutory 5-year inspection cycle (道路法施行規則, since July 2014); the same set
# as `inspection_cycle_years == 5` in gunmane/data/vocab/facility_types.csv (a test keeps them equal).
FIVE_YEAR_CYCLE_TYPES: frozenset[str] = frozenset(
    {"bridge", "tunnel", "footbridge", "culvert", "sign_gantry", "shed"})
INSPECTION_CYCLE_YEARS = 5
AGE_THRESHOLD = 50  # MLIT's headline indicator: share of facilities 50 years or older
PROJECTION_END = 2050

# Japanese names of sectors and facility types (gunmane/data/vocab; a test keeps them equal) for series
# labels — the engine reads no files.
SECTOR_NAMES: dict[str, str] = {
    "road": "道路", "river": "河川", "sabo": "砂防", "coast": "海岸", "park": "公園", "sewer": "下水道",
    "water": "上水道", "port": "港湾",
}
FACILITY_TYPE_NAMES: dict[str, str] = {
    "bridge": "橋梁", "tunnel": "トンネル", "footbridge": "横断歩道橋", "culvert": "大型カルバート",
    "sign_gantry": "門型標識等", "shed": "シェッド", "pavement": "舗装", "earthwork": "道路土工構造物",
    "sluice": "樋門・樋管", "levee": "堤防・護岸", "pump_station_river": "排水機場", "sabo_dam": "砂防堰堤",
    "seawall": "海岸堤防", "play_equipment": "遊具", "park_facility": "公園施設", "sewer_pipe": "管渠",
    "sewer_pump": "ポンプ場", "water_pipe": "水道管路", "quay": "係留施設",
}


def _both(a: str, b: str) -> str:
    return a if a == b else f"{a}／{b}"


INDICATORS: tuple[IndicatorDef, ...] = (
    # --- reference data: every municipality, no ledger needed ------------------------------------------
    IndicatorDef("population", "人口", "Population", "人",
                 "当該年度の住民基本台帳人口（翌年1月1日現在の版）。", SRC_POPULATION, "reference"),
    IndicatorDef("population_change_pct", "人口増減率（4年間）", "Population change over 4 years", "%",
                 "（当該年度の人口 ÷ 4年前の年度の人口 − 1）× 100。4年前の値がない年度は不明。",
                 SRC_POPULATION, "reference", "better"),
    IndicatorDef("area_km2", "面積", "Area", "km²", "市区町村の面積（最新版、各年度共通）。", SRC_AREA, "reference"),
    IndicatorDef("bridges_inspected", "点検済み橋梁数", "Bridges inspected", "橋",
                 "FY2020–2024 の1巡回（5年）に点検結果が公表された、その団体が管理する橋梁の数（橋ごとに最新の点検）。"
                 "どの年度の行でも同じ値。", SRC_BRIDGES, "stock"),
    IndicatorDef("bridges_iii_iv", "判定区分Ⅲ・Ⅳの橋梁数", "Bridges graded III/IV", "橋",
                 "点検済み橋梁のうち、最新の判定区分がⅢ（早期措置段階）またはⅣ（緊急措置段階）の橋梁数。",
                 SRC_BRIDGES, "condition", "worse"),
    IndicatorDef("bridges_iii_iv_share", "判定区分Ⅲ・Ⅳの橋梁の割合", "Share of bridges graded III/IV", "%",
                 "判定区分Ⅲ・Ⅳの橋梁数 ÷ 点検済み橋梁数 × 100（両方が分かる団体だけで計算）。",
                 SRC_BRIDGES, "condition", "worse"),
    IndicatorDef("civil_expenditure", "土木費", "Civil-engineering expenditure", "円",
                 "普通会計決算の目的別歳出「土木費」（款の合計。道路橋りょう費のほか都市計画費・住宅費等を含む）。",
                 SRC_FINANCE, "capacity"),
    IndicatorDef("civil_expenditure_per_capita", "住民1人当たり土木費", "Civil expenditure per resident", "円/人",
                 "土木費 ÷ 人口（同じ年度）。", _both(SRC_FINANCE, SRC_POPULATION), "capacity", "better"),
    IndicatorDef("civil_expenditure_per_bridge", "橋梁1橋当たり土木費", "Civil expenditure per bridge", "円/橋",
                 "土木費 ÷ 点検済み橋梁数。土木費は橋梁以外を含む款の合計で、橋梁数は FY2020–2024 の1巡回分。"
                 "規模の目安であり橋梁の維持管理費ではない。", _both(SRC_FINANCE, SRC_BRIDGES), "capacity", "better"),
    IndicatorDef("civil_expenditure_change_pct", "土木費の増減率（FY2020比）", "Civil expenditure change since FY2020",
                 "%", "（当該年度の土木費 ÷ FY2020 の土木費 − 1）× 100（名目）。", SRC_FINANCE, "capacity"),
    IndicatorDef("road_length_km", "道路実延長", "Road length", "km",
                 "市区町村道の実延長（公共施設状況調、前年度末現在 ≒ 当該年度当初）。", SRC_ROAD, "stock"),
    IndicatorDef("road_length_per_capita", "住民1人当たり道路延長", "Road length per resident", "m/人",
                 "道路実延長(m) ÷ 人口。住民1人が支える道路の長さ（維持の負担の目安）。",
                 _both(SRC_ROAD, SRC_POPULATION), "stock", "worse"),
    IndicatorDef("elderly_ratio", "高齢化率", "Share of residents aged 65+", "%",
                 "65歳以上人口の割合 × 100。複数団体では人口で重み付けした値（＝合計の65歳以上人口 ÷ 合計人口）。",
                 SRC_POPULATION, "reference", "worse"),
    IndicatorDef("fiscal_capability_index", "財政力指数", "Fiscal capability index", "指数",
                 "基準財政収入額 ÷ 基準財政需要額 の3年平均。複数団体では単純平均。",
                 SRC_FINANCE, "reference", "better"),
    IndicatorDef("civil_engineers", "技術系職員数（土木）", "Civil engineers", "人",
                 "土木部門の技術系職員数。公開データがないため利用者が入力する（未入力は不明）。",
                 SRC_USER, "capacity", "better"),
    IndicatorDef("engineers_per_100_bridges", "橋梁100橋当たり技術系職員数", "Civil engineers per 100 bridges",
                 "人/100橋", "技術系職員数 ÷ 点検済み橋梁数 × 100（両方が分かる団体だけで計算）。",
                 _both(SRC_USER, SRC_BRIDGES), "capacity", "better"),
    IndicatorDef("engineers_per_100km_road", "道路100km当たり技術系職員数", "Civil engineers per 100 km of road",
                 "人/100km", "技術系職員数 ÷ 道路実延長(km) × 100（両方が分かる団体だけで計算）。",
                 _both(SRC_USER, SRC_ROAD), "capacity", "better"),
    # --- ledger: where a municipality has loaded one ---------------------------------------------------
    IndicatorDef("facilities", "施設数", "Facilities", "施設", "施設台帳に登録された施設の数（分野・種別で絞り込み可）。",
                 SRC_LEDGER, "stock", needs_ledger=True),
    IndicatorDef("facility_length_km", "施設延長", "Facility length", "km",
                 "延長が分かる施設の延長の合計 ÷ 1000（橋長・管路延長など）。n は延長が分かる施設数。",
                 SRC_LEDGER, "stock", needs_ledger=True),
    IndicatorDef("facility_area_m2", "施設面積", "Facility area", "m²",
                 "面積が分かる施設の面積の合計（橋面積など）。n は面積が分かる施設数。", SRC_LEDGER, "stock",
                 needs_ledger=True),
    IndicatorDef("age_50plus_share", "建設後50年以上の施設の割合（現在）", "Share 50+ years old (now)", "%",
                 "基準日の年度に建設後50年以上（年度 − 建設年度 ≥ 50）の施設数 ÷ 建設年度が分かる施設数 × 100。"
                 "建設年度不明の施設は分母から除き、別に数える（国土交通省の集計方法）。",
                 SRC_LEDGER, "ageing", "worse", needs_ledger=True),
    IndicatorDef("age_50plus_share_10y", "建設後50年以上の施設の割合（10年後）", "Share 50+ years old in 10 years", "%",
                 "10年後の年度に建設後50年以上となる施設の割合。現在の施設がそのまま残ると仮定（新設・撤去を見込まない）。",
                 SRC_LEDGER, "ageing", "worse", needs_ledger=True),
    IndicatorDef("age_50plus_share_20y", "建設後50年以上の施設の割合（20年後）", "Share 50+ years old in 20 years", "%",
                 "20年後の年度に建設後50年以上となる施設の割合。現在の施設がそのまま残ると仮定（新設・撤去を見込まない）。",
                 SRC_LEDGER, "ageing", "worse", needs_ledger=True),
    IndicatorDef("unknown_built_year", "建設年度不明の施設数", "Facilities with unknown year built", "施設",
                 "建設年度が不明の施設の数（50年以上の割合の分母から除いたもの）。", SRC_LEDGER, "ageing", "worse",
                 needs_ledger=True),
    IndicatorDef("grade_iii_iv_share", "健全性Ⅲ・Ⅳの施設の割合", "Share graded III/IV", "%",
                 "最新の健全性がⅢ・Ⅳの施設数 ÷ 点検済みの施設数 × 100。同じ日の点検が複数あれば悪い方の区分。",
                 SRC_LEDGER, "condition", "worse", needs_ledger=True),
    IndicatorDef("never_inspected", "未点検の施設数", "Never inspected", "施設",
                 "基準日までに一度も点検の記録がない施設の数。", SRC_LEDGER, "condition", "worse", needs_ledger=True),
    IndicatorDef("inspection_overdue", "点検期限を過ぎた施設数", "Inspection overdue", "施設",
                 "5年に1回の定期点検が義務の施設種別（橋梁・トンネル・横断歩道橋・大型カルバート・門型標識等・シェッド）で、"
                 "最新の点検が基準日の5年より前の施設の数。未点検の施設は「未点検の施設数」に数え、ここには含めない。"
                 "n は5年周期の施設種別の施設数。", SRC_LEDGER, "condition", "worse", needs_ledger=True),
    IndicatorDef("backlog", "措置未着手の施設数", "Measures not started (backlog)", "施設",
                 "最新の健全性がⅢ・Ⅳで、その判定（Ⅲ・Ⅳが続いている最初の点検）の年度以降に"
                 "着手した措置（設計中・工事中・完了）がない施設の数（措置の記録なし、または未着手のみ）。",
                 SRC_LEDGER, "backlog", "worse", needs_ledger=True),
    IndicatorDef("backlog_5y", "判定後5年以上措置未着手の施設数", "Backlog 5+ years after judgment", "施設",
                 "措置未着手の施設のうち、判定日が基準日の5年以上前のもの。", SRC_LEDGER, "backlog", "worse",
                 needs_ledger=True),
    IndicatorDef("backlog_5y_share", "判定後5年以上措置未着手の割合", "Share untouched 5+ years after judgment", "%",
                 "判定後5年以上措置未着手の施設数 ÷ 基準日の5年以上前にⅢ・Ⅳと判定されたことがある施設数 × 100。"
                 f"全国の比較値：地方公共団体管理の橋梁で、措置が必要（Ⅲ・Ⅳ）と判定されてから5年後も未着手の割合は"
                 f"約{NATIONAL_BACKLOG_5Y_SHARE:.0f}%（{NATIONAL_BACKLOG_5Y_SOURCE}）。",
                 SRC_LEDGER, "backlog", "worse", needs_ledger=True),
)

INDICATOR_BY_ID: dict[str, IndicatorDef] = {d.id: d for d in INDICATORS}
REFERENCE_IDS: tuple[str, ...] = tuple(d.id for d in INDICATORS if not d.needs_ledger)
LEDGER_IDS: tuple[str, ...] = tuple(d.id for d in INDICATORS if d.needs_ledger)
