"""The カルテ as PDF and Excel (gunmane.io.reports.karte_pdf, gunmane.io.reports.karte_xlsx, gunmane.io.reports.charts).

Fixtures are built by hand (independent of engine.indicators) from realistic figures: 宇陀市 with a
ledger that contains synthetic facilities, 曽爾村 without a ledger and with unknown values, and the
national karte.  The PDF checks read text, pages and fonts with pypdf (tests/pdf_checks.py), so they need no
poppler-utils.

Excel convention checked here: values are stored as the Karte holds them — 10.9 with unit % (not
0.109), 525 as an integer; unknown values are blank cells with a 「不明」 comment.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart

from gunmane.engine.indicator_types import (
    IndicatorValue,
    Karte,
    PeerGroup,
    Scope,
    ScopeKind,
    Series,
)
from gunmane.io.reports.charts import (
    category_labels,
    distinct_sources,
    format_value,
    grouped_indicators,
    guess_group,
    render_chart_png,
    select_chart_series,
)
from gunmane.io.reports.fonts import FONT_NAME, font_path, register_matplotlib_font
from gunmane.io.reports.karte_pdf import karte_pdf
from gunmane.io.reports.karte_xlsx import INDICATOR_HEADERS, SOURCES_SHEET, SUMMARY_SHEET, karte_xlsx
from tests import pdf_checks

JST = timezone(timedelta(hours=9))
GENERATED = datetime(2025, 11, 27, 9, 30, tzinfo=JST)

# Source strings as long as the real ones (see gunmane/engine/indicators), written out by hand here.
S_POP = "住民基本台帳に基づく人口（総務省）を Ina299/local_gov_vis が集計"
S_AREA = "全国都道府県市区町村別面積調（国土地理院）を Ina299/local_gov_vis が集計"
S_BRIDGE = "道路メンテナンス年報（FY2020–2024 橋梁点検結果）を Ina299/local_gov_vis が集計"
S_FIN = "地方財政状況調査（総務省、Japan Dashboard 地方財政）を Ina299/local_gov_vis が集計"
S_ROAD = "公共施設状況調経年比較表（総務省、道路実延長）を Ina299/local_gov_vis が集計"
S_USER = "利用者入力"
S_LEDGER = "施設台帳（gunmane）"
S_PEER = "gunmane による計算（各指標の出典による）"

FY = [2020, 2021, 2022, 2023, 2024]


def iv(id: str, label: str, value: float | None, unit: str, source: str, n: int | None = 1,
       peer: float | None = None, nat: float | None = None, definition: str = "") -> IndicatorValue:
    return IndicatorValue(id=id, label_ja=label, value=value, unit=unit, n=n, source=source,
                          peer_percentile=peer, national_percentile=nat, definition_ja=definition)


def fy_trend(expenditure: list[float | None], population: list[float | None]) -> Series:
    per_capita = [None if e is None or p is None else e / p for e, p in zip(expenditure, population, strict=True)]
    return Series("fy_trend", "土木費・人口の推移", "円・人・円/人", list(FY),
                  {"土木費（円）": expenditure, "人口（人）": population, "住民1人当たり土木費（円/人）": per_capita},
                  f"{S_FIN}／{S_POP}", x_label="年度", note="単位は系列名の括弧内のとおり。")


def peer_series(indicators: list[IndicatorValue]) -> Series:
    shown = [i for i in indicators if i.peer_percentile is not None or i.national_percentile is not None]
    return Series("peer_percentiles", "類似団体・全国の中での位置", "パーセンタイル", [i.id for i in shown],
                  {"類似団体": [i.peer_percentile for i in shown], "全国": [i.national_percentile for i in shown]},
                  S_PEER, x_label="指標", note="値が分かっている団体のうち、この値以下の団体の割合（%）。")


def reference_indicators(*, pop: float | None, pop_base: float | None, area: float | None,
                         bridges: float | None, iii_iv: float | None, civil: float | None, civil_2020: float | None,
                         road_km: float | None, elderly: float | None, fci: float | None,
                         pct: dict[str, tuple[float | None, float | None]]) -> list[IndicatorValue]:
    """The 17 reference indicators (ids of the public contract, docs/indicators.md) of one municipality."""
    def div(a: float | None, b: float | None, k: float = 1.0) -> float | None:
        return None if a is None or b is None or b == 0 else a / b * k

    rows = [
        ("population", "人口", pop, "人", S_POP),
        ("population_change_pct", "人口増減率（4年間）", None if pop_base is None else div(pop, pop_base, 100) - 100,
         "%", S_POP),
        ("area_km2", "面積", area, "km²", S_AREA),
        ("bridges_inspected", "点検済み橋梁数", bridges, "橋", S_BRIDGE),
        ("bridges_iii_iv", "判定区分Ⅲ・Ⅳの橋梁数", iii_iv, "橋", S_BRIDGE),
        ("bridges_iii_iv_share", "判定区分Ⅲ・Ⅳの橋梁の割合", div(iii_iv, bridges, 100), "%", S_BRIDGE),
        ("civil_expenditure", "土木費", civil, "円", S_FIN),
        ("civil_expenditure_per_capita", "住民1人当たり土木費", div(civil, pop), "円/人", f"{S_FIN}／{S_POP}"),
        ("civil_expenditure_per_bridge", "橋梁1橋当たり土木費", div(civil, bridges), "円/橋", f"{S_FIN}／{S_BRIDGE}"),
        ("civil_expenditure_change_pct", "土木費の増減率（FY2020比）",
         None if civil_2020 is None or civil is None else div(civil, civil_2020, 100) - 100, "%", S_FIN),
        ("road_length_km", "道路実延長", road_km, "km", S_ROAD),
        ("road_length_per_capita", "住民1人当たり道路延長", div(road_km, pop, 1000), "m/人", f"{S_ROAD}／{S_POP}"),
        ("elderly_ratio", "高齢化率", elderly, "%", S_POP),
        ("fiscal_capability_index", "財政力指数", fci, "指数", S_FIN),
        ("civil_engineers", "技術系職員数（土木）", None, "人", S_USER),
        ("engineers_per_100_bridges", "橋梁100橋当たり技術系職員数", None, "人/100橋", f"{S_USER}／{S_BRIDGE}"),
        ("engineers_per_100km_road", "道路100km当たり技術系職員数", None, "人/100km", f"{S_USER}／{S_ROAD}"),
    ]
    out = []
    for id_, label, value, unit, source in rows:
        peer, nat = pct.get(id_, (None, None))
        out.append(iv(id_, label, value, unit, source, n=0 if value is None else 1, peer=peer, nat=nat,
                      definition=DEFINITIONS.get(id_, "")))
    return out


DEFINITIONS = {
    "population": "当該年度の住民基本台帳人口（翌年1月1日現在の版）。",
    "population_change_pct": "（当該年度の人口 ÷ 4年前の年度の人口 − 1）× 100。4年前の値がない年度は不明。",
    "area_km2": "市区町村の面積（最新版、各年度共通）。",
    "bridges_inspected": "FY2020–2024 の1巡回（5年）に点検結果が公表された、その団体が管理する橋梁の数（橋ごとに最新の点検）。",
    "bridges_iii_iv": "点検済み橋梁のうち、最新の判定区分がⅢ（早期措置段階）またはⅣ（緊急措置段階）の橋梁数。",
    "bridges_iii_iv_share": "判定区分Ⅲ・Ⅳの橋梁数 ÷ 点検済み橋梁数 × 100（両方が分かる団体だけで計算）。",
    "civil_expenditure": "普通会計決算の目的別歳出「土木費」（款の合計。道路橋りょう費のほか都市計画費・住宅費等を含む）。",
    "civil_expenditure_per_capita": "土木費 ÷ 人口（同じ年度）。",
    "civil_expenditure_per_bridge": "土木費 ÷ 点検済み橋梁数。規模の目安であり橋梁の維持管理費ではない。",
    "civil_expenditure_change_pct": "（当該年度の土木費 ÷ FY2020 の土木費 − 1）× 100（名目）。",
    "road_length_km": "市区町村道の実延長（公共施設状況調、前年度末現在 ≒ 当該年度当初）。",
    "road_length_per_capita": "道路実延長(m) ÷ 人口。住民1人が支える道路の長さ（維持の負担の目安）。",
    "elderly_ratio": "65歳以上人口の割合 × 100。",
    "fiscal_capability_index": "基準財政収入額 ÷ 基準財政需要額 の3年平均。",
    "civil_engineers": "土木部門の技術系職員数。公開データがないため利用者が入力する（未入力は不明）。",
    "engineers_per_100_bridges": "技術系職員数 ÷ 点検済み橋梁数 × 100（両方が分かる団体だけで計算）。",
    "engineers_per_100km_road": "技術系職員数 ÷ 道路実延長(km) × 100（両方が分かる団体だけで計算）。",
    "facilities": "施設台帳に登録された施設の数（分野・種別で絞り込み可）。",
    "facility_length_km": "延長が分かる施設の延長の合計 ÷ 1000（橋長・管路延長など）。n は延長が分かる施設数。",
    "facility_area_m2": "面積が分かる施設の面積の合計（橋面積など）。n は面積が分かる施設数。",
    "age_50plus_share": "建設後50年以上の施設数 ÷ 建設年度が分かる施設数 × 100。建設年度不明の施設は分母から除く。",
    "age_50plus_share_10y": "10年後の年度に建設後50年以上となる施設の割合。現在の施設がそのまま残ると仮定。",
    "age_50plus_share_20y": "20年後の年度に建設後50年以上となる施設の割合。現在の施設がそのまま残ると仮定。",
    "unknown_built_year": "建設年度が不明の施設の数（50年以上の割合の分母から除いたもの）。",
    "grade_iii_iv_share": "最新の健全性がⅢ・Ⅳの施設数 ÷ 点検済みの施設数 × 100。",
    "never_inspected": "基準日までに一度も点検の記録がない施設の数。",
    "inspection_overdue": "5年に1回の定期点検が義務の施設種別で、最新の点検が基準日の5年より前の施設の数。",
    "backlog": "最新の健全性がⅢ・Ⅳで、判定の年度以降に着手した措置（設計中・工事中・完了）がない施設の数。",
    "backlog_5y": "措置未着手の施設のうち、判定日が基準日の5年以上前のもの。",
    "backlog_5y_share": "判定後5年以上措置未着手の施設数 ÷ 基準日の5年以上前にⅢ・Ⅳと判定された施設数 × 100。",
}


ASSUMPTIONS = [
    "施設の年齢は年度で数えます（年齢 = 年度 − 建設年度）。現在は基準日 2025-03-31 の属する2024年度、10年後・20年後は"
    "それぞれ2034年度・2044年度です。年齢の分布は10年ごとの区分です。",
    "建設年度が不明の施設は、建設後50年以上の割合の分母から除き、「建設年度不明」として別に数えます（国土交通省の集計方法と同じ）。",
    "将来の割合（10年後・20年後・2050年までの推移）は、現在の施設がそのまま残ると仮定します（新設・撤去・更新を見込みません）。",
    "最新の健全性は基準日までの点検のうち最も新しいものです。同じ日に複数の点検があれば悪い方の区分を採ります。",
    "点検期限：5年に1回の定期点検が義務の施設種別（橋梁・トンネル・横断歩道橋・大型カルバート・門型標識等・シェッド）で、"
    "最新の点検が基準日の5年より前なら期限切れとします。未点検の施設は別に数えます。",
    "措置未着手：最新の健全性がⅢ・Ⅳで、判定の年度以降に設計中・工事中・完了の措置がないもの。",
    "判定後5年以上措置未着手の割合の分母は、基準日の5年以上前にⅢ・Ⅳと判定されたことがある施設です（全国の比較値：約17%）。",
    "参照データの値は、不明（空欄）をゼロとせず、分かっている団体だけで合計し、件数 n を示します。",
    "橋梁数・判定区分Ⅲ・Ⅳの橋梁数は道路メンテナンス年報の FY2020–2024 の1巡回分で、どの年度でも同じ値です。",
    "類似団体は、区分（村・町・市・政令市・特別区）と人口階層が同じ団体です。パーセンタイルは、類似団体（または全国）の値が"
    "分かっている団体のうち、この値以下の団体の割合です。",
    "技術系職員数は利用者の入力値です（公開データがないため、未入力の団体は不明）。",
]


def uda() -> Karte:
    """宇陀市 (292125): ledger loaded, with synthetic facilities (the demo region)."""
    pct = {"population": (50.4, 62.1), "population_change_pct": (12.0, 21.7), "area_km2": (81.0, 86.2),
           "bridges_inspected": (66.1, 62.0), "bridges_iii_iv": (77.2, 72.5), "bridges_iii_iv_share": (74.0, 79.3),
           "civil_expenditure": (40.2, 52.8), "civil_expenditure_per_capita": (63.0, 58.1),
           "civil_expenditure_per_bridge": (22.8, 30.0), "civil_expenditure_change_pct": (71.7, 69.4),
           "road_length_km": (70.1, 74.0), "road_length_per_capita": (83.5, 80.2), "elderly_ratio": (88.2, 85.0),
           "fiscal_capability_index": (31.5, 35.4)}
    indicators = reference_indicators(pop=26_694, pop_base=29_016, area=247.5, bridges=525, iii_iv=57,
                                      civil=1_449_575_000, civil_2020=1_320_000_000, road_km=912.6, elderly=43.5,
                                      fci=0.34, pct=pct)
    ledger = [
        ("facilities", "施設数", 612, "施設", 612, (75.0, 75.0)),
        ("facility_length_km", "施設延長", 9.83, "km", 498, (75.0, 75.0)),
        ("facility_area_m2", "施設面積", 58_240, "m²", 470, (75.0, 75.0)),
        ("age_50plus_share", "建設後50年以上の施設の割合（現在）", 193 / 571 * 100, "%", 571, (50.0, 50.0)),
        ("age_50plus_share_10y", "建設後50年以上の施設の割合（10年後）", 338 / 571 * 100, "%", 571, (50.0, 50.0)),
        ("age_50plus_share_20y", "建設後50年以上の施設の割合（20年後）", 457 / 571 * 100, "%", 571, (75.0, 75.0)),
        ("unknown_built_year", "建設年度不明の施設数", 41, "施設", 612, (100.0, 100.0)),
        ("grade_iii_iv_share", "健全性Ⅲ・Ⅳの施設の割合", 64 / 600 * 100, "%", 600, (75.0, 75.0)),
        ("never_inspected", "未点検の施設数", 12, "施設", 612, (50.0, 50.0)),
        ("inspection_overdue", "点検期限を過ぎた施設数", 18, "施設", 525, (75.0, 75.0)),
        ("backlog", "措置未着手の施設数", 23, "施設", 64, (75.0, 75.0)),
        ("backlog_5y", "判定後5年以上措置未着手の施設数", 9, "施設", 23, (100.0, 100.0)),
        ("backlog_5y_share", "判定後5年以上措置未着手の割合", 9 / 31 * 100, "%", 31, (100.0, 100.0)),
    ]
    indicators += [iv(i, label, v, unit, S_LEDGER, n=n, peer=p[0], nat=p[1], definition=DEFINITIONS[i])
                   for i, label, v, unit, n, p in ledger]
    age_bins = [f"{a}〜{a + 9}年" for a in range(0, 100, 10)] + ["100年以上", "不明"]
    series = [
        Series("age_distribution", "建設後年数の分布", "施設", age_bins,
               {"施設数": [13, 33, 68, 119, 145, 124, 51, 18, 0, 0, 0, 41]}, S_LEDGER,
               x_label="建設後年数（2024年度時点）", note="建設年度不明の施設は「不明」に数えます。"),
        Series("ageing_projection", "建設後50年以上の施設の割合の推移", "%", list(range(2024, 2051)),
               {"建設後50年以上の割合": [round(33.8 + (87.4 - 33.8) * (1 - (1 - t / 26) ** 1.6), 1)
                                         for t in range(27)]}, S_LEDGER, x_label="年度",
               note="建設年度が分かる施設 571 件について、現在の施設がそのまま残ると仮定した推移です。"),
        Series("grade_distribution", "健全性の分布（最新の判定）", "施設", ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "未点検"],
               {"施設数": [228, 308, 61, 3, 12]}, S_LEDGER, x_label="健全性"),
        Series("backlog_ageing", "措置未着手の施設の判定後年数", "施設",
               ["1年未満", "1年", "2年", "3年", "4年", "5〜9年", "10年以上", "判定日不明"],
               {"施設数": [4, 3, 2, 3, 2, 7, 2, None]}, S_LEDGER, x_label="判定からの経過年数"),
        fy_trend([1_320_000_000, 1_510_000_000, 1_380_000_000, 1_410_000_000, 1_449_575_000],
                 [29_016, 28_449, 27_863, 27_270, 26_694]),
        peer_series(indicators),
        Series("sector_stock", "分野・施設種別ごとの施設数", "施設", ["道路／橋梁", "公園／遊具", "公園／公園施設"],
               {"施設数": [525.0, 31.0, 56.0]}, S_LEDGER, x_label="分野・施設種別"),
    ]
    karte = Karte(
        scope=Scope(ScopeKind.MUNICIPALITY, "292125", "宇陀市"), fiscal_year=2024, as_of=date(2025, 3, 31),
        indicators=indicators, series=series,
        peer_group=PeerGroup("city:20000-30000", "市・人口1万〜3万人", tuple(f"{i:06d}" for i in range(254))),
        synthetic=True, has_ledger=True,
        assumptions=ASSUMPTIONS + ["この集計には合成データ（デモ用の架空の施設）が含まれます。実在の施設の状態ではありません。"],
    )
    karte.notes = ["台帳の2施設は団体コードが不明のため集計から除きました（行 118、241）。"]
    return karte


def soni() -> Karte:
    """曽爾村 (293857): no ledger, only published statistics; 土木費 of FY2024 unknown."""
    pct = {"population": (47.0, 3.1), "population_change_pct": (30.2, 9.9), "area_km2": (39.0, 22.4),
           "bridges_inspected": (58.0, 21.3), "bridges_iii_iv": (35.3, 18.0), "bridges_iii_iv_share": (44.6, 39.0),
           "road_length_km": (33.1, 12.0), "road_length_per_capita": (41.0, 92.0), "elderly_ratio": (72.0, 97.1),
           "fiscal_capability_index": (41.7, 4.2)}
    indicators = reference_indicators(pop=1_331, pop_base=1_452, area=47.76, bridges=46, iii_iv=3, civil=None,
                                      civil_2020=402_000_000, road_km=61.3, elderly=52.3, fci=0.13, pct=pct)
    series = [
        fy_trend([402_000_000, 388_000_000, 415_000_000, 397_000_000, None], [1_452, 1_420, 1_391, 1_358, 1_331]),
        peer_series(indicators),
        Series("sector_stock", "分野・施設種別ごとの施設数", "施設", [], {"施設数": []}, S_LEDGER,
               x_label="分野・施設種別", note="施設台帳が読み込まれていません。"),
    ]
    return Karte(
        scope=Scope(ScopeKind.MUNICIPALITY, "293857", "曽爾村"), fiscal_year=2024, as_of=date(2025, 3, 31),
        indicators=indicators, series=series,
        peer_group=PeerGroup("village:<5000", "村・人口5千人未満", tuple(f"{i:06d}" for i in range(139))),
        synthetic=False, has_ledger=False, assumptions=ASSUMPTIONS,
    )


def national() -> Karte:
    indicators = [
        iv("population", "人口（市区町村計）", 124_330_690, "人", S_POP, n=1_741),
        iv("bridges_inspected", "点検済み橋梁数（市区町村管理）", 476_198, "橋", S_BRIDGE, n=1_736),
        iv("bridges_iii_iv", "判定区分Ⅲ・Ⅳの橋梁数（市区町村管理）", 35_714, "橋", S_BRIDGE, n=1_736),
        iv("bridges_iii_iv_share", "判定区分Ⅲ・Ⅳの橋梁の割合（市区町村管理）", 7.5, "%", S_BRIDGE, n=1_736),
        iv("civil_expenditure", "土木費（市区町村計）", 6_012_345_000_000, "円", S_FIN, n=1_741),
        iv("civil_expenditure_per_capita", "住民1人当たり土木費（市区町村計）", 48_358, "円/人", S_FIN, n=1_741),
        iv("fiscal_capability_index", "財政力指数（市区町村の単純平均）", 0.5, "指数", S_FIN, n=1_741),
        iv("civil_engineers", "技術系職員数（土木）（市区町村計）", None, "人", S_USER, n=0),
    ]
    series = [
        Series("grade_distribution", "健全性の分布（市区町村管理）", "施設", ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"],
               {"橋梁": [196_032, 244_452, 35_221, 493], "トンネル": [1_210, 3_380, 1_612, 12]}, S_BRIDGE,
               x_label="判定区分"),
        fy_trend([5_905_000_000_000, 6_204_000_000_000, 6_101_000_000_000, 5_987_000_000_000, 6_012_345_000_000],
                 [126_654_244, 126_226_568, 125_927_902, 125_416_877, 124_330_690]),
    ]
    return Karte(
        scope=Scope(ScopeKind.NATIONAL, "national", "全国", tuple(f"{i:06d}" for i in range(1_741))),
        fiscal_year=2024, as_of=date(2025, 3, 31), indicators=indicators, series=series,
        assumptions=["参照データの合計は市区町村の行だけを足したものです。橋梁の値は市区町村管理の橋梁です。"],
    )


KARTEN = {"uda": uda, "soni": soni, "national": national}


# --------------------------------------------------------------------------- helpers


def _pdf(karte: Karte, tmp_path: Path, name: str = "karte.pdf") -> Path:
    buf = io.BytesIO()
    karte_pdf(karte, buf, generated_at=GENERATED)
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    return path


def _text(pdf: Path, page: int | None = None, *, raw: bool = False) -> str:
    """The text of the PDF (or one page) by pypdf (no poppler needed): laid out as on the page, or with ``raw``
    in content-stream order (the rotated watermark whole)."""
    pages = pdf_checks.reader(pdf.read_bytes()).pages
    chosen = pages if page is None else [pages[page - 1]]
    return "\n".join(p.extract_text(extraction_mode="plain" if raw else "layout") or "" for p in chosen)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pages(pdf: Path) -> int:
    return len(pdf_checks.reader(pdf.read_bytes()).pages)


def _xlsx(karte: Karte):  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    karte_xlsx(karte, buf)
    buf.seek(0)
    return load_workbook(buf)


def _indicator_rows(ws) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    header_row = next(r for r in range(1, 20) if ws.cell(r, 1).value == "指標ID")
    headers = [c.value for c in ws[header_row]]
    rows = {}
    for r in range(header_row + 1, ws.max_row + 1):
        if ws.cell(r, 1).value:
            rows[ws.cell(r, 1).value] = {h: ws.cell(r, k + 1) for k, h in enumerate(headers)}
    return rows


# --------------------------------------------------------------------------- fonts and shared helpers

EXPECTED_GROUPS = {
    "stock": ["bridges_inspected", "road_length_km", "road_length_per_capita", "facilities", "facility_length_km",
              "facility_area_m2"],
    "ageing": ["age_50plus_share", "age_50plus_share_10y", "age_50plus_share_20y", "unknown_built_year"],
    "condition": ["bridges_iii_iv", "bridges_iii_iv_share", "grade_iii_iv_share", "never_inspected",
                  "inspection_overdue"],
    "backlog": ["backlog", "backlog_5y", "backlog_5y_share"],
    "capacity": ["civil_expenditure", "civil_expenditure_per_capita", "civil_expenditure_per_bridge",
                 "civil_expenditure_change_pct", "civil_engineers", "engineers_per_100_bridges",
                 "engineers_per_100km_road"],
    "reference": ["population", "population_change_pct", "area_km2", "elderly_ratio", "fiscal_capability_index"],
}


def test_shipped_font_is_found_and_registered_with_matplotlib() -> None:
    assert font_path().name == "ipaexg.ttf" and font_path().stat().st_size > 1_000_000
    assert register_matplotlib_font() == FONT_NAME


def test_values_are_formatted_with_units_and_unknown_is_never_zero() -> None:
    assert format_value(1_449_575_000, "円") == "1,449,575,000円"
    assert format_value(1_449_575_000 / 26_694, "円/人") == "54,303円/人"
    assert format_value(57 / 525 * 100, "%") == "10.9%"
    assert format_value(0.109, "割合") == "10.9%"
    assert format_value(247.5, "km²") == "247.5km²"
    assert format_value(0.34, "指数") == "0.34"
    assert format_value(-8.0, "%") == "−8.0%"
    assert format_value(0, "橋") == "0橋"  # a real zero stays 0
    assert format_value(None, "円") == "不明"
    assert format_value(float("nan"), "人") == "不明"


def test_indicators_are_grouped_by_id_and_label_without_the_engine() -> None:
    k = uda()
    guessed: dict[str, list[str]] = {}
    for ind in k.indicators:
        guessed.setdefault(guess_group(ind), []).append(ind.id)
    assert {g: sorted(ids) for g, ids in guessed.items()} == {g: sorted(ids) for g, ids in EXPECTED_GROUPS.items()}
    explicit = {i.id: g for g, ids in EXPECTED_GROUPS.items() for i in k.indicators if i.id in ids}
    order = [g for g, _ in grouped_indicators(k, explicit)]
    assert order == ["stock", "ageing", "condition", "backlog", "capacity", "reference"]
    # an explicit map wins over everything else
    stock = dict(grouped_indicators(k, {**explicit, "population": "stock"}))["stock"]
    assert [i.id for i in stock][:2] == ["population", "bridges_inspected"]  # the karte's order inside a group


def test_sources_are_split_and_distinct_and_charts_prefer_ledger_series() -> None:
    k = uda()
    assert distinct_sources(k) == [S_POP, S_AREA, S_BRIDGE, S_FIN, S_ROAD, S_USER, S_LEDGER, S_PEER]
    assert [s.id for s in select_chart_series(k)] == ["age_distribution", "ageing_projection",
                                                      "grade_distribution", "fy_trend"]
    assert [s.id for s in select_chart_series(soni())] == ["fy_trend", "peer_percentiles"]  # empty series skipped
    peer = next(s for s in k.series if s.id == "peer_percentiles")
    assert category_labels(peer, k)[:3] == ["人口", "人口増減率（4年間）", "面積"]


@pytest.mark.parametrize("name", list(KARTEN))
def test_every_series_renders_as_png(name: str) -> None:
    k = KARTEN[name]()
    for series in select_chart_series(k, limit=10):
        png = render_chart_png(series, 190, 150, dpi=72, categories=category_labels(series, k))
        assert png.startswith(b"\x89PNG")


# --------------------------------------------------------------------------- PDF


def test_pdf_of_a_municipality_with_ledger(tmp_path: Path) -> None:
    pdf = _pdf(uda(), tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert _pages(pdf) == 2  # the long 前提 go to page 2
    page1 = _flat(_text(pdf, 1))
    assert page1.startswith("宇陀市インフラ現状カルテ（2024年度）")
    assert "市区町村（団体コード292125）" in page1 and "基準日2025年3月31日" in page1
    assert "類似団体:市・人口1万〜3万人（254団体）" in page1 and "施設台帳:あり" in page1
    # indicator labels and values with thousands separators and units
    assert "判定区分Ⅲ・Ⅳの橋梁数[3]57橋" in page1 and "判定区分Ⅲ・Ⅳの橋梁の割合[3]10.9%" in page1
    assert "1,449,575,000円" in page1 and "54,303円/人" in page1 and "26,694人" in page1
    # pypdf lays the diagonal watermark's characters out among the cells (pdftotext elsewhere): read around it
    assert "−8.0%" in page1 and "財政力指数[4]0.341" in page1.replace("合成データ（架空の施設を含む）", "")
    assert "技術系職員数（土木）[6]不明0" in page1  # unknown value, computed from 0 municipalities
    for heading in ("ストック（施設量）", "老朽化", "健全性（点検結果）", "修繕の未着手（バックログ）", "体制・財政",
                    "参考（団体の概況）"):
        assert heading in page1
    # charts: titles and one source line each
    for title in ("建設後年数の分布", "建設後50年以上の施設の割合の推移", "健全性の分布（最新の判定）",
                  "土木費・人口の推移"):
        assert title in page1
    assert page1.count("出典:") == 4
    # the 出典 block under the table: every distinct source, numbered
    for k, source in enumerate(distinct_sources(uda()), start=1):
        assert f"[{k}]{_flat(source)}" in page1
    # synthetic: notice line and diagonal watermark
    assert "【合成データ】このカルテには架空の施設（デモ用の合成データ）が含まれます。" in page1
    assert "合成データ（架空の施設を含む）" in _flat(_text(pdf, 1, raw=True))
    assert "作成日時2025年11月27日09:30（JST）" in page1 and "1/2ページ" in page1 and "gunmane" in page1

    page2 = _flat(_text(pdf, 2))
    assert "宇陀市インフラ現状カルテ（2024年度）（続き）" in page2
    assert "前提" in page2 and _flat(ASSUMPTIONS[0]) in page2
    assert "データの注記" in page2 and "団体コードが不明のため集計から除きました" in page2
    assert "指標の定義" in page2 and "土木費÷人口（同じ年度）。" in page2
    assert "2/2ページ" in page2
    assert "合成データ（架空の施設を含む）" in _flat(_text(pdf, 2, raw=True))


def test_pdf_embeds_the_shipped_japanese_font(tmp_path: Path) -> None:
    pdf = _pdf(uda(), tmp_path)
    fonts = pdf_checks.fonts(pdf.read_bytes())
    assert fonts == {"IPAexGothic": True}, fonts  # no other font is used, and it is embedded
    names = {str(f.get_object().get("/BaseFont")) for p in pdf_checks.reader(pdf.read_bytes()).pages
             for f in p["/Resources"].get_object()["/Font"].get_object().values()}
    assert names and all(re.fullmatch(r"/[A-Z]{6}\+IPAexGothic", n) for n in names), names  # a subset


def test_pdf_without_ledger_fits_one_page_with_unknowns(tmp_path: Path) -> None:
    pdf = _pdf(soni(), tmp_path)
    assert _pages(pdf) == 1
    flat = _flat(_text(pdf))
    assert "曽爾村インフラ現状カルテ（2024年度）" in flat and "施設台帳:なし（公表統計のみ）" in flat
    assert "土木費[4]不明" in flat and "住民1人当たり土木費[4,1]不明" in flat
    assert "0円" not in flat  # an unknown 土木費 is never printed as 0
    assert "合成データ" not in flat
    assert "土木費・人口の推移" in flat and "類似団体・全国の中での位置" in flat
    assert "不明の値は線を途切れさせています" in flat  # the FY2024 土木費 is missing from the trend
    assert "健全性の分布" not in flat and "分野・施設種別ごとの施設数" not in flat
    assert "前提" in flat and _flat(ASSUMPTIONS[-1]) in flat  # everything on one page
    assert "1/1ページ" in flat


def test_pdf_of_the_nation_has_no_percentile_columns(tmp_path: Path) -> None:
    pdf = _pdf(national(), tmp_path)
    assert _pages(pdf) == 1
    flat = _flat(_text(pdf))
    assert "全国インフラ現状カルテ（2024年度）" in flat and "全国（1,741団体）" in flat
    assert "6,012,345,000,000円1,741" in flat and "124,330,690人1,741" in flat
    assert "類似団体内の位置" not in flat and "類似団体:" not in flat
    assert "健全性の分布（市区町村管理）" in flat


def test_pdf_with_many_indicators_stays_within_two_pages(tmp_path: Path) -> None:
    k = uda()
    k.indicators = k.indicators + [
        iv(f"extra_{j}", f"追加の参考指標 その{j}（長い名称の折り返しを確かめるための指標）", j * 1000.5, "円",
           S_FIN, peer=j % 100, nat=(j * 7) % 100) for j in range(20)]
    pdf = _pdf(k, tmp_path)
    assert _pages(pdf) == 2
    flat = _flat(_text(pdf))
    assert "追加の参考指標その19" in flat and "（続き）" in flat and "2/2ページ" in flat
    assert _flat(_text(pdf, raw=True)).count("合成データ（架空の施設を含む）") == 2  # the watermark on every page


def test_pdf_defaults_the_timestamp_and_writes_to_any_binary_stream(tmp_path: Path) -> None:
    path = tmp_path / "k.pdf"
    with path.open("wb") as fh:
        karte_pdf(national(), fh)
    assert path.read_bytes().startswith(b"%PDF") and path.stat().st_size > 10_000
    assert f"作成日時{datetime.now().year}年" in _flat(_text(path))


# --------------------------------------------------------------------------- Excel


def test_xlsx_indicator_table_keeps_numbers_and_blanks_for_unknown() -> None:
    wb = _xlsx(uda())
    assert wb.sheetnames[0] == SUMMARY_SHEET and wb.sheetnames[-1] == SOURCES_SHEET
    ws = wb[SUMMARY_SHEET]
    header_row = next(r for r in range(1, 20) if ws.cell(r, 1).value == "指標ID")
    assert tuple(c.value for c in ws[header_row]) == INDICATOR_HEADERS
    assert INDICATOR_HEADERS[:9] == ("指標ID", "指標", "値", "単位", "件数(n)", "類似団体内の位置(%)",
                                     "全国での位置(%)", "定義", "出典")
    assert ws.freeze_panes == f"C{header_row + 1}"
    rows = _indicator_rows(ws)
    assert len(rows) == 30
    assert rows["bridges_inspected"]["値"].value == 525
    assert rows["bridges_inspected"]["値"].number_format == "#,##0"
    assert rows["bridges_iii_iv"]["値"].value == 57
    share = rows["bridges_iii_iv_share"]  # stored as the Karte holds it: percent, not a fraction
    assert share["値"].value == pytest.approx(10.857, abs=1e-3) and share["単位"].value == "%"
    assert share["値"].number_format == "#,##0.0"
    assert share["類似団体内の位置(%)"].value == pytest.approx(74.0)
    assert share["全国での位置(%)"].value == pytest.approx(79.3)
    assert rows["civil_expenditure"]["値"].value == 1_449_575_000
    assert rows["civil_expenditure"]["値"].number_format == "#,##0"
    assert rows["civil_expenditure_per_capita"]["値"].value == pytest.approx(54_303.40, abs=0.01)
    assert rows["civil_expenditure_per_capita"]["値"].number_format == "#,##0"
    assert rows["population"]["値"].value == 26_694 and rows["population"]["件数(n)"].value == 1
    assert rows["civil_expenditure"]["出典"].value == S_FIN
    assert rows["civil_expenditure"]["定義"].value.startswith("普通会計決算")
    unknown = rows["civil_engineers"]
    assert unknown["値"].value is None
    assert unknown["値"].comment is not None and "不明" in unknown["値"].comment.text
    assert "不明" in unknown["備考"].value and "0 ではありません" in unknown["備考"].value
    assert unknown["類似団体内の位置(%)"].value is None and unknown["件数(n)"].value == 0
    ids = list(rows)
    assert ids.index("facilities") < ids.index("age_50plus_share") < ids.index("backlog") < ids.index("population")
    assert rows["backlog"]["分類"].value == "修繕の未着手（バックログ）"


def test_xlsx_synthetic_notice_on_every_sheet() -> None:
    wb = _xlsx(uda())
    for ws in wb.worksheets:
        assert ws["A1"].value == "【合成データ】このカルテには架空の施設（デモ用の合成データ）が含まれます。"
        assert ws["A1"].font.color.rgb.endswith("D20000")
    assert wb[SUMMARY_SHEET]["A2"].value == "宇陀市 インフラ現状カルテ（2024年度）"
    soni_wb = _xlsx(soni())
    assert soni_wb[SUMMARY_SHEET]["A1"].value == "曽爾村 インフラ現状カルテ（2024年度）"
    assert not any("合成データ" in str(c.value) for ws in soni_wb.worksheets for row in ws.iter_rows() for c in row)


def _fill(point) -> str:  # type: ignore[no-untyped-def]
    colour = point.graphicalProperties.solidFill.srgbClr
    return str(getattr(colour, "val", colour))


def _header_row(ws, first: str) -> int:  # type: ignore[no-untyped-def]
    return next(r for r in range(1, 20) if ws.cell(r, 1).value == first)


def test_xlsx_series_sheets_carry_native_charts_over_their_cells() -> None:
    k = uda()
    wb = _xlsx(k)
    assert wb.sheetnames[1:-1] == [s.label_ja for s in k.series]
    expected = {"建設後年数の分布": BarChart, "建設後50年以上の施設の割合の推移": LineChart,
                "健全性の分布（最新の判定）": BarChart, "措置未着手の施設の判定後年数": BarChart,
                "土木費・人口の推移": LineChart, "類似団体・全国の中での位置": BarChart,
                "分野・施設種別ごとの施設数": BarChart}
    for name, chart_type in expected.items():
        ws = wb[name]
        assert ws._charts, name
        assert all(isinstance(c, chart_type) for c in ws._charts), name
        assert ws["B3"].value in {s.id for s in k.series}  # 系列ID

    age = wb["建設後年数の分布"]
    h = _header_row(age, "建設後年数（2024年度時点）")
    assert [c.value for c in age[h]][:2] == ["建設後年数（2024年度時点）", "施設数"]
    assert age.cell(h + 1, 1).value == "0〜9年" and age.cell(h + 1, 2).value == 13
    assert age.cell(h + 12, 1).value == "不明" and age.cell(h + 12, 2).value == 41
    assert age.freeze_panes == f"B{h + 1}"
    chart = age._charts[0]
    assert chart.type == "col" and len(chart.series) == 1
    assert chart.series[0].val.numRef.f == f"'建設後年数の分布'!$B${h + 1}:$B${h + 12}"
    categories = chart.series[0].cat.numRef or chart.series[0].cat.strRef
    assert categories.f == f"'建設後年数の分布'!$A${h + 1}:$A${h + 12}"
    # the 不明 bar is grey, as in the PDF
    assert [_fill(p) for p in chart.series[0].dPt][-1] == "B3B3B3"

    grade = wb["健全性の分布（最新の判定）"]._charts[0]
    assert [_fill(p) for p in grade.series[0].dPt] == [
        "259D63", "E8B100", "FB5B01", "D20000", "B3B3B3"]
    backlog = wb["措置未着手の施設の判定後年数"]
    h = _header_row(backlog, "判定からの経過年数")
    assert backlog.cell(h + 8, 1).value == "判定日不明" and backlog.cell(h + 8, 2).value is None
    assert "不明" in backlog.cell(h + 8, 2).comment.text

    peer = wb["類似団体・全国の中での位置"]
    assert peer._charts[0].type == "bar" and len(peer._charts[0].series) == 2
    h = _header_row(peer, "指標")
    assert [c.value for c in peer[h]][:4] == ["指標", "類似団体", "全国", "指標ID"]
    assert peer.cell(h + 1, 1).value == "人口" and peer.cell(h + 1, 4).value == "population"
    assert peer.cell(h + 1, 2).value == pytest.approx(50.4)
    # 円 and 人 on one axis would flatten one line: one line chart per named series
    assert len(wb["土木費・人口の推移"]._charts) == 3


def test_xlsx_without_ledger_has_blank_cells_and_an_empty_series_sheet() -> None:
    wb = _xlsx(soni())
    assert wb.sheetnames == [SUMMARY_SHEET, "土木費・人口の推移", "類似団体・全国の中での位置", "分野・施設種別ごとの施設数",
                             SOURCES_SHEET]
    trend = wb["土木費・人口の推移"]
    h = _header_row(trend, "年度")
    assert [c.value for c in trend[h]] == ["年度", "土木費（円）", "人口（人）", "住民1人当たり土木費（円/人）"]
    assert trend.cell(h + 5, 1).value == 2024
    assert trend.cell(h + 5, 2).value is None and "不明" in trend.cell(h + 5, 2).comment.text
    assert trend.cell(h + 5, 3).value == 1_331
    assert trend.cell(h + 4, 2).value == 397_000_000
    empty = wb["分野・施設種別ごとの施設数"]
    assert not empty._charts
    assert any(c.value == "（データがありません）" for row in empty.iter_rows() for c in row)
    rows = _indicator_rows(wb[SUMMARY_SHEET])
    assert rows["civil_expenditure"]["値"].value is None
    assert rows["bridges_iii_iv_share"]["値"].value == pytest.approx(3 / 46 * 100)

    nat = _xlsx(national())
    rows = _indicator_rows(nat[SUMMARY_SHEET])
    assert rows["civil_expenditure"]["値"].value == 6_012_345_000_000
    assert rows["population"]["類似団体内の位置(%)"].value is None
    assert rows["fiscal_capability_index"]["値"].number_format == "#,##0.00"
    grade = nat["健全性の分布（市区町村管理）"]._charts[0]
    assert grade.grouping == "stacked" and len(grade.series) == 2


def test_xlsx_sources_sheet_lists_assumptions_notes_and_every_source() -> None:
    k = uda()
    ws = _xlsx(k)[SOURCES_SHEET]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    for source in distinct_sources(k):
        assert source in texts
    for assumption in k.assumptions:
        assert assumption in texts
    assert "台帳の2施設は団体コードが不明のため集計から除きました（行 118、241）。" in texts
    assert any("空欄は不明" in t for t in texts)
    fin_users = texts[texts.index(S_FIN) + 1]
    assert "土木費" in fin_users and "系列「土木費・人口の推移」" in fin_users
