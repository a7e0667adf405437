"""Property-based fuzzing of every importer (issue #11 §3): whatever file comes in — random bytes, a truncated or
corrupted zip, an XLSX whose XML is broken, text whose encoding changes mid-file, JSON of the wrong shape, CSV
with ragged rows or huge fields — the reader either reads it or raises its *documented* error with a Japanese
message. Any other exception (KeyError, TypeError, RecursionError, csv.Error, zlib.error …) fails the test.

For the ledger, "nothing written on error" is the web importer's concern (tests/web); here the io readers.
About 50 examples per importer, no deadline; the whole module runs in well under a minute.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from gunmane.io import limits
from gunmane.io.ledger.pairs import PairsFileError, read_pairs
from gunmane.io.ledger.reader import LedgerReader
from gunmane.io.ledger.schema import LedgerKind, match_header
from gunmane.io.ledger.tabular import TableError, open_table
from gunmane.io.national.common import NationalFileError
from gunmane.io.national.nenpo import open_nenpo
from gunmane.io.national.xroad import read_xroad
from gunmane.io.scenario import ScenarioFileError, read_scenario
from tests.fixtures import MESSY_BRIDGES_CSV
from tests.national_fixtures import (
    FY2020_ROWS,
    write_nenpo,
    write_xroad_csv,
    write_xroad_json,
    xroad_records_shiroishi,
)

REPO = Path(__file__).resolve().parents[2]
# Deterministic in CI (the same 50 examples per importer each run); a longer, random hunt with
# GUNMANE_FUZZ_EXAMPLES=2000 GUNMANE_FUZZ_RANDOM=1.
FUZZ = settings(max_examples=int(os.environ.get("GUNMANE_FUZZ_EXAMPLES", "50")), deadline=None,
                derandomize=os.environ.get("GUNMANE_FUZZ_RANDOM") != "1", database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Small limits so that "huge" fields, rows and widths are reached quickly.
SMALL = {"field_chars": 2_000, "row_chars": 20_000, "columns": 60, "rows": 400, "xlsx_unpacked_mb": 2,
         "json_mb": 1, "toml_mb": 0.2, "nesting_depth": 16}


def japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def message_of(exc: BaseException) -> str:
    issue = getattr(exc, "issue", None)
    return str(issue.message_ja if issue is not None else getattr(exc, "message_ja", ""))


def only_documented(read: Callable[[Path], Any], errors: tuple[type[BaseException], ...], data: bytes,
                    suffix: str) -> None:
    """``read`` the bytes as a file: it succeeds, or raises one of ``errors`` with a Japanese message."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"r07{suffix}"
        path.write_bytes(data)
        try:
            with limits.override(**SMALL):
                read(path)
        except errors as exc:
            assert japanese(message_of(exc)), f"{type(exc).__name__} without a Japanese message: {exc!r}"


# -- seeds: one good file per importer, mutated by the strategies below ------------------------------------
def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


LEDGER_CSV = MESSY_BRIDGES_CSV.encode("utf-8")
LEDGER_XLSX = _xlsx([["施設ID", "施設名", "施設種別", "建設年度", "橋長(m)"], ["BR-1", "一号橋", "橋梁", "昭和45年", 12.5],
                     ["BR-2", "=二号橋", "橋梁", 1980, "abc"]])
LEDGER_JSON = json.dumps([{"facility_id": "BR-1", "name": "一号橋", "facility_type": "橋梁", "built_year": 1970,
                           "attributes": {"管理区分": "1級"}}], ensure_ascii=False).encode()
PAIRS_CSV = "施設ID,前回の健全性,今回の健全性,経過年数,交通量\nB1,Ⅰ,Ⅱ,5,120\nB2,Ⅱ,Ⅱ,4.5,\nB3,2,3,5,80\n".encode()
SCENARIO = (REPO / "examples" / "scenarios" / "nara-model.toml").read_bytes()


def _seed_files() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        f = Path(folder)
        return {
            "nenpo": write_nenpo(f / "nenpo.xlsx", 2020, FY2020_ROWS[:5]).read_bytes(),
            "xroad_json": write_xroad_json(f / "x.json", xroad_records_shiroishi()[:3]).read_bytes(),
            "xroad_csv": write_xroad_csv(f / "x.csv").read_bytes(),
        }


SEEDS = _seed_files()


# -- strategies --------------------------------------------------------------------------------------------
@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """The seed truncated, with bytes inserted / overwritten / deleted, or replaced by random bytes."""
    how = draw(st.sampled_from(["truncate", "insert", "overwrite", "delete", "random", "same"]))
    if how == "random":
        return draw(st.binary(max_size=4000))
    if how == "same":
        return seed
    at = draw(st.integers(0, len(seed)))
    if how == "truncate":
        return seed[:at]
    junk = draw(st.binary(min_size=1, max_size=64) | st.sampled_from(
        [b"\x00", b"\xff\xfe", "\u3042".encode("cp932"), b'"', b"\r", b",,,,", b"<", b"]]>", b"&lol;"]))
    if how == "insert":
        return seed[:at] + junk + seed[at:]
    if how == "overwrite":
        return seed[:at] + junk + seed[at + len(junk):]
    return seed[:at] + seed[at + draw(st.integers(1, 200)):]


@st.composite
def xlsx_with_broken_part(draw: st.DrawFn, seed: bytes) -> bytes:
    """A valid zip whose parts (sheet, workbook, styles, content types …) are mutated XML."""
    with zipfile.ZipFile(io.BytesIO(seed)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    victim = draw(st.sampled_from(sorted(parts)))
    parts[victim] = draw(mutated(parts[victim]))
    if draw(st.booleans()):
        parts.pop(draw(st.sampled_from(sorted(parts))))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


CELL_TEXT = st.text(alphabet=st.sampled_from(list('abc,;\t"\'\n\r =+-@施設橋Ⅲ不明１昭和45年')), max_size=12)


@st.composite
def ragged_csv(draw: st.DrawFn, header: list[str]) -> bytes:
    """A header the reader knows, rows of any length (some fields huge), a delimiter, an encoding or two."""
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    rows = [header] + draw(st.lists(st.lists(CELL_TEXT | st.integers(0, 5000).map(lambda n: "長" * n), max_size=70),
                                    max_size=12))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_NONE, csv.QUOTE_ALL]))
    out = io.StringIO()
    try:
        csv.writer(out, delimiter=delimiter, quoting=quoting, escapechar="\\").writerows(rows)
    except csv.Error:  # QUOTE_NONE cannot write a row of one empty field
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter).writerows(rows)
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp932", "utf-16", "mixed"]))
    if encoding == "mixed":  # the encoding changes mid-file (two files pasted together)
        half = len(text) // 2
        return text[:half].encode("utf-8") + text[half:].encode("cp932", errors="replace")
    return text.encode(encoding, errors="replace")


JSON_KEYS = st.sampled_from(["facility_id", "name", "facility_type", "built_year", "attributes", "items", "rows",
                             "pages", "result", "resultset", "metadata", "is_error", "count", "syogen", "shisetsu",
                             "meisyou", "kasetsu_nendo", "tenken", "kiroku", "hantei_kubun", "nendo", "ichi", "ido",
                             "keido", "kanrisya_code", "shisetsu_bangou", "synthetic", "retrieved_at"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(JSON_KEYS | st.text(max_size=4), inner, max_size=6),
    max_leaves=40)


@st.composite
def json_document(draw: st.DrawFn) -> bytes:
    value = draw(JSON_VALUES)
    if draw(st.booleans()):  # an xROAD-like envelope around whatever
        value = {"metadata": draw(JSON_VALUES), "resultset": draw(JSON_VALUES | st.just({"count": 3})),
                 "result": draw(st.lists(JSON_VALUES, max_size=4))}
    depth = draw(st.integers(0, 40))
    text = "[" * depth + json.dumps(value, ensure_ascii=draw(st.booleans())) + "]" * depth
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])))


# -- one property per importer ---------------------------------------------------------------------------
def _read_table(path: Path) -> None:
    table = open_table(path, lambda t: match_header(LedgerKind.FACILITIES, t))
    for _ in table.rows():
        pass


def _read_ledger(path: Path) -> None:
    reader = LedgerReader(path, LedgerKind.FACILITIES, lg_code="292125")
    for issue in reader.file_issues:  # file-level problems are reported, not raised
        assert japanese(issue.message_ja), issue
    for _ in reader:
        pass


@FUZZ
@given(st.one_of(mutated(LEDGER_CSV), ragged_csv(["施設ID", "施設名", "施設種別", "建設年度", "橋長(m)"])))
def test_ledger_csv(data: bytes) -> None:
    only_documented(_read_table, (TableError,), data, ".csv")
    only_documented(_read_ledger, (TableError,), data, ".csv")


@FUZZ
@given(st.one_of(mutated(LEDGER_XLSX), xlsx_with_broken_part(LEDGER_XLSX)))
def test_ledger_xlsx(data: bytes) -> None:
    only_documented(_read_table, (TableError,), data, ".xlsx")
    only_documented(_read_ledger, (TableError,), data, ".xlsx")


@FUZZ
@given(st.one_of(mutated(LEDGER_JSON), json_document()))
def test_ledger_json(data: bytes) -> None:
    only_documented(_read_table, (TableError,), data, ".json")
    only_documented(_read_ledger, (TableError,), data, ".json")


@FUZZ
@given(st.one_of(mutated(PAIRS_CSV), ragged_csv(["施設ID", "前回の健全性", "今回の健全性", "経過年数", "交通量"]),
                 xlsx_with_broken_part(LEDGER_XLSX)))
def test_pairs(data: bytes) -> None:
    only_documented(read_pairs, (PairsFileError,), data, ".xlsx" if data[:2] == b"PK" else ".csv")


def _read_nenpo(path: Path) -> None:
    f = open_nenpo(path, fiscal_year=2024)
    for _ in f.rows():
        pass


@FUZZ
@given(st.one_of(mutated(SEEDS["nenpo"]), xlsx_with_broken_part(SEEDS["nenpo"])))
def test_nenpo(data: bytes) -> None:
    only_documented(_read_nenpo, (NationalFileError,), data, ".xlsx")


@FUZZ
@given(st.one_of(mutated(SEEDS["xroad_json"]), json_document(), mutated(SEEDS["xroad_csv"]),
                 ragged_csv(["syogen.shisetsu.meisyou", "tenken.kiroku.hantei_kubun", "tenken.nendo",
                             "syogen.kasetsu_nendo", "kanrisya_code", "syogen.ichi.ido", "syogen.ichi.keido"])))
def test_xroad(data: bytes) -> None:
    only_documented(read_xroad, (NationalFileError,), data, ".json" if data.lstrip()[:1] in (b"{", b"[") else ".csv")


TOML_LINES = st.sampled_from([
    'members = ["292125", "293857"]', "members = 5", 'members = { "292125" = 3 }', 'lead = ["x"]',
    "horizon_years = 99", 'cost_share = "x"', "[[scenario]]", 'name = "a"', 'levers = ["area", 3, {kind = 1}]',
    "lots = 3", "parameters = [1]", "sectors = 7", "[lots]", "[members.292125]", 'name = [[[[[]]]]]', "x = ",
    'description = """', "a = " + "[" * 30 + "]" * 30])


@FUZZ
@given(st.one_of(mutated(SCENARIO), st.lists(TOML_LINES, max_size=10).map(lambda ls: "\n".join(ls).encode())))
def test_scenario(data: bytes) -> None:
    only_documented(read_scenario, (ScenarioFileError,), data, ".toml")
    try:
        read_scenario("貼り付け.toml", text=data.decode("utf-8", errors="replace"))
    except ScenarioFileError as exc:
        assert japanese(exc.message_ja)


@FUZZ
@given(st.one_of(mutated("会社名,業種\n宇陀建設,土木\n".encode()), ragged_csv(["会社名", "業種", "所在地"])))
def test_survey_recipient_upload(data: bytes) -> None:
    from django import forms

    from gunmane.web.surveys.forms import decode_upload, parse_recipient_lines

    try:
        text = decode_upload(data, "回答者.csv")
    except forms.ValidationError as exc:
        assert japanese(" ".join(exc.messages))
        return
    with limits.override(**SMALL):
        rows, errors = parse_recipient_lines(text, name_label="会社名", attribute_labels=["業種", "所在地"])
    assert all(japanese(e) for e in errors), errors
    assert all(r.name for r in rows)
