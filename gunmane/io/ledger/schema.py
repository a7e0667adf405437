"""The columns of the three ledger files (施設・点検・措置), declared as data.

Each column has the canonical Japanese header (what the template and exports write), the English key
(JSON exports, code), the spellings found in real municipal files, how its value is parsed, and the
input rule shown in the template and in error messages.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache


class LedgerKind(StrEnum):
    FACILITIES = "facilities"
    INSPECTIONS = "inspections"
    MEASURES = "measures"


LEDGER_KIND_JA = {LedgerKind.FACILITIES: "施設", LedgerKind.INSPECTIONS: "点検", LedgerKind.MEASURES: "措置"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    parser: str  # lg_code | id | text | year | date | grade | measured | number | choice | bool | sector | facility_type
    aliases: tuple[str, ...] = ()
    required: bool = False
    rule_ja: str = ""
    example: str = ""
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 200
    choices: dict[str, str] = field(default_factory=dict)  # spelling → canonical value
    unit: str = ""  # the unit the value is in (a value written with another unit of the same kind is converted)
    # Header spellings whose values are in another unit, with the factor to the canonical unit.
    scaled_aliases: dict[str, float] = field(default_factory=dict)


LG_CODE = Column(
    "lg_code", "団体コード", "lg_code",
    ("全国地方公共団体コード", "地方公共団体コード", "自治体コード", "市区町村コード", "団体ｺｰﾄﾞ", "lgcode", "lg_code6"),
    rule_ja="全国地方公共団体コード（6桁、または検査数字なしの5桁）。取込時に団体を指定した場合は省略できます。",
    example="292125",
)
FACILITY_ID = Column(
    "facility_id", "施設ID", "id",
    ("施設番号", "管理番号", "施設コード", "台帳番号", "橋梁番号", "橋梁ID", "橋梁コード", "整理番号", "facility_id"),
    required=True, max_length=64,
    rule_ja="団体の中で施設ごとに一意の番号・記号（64文字以内）。",
    example="BR-0001",
)
MEASURE_KINDS = {
    "修繕": "修繕", "補修": "修繕", "修理": "修繕", "repair": "修繕",
    "更新": "更新", "架替": "更新", "架替え": "更新", "架け替え": "更新", "架換": "更新", "renewal": "更新",
    "撤去": "撤去", "廃止": "撤去", "removal": "撤去",
    "集約": "集約", "集約化": "集約", "統合": "集約", "consolidation": "集約",
    "補強": "補強", "耐震補強": "補強", "reinforcement": "補強",
}
MEASURE_STATUSES = {
    "未着手": "未着手", "予定": "未着手", "計画": "未着手", "計画中": "未着手", "not_started": "未着手",
    "設計中": "設計中", "設計": "設計中", "設計済": "設計中", "designing": "設計中",
    "工事中": "工事中", "工事": "工事中", "施工中": "工事中", "着手": "工事中", "着手済": "工事中",
    "under_works": "工事中",
    "完了": "完了", "済": "完了", "完了済": "完了", "完了済み": "完了", "完成": "完了", "竣工": "完了",
    "completed": "完了",
}
INSPECTION_KINDS = {
    "定期点検": "定期点検", "定期": "定期点検", "法定点検": "定期点検", "periodic": "定期点検",
    "臨時点検": "臨時点検", "臨時": "臨時点検", "緊急点検": "臨時点検", "extraordinary": "臨時点検",
    "日常点検": "日常点検", "日常": "日常点検", "パトロール": "日常点検", "daily": "日常点検",
    "その他": "その他", "other": "その他",
}

FACILITY_COLUMNS: tuple[Column, ...] = (
    LG_CODE,
    FACILITY_ID,
    Column("name", "施設名", "text", ("橋梁名", "トンネル名", "名称", "施設の名称", "橋名", "name"), required=True,
           rule_ja="施設の名称（200文字以内）。", example="大宇陀橋"),
    Column("sector", "分野", "sector", ("施設分野", "分類", "sector"),
           rule_ja="道路・河川・公園・下水道 など。空欄なら施設種別から決めます。", example="道路"),
    Column("facility_type", "施設種別", "facility_type", ("種別", "施設区分", "施設の種類", "施設種類", "facility_type"),
           rule_ja="橋梁・トンネル・横断歩道橋・大型カルバート・門型標識等・シェッド・舗装・遊具・管渠 など。",
           example="橋梁"),
    Column("built_year", "建設年度", "year",
           ("架設年度", "竣工年度", "建設年", "架設年", "竣工年", "供用開始年度", "完成年度", "建築年度", "設置年度",
            "built_year"),
           rule_ja="西暦（1970）または和暦（昭和45年・S45・H元 など）。わからなければ「不明」または空欄。",
           example="昭和45年"),
    Column("length_m", "延長(m)", "number", ("橋長(m)", "橋長", "延長", "総延長", "トンネル延長", "length_m"),
           rule_ja="メートル。数字のみ（カンマ可）。", example="24.5", minimum=0, maximum=100_000, unit="m"),
    Column("width_m", "幅員(m)", "number", ("幅員", "全幅員", "総幅員", "有効幅員", "全幅", "width_m"),
           rule_ja="メートル。", example="6.0", minimum=0, maximum=1_000, unit="m"),
    Column("area_m2", "面積(m2)", "number", ("面積", "橋面積", "延床面積", "敷地面積", "area_m2"),
           rule_ja="平方メートル。", example="147", minimum=0, maximum=100_000_000, unit="m2"),
    Column("lat", "緯度", "lat", ("北緯", "latitude", "lat"),
           rule_ja="世界測地系の十進数（34.5277）または度分秒（34°31′40″）。", example="34.5277"),
    Column("lon", "経度", "lon", ("東経", "longitude", "lon", "lng"),
           rule_ja="世界測地系の十進数（135.9525）または度分秒。", example="135.9525"),
    Column("route", "路線名", "text", ("路線", "道路名", "路線名称", "route"), rule_ja="例：市道大宇陀線。",
           example="市道大宇陀線"),
    Column("address", "所在地", "text", ("住所", "所在", "架設場所", "位置", "設置場所", "address"), max_length=300,
           rule_ja="所在地（300文字以内）。", example="奈良県宇陀市大宇陀拾生"),
    Column("structure", "構造形式", "text", ("構造", "形式", "橋梁形式", "上部工形式", "上部構造形式", "structure"),
           rule_ja="例：RC床版橋、PC単純T桁橋。", example="RC床版橋"),
    Column("national_id", "全国施設番号", "text", ("施設番号(全国)", "xroad施設番号", "national_id"), max_length=40,
           rule_ja="全国道路施設点検データベースの施設番号（わかる場合）。", example=""),
    Column("note", "備考", "text", ("摘要", "メモ", "特記事項", "note", "remarks"), max_length=2000,
           rule_ja="自由記入。", example=""),
    Column("is_synthetic", "合成データ", "bool", ("is_synthetic",),
           rule_ja="架空の施設（デモ用の合成データ）なら「はい」。通常は空欄。", example=""),
)

INSPECTION_COLUMNS: tuple[Column, ...] = (
    LG_CODE,
    FACILITY_ID,
    Column("inspected_on", "点検年月日", "date", ("点検日", "点検実施日", "点検年月日(西暦)", "点検実施年月日", "inspected_on"),
           required=True,
           rule_ja="2023/7/12、2023-07-12、R5.7.12、令和5年7月12日 など。", example="2023/7/12"),
    Column("grade", "健全性", "grade", ("判定区分", "健全度", "判定", "健全性の診断", "健全性区分", "診断結果", "診断区分",
                                     "緊急度", "評価", "grade"),
           required=True,
           rule_ja="施設種別の尺度で書きます：道路構造物は Ⅰ〜Ⅳ、舗装は診断区分 Ⅰ〜Ⅲ（MCI 3.5 のような値も可）、"
                   "遊具・公園施設は健全度 A〜D、管渠は緊急度Ⅰ〜Ⅲ、樋門・堤防は a〜d など。"
                   "「MCI」の列があれば空欄でも構いません。",
           example="Ⅲ"),
    Column("measured_value", "MCI", "measured", ("維持管理指数", "mci(維持管理指数)", "measured_value"),
           rule_ja="舗装の MCI（維持管理指数、0〜10）。診断区分の欄が空欄なら MCI から診断区分を決めます。", example=""),
    Column("inspector", "点検者", "text", ("点検実施者", "点検業者", "受注者", "点検会社", "inspector"),
           rule_ja="点検した者（会社名・職員直営 など）。", example="職員直営"),
    Column("kind", "点検種別", "choice", ("点検区分", "点検の種類", "種別", "kind"), choices=INSPECTION_KINDS,
           rule_ja="定期点検・臨時点検・日常点検・その他。空欄なら定期点検。", example="定期点検"),
)

MEASURE_COLUMNS: tuple[Column, ...] = (
    LG_CODE,
    FACILITY_ID,
    Column("fiscal_year", "措置年度", "measure_year", ("年度", "実施年度", "予定年度", "対策年度", "措置予定年度", "fiscal_year"),
           required=True, rule_ja="西暦または和暦の年度（計画中の将来年度も可）。", example="R7"),
    Column("kind", "措置区分", "choice", ("措置内容", "対策区分", "措置", "対策内容", "kind"), required=True,
           choices=MEASURE_KINDS, rule_ja="修繕・更新・撤去・集約・補強。", example="修繕"),
    Column("status", "状態", "choice", ("進捗", "進捗状況", "着手状況", "状況", "status"), choices=MEASURE_STATUSES,
           rule_ja="未着手・設計中・工事中・完了。空欄なら未着手（登録済みの措置は今の状態のまま）。", example="設計中"),
    Column("cost_thousand_yen", "費用(千円)", "number",
           ("事業費(千円)", "概算費用(千円)", "費用", "概算費用", "事業費", "金額(千円)", "cost_thousand_yen"),
           rule_ja="千円単位。見出しが「費用(円)」なら円単位として千円に換算します。", example="12,000",
           minimum=0, maximum=1e9,
           scaled_aliases={"費用(円)": 0.001, "事業費(円)": 0.001, "概算費用(円)": 0.001, "金額(円)": 0.001}),
    Column("note", "備考", "text", ("摘要", "メモ", "note"), max_length=2000, rule_ja="自由記入。", example=""),
)

COLUMNS: dict[LedgerKind, tuple[Column, ...]] = {
    LedgerKind.FACILITIES: FACILITY_COLUMNS,
    LedgerKind.INSPECTIONS: INSPECTION_COLUMNS,
    LedgerKind.MEASURES: MEASURE_COLUMNS,
}

# Natural keys: what identifies a row for updates and for duplicate detection within a file.
NATURAL_KEYS: dict[LedgerKind, tuple[str, ...]] = {
    LedgerKind.FACILITIES: ("lg_code", "facility_id"),
    LedgerKind.INSPECTIONS: ("lg_code", "facility_id", "inspected_on", "kind"),
    LedgerKind.MEASURES: ("lg_code", "facility_id", "fiscal_year", "kind"),
}

_BRACKETS = re.compile(r"\(.*?\)|\[.*?\]|【.*?】|<.*?>")


def normalize_header(text: str) -> str:
    """Header text for matching: NFKC, no spaces or line breaks, lower case, no trailing ※note."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = t.split("※", 1)[0]
    return re.sub(r"\s+", "", t).replace("㎡", "m2").replace("m²", "m2")


def compact_header(text: str) -> str:
    """Header text for the small tables (inspection pairs, facility points): NFKC, lower case, without spaces,
    underscores and ・, full-width brackets as ASCII — so 「施設 ID」「施設_ID」「ＦＡＣＩＬＩＴＹ＿ＩＤ」 match."""
    t = unicodedata.normalize("NFKC", text).strip().lower()
    for ch in " 　\t_・":
        t = t.replace(ch, "")
    return t.replace("（", "(").replace("）", ")")


@cache
def _header_index(kind: LedgerKind) -> tuple[dict[str, str], dict[str, str]]:
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for col in COLUMNS[kind]:
        for spelling in (col.header, col.key, *col.aliases, *col.scaled_aliases):
            n = normalize_header(spelling)
            exact.setdefault(n, col.key)
            loose.setdefault(_BRACKETS.sub("", n), col.key)
    return exact, loose


def match_header(kind: LedgerKind, text: str) -> str | None:
    """The column key a header text stands for (exact spelling first, then ignoring units in brackets)."""
    exact, loose = _header_index(kind)
    n = normalize_header(text)
    if not n:
        return None
    if n in exact:
        return exact[n]
    return loose.get(_BRACKETS.sub("", n))


def header_scale(kind: LedgerKind, key: str, text: str) -> float:
    """The factor that converts this header's unit to the column's canonical unit (1 if the same)."""
    col = column(kind, key)
    n = normalize_header(text)
    for alias, factor in col.scaled_aliases.items():
        if normalize_header(alias) == n:
            return factor
    return 1.0


def column(kind: LedgerKind, key: str) -> Column:
    for col in COLUMNS[kind]:
        if col.key == key:
            return col
    raise KeyError(key)


# Name headers that tell the facility type when the file has no 施設種別 column (a bridge ledger).
TYPE_FROM_NAME_HEADER = {"橋梁名": "bridge", "橋名": "bridge", "トンネル名": "tunnel"}
