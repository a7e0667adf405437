"""Hostile and broken files (issue #11 §3): every importer refuses them within seconds, in bounded memory,
with a Japanese message that names the limit — zip bombs, lying zip headers, XML entity bombs, a sheet
row of millions of cells, ten thousand columns, a 50 MB one-line CSV, JSON nested a million deep.

The files are built on the fly and are small on disk (a bomb is a few MB of deflate). The tests at real
scale run the reader in a child process under RLIMIT_AS (1.5 GB) and assert its time and peak memory.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from gunmane.io import limits
from gunmane.io.ledger.pairs import PairsFileError, read_pairs
from gunmane.io.ledger.schema import LedgerKind, match_header
from gunmane.io.ledger.tabular import TableError, open_table
from gunmane.io.national.common import NationalFileError
from gunmane.io.national.nenpo import open_nenpo
from gunmane.io.national.xroad import read_xroad
from gunmane.io.scenario import ScenarioFileError, read_scenario

REPO = Path(__file__).resolve().parents[2]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>施設ID</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>施設名</t></is></c><c r="C1" t="inlineStr"><is><t>施設種別</t></is></c></row>')
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10))
                  + f']><worksheet xmlns="{MAIN}"><sheetData><row r="1"><c t="inlineStr"><is><t>&lol9;</t></is></c>'
                  '</row></sheetData></worksheet>')


def facilities(text: str) -> str | None:
    return match_header(LedgerKind.FACILITIES, text)


# -- building workbooks part by part ------------------------------------------------------------------
def raw_xlsx(path: Path, sheet: Iterable[bytes] | bytes | str, *, shared: Iterable[bytes] | None = None,
             extra: dict[str, bytes | str] | None = None, level: int = 1) -> Path:
    """A minimal .xlsx written part by part (streamed, deflate level 1: a few MB for hundreds of MB inflated)."""
    chunks = [sheet.encode() if isinstance(sheet, str) else sheet] if isinstance(sheet, (str, bytes)) else sheet
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
          'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.sharedStrings+xml"/>' if shared is not None else "") + "</Types>")
    rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    book = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="施設" sheetId="1" r:id="rId1"/></sheets></workbook>')
    book_rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
                 f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                 + (f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                    if shared is not None else "") + "</Relationships>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", book_rels)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for chunk in chunks:
                f.write(chunk)
        if shared is not None:
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
                for chunk in shared:
                    f.write(chunk)
    return path


def sheet_xml(rows: Iterable[str | bytes], dimension: str | None = None) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'.encode()
    if dimension:
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield b"<sheetData>"
    for r in rows:
        yield r.encode() if isinstance(r, str) else r
    yield b"</sheetData></worksheet>"


def data_rows(n: int, start: int = 2) -> Iterator[str]:
    for i in range(start, start + n):
        yield (f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>BR-{i}</t></is></c>'
               f'<c r="B{i}" t="inlineStr"><is><t>橋{i}</t></is></c><c r="C{i}" t="inlineStr"><is><t>橋梁</t></is></c></row>')


def repeated(unit: bytes, total: int, block: int = 1 << 22) -> Iterator[bytes]:
    """``unit`` repeated to about ``total`` bytes, in blocks (never the whole in memory)."""
    chunk = unit * max(1, block // len(unit))
    for _ in range(max(1, total // len(chunk))):
        yield chunk


def refuse_table(path: Path) -> TableError:
    """The TableError of opening and reading ``path`` (fails the test if it reads)."""
    with pytest.raises(TableError) as exc:
        table = open_table(path, facilities)
        for _ in table.rows():
            pass
    return exc.value


def japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


# -- zip: declared and actual sizes, parts -------------------------------------------------------------
def test_declared_size_over_the_limit_is_refused_before_anything_is_inflated(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "bomb.xlsx", sheet_xml([HEADER_ROW, b"<row>", *repeated(b"<c/>", 300_000_000),
                                                        b"</row>"]))
    assert path.stat().st_size < 3_000_000
    started = time.perf_counter()
    exc = refuse_table(path)
    assert time.perf_counter() - started < 1.0
    assert exc.code == "xlsx_unpacked_too_large"
    assert "bomb.xlsx: 展開後の大きさが上限（200 MB）を超えています（展開すると 29" in exc.message_ja
    with pytest.raises(NationalFileError) as nenpo:
        open_nenpo(path, fiscal_year=2025)
    assert nenpo.value.issue.code == "xlsx_unpacked_too_large" and "上限（200 MB）" in nenpo.value.issue.message_ja


def _lie_about_sizes(path: Path, member: str, size: int) -> None:
    """Rewrite the local and central headers of ``member`` to declare ``size`` inflated bytes (a lying zip)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        n = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46: central + 46 + n] == name:
            struct.pack_into("<I", data, central + 24, size)
            local = struct.unpack_from("<I", data, central + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_a_zip_that_lies_about_its_sizes_is_not_inflated_past_what_it_declares(tmp_path: Path) -> None:
    model = zipfile.ZipFile(raw_xlsx(tmp_path / "model.xlsx", HEADER_ROW))
    sheet = b"".join(sheet_xml([HEADER_ROW, b"<row>", b"<c/>" * 5_000_000, b"</row>"]))  # 20 MB
    path = tmp_path / "liar.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:  # no zip64: 32-bit sizes to rewrite
        for info in model.infolist():
            z.writestr(info.filename, sheet if info.filename == "xl/worksheets/sheet1.xml" else model.read(info))
    _lie_about_sizes(path, "xl/worksheets/sheet1.xml", 1000)
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    started = time.perf_counter()
    exc = refuse_table(path)
    assert time.perf_counter() - started < 1.0
    assert exc.code == "xlsx_unreadable" and "壊れているか" in exc.message_ja


def test_inflated_bytes_are_counted_while_streaming(tmp_path: Path) -> None:
    """Besides the declared sizes, each part's bytes are counted as they are inflated (budget for the book)."""
    path = raw_xlsx(tmp_path / "t.xlsx", sheet_xml([HEADER_ROW, *data_rows(3000)]))
    with zipfile.ZipFile(path) as z, pytest.raises(limits.FileRefused) as exc:
        limits._scan_part(z, z.getinfo("xl/worksheets/sheet1.xml"), limits.current(), [10_000])
    assert exc.value.code == "xlsx_unpacked_too_large" and "展開した結果" in exc.value.message_ja


def test_too_many_files_inside(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "parts.xlsx", sheet_xml([HEADER_ROW]),
                    extra={f"xl/media/image{i}.png": b"\x89PNG" for i in range(30)})
    with limits.override(xlsx_parts=20):
        exc = refuse_table(path)
    assert exc.code == "xlsx_too_many_parts" and "上限（20）" in exc.message_ja


def test_not_a_zip_and_a_truncated_zip(tmp_path: Path) -> None:
    good = raw_xlsx(tmp_path / "good.xlsx", sheet_xml([HEADER_ROW, *data_rows(50)]))
    assert [r for _, r in open_table(good, facilities).rows()][0][:2] == ["BR-2", "橋2"]
    for name, data in (("text.xlsx", "施設ID,施設名\n".encode()), ("cut.xlsx", good.read_bytes()[:700]),
                       ("empty.xlsx", b"")):
        (tmp_path / name).write_bytes(data)
        assert refuse_table(tmp_path / name).code == "xlsx_unreadable"


# -- XML: entities, CDATA, long values -----------------------------------------------------------------
def test_xml_entity_bomb_is_refused_before_openpyxl_and_defusedxml_guards_openpyxl_too(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "laughs.xlsx", BILLION_LAUGHS)
    started = time.perf_counter()
    exc = refuse_table(path)
    assert exc.code == "xml_entities" and "実体宣言" in exc.message_ja
    # Second line of defence: openpyxl parses with defusedxml when it is installed, as it is with gunmane.
    assert limits.defusedxml_active()
    with pytest.raises(Exception) as raw:  # noqa: PT011 — openpyxl wraps what defusedxml raises
        wb = load_workbook(path, read_only=True)
        list(wb.worksheets[0].iter_rows(values_only=True))
    refusal = limits.refusal_from_exception(raw.value)
    assert refusal is not None and refusal.code == "xml_entities"
    assert time.perf_counter() - started < 2.0


def test_entity_bomb_in_the_shared_strings_of_a_nenpo_list(tmp_path: Path) -> None:
    shared = [BILLION_LAUGHS.replace("worksheet", "sst").replace(
        '<sheetData><row r="1"><c t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData>',
        "<si><t>&lol9;</t></si>").encode()]
    (tmp_path / "r07").mkdir()
    path = raw_xlsx(tmp_path / "r07" / "01-3.xlsx", sheet_xml(['<row r="1"><c r="A1" t="s"><v>0</v></c></row>']),
                    shared=shared)
    with pytest.raises(NationalFileError) as exc:
        open_nenpo(path)
    assert exc.value.issue.code == "xml_entities" and exc.value.issue.file == "r07/01-3.xlsx"


def test_cdata_and_over_long_values(tmp_path: Path) -> None:
    cdata = raw_xlsx(tmp_path / "cdata.xlsx", sheet_xml([HEADER_ROW, '<row r="2"><c t="inlineStr"><is><t>'
                                                         '<![CDATA[<<<<]]></t></is></c></row>']))
    assert refuse_table(cdata).code == "xlsx_unreadable"
    long_value = raw_xlsx(tmp_path / "long.xlsx", sheet_xml([HEADER_ROW, '<row r="2"><c t="inlineStr"><is><t>'
                                                             + "橋" * 400_000 + "</t></is></c></row>"]))
    with limits.override(field_chars=10_000):
        exc = refuse_table(long_value)
    assert exc.code == "field_too_long" and "上限（10,000文字）" in exc.message_ja


# -- structure: strings, styles, rows, columns ---------------------------------------------------------
def shared_strings(n: int) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode()
    yield from repeated(b"<si><t>x</t></si>", n * 17, block=17 * 100_000)
    yield b"</sst>"


def test_too_many_shared_strings_are_counted_before_openpyxl_keeps_them_all(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "sst.xlsx", sheet_xml([HEADER_ROW]), shared=shared_strings(500_000))
    with limits.override(xlsx_shared_strings=100_000):
        exc = refuse_table(path)
    assert exc.code == "too_many_strings" and "上限（100,000）" in exc.message_ja


def test_a_part_parsed_whole_is_limited_but_a_long_sheet_is_not(tmp_path: Path) -> None:
    styles = (f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><cellXfs count="5000">'
              + '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>' * 5000 + "</cellXfs></styleSheet>")
    path = raw_xlsx(tmp_path / "styles.xlsx", sheet_xml([HEADER_ROW, *data_rows(2000)]),
                    extra={"xl/styles.xml": styles})
    with limits.override(xlsx_part_elements=1000):
        exc = refuse_table(path)
        assert exc.code == "xlsx_part_too_complex" and "xl/styles.xml" in exc.message_ja
        # The sheet itself has 30,000 elements: it is streamed, so only the row and column limits apply.
        plain = raw_xlsx(tmp_path / "plain.xlsx", sheet_xml([HEADER_ROW, *data_rows(2000)]))
        assert sum(1 for _ in open_table(plain, facilities).rows()) == 2000


def test_rows_over_the_limit_by_count_by_dimension_and_by_number(tmp_path: Path) -> None:
    with limits.override(rows=100):
        counted = refuse_table(raw_xlsx(tmp_path / "many.xlsx", sheet_xml([HEADER_ROW, *data_rows(500)])))
        assert counted.code == "too_many_rows" and "行数が上限（100行）を超えています" in counted.message_ja
        declared = refuse_table(raw_xlsx(tmp_path / "dim.xlsx", sheet_xml([HEADER_ROW, *data_rows(5)], "A1:C5000")))
        assert declared.code == "too_many_rows" and "5,000行" in declared.message_ja
        far = raw_xlsx(tmp_path / "far.xlsx", sheet_xml([HEADER_ROW, *data_rows(5), *data_rows(1, 999_999_999)]))
        started = time.perf_counter()
        assert refuse_table(far).code == "too_many_rows"
        assert time.perf_counter() - started < 2.0  # not a billion empty rows filled in by openpyxl
        fine = raw_xlsx(tmp_path / "fine.xlsx", sheet_xml([HEADER_ROW, *data_rows(100)], "A1:C101"))
        assert sum(1 for _ in open_table(fine, facilities).rows()) == 100


def test_ten_thousand_columns_declared_written_or_far_away(tmp_path: Path) -> None:
    wide = "".join(f'<c r="{_col(j)}1" t="inlineStr"><is><t>h{j}</t></is></c>' for j in range(4, 10_001))
    header_and_wide = HEADER_ROW.replace("</row>", wide + "</row>")
    declared = refuse_table(raw_xlsx(tmp_path / "dim.xlsx", sheet_xml([HEADER_ROW], "A1:NTP2")))
    assert declared.code == "too_many_columns" and "10,000列" in declared.message_ja
    written = refuse_table(raw_xlsx(tmp_path / "wide.xlsx", sheet_xml([header_and_wide])))
    assert written.code == "too_many_columns" and "上限（500列）" in written.message_ja
    far = raw_xlsx(tmp_path / "far.xlsx", sheet_xml([HEADER_ROW, *data_rows(20),
                                                     '<row r="22"><c r="XFD22"><v>1</v></c></row>']))
    table = open_table(far, facilities)  # the header is fine: the far cell is found while reading
    with pytest.raises(TableError) as exc:
        list(table.rows())
    assert exc.value.code == "too_many_columns" and exc.value.row == 22 and "22行目" in exc.value.message_ja
    csv_path = tmp_path / "wide.csv"
    csv_path.write_text("施設ID,施設名,施設種別," + ",".join(f"c{j}" for j in range(10_000)) + "\nA,B,橋梁\n",
                        encoding="utf-8")
    assert refuse_table(csv_path).code == "too_many_columns"


def _col(j: int) -> str:
    letters = ""
    while j:
        j, r = divmod(j - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def test_one_row_of_millions_of_cells_is_refused_at_the_first_cell_over_the_limit(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "row.xlsx", sheet_xml([HEADER_ROW, b'<row r="2">',
                                                      *repeated(b"<c/>", 4_000_000, block=1 << 20), b"</row>"]))
    exc = refuse_table(path)  # at 140 MB too: test_refused_within_seconds_and_500_mb_at_real_scale
    assert exc.code == "too_many_columns" and "2行目: 列数（501列以上）" in exc.message_ja


def test_the_guard_sits_in_openpyxls_streaming_parsers() -> None:
    """openpyxl looks up ``iterparse`` in its sheet and shared-string readers: a new version that stops doing
    so would leave rows of millions of cells unguarded, so check that the guard is where it must be."""
    from openpyxl.reader import strings
    from openpyxl.worksheet import _reader

    limits.install_openpyxl_guard()
    assert getattr(_reader.iterparse, "gunmane_guard", False) and getattr(strings.iterparse, "gunmane_guard", False)
    parser = _reader.WorkSheetParser(io.BytesIO(b"".join(sheet_xml(['<row r="1">' + "<c/>" * 600 + "</row>"]))), [])
    with pytest.raises(limits.FileRefused):
        list(parser.parse())


def test_elements_openpyxl_would_keep_are_limited(tmp_path: Path) -> None:
    junk = raw_xlsx(tmp_path / "junk.xlsx", sheet_xml([HEADER_ROW, *data_rows(3), *repeated(b"<x/>", 400_000)]))
    with limits.override(xlsx_kept_elements=50_000):
        exc = refuse_table(junk)
    assert exc.code == "xlsx_too_complex"


def test_our_own_exports_are_well_within_the_limits(tmp_path: Path) -> None:
    """A realistic workbook as Excel and openpyxl write it (styles, shared strings) reads as before."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["施設ID", "施設名", "施設種別", "建設年度"])
    for i in range(3000):
        ws.append([f"BR-{i:05d}", f"=橋{i}" if i % 100 == 0 else f"橋{i}", "橋梁", 1970 + i % 50])
    wb.save(tmp_path / "ok.xlsx")
    facts = limits.inspect_xlsx(tmp_path / "ok.xlsx")
    assert facts.rows == 3001 and facts.unpacked_bytes > 100_000
    assert sum(1 for _ in open_table(tmp_path / "ok.xlsx", facilities).rows()) == 3000


# -- CSV ------------------------------------------------------------------------------------------------
def test_a_50_mb_csv_that_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    with path.open("wb") as fh:
        for chunk in repeated(b"abc,", 50_000_000):
            fh.write(chunk)
    started = time.perf_counter()
    exc = refuse_table(path)
    assert time.perf_counter() - started < 3.0
    assert exc.code == "row_too_long" and exc.row == 1
    assert "one.csv: 1行目: 1行の長さが上限（1,000,000文字）を超えています" in exc.message_ja


def test_a_field_over_the_limit_names_its_row(tmp_path: Path) -> None:
    path = tmp_path / "field.csv"
    body = "施設ID,施設名,施設種別\nA-1,一号橋,橋梁\nA-2,\"" + ("長い名前\n" * 30_000) + "\",橋梁\n"
    path.write_text(body, encoding="utf-8")
    exc = refuse_table(path)
    assert exc.code == "field_too_long" and exc.row == 3
    assert "3行目: 1つのセルの文字数が上限（100,000文字）を超えています" in exc.message_ja


def test_csv_sniffing_takes_linear_time(tmp_path: Path) -> None:
    """csv.Sniffer needs about 100 s for 64 KB of ,\" — our delimiter detection must not."""
    path = tmp_path / "sniff.csv"
    path.write_text('施設ID,施設名,施設種別\n' + ',"' * 40_000, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(TableError):
        for _ in open_table(path, facilities).rows():
            pass
    assert time.perf_counter() - started < 2.0
    tsv = tmp_path / "tab.csv"
    tsv.write_text("台帳\n施設ID\t施設名\t施設種別\nA-1\t一号橋, 旧\t橋梁\n", encoding="utf-8")
    assert [r for _, r in open_table(tsv, facilities).rows()] == [["A-1", "一号橋, 旧", "橋梁"]]


def test_encodings_excel_unicode_text_reads_a_false_bom_is_refused(tmp_path: Path) -> None:
    unicode_text = tmp_path / "unicode.txt"  # Excel 「Unicode テキスト」: UTF-16 with BOM, tab-separated
    unicode_text.write_text("施設ID\t施設名\t施設種別\nBR-1\t上一号橋\t橋梁\n", encoding="utf-16")
    table = open_table(unicode_text, facilities)
    assert (table.encoding, table.rows_estimate) == ("utf-16", 1)
    assert [r for _, r in table.rows()] == [["BR-1", "上一号橋", "橋梁"]]
    false_bom = tmp_path / "bom.csv"
    false_bom.write_bytes(b"\xef\xbb\xbf" + "施設ID,施設名,施設種別\nBR-1,一号橋,橋梁\n".encode("cp932"))
    exc = refuse_table(false_bom)
    assert exc.code == "unknown_encoding" and exc.message_ja.startswith("bom.csv: UTF-8（BOM付き）のファイルですが、")


def test_csv_rows_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("施設ID,施設名,施設種別\n" + "".join(f"A-{i},橋{i},橋梁\n" for i in range(500)), encoding="utf-8")
    with limits.override(rows=100):
        exc = refuse_table(path)
    assert exc.code == "too_many_rows" and "上限（100行）" in exc.message_ja
    assert sum(1 for _ in open_table(path, facilities).rows()) == 500


# -- JSON and TOML -------------------------------------------------------------------------------------
def test_deeply_nested_json_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 1_000_000 + "]" * 1_000_000, encoding="utf-8")
    exc = refuse_table(deep)
    assert exc.code == "nesting_too_deep" and "上限（64段）" in exc.message_ja
    sixty_five = tmp_path / "65.json"
    sixty_five.write_text(json.dumps([{"施設ID": "A", "施設名": "x", "施設種別": "橋梁",
                                       "備考": _nested(63)}], ensure_ascii=False), encoding="utf-8")
    assert refuse_table(sixty_five).code == "nesting_too_deep"
    sixty_four = tmp_path / "64.json"
    sixty_four.write_text(json.dumps([{"施設ID": "A", "施設名": "x", "施設種別": "橋梁", "備考": _nested(62)}],
                                     ensure_ascii=False), encoding="utf-8")
    assert len(list(open_table(sixty_four, facilities).rows())) == 1
    with pytest.raises(NationalFileError) as xroad:
        read_xroad(deep)
    assert xroad.value.issue.code == "nesting_too_deep"


def _nested(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


def test_json_size_digits_and_width(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"施設ID": f"A{i}", "施設名": "x", "施設種別": "橋梁"} for i in range(2000)]),
                    encoding="utf-8")
    with limits.override(json_mb=0.01):
        exc = refuse_table(path)
    assert exc.code == "file_too_large" and "上限（0.01 MB）" in exc.message_ja
    digits = tmp_path / "digits.json"
    digits.write_text("[" + "9" * 100_000 + "]", encoding="utf-8")
    exc = refuse_table(digits)
    assert exc.code == "json_invalid" and "桁数が多すぎる数値" in exc.message_ja
    wide = tmp_path / "wide.json"
    wide.write_text(json.dumps([{"施設ID": "A", "施設名": "x", "施設種別": "橋梁", **{f"k{j}": j for j in range(1000)}}]),
                    encoding="utf-8")
    assert refuse_table(wide).code == "too_many_columns"


def test_scenario_files_nested_undecodable_or_not_a_file(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("members = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioFileError) as exc:
        read_scenario(deep)
    assert exc.value.code == "nesting_too_deep" and "deep.toml" in exc.value.message_ja
    cp932 = tmp_path / "cp932.toml"
    cp932.write_bytes('name = "奈良モデル"\n'.encode("cp932"))
    with pytest.raises(ScenarioFileError) as exc:
        read_scenario(cp932)
    assert exc.value.code == "not_utf8" and "UTF-8" in exc.value.message_ja
    with pytest.raises(ScenarioFileError) as exc:
        read_scenario(tmp_path)
    assert exc.value.code == "not_a_file"
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 100_000 + "\n", encoding="utf-8")
    with limits.override(toml_mb=0.01), pytest.raises(ScenarioFileError) as exc:
        read_scenario(big)
    assert exc.value.code == "file_too_large"
    shape = tmp_path / "shape.toml"
    shape.write_text('members = ["292125"]\nparameters = [1, 2]\n[[scenario]]\nname = "a"\nlevers = [3]\n',
                     encoding="utf-8")
    with pytest.raises(ScenarioFileError) as exc:
        read_scenario(shape)
    assert exc.value.code == "invalid_scenario" and japanese(exc.value.message_ja)


def test_pairs_file_over_a_limit_deep_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    rows = "".join(f"B{i},Ⅱ,Ⅲ,5\n" for i in range(50))
    path.write_text("施設ID,前回の健全性,今回の健全性,経過年数\n" + rows + "B99,Ⅱ,Ⅲ,5" + ",x" * 600 + "\n", encoding="utf-8")
    with pytest.raises(PairsFileError) as exc:
        read_pairs(path)
    assert exc.value.code == "too_many_columns" and "52行目" in exc.value.message_ja


def test_survey_recipient_csv_within_the_same_limits() -> None:
    from gunmane.web.surveys.forms import MAX_TEXT_CHARS, parse_recipient_lines

    def errors(text: str) -> list[str]:
        return parse_recipient_lines(text, name_label="会社名", attribute_labels=["業種"])[1]

    assert errors('会社名,業種\n宇陀建設,"' + "長" * 200_000 + '"\n') == [
        "2行目: 1つのセルの文字数が上限（100,000文字）を超えています。引用符（\"）の閉じ忘れがないか確認してください。"
        "1行に1人、タブかカンマで区切ってください。"]
    assert "1行の長さが上限" in errors("a" * 1_500_000)[0]
    assert "長すぎます" in errors("宇陀建設\n" * (MAX_TEXT_CHARS // 4))[0]


def test_limits_are_settings_from_the_environment() -> None:
    env = {"GUNMANE_LIMIT_ROWS": "2000", "GUNMANE_LIMIT_XLSX_UNPACKED_MB": "50.5", "GUNMANE_LIMIT_COLUMNS": "x",
           "GUNMANE_LIMIT_FIELD_CHARS": "-1"}
    lim = limits.Limits.from_env(env)
    assert (lim.rows, lim.xlsx_unpacked_mb, lim.columns, lim.field_chars) == (2000, 50.5, 500, 100_000)
    assert limits.Limits() == limits.Limits.from_env({})
    with limits.override(rows=7) as inner:
        assert limits.current().rows == 7 == inner.rows
    assert limits.current().rows == 1_000_000


# -- at real scale: time and memory of a child process under RLIMIT_AS ----------------------------------
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
cap = 1_500_000_000
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
reader, path = sys.argv[1], Path(sys.argv[2])
from gunmane.io.ledger.schema import LedgerKind, match_header
from gunmane.io.national.common import NationalFileError
from gunmane.io.national.nenpo import open_nenpo
from gunmane.io.ledger.tabular import TableError, open_table
from gunmane.io.national.xroad import read_xroad
def peak_mb():  # VmHWM: this process's own high-water mark (ru_maxrss keeps the parent's from before exec)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
before = peak_mb()
started = time.perf_counter()
code = "read"
try:
    if reader == "table":
        for _ in open_table(path, lambda t: match_header(LedgerKind.FACILITIES, t)).rows():
            pass
    elif reader == "nenpo":
        f = open_nenpo(path, fiscal_year=2025)
        for _ in f.rows():
            pass
    else:
        read_xroad(path)
except TableError as exc:
    code = exc.code
except NationalFileError as exc:
    code = exc.issue.code
print(json.dumps({"code": code, "seconds": round(time.perf_counter() - started, 2), "peak_mb": round(peak_mb()),
                  "imports_mb": round(before)}))
"""


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real-scale files, built once for the module (a few MB on disk each)."""
    return {}


def _bomb(kind: str, cache: dict[str, Path], folder: Path) -> Path:
    if kind in cache:
        return cache[kind]
    if kind == "zip_bomb_1gb":  # about 5 MB on disk
        path = raw_xlsx(folder / "bomb.xlsx", sheet_xml([HEADER_ROW, b"<row>", *repeated(b"<c/>", 1_000_000_000),
                                                         b"</row>"]))
    elif kind == "shared_strings_190mb":  # 11 million strings, under the 200 MB limit
        path = raw_xlsx(folder / "sst.xlsx", sheet_xml([HEADER_ROW]), shared=shared_strings(11_000_000))
    elif kind == "one_row_140mb":  # 35 million cells in one row, under the 200 MB limit
        path = raw_xlsx(folder / "row.xlsx", sheet_xml([HEADER_ROW, b'<row r="2">', *repeated(b"<c/>", 140_000_000),
                                                        b"</row>"]))
    elif kind == "entity_bomb":
        path = raw_xlsx(folder / "laughs.xlsx", BILLION_LAUGHS)
    else:
        path = folder / {"csv_one_line_50mb": "one.csv", "csv_commas_50mb": "commas.csv", "json_deep": "deep.json"}[kind]
        with path.open("wb") as fh:
            if kind == "json_deep":
                fh.write(b"[" * 5_000_000 + b"]" * 5_000_000)
            else:
                for chunk in repeated(b"a" if kind == "csv_one_line_50mb" else b",", 50_000_000):
                    fh.write(chunk)
    cache[kind] = path
    return path


@pytest.mark.parametrize(("kind", "reader", "code"), [
    ("zip_bomb_1gb", "table", "xlsx_unpacked_too_large"),
    ("zip_bomb_1gb", "nenpo", "xlsx_unpacked_too_large"),
    ("shared_strings_190mb", "table", "too_many_strings"),
    ("one_row_140mb", "table", "too_many_columns"),
    ("entity_bomb", "nenpo", "xml_entities"),
    ("csv_one_line_50mb", "table", "row_too_long"),
    ("csv_commas_50mb", "xroad", "row_too_long"),
    ("json_deep", "table", "nesting_too_deep"),
    ("json_deep", "xroad", "nesting_too_deep"),
])
def test_refused_within_seconds_and_500_mb_at_real_scale(bombs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
                                                          kind: str, reader: str, code: str) -> None:
    path = _bomb(kind, bombs, tmp_path_factory.mktemp(kind))
    done = subprocess.run([sys.executable, "-c", CHILD, reader, str(path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    print(f"{kind} via {reader}: {result}")  # the timings in the report come from here (pytest -s)
    assert result["code"] == code
    assert result["seconds"] < 10.0  # a few seconds on an idle machine; generous for a shared CI runner
    assert result["peak_mb"] < 500
