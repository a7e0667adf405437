"""Seeded, realistic ledger CSVs for the import benchmark (messy as municipalities write them, yet valid).

Facilities: 和暦 years (昭和45年, S50, H3, Ｓ４８), 不明 and blanks, full-width digits, thousands
separators, 度分秒 coordinates, an extra column (管理区分) that becomes a free attribute. Inspections:
two per facility (the statutory 5-year cycles), dates as 2019/7/12, 2019-07-12, R5.7.12, 令和5年7月12日,
20190712 or full width, grades Ⅰ–Ⅳ also written III, 3, Ⅲ（早期措置段階）; 遊具 on 健全度 A–D and 管渠 on
緊急度 (their own scales).

Every value is accepted by gunmane (a few carry warnings, e.g. 約12 → approximate): the benchmark
measures the import of a file that goes in, not the rejection of one that does not.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from gunmane.io.values.parsing import to_wareki

FACILITY_HEADER = ["団体コード", "施設ID", "施設名", "施設種別", "建設年度", "延長(m)", "幅員(m)", "面積(m2)", "緯度",
                   "経度", "路線名", "所在地", "構造形式", "備考", "管理区分"]
INSPECTION_HEADER = ["団体コード", "施設ID", "点検年月日", "健全性", "点検者", "点検種別"]

_FULL = str.maketrans("0123456789.,/-", "０１２３４５６７８９．，／－")
_PLACES = ["大宇陀", "菟田野", "榛原", "室生", "拾生", "宮奥", "佐倉", "内牧", "山辺", "芳野", "曽爾", "御杖",
           "高井", "檜牧", "萩原", "額井", "赤埴", "田口", "三本松", "大野"]
# (type as written, ID prefix, name suffix, share, structures)
_TYPES = [
    ("橋梁", "BR", "橋", 0.62, ["RC床版橋", "PC単純T桁橋", "鋼単純H桁橋", "PCプレテン床版橋", "ボックスカルバート"]),
    ("橋りょう", "BR", "橋", 0.05, ["RC床版橋", "鋼単純I桁橋"]),
    ("トンネル", "TN", "トンネル", 0.03, ["NATM", "矢板工法"]),
    ("横断歩道橋", "FB", "歩道橋", 0.03, ["鋼箱桁", "鋼I桁"]),
    ("大型カルバート", "CV", "カルバート", 0.04, ["RCボックス"]),
    ("門型標識等", "SG", "標識", 0.02, ["門型"]),
    ("遊具", "PE", "遊具", 0.08, ["すべり台", "ブランコ", "複合遊具"]),
    ("管渠", "SP", "幹線", 0.13, ["ヒューム管", "塩ビ管"]),
]
_INSPECTORS = ["職員直営", "(株)奈良橋梁コンサルタント", "宇陀設計(株)", "(株)大和技術", "近畿インフラ診断(株)",
               "(有)榛原測量", "(株)日本橋梁点検", "吉野建設コンサルタント(株)", "(株)関西道路保全", "室生技研(株)"]


def _western_or_wareki_year(rng: random.Random, y: int) -> str:
    """A construction year the way old ledgers write it."""
    era, n = ("S", y - 1925) if y < 1989 else ("H", y - 1988) if y < 2019 else ("R", y - 2018)
    kanji = {"S": "昭和", "H": "平成", "R": "令和"}[era]
    r = rng.random()
    if r < 0.25:
        return str(y)
    if r < 0.45:
        return f"{kanji}{'元' if n == 1 else n}年"
    if r < 0.60:
        return f"{era}{n}"
    if r < 0.65:
        return f"{era}{n}".translate(str.maketrans("SHR0123456789", "ＳＨＲ０１２３４５６７８９"))
    if r < 0.70:
        return f"{y}年度"
    if r < 0.85:
        return f"{kanji}{n}年度" if n > 1 else f"{era}{n}"
    return "不明" if r < 0.95 else ""


def _number(rng: random.Random, value: float, decimals: int = 1) -> str:
    text = f"{value:,.{decimals}f}" if value >= 1000 and rng.random() < 0.5 else f"{value:.{decimals}f}"
    r = rng.random()
    if r < 0.03:
        return text.translate(_FULL)
    if r < 0.04:
        return f"約{value:.0f}"
    return text


def _coordinate(rng: random.Random, value: float) -> str:
    if rng.random() < 0.05:
        deg = int(value)
        minutes = (value - deg) * 60
        return f"{deg}°{int(minutes)}′{int((minutes % 1) * 60)}″"
    return f"{value:.6f}"


def write_facilities(path: Path, rows: int, seed: int) -> list[str]:
    """Write `rows` facilities; return their IDs (for the inspection file)."""
    rng = random.Random(seed)
    weights = [t[3] for t in _TYPES]
    ids: list[str] = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(FACILITY_HEADER)
        for i in range(1, rows + 1):
            written, prefix, suffix, _, structures = rng.choices(_TYPES, weights)[0]
            fid = f"{prefix}-{i:07d}"
            ids.append(fid)
            place = rng.choice(_PLACES)
            year = _western_or_wareki_year(rng, rng.randint(1930, 2020))
            length = rng.lognormvariate(2.7, 0.9)
            width = rng.choice([3.0, 4.0, 4.5, 5.0, 5.5, 6.0, 7.0, 7.5, 8.0, 9.5, 12.0])
            out.writerow([
                "29212" if rng.random() < 0.6 else "292125",
                fid,
                f"{place}{i}号{suffix}",
                written,
                year,
                _number(rng, round(length, 1)),
                _number(rng, width) if rng.random() < 0.9 else "不明",
                _number(rng, round(length * width, 1)) if rng.random() < 0.5 else "",
                _coordinate(rng, 34.45 + rng.random() * 0.2),
                _coordinate(rng, 135.9 + rng.random() * 0.25),
                f"市道{place}{rng.randint(1, 120)}号線",
                f"奈良県宇陀市{place}{rng.randint(1, 3000)}番地",
                rng.choice(structures),
                rng.choice(["", "", "", "", "上部工塗装劣化あり", "旧台帳より移記", "H26点検時に補修"]),
                rng.choice(["1級", "2級", "その他", ""]),
            ])
    return ids


def _date_text(rng: random.Random, d: date) -> str:
    r = rng.random()
    if r < 0.40:
        return f"{d.year}/{d.month}/{d.day}"
    if r < 0.60:
        return d.isoformat()
    if r < 0.80:
        return to_wareki(d, style="short")
    if r < 0.90:
        return to_wareki(d)
    if r < 0.95:
        return f"{d.year}/{d.month}/{d.day}".translate(_FULL)
    return d.strftime("%Y%m%d")


_GRADE_TEXT = {1: ["Ⅰ", "Ⅰ", "Ⅰ", "I", "1"], 2: ["Ⅱ", "Ⅱ", "Ⅱ", "II", "2", "Ⅱ（予防保全段階）"],
               3: ["Ⅲ", "Ⅲ", "III", "3", "Ⅲ（早期措置段階）", "判定区分Ⅲ"], 4: ["Ⅳ", "IV", "4"]}
# Each sector writes grades on its own scale (docs/scales.md): 遊具 健全度 A–D, 管渠 緊急度 (Ⅰ is the worst).
# grade = the index on the scale, 1 = best, as for road structures.
_SCALE_TEXT = {
    "PE": {1: ["A", "Ａ", "健全度A"], 2: ["B", "ｂ", "健全度B"], 3: ["C", "健全度C", "C判定"], 4: ["D", "Ｄ"]},
    "SP": {1: ["劣化なし"], 2: ["緊急度Ⅲ", "Ⅲ", "軽度"], 3: ["緊急度Ⅱ", "Ⅱ", "中度"], 4: ["緊急度Ⅰ", "Ⅰ", "重度"]},
}


def write_inspections(path: Path, facility_ids: list[str], per_facility: int, seed: int) -> int:
    """Write `per_facility` inspections (one per 5-year cycle from FY2014) for every facility."""
    rng = random.Random(seed + 1)
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(INSPECTION_HEADER)
        for fid in facility_ids:
            grade = rng.choices([1, 2, 3, 4], [0.4, 0.45, 0.13, 0.02])[0]
            for cycle in range(per_facility):
                day = date(2014 + 5 * cycle, 4, 1) + timedelta(days=rng.randrange(5 * 365))
                grade = min(4, grade + (rng.random() < 0.25))
                out.writerow([
                    "29212" if rng.random() < 0.6 else "292125",
                    fid,
                    _date_text(rng, day),
                    rng.choice(_SCALE_TEXT.get(fid[:2], _GRADE_TEXT)[grade]),
                    rng.choice(_INSPECTORS),
                    rng.choice(["定期点検", "定期点検", "定期点検", "定期", ""]),
                ])
                n += 1
    return n
