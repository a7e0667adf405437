"""SYNTHETIC national-data files in the exact published layouts (written by the tests, never downloaded).

Every bridge here is made up (名前は「合成」で始まるか例示の名前); the workbooks say 【合成データ】 in their
title row. The layouts follow shared/docs/domain/national-formats.md:

* 道路メンテナンス年報 施設名一覧 (01-3, 地方公共団体): one sheet 橋梁点検結果（地方公共団体）, row 1 a title,
  labels in rows 2–3 over merged cells (D2:D3 架設年度（西暦）; 管理者名・都道府県名 under a merged group label;
  判定区分 under 点検結果), data from row 4; ルビ (phonetic) runs injected into the shared strings;
* xROAD public API envelopes (metadata / resultset / result) with the observed field types;
* the 77条 extract CSV with dotted column names.
"""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

SHEET = "橋梁点検結果（地方公共団体）"
SYNTHETIC_TITLE = "【合成データ・実在の橋梁ではありません】"
ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}
WAREKI = {y: f"令和{y - 2018}年度" if y >= 2019 else f"平成{y - 1988}年度" for y in range(2010, 2031)}

# A row of a 01-3 list: A name, B reading, C route, D 架設年度, E 橋長, F 幅員, G 管理者名, H 都道府県名, I 点検実施年度, J 判定区分.
NenpoValues = Sequence[Any]


def write_nenpo(path: Path, fiscal_year: int, rows: Iterable[NenpoValues], *, ruby: dict[str, str] | None = None,
                title: bool = True, write_only: bool = False) -> Path:
    """A 年報 list for `fiscal_year` in the published 01-3 layout; `ruby` maps cell texts to readings added as rPh."""
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet(SHEET) if write_only else wb.active
    assert ws is not None
    if not write_only:
        ws.title = SHEET
    top = [f"{WAREKI[fiscal_year]} 道路メンテナンス年報 橋梁点検結果（地方公共団体）{SYNTHETIC_TITLE}" if title else None,
           *[None] * 9]
    row2 = ["橋梁名", "橋梁名\n（ふりがな）", "路線名", "架設年度\n（西暦）", "橋長\n（m）", "幅員\n（m）", "道路管理者", None,
            "点検実施年度", "点検結果"]
    row3 = [None, None, None, None, None, None, "管理者名", "都道府県名", None, "判定区分"]
    ws.append(top)
    ws.append(row2)
    ws.append(row3)
    if not write_only:
        for col in "ABCDEFI":
            ws.merge_cells(f"{col}2:{col}3")
        ws.merge_cells("G2:H2")
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    if ruby:
        add_ruby(path, ruby)
    return path


def add_ruby(path: Path, ruby: dict[str, str]) -> None:
    """Add phonetic-guide runs (<rPh>) to the cell strings, as Japanese Excel stores readings typed with an IME.

    openpyxl writes inline strings (<is>), Excel shared strings (<si>); both take <rPh> (CT_Rst), so both are
    rewritten. A reader that collects every text node would then see 宮城県ミヤギケン.
    """
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet") or n == "xl/sharedStrings.xml"]:
        xml = parts[name].decode("utf-8")
        for text, reading in ruby.items():
            for tag in ("is", "si"):
                xml = xml.replace(f"<{tag}><t>{text}</t></{tag}>",
                                  f'<{tag}><t>{text}</t><rPh sb="0" eb="{len(text)}"><t>{reading}</t></rPh>'
                                  f'<phoneticPr fontId="1"/></{tag}>')
        parts[name] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


# -- the small realistic lists (宮城県, FY2020 and FY2024) with every awkward case -------------------------
# rows as (A..J); Excel row = index + 4.
FY2020_ROWS: list[NenpoValues] = [
    ["合成みどり橋", "ごうせいみどりばし", "市道合成1号線", "1968", 12.5, 6.0, "白石市", "宮城県", "2020", "Ⅱ"],          # 4
    ["合成小川橋", "ごうせいおがわばし", "県道合成線", "不明", 30.0, 8.0, "宮城県", "宮城県", "2020", "Ⅲ"],            # 5
    [None, "ごうせいむめいばし", "町道合成線", "不明", 4.0, 3.0, "大河原町", "宮城県", "2020", "Ⅰ"],                 # 6
    ["合成同名橋", "ごうせいどうめいばし", "町道合成2号線", "1975", 5.0, 4.0, "蔵王町", "宮城県", "2020", "Ⅱ"],       # 7
    ["合成同名橋", "ごうせいどうめいばし", "町道合成2号線", "1975", 5.0, 4.0, "蔵王町", "宮城県", "2020", "Ⅰ"],       # 8
    ["合成公社橋", "ごうせいこうしゃばし", "合成有料道路", "1990", 50.0, 9.0, "宮城県道路公社", "宮城県", "2020", "Ⅱ"],  # 9
    ["合成組合橋", "ごうせいくみあいばし", "組合道", "1985", 8.0, 4.0, "仙南合成衛生処理組合", "宮城県", "2020", "Ⅰ"],   # 10
    ["合成例示橋", "ごうせいれいじばし", "村道合成線", "1980", 6.0, 4.0, "合成例示村", "宮城県", "2020", "Ⅰ"],        # 11
    ["合成七ヶ宿橋", "ごうせいしちかしゅくばし", "町道七ヶ宿線", "1971", 10.0, 5.0, "七ケ宿町", "宮城県", "2020", "III"],  # 12
    ["合成回復橋", "ごうせいかいふくばし", "市道合成3号線", "1960", 15.0, 6.0, "白石市", "宮城県", "2020", "Ⅲ"],       # 13
    ["合成誤り橋", "ごうせいあやまりばし", "市道合成4号線", "0", 7.0, 5.0, "白石市", "宮城県", "2020", "Ⅴ"],           # 14
]
FY2020_ERRORS = [(14, "架設年度（西暦）", "0", "not_a_year"), (14, "点検結果 判定区分", "Ⅴ", "grade_out_of_range")]

FY2024_ROWS: list[NenpoValues] = [
    ["合成みどり橋", "ゴウセイミドリバシ", "市道合成1号線", 1968, 12.5, 6.0, "白石市", "宮城県", "2024", "Ⅲ"],        # 4: exact (kana form differs)
    ["合成小川橋", "ごうせいおがわばし", "県道合成線", "不明", 30.0, 8.0, "宮城県", "宮城県", "2024", "Ⅲ"],           # 5: exact, year unknown both
    [None, "ごうせいむめいばし", "町道合成線", "不明", 4.0, 3.0, "大河原町", "宮城県", "2024", "2"],                # 6: exact, digit grade
    ["合成同名橋", "ごうせいどうめいばし", "町道合成2号線", "1975", 5.0, 4.0, "蔵王町", "宮城県", "2024", "Ⅱ"],      # 7: ambiguous (two 2020 rows)
    ["合成回復橋", "ごうせいかいふくばし", "市道合成3号線", "1960", 15.0, 6.0, "白石市", "宮城県", "2024", "Ⅰ"],      # 8: exact, improved, no measure
    ["合成新橋", "ごうせいしんばし", "市道合成5号線", "2001", 9.0, 5.0, "白石市", "宮城県", "2024", "I"],          # 9: unmatched (new)
]


def write_miyagi_lists(folder: Path) -> tuple[Path, Path]:
    """FY2020 (r02) and FY2024 (r06) lists of 宮城県, with ruby on 宮城県 and 白石市 in the FY2020 file."""
    (folder / "r02").mkdir(parents=True, exist_ok=True)
    (folder / "r06").mkdir(parents=True, exist_ok=True)
    a = write_nenpo(folder / "r02" / "01-3.xlsx", 2020, FY2020_ROWS, ruby={"宮城県": "ミヤギケン", "白石市": "シロイシシ"})
    b = write_nenpo(folder / "r06" / "01-3.xlsx", 2024, FY2024_ROWS)
    return a, b


# -- five yearly lists of one prefecture, for the deterioration model -----------------------------------
MIYAGI_MANAGERS = ("白石市", "大河原町", "蔵王町", "七ヶ宿町", "宮城県")


def five_year_lists(folder: Path, *, bridges: int = 600, seed: int = 7) -> list[Path]:
    """FY2020–FY2024 lists (r02–r06) of synthetic 宮城県 bridges: every bridge inspected once in FY2020–2023,
    those of FY2020 again in FY2024 (the third cycle began in FY2024), with grades that mostly stay or worsen."""
    rng = random.Random(seed)
    by_year: dict[int, list[NenpoValues]] = {y: [] for y in range(2020, 2025)}
    for i in range(bridges):
        manager = MIYAGI_MANAGERS[i % len(MIYAGI_MANAGERS)]
        built = rng.choice(["不明", str(rng.randint(1950, 2010))])
        first = 2020 + i % 4
        g = rng.choices([1, 2, 3], weights=[5, 4, 1])[0]
        row = [f"合成橋{i:05d}", f"ごうせいばし{i:05d}", f"合成路線{i % 37}号線", built, 10.0, 5.0, manager, "宮城県"]
        by_year[first].append([*row, str(first), ROMAN[g]])
        if first == 2020:
            g2 = min(4, g + (1 if rng.random() < 0.3 else 0))
            by_year[2024].append([*row, "2024", ROMAN[g2]])
    paths = []
    for y, rows in by_year.items():
        d = folder / f"r{y - 2018:02d}"
        d.mkdir(parents=True, exist_ok=True)
        paths.append(write_nenpo(d / "01-3.xlsx", y, rows))
    return paths


# -- xROAD -----------------------------------------------------------------------------------------------
def xroad_record(i: int, *, name: str, reading: str = "", route: str = "市道例示線", built: str = "",
                 manager: tuple[str, str, str] = ("042064", "5", "白石市"), city: tuple[str, str] = ("042064", "白石市"),
                 pref: tuple[str, str] = ("04", "宮城県"), ichi: tuple[float, float] = (38.00222, 140.61972),
                 shisetsu_id: str | None = None, nendo: int = 2024, grade: str = "2", sochi: str = "8",
                 length: float = 12.5) -> dict[str, Any]:
    """One public-API bridge record with the observed types (strings for codes and classes, floats for sizes)."""
    code, kubun, mname = manager
    return {
        # An identifier shaped like "lat,lon": near the position but not equal to it (and unique in a response).
        "shisetsu_id": shisetsu_id or f"{ichi[0]:.5f},{ichi[1] + i * 1e-5:.5f}",
        "shisetsu_kubun": 1,
        "koushin_nichiji": "2025-11-01T00:00:00+09:00",
        "kanrisya_code": code,
        "syogen": {
            "kasetsu_nendo": built, "kyouchou": length, "fukuin": 6.0,
            "shisetsu": {"meisyou": name, "furigana": reading},
            "rosen": {"meisyou": route},
            "kanrisya": {"kubun": kubun, "meisyou": mname, "jimusyo": mname if kubun == "5" else "合成土木事務所"},
            "gyousei_kuiki": {"todoufuken_code": pref[0], "todoufuken_mei": pref[1],
                              "shikuchouson_code": city[0], "shikuchouson_mei": city[1]},
            "ichi": {"ido": ichi[0], "keido": ichi[1]},
        },
        "tenken": {"syuzen": {"sochi_joukyou": "9" if grade == "8" else sochi}, "nendo": nendo,
                   "kiroku": {"hantei_kubun": grade}},
    }


def xroad_records_shiroishi() -> list[dict[str, Any]]:
    """Synthetic 白石市 bridges (city=042064) with the awkward cases of the real 八潮市 response."""
    return [
        xroad_record(1, name="合成みどり橋", reading="(ｺﾞｳｾｲﾐﾄﾞﾘﾊﾞｼ)", route="市道合成1号線", built="1968", grade="3"),
        xroad_record(2, name="合成未点検橋", reading="(ｺﾞｳｾｲﾐﾃﾝｹﾝﾊﾞｼ)", built="2024", nendo=0, grade="8"),
        # shisetsu_id 48 km away from the real position (syogen.ichi): the position must come from ichi.
        xroad_record(3, name="合成離れ橋", reading="ｺﾞｳｾｲﾊﾅﾚﾊﾞｼ", route="市道合成6号線", built="",
                     ichi=(38.01001, 140.62001), shisetsu_id="38.40000,140.90000", grade="1", sochi="0"),
        # a prefecture's bridge standing in the city: stays the prefecture's.
        xroad_record(4, name="合成県橋", reading="(ｺﾞｳｾｲｹﾝﾊﾞｼ)", route="国道113号　現道", built="1980",
                     manager=("040002", "2", "宮城県"), grade="2"),
        # a national office's bridge: not a local government.
        xroad_record(5, name="合成国道橋", reading="(ｺﾞｳｾｲｺｸﾄﾞｳﾊﾞｼ)", route="国道4号", built="1970",
                     manager=("834800", "1", "東北地方整備局"), grade="2"),
        # the manager's coordinates far from its municipality (a mistyped position: 福島県 inland).
        xroad_record(6, name="合成遠方橋", reading="(ｺﾞｳｾｲｴﾝﾎﾟｳﾊﾞｼ)", route="市道合成7号線", built="1999",
                     ichi=(37.40000, 140.20000), grade="1", sochi="0"),
    ]


def xroad_envelope(records: list[dict[str, Any]], *, city: str = "042064", count: int | None = None,
                   offset: int = 0, limit: int = 100, is_error: bool = False) -> dict[str, Any]:
    return {"metadata": {"title": "橋梁データの一覧", "detail": "橋梁データの一覧", "synthetic": True,
                         "parameters": {"city": city, "limit": limit, "offset": offset}},
            "resultset": {"is_error": is_error, "count": len(records) if count is None else count, "offset": offset,
                          "limit": limit},
            "result": records}


def write_xroad_json(path: Path, records: list[dict[str, Any]], **kw: Any) -> Path:
    path.write_text(json.dumps(xroad_envelope(records, **kw), ensure_ascii=False), encoding="utf-8")
    return path


XROAD_CSV_HEADER = ("shisetsu_id,shisetsu_bangou,syogen.kasetsu_nendo,syogen.shisetsu.meisyou,syogen.rosen.meisyou,"
                    "syogen.kouzou_keishiki.joubu,syogen.kanrisya.meisyou,syogen.gyousei_kuiki.todoufuken_mei,"
                    "syogen.gyousei_kuiki.shikuchouson_mei,tenken.kiroku.hantei_kubun")
# The 77条 extract as pandas wrote it (floats for codes and classes), with a made-up tenken.nendo column added
# by the tests that need one. Lines 2–5.
XROAD_CSV_ROWS = [
    '"38.00583,140.54722",BR0-042064-00019,不明,合成みどり橋,市道合成1号線,310.0,白石市,宮城県,白石市,2.0',
    '"38.01000,140.55000",BR0-042064-00020,1985,合成岩橋,市道合成8号線,,白石市,宮城県,白石市,',
    '"38.02000,140.56000",BR0-043214-00001,2001,合成大河原橋,町道合成線,321.0,大河原町,宮城県,大河原町,3.0',
    '"38.03000,140.57000",BR0-042064-00021,1990,合成誤り橋,市道合成9号線,310.0,白石市,宮城県,白石市,7.0',
]


def write_xroad_csv(path: Path, rows: list[str] | None = None, *, encoding: str = "utf-8-sig") -> Path:
    path.write_text("\n".join([XROAD_CSV_HEADER, *(XROAD_CSV_ROWS if rows is None else rows)]) + "\n",
                    encoding=encoding)
    return path
