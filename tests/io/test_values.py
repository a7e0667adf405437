"""Tests for gunmane.io.values.parsing: every accepted spelling, every error code, round-trip properties."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gunmane.io.values.parsing import (
    UNKNOWN_TOKENS,
    InvalidValue,
    Parsed,
    check_digit,
    grade_label,
    is_unknown,
    normalize_text,
    parse_coordinate,
    parse_date,
    parse_grade,
    parse_int,
    parse_lg_code,
    parse_number,
    parse_year,
    to_wareki,
)

TODAY = date(2026, 11, 27)
Axis = Literal["lat", "lon"]

year = partial(parse_year, today=TODAY)
a_date = partial(parse_date, today=TODAY)
lat = partial(parse_coordinate, axis="lat")
lon = partial(parse_coordinate, axis="lon")


def fullwidth(s: str, mask: list[bool] | None = None) -> str:
    """ASCII → full-width (what a Japanese IME produces), optionally only where mask is True."""
    out = []
    for i, c in enumerate(s):
        flip = True if mask is None else mask[i]
        if flip and "!" <= c <= "~":
            out.append(chr(ord(c) + 0xFEE0))
        elif flip and c == " ":
            out.append("\u3000")
        else:
            out.append(c)
    return "".join(out)


def error_code(fn: Callable[[Any], Parsed[Any]], raw: object) -> str:
    with pytest.raises(InvalidValue) as info:
        fn(raw)
    exc = info.value
    assert exc.message_ja and exc.message_en
    return exc.code


# --------------------------------------------------------------------------- normalisation / unknown


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  1970  ", "1970"),
        ("１９７０", "1970"),
        ("昭和\u3000\u300045年", "昭和 45年"),
        ("a \t\n b", "a b"),
        (1970, "1970"),
        (1970.0, "1970"),
        (12.5, "12.5"),
        (float("nan"), ""),
        (Decimal("1970.0"), "1970"),
        (Decimal("12.50"), "12.50"),
        (date(2023, 7, 12), "2023-07-12"),
        (datetime(2023, 7, 12, 0, 0), "2023-07-12 00:00:00"),
        ("\ufeff不明", "不明"),
        ("Ⅲ", "III"),
        ("350㎡", "350m2"),
        ("－", "-"),
        (True, "True"),
    ],
)
def test_normalize_text(raw: object, expected: str) -> None:
    assert normalize_text(raw) == expected


UNKNOWNS: list[object] = [
    None,
    "",
    "   ",
    "\u3000",
    float("nan"),
    "不明",
    "空欄",
    "－",
    "―",
    "-",
    "ー",
    "ｰ",
    "‐",
    "—",
    "未詳",
    "不詳",
    "N/A",
    "n/a",
    "NA",
    "null",
    "None",
    "?",
    "？",
    "…",
    " 不明 ",
    "不明（資料なし）",
]


@pytest.mark.parametrize("raw", UNKNOWNS, ids=repr)
def test_is_unknown(raw: object) -> None:
    assert is_unknown(raw)


@pytest.mark.parametrize("raw", ["0", 0, 0.0, "なし", "不明瞭な部分あり", "1970"], ids=repr)
def test_not_unknown(raw: object) -> None:
    assert not is_unknown(raw)


def test_unknown_tokens_hold_normalised_forms() -> None:
    for token in (
        "",
        "不明",
        "空欄",
        "-",
        "―",
        "‐",
        "—",
        "ー",
        "未詳",
        "不詳",
        "n/a",
        "na",
        "null",
        "none",
        "?",
    ):
        assert token in UNKNOWN_TOKENS
    assert normalize_text("－") in UNKNOWN_TOKENS
    assert normalize_text("…").casefold() in UNKNOWN_TOKENS


ALL_PARSERS: list[Callable[[Any], Parsed[Any]]] = [
    year,
    a_date,
    parse_grade,
    parse_number,
    parse_int,
    lat,
    lon,
    parse_lg_code,
]


def _parser_id(p: Any) -> str:
    """A stable test id (the same in every pytest-xdist worker: no memory addresses)."""
    if isinstance(p, functools.partial):
        return p.func.__name__ + "".join(f"-{v}" for k, v in p.keywords.items() if k != "today")
    return str(p.__name__)


@pytest.mark.parametrize("parser", ALL_PARSERS, ids=_parser_id)
@pytest.mark.parametrize("raw", UNKNOWNS, ids=repr)
def test_unknown_is_none_everywhere(parser: Callable[[Any], Parsed[Any]], raw: object) -> None:
    assert parser(raw) == Parsed(None)


# --------------------------------------------------------------------------- years

YEAR_OK: list[tuple[object, int, str | None]] = [
    ("1970", 1970, None),
    ("１９７０", 1970, None),
    ("1970年", 1970, None),
    ("1970年度", 1970, None),
    ("1970 年度", 1970, None),
    ("FY1970", 1970, None),
    ("1970.0", 1970, None),
    (1970, 1970, None),
    (1970.0, 1970, None),
    (Decimal("1970"), 1970, None),
    ("1868", 1868, None),
    ("2026", 2026, None),
    ("昭和45年", 1970, None),
    ("昭和45年度", 1970, None),
    ("昭和45", 1970, None),
    ("昭45", 1970, None),
    ("S45", 1970, None),
    ("s45", 1970, None),
    ("Ｓ４５", 1970, None),
    ("S.45", 1970, None),
    ("Ｓ．４５", 1970, None),
    ("S 45", 1970, None),
    ("S45年", 1970, None),
    ("S45年度", 1970, None),
    ("㍼45年", 1970, None),
    ("昭和四十五年", 1970, None),
    ("H元", 1989, None),
    ("Ｈ元", 1989, None),
    ("平成元年", 1989, None),
    ("平成元年度", 1989, None),
    ("H1", 1989, None),
    ("H01", 1989, None),
    ("平成31年", 2019, None),
    ("平成31年度", 2019, None),
    ("R5", 2023, None),
    ("R元", 2019, None),
    ("令和5年度", 2023, None),
    ("令和8年度", 2026, None),
    ("明治元年", 1868, None),
    ("M1", 1868, None),
    ("明治45年", 1912, None),
    ("M45", 1912, None),
    ("大正元年", 1912, None),
    ("T15", 1926, None),
    ("大正15年", 1926, None),
    ("昭和64年", 1989, None),
    ("S64", 1989, None),
    # 和暦 past its era: converted with a warning, not refused.
    ("平成32年", 2020, "era_year_overflow"),
    ("H32", 2020, "era_year_overflow"),
    ("昭和65年", 1990, "era_year_overflow"),
    ("大正16年", 1927, "era_year_overflow"),
    ("明治46年", 1913, "era_year_overflow"),
    # A date in a year column: its fiscal year (April start).
    ("1970/5/1", 1970, "date_as_year"),
    ("1971/2/1", 1970, "date_as_year"),
    ("1971/3/31", 1970, "date_as_year"),
    ("1971/4/1", 1971, "date_as_year"),
    ("1970-05-01", 1970, "date_as_year"),
    ("昭和45年5月1日", 1970, "date_as_year"),
    ("S46.2.1", 1970, "date_as_year"),
    (date(1971, 2, 1), 1970, "date_as_year"),
    (datetime(1970, 5, 1, 0, 0), 1970, "date_as_year"),
    ("平成31年5月1日", 2019, "era_year_overflow"),
    # Approximate.
    ("約1970年", 1970, "approximate"),
    ("1970年頃", 1970, "approximate"),
    ("昭和45年頃", 1970, "approximate"),
    # Both spellings, agreeing.
    ("昭和45年（1970年）", 1970, None),
    ("1970(S45)", 1970, None),
]


@pytest.mark.parametrize(("raw", "expected", "warning"), YEAR_OK, ids=repr)
def test_parse_year(raw: object, expected: int, warning: str | None) -> None:
    parsed = year(raw)
    assert parsed.value == expected
    assert parsed.warning_code == warning
    if warning is not None:
        assert parsed.warning_ja and parsed.warning_en


def test_era_year_overflow_message() -> None:
    assert year("平成32年").warning_ja == "平成32年は令和2年（2020年）として扱いました"
    assert year("昭和65年").warning_ja == "昭和65年は平成2年（1990年）として扱いました"


YEAR_ERRORS: list[tuple[object, str]] = [
    ("2027", "future_year"),
    (2027, "future_year"),
    ("令和9年", "future_year"),
    ("2026/12/1", "future_year"),  # fiscal 2026, but the date itself is after today
    (date(2026, 12, 1), "future_year"),
    ("令和0年", "era_year_zero"),
    ("S0", "era_year_zero"),
    ("平成0年度", "era_year_zero"),
    ("1867", "year_too_old"),
    ("0970", "year_too_old"),
    ("1868/2/1", "year_too_old"),  # fiscal 1867
    (date(1800, 5, 1), "year_too_old"),
    ("abc", "not_a_year"),
    ("70", "not_a_year"),
    ("19700", "not_a_year"),
    (1970.5, "not_a_year"),
    ("昭和", "not_a_year"),
    ("X45", "not_a_year"),
    ("S45.3", "not_a_year"),
    ("昭和40年代", "not_a_year"),
    ("昭和45年(1971年)", "not_a_year"),
    ("2023/2/30", "invalid_date"),
    ("令和元年4月1日", "date_before_era"),
]


@pytest.mark.parametrize(("raw", "code"), YEAR_ERRORS, ids=repr)
def test_parse_year_errors(raw: object, code: str) -> None:
    assert error_code(year, raw) == code


def test_not_a_year_message_says_what_is_expected() -> None:
    with pytest.raises(InvalidValue) as info:
        year("abc")
    assert "西暦（1970）" in info.value.message_ja
    assert "和暦（昭和45年、S45、H元 など）" in info.value.message_ja


def test_future_year_uses_today() -> None:
    assert parse_year("2027", today=date(2027, 1, 1)).value == 2027


# --------------------------------------------------------------------------- dates

D = date(2023, 7, 12)
DATE_OK: list[tuple[object, date, str | None]] = [
    ("2023/7/12", D, None),
    ("2023/07/12", D, None),
    ("2023-07-12", D, None),
    ("2023-7-12", D, None),
    ("2023.7.12", D, None),
    ("2023年7月12日", D, None),
    ("2023年 7月 12日", D, None),
    ("２０２３年７月１２日", D, None),
    ("20230712", D, None),
    ("R5.7.12", D, None),
    ("R05.07.12", D, None),
    ("r5.7.12", D, None),
    ("R5/7/12", D, None),
    ("Ｒ５．７．１２", D, None),
    ("令和5年7月12日", D, None),
    ("令和５年７月１２日", D, None),
    ("令和五年七月十二日", D, None),
    ("2023/07/12 0:00:00", D, None),
    ("2023-07-12 00:00", D, None),
    ("2023-07-12T13:45:00", D, None),
    (D, D, None),
    (datetime(2023, 7, 12, 0, 0), D, None),
    (datetime(2023, 7, 12, 18, 30), D, None),
    (45119, D, None),
    (45119.0, D, None),
    (45119.75, D, None),
    (Decimal(45119), D, None),
    (20230712, D, None),
    ("令和元年5月1日", date(2019, 5, 1), None),
    ("R1.5.1", date(2019, 5, 1), None),
    ("H31.4.30", date(2019, 4, 30), None),
    ("平成元年1月8日", date(1989, 1, 8), None),
    ("昭和64年1月7日", date(1989, 1, 7), None),
    ("S45.4.1", date(1970, 4, 1), None),
    ("明治元年1月25日", date(1868, 1, 25), None),
    ("大正元年7月30日", date(1912, 7, 30), None),
    ("T15.12.25", date(1926, 12, 25), None),
    ("1868/1/1", date(1868, 1, 1), None),
    ("2026/11/27", TODAY, None),
    ("2024/2/29", date(2024, 2, 29), None),
    # 和暦 past its era's end: converted with a warning.
    ("平成31年5月1日", date(2019, 5, 1), "era_year_overflow"),
    ("H31.5.1", date(2019, 5, 1), "era_year_overflow"),
    ("平成32年1月5日", date(2020, 1, 5), "era_year_overflow"),
    ("昭和64年1月8日", date(1989, 1, 8), "era_year_overflow"),
    ("S65.3.1", date(1990, 3, 1), "era_year_overflow"),
]


@pytest.mark.parametrize(("raw", "expected", "warning"), DATE_OK, ids=repr)
def test_parse_date(raw: object, expected: date, warning: str | None) -> None:
    parsed = a_date(raw)
    assert parsed.value == expected
    assert type(parsed.value) is date
    assert parsed.warning_code == warning


def test_era_overflow_date_message() -> None:
    w = a_date("平成31年5月1日").warning_ja
    assert w == "平成31年5月1日は令和元年5月1日（2019年5月1日）として扱いました"


DATE_ERRORS: list[tuple[object, str]] = [
    ("2023/2/30", "invalid_date"),
    ("2023/13/1", "invalid_date"),
    ("2023年2月29日", "invalid_date"),
    ("20230230", "invalid_date"),
    ("R5.2.29", "invalid_date"),
    ("2026/11/28", "future_date"),
    ("令和9年1月1日", "future_date"),
    (date(2027, 1, 1), "future_date"),
    (datetime(2026, 11, 28, 0, 0), "future_date"),
    ("1867/12/31", "date_too_old"),
    ("1600-01-01", "date_too_old"),
    (date(1867, 1, 1), "date_too_old"),
    ("令和0年5月1日", "era_year_zero"),
    ("R0.5.1", "era_year_zero"),
    ("令和元年4月1日", "date_before_era"),
    ("R1.4.30", "date_before_era"),
    ("平成元年1月7日", "date_before_era"),
    ("明治元年1月1日", "date_before_era"),
    ("abc", "not_a_date"),
    ("2023/7", "not_a_date"),
    ("2023/7-12", "not_a_date"),
    ("7/12/2023", "not_a_date"),
    ("45119", "not_a_date"),  # serials are accepted only as numbers
    (1970, "not_a_date"),  # a bare year typed into a date column, not serial 1970 (1905-05-23)
    (0, "not_a_date"),
    (3_000_000, "not_a_date"),
    (float("inf"), "not_a_date"),
    (-5, "not_a_date"),
]


@pytest.mark.parametrize(("raw", "code"), DATE_ERRORS, ids=repr)
def test_parse_date_errors(raw: object, code: str) -> None:
    assert error_code(a_date, raw) == code


def test_excel_serial_boundaries() -> None:
    # 1900 date system counted from 1899-12-30, as openpyxl/pandas do: exact from serial 61 on.
    assert a_date(1).value == date(1899, 12, 31)
    assert a_date(61).value == date(1900, 3, 1)
    assert a_date(45119).value == date(2023, 7, 12)
    assert parse_date(2958465, today=date(9999, 12, 31)).value == date(9999, 12, 31)
    assert error_code(a_date, 2958466) == "not_a_date"


# --------------------------------------------------------------------------- to_wareki


@pytest.mark.parametrize(
    ("d", "kanji", "short"),
    [
        (date(2023, 7, 12), "令和5年7月12日", "R5.7.12"),
        (date(2019, 5, 1), "令和元年5月1日", "R1.5.1"),
        (date(2019, 4, 30), "平成31年4月30日", "H31.4.30"),
        (date(1989, 1, 8), "平成元年1月8日", "H1.1.8"),
        (date(1989, 1, 7), "昭和64年1月7日", "S64.1.7"),
        (date(1970, 4, 1), "昭和45年4月1日", "S45.4.1"),
        (date(1926, 12, 25), "大正15年12月25日", "T15.12.25"),
        (date(1912, 7, 30), "大正元年7月30日", "T1.7.30"),
        (date(1868, 1, 25), "明治元年1月25日", "M1.1.25"),
        (datetime(2023, 7, 12, 9, 0), "令和5年7月12日", "R5.7.12"),
    ],
)
def test_to_wareki(d: date, kanji: str, short: str) -> None:
    assert to_wareki(d) == kanji
    assert to_wareki(d, style="kanji") == kanji
    assert to_wareki(d, style="short") == short


def test_to_wareki_rejects_pre_meiji_and_bad_style() -> None:
    with pytest.raises(ValueError):
        to_wareki(date(1868, 1, 24))
    with pytest.raises(ValueError):
        to_wareki(date(2023, 1, 1), style="roman")


# --------------------------------------------------------------------------- grades

GRADE_OK: list[tuple[object, int]] = [
    ("Ⅰ", 1),
    ("Ⅱ", 2),
    ("Ⅲ", 3),
    ("Ⅳ", 4),
    ("I", 1),
    ("II", 2),
    ("III", 3),
    ("IV", 4),
    ("i", 1),
    ("ii", 2),
    ("iii", 3),
    ("iv", 4),
    ("Iv", 4),
    ("Ｉ", 1),
    ("ＩＩ", 2),
    ("ＩＩＩ", 3),
    ("ＩＶ", 4),
    ("ⅲ", 3),
    ("1", 1),
    ("2", 2),
    ("3", 3),
    ("4", 4),
    ("４", 4),
    (1, 1),
    (4, 4),
    (1.0, 1),
    (3.0, 3),
    ("3.0", 3),
    ("Ⅲ（早期措置段階）", 3),
    ("Ⅲ (早期措置段階)", 3),
    ("判定区分Ⅲ", 3),
    ("判定区分 III", 3),
    ("Ⅲ判定", 3),
    ("健全性Ⅱ", 2),
    ("健全", 1),
    ("予防保全段階", 2),
    ("早期措置段階", 3),
    ("緊急措置段階", 4),
    ("Ⅰ 健全", 1),
    (" Ⅳ ", 4),
]


@pytest.mark.parametrize(("raw", "expected"), GRADE_OK, ids=repr)
def test_parse_grade(raw: object, expected: int) -> None:
    assert parse_grade(raw) == Parsed(expected)


GRADE_ERRORS: list[tuple[object, str]] = [
    ("5", "grade_out_of_range"),
    (5, "grade_out_of_range"),
    ("Ⅴ", "grade_out_of_range"),
    ("V", "grade_out_of_range"),
    ("0", "grade_out_of_range"),
    (0, "grade_out_of_range"),
    ("-1", "grade_out_of_range"),
    ("判定区分Ⅴ", "grade_out_of_range"),
    ("A", "not_a_grade"),
    ("C1", "not_a_grade"),
    ("良好", "not_a_grade"),
    ("2.5", "not_a_grade"),
    ("未点検", "not_a_grade"),
    ("Ⅱ（早期措置段階）", "not_a_grade"),
    ("Ⅱ→Ⅲ", "not_a_grade"),
]


@pytest.mark.parametrize(("raw", "code"), GRADE_ERRORS, ids=repr)
def test_parse_grade_errors(raw: object, code: str) -> None:
    assert error_code(parse_grade, raw) == code


def test_grade_message() -> None:
    for raw in ("5", "A"):
        with pytest.raises(InvalidValue) as info:
            parse_grade(raw)
        assert "健全性は Ⅰ〜Ⅳ（I〜IV、1〜4）で入力してください" in info.value.message_ja


def test_grade_label() -> None:
    assert [grade_label(g) for g in (1, 2, 3, 4)] == ["I", "II", "III", "IV"]
    for g in (1, 2, 3, 4):
        assert parse_grade(grade_label(g)).value == g
    for bad in (0, 5):
        with pytest.raises(ValueError):
            grade_label(bad)


# --------------------------------------------------------------------------- numbers

NUMBER_OK: list[tuple[object, str, float, str | None]] = [
    ("12.5", "", 12.5, None),
    ("0", "", 0.0, None),
    (0, "", 0.0, None),
    ("1,234.5", "", 1234.5, None),
    ("１，２３４", "", 1234.0, None),
    ("1,234,567", "", 1234567.0, None),
    ("１２．５", "", 12.5, None),
    ("-3.5", "", -3.5, None),
    ("−3.5", "", -3.5, None),
    ("▲1,000", "", -1000.0, None),
    ("+2", "", 2.0, None),
    (".5", "", 0.5, None),
    ("1e3", "", 1000.0, None),
    ("12.5m", "", 12.5, None),
    ("12.5ｍ", "", 12.5, None),
    ("3.2 m", "", 3.2, None),
    ("350m2", "", 350.0, None),
    ("350㎡", "", 350.0, None),
    ("350 m²", "", 350.0, None),
    ("12.5m", "m", 12.5, None),
    ("12.5ｍ", "m", 12.5, None),
    ("350m2", "m2", 350.0, None),
    ("350㎡", "m2", 350.0, None),
    ("350㎡", "㎡", 350.0, None),
    ("350平米", "m2", 350.0, None),
    ("1,200千円", "千円", 1200.0, None),
    ("¥1,000", "円", 1000.0, None),
    ("3本", "", 3.0, None),
    ("50%", "%", 50.0, None),
    ("5名", "人", 5.0, None),
    ("1,200人", "", 1200.0, None),
    (12.5, "m", 12.5, None),
    (1234, "", 1234.0, None),
    (Decimal("12.5"), "", 12.5, None),
    ("約30", "", 30.0, "approximate"),
    ("約 12.5m", "m", 12.5, "approximate"),
    ("30m程度", "m", 30.0, "approximate"),
    ("12.5cm", "m", 0.125, "unit_converted"),
    ("1.1km", "m", 1100.0, "unit_converted"),
    ("1.2万円", "千円", 12.0, "unit_converted"),
    ("0.5ha", "m2", 5000.0, "unit_converted"),
]


@pytest.mark.parametrize(("raw", "unit", "expected", "warning"), NUMBER_OK, ids=repr)
def test_parse_number(raw: object, unit: str, expected: float, warning: str | None) -> None:
    parsed = parse_number(raw, unit_hint=unit)
    assert parsed.value == expected
    assert isinstance(parsed.value, float)
    assert parsed.warning_code == warning


NUMBER_ERRORS: list[tuple[object, dict[str, Any], str]] = [
    ("abc", {}, "not_a_number"),
    ("12,5", {}, "not_a_number"),  # not a thousands grouping (decimal comma is not used in Japan)
    ("1.2.3", {}, "not_a_number"),
    ("30以上", {}, "not_a_number"),
    ("10〜20", {}, "not_a_number"),
    ("12.5xyz", {}, "not_a_number"),
    ("inf", {}, "not_a_number"),
    (float("inf"), {}, "not_a_number"),
    ("約", {}, "not_a_number"),
    (True, {}, "not_a_number"),
    ("12.5m", {"unit_hint": "m2"}, "unit_mismatch"),
    ("3本", {"unit_hint": "m"}, "unit_mismatch"),
    ("12.5xyz", {"unit_hint": "m"}, "unit_mismatch"),
    ("-1", {"minimum": 0}, "below_minimum"),
    (-0.5, {"minimum": 0}, "below_minimum"),
    ("1,001", {"maximum": 1000}, "above_maximum"),
    ("12.5cm", {"unit_hint": "m", "maximum": 0.1}, "above_maximum"),
    ("1.8e308", {}, "not_a_number"),  # beyond float
    ("1e999999999", {}, "not_a_number"),
    (Decimal("Infinity"), {}, "not_a_number"),
]


@pytest.mark.parametrize(("raw", "kwargs", "code"), NUMBER_ERRORS, ids=repr)
def test_parse_number_errors(raw: object, kwargs: dict[str, Any], code: str) -> None:
    assert error_code(partial(parse_number, **kwargs), raw) == code


def test_number_bounds_inclusive_and_messages() -> None:
    assert parse_number("0", minimum=0, maximum=0).value == 0.0
    with pytest.raises(InvalidValue) as info:
        parse_number("-1", minimum=0, unit_hint="m")
    assert info.value.message_ja == "0m以上の数値を入力してください"
    with pytest.raises(InvalidValue) as info:
        parse_number("abc", unit_hint="m")
    assert "数値" in info.value.message_ja and "m" in info.value.message_ja


INT_OK: list[tuple[object, int, str | None]] = [
    ("3", 3, None),
    ("３", 3, None),
    ("3.0", 3, None),
    (3.0, 3, None),
    (3, 3, None),
    ("1,234", 1234, None),
    ("3本", 3, None),
    ("2径間", 2, None),
    ("約100", 100, "approximate"),
    ("12345678901234567890", 12345678901234567890, None),
]


@pytest.mark.parametrize(("raw", "expected", "warning"), INT_OK, ids=repr)
def test_parse_int(raw: object, expected: int, warning: str | None) -> None:
    parsed = parse_int(raw)
    assert parsed.value == expected
    assert type(parsed.value) is int
    assert parsed.warning_code == warning


@pytest.mark.parametrize(
    ("raw", "kwargs", "code"),
    [
        ("3.5", {}, "not_an_integer"),
        (3.5, {}, "not_an_integer"),
        ("abc", {}, "not_a_number"),
        ("0", {"minimum": 1}, "below_minimum"),
        ("11", {"maximum": 10}, "above_maximum"),
        ("1e999999999", {}, "not_a_number"),  # must not try to build a billion-digit int
        ("9" * 5000, {}, "not_a_number"),
    ],
    ids=repr,
)
def test_parse_int_errors(raw: object, kwargs: dict[str, Any], code: str) -> None:
    assert error_code(partial(parse_int, **kwargs), raw) == code


# --------------------------------------------------------------------------- coordinates

DMS = 34 + 31 / 60 + 40 / 3600
COORD_OK: list[tuple[object, Axis, float]] = [
    ("34.5277", "lat", 34.5277),
    ("３４．５２７７", "lat", 34.5277),
    ("34.5277°", "lat", 34.5277),
    ("34.5277度", "lat", 34.5277),
    ("N34.5277", "lat", 34.5277),
    ("n 34.5277", "lat", 34.5277),
    ("34.5277N", "lat", 34.5277),
    ("北緯34.5277", "lat", 34.5277),
    ("北緯 34.5277", "lat", 34.5277),
    (34.5277, "lat", 34.5277),
    ("34°31'40\"", "lat", DMS),
    ("34°31′40″", "lat", DMS),
    ("34° 31' 40\"", "lat", DMS),
    ("34°31'40", "lat", DMS),
    ("34º31’40”", "lat", DMS),
    ("34度31分40秒", "lat", DMS),
    ("北緯34度31分40秒", "lat", DMS),
    ("N34°31'40\"", "lat", DMS),
    ("34°31′40.5″", "lat", 34 + 31 / 60 + 40.5 / 3600),
    ("34度31分40.5秒", "lat", 34 + 31 / 60 + 40.5 / 3600),
    ("34°31.5'", "lat", 34 + 31.5 / 60),
    ("34度31.5分", "lat", 34 + 31.5 / 60),
    ("135.9271", "lon", 135.9271),
    ("E135.9271", "lon", 135.9271),
    ("東経135.9271", "lon", 135.9271),
    ("135°55'37\"", "lon", 135 + 55 / 60 + 37 / 3600),
    ("東経135度55分37秒", "lon", 135 + 55 / 60 + 37 / 3600),
    (135.9271, "lon", 135.9271),
    ("20", "lat", 20.0),
    ("46", "lat", 46.0),
    ("122", "lon", 122.0),
    ("154", "lon", 154.0),
]


@pytest.mark.parametrize(("raw", "axis", "expected"), COORD_OK, ids=repr)
def test_parse_coordinate(raw: object, axis: Axis, expected: float) -> None:
    parsed = parse_coordinate(raw, axis)
    assert parsed.value == pytest.approx(expected, abs=1e-12)
    assert parsed.warning_code is None


COORD_ERRORS: list[tuple[object, Axis, str]] = [
    ("135.9271", "lat", "outside_japan"),  # longitude in the latitude column
    ("34.5277", "lon", "outside_japan"),  # latitude in the longitude column
    ("19.99", "lat", "outside_japan"),
    ("46.01", "lat", "outside_japan"),
    ("121.9", "lon", "outside_japan"),
    ("154.1", "lon", "outside_japan"),
    ("-34.5", "lat", "outside_japan"),
    ("S34.5", "lat", "outside_japan"),
    ("W135.5", "lon", "outside_japan"),
    (0, "lat", "outside_japan"),
    ("E35.5", "lat", "not_a_coordinate"),  # 東経 given in the latitude column
    ("北緯135.5", "lon", "not_a_coordinate"),
    ("34-31-40", "lat", "not_a_coordinate"),
    ("34 31 40", "lat", "not_a_coordinate"),
    ("abc", "lat", "not_a_coordinate"),
    ("34°61'", "lat", "not_a_coordinate"),
    ("34°31'60\"", "lat", "not_a_coordinate"),
    ("34.5°31'", "lat", "not_a_coordinate"),
    ("N34.5N", "lat", "not_a_coordinate"),
]


@pytest.mark.parametrize(("raw", "axis", "code"), COORD_ERRORS, ids=repr)
def test_parse_coordinate_errors(raw: object, axis: Axis, code: str) -> None:
    assert error_code(partial(parse_coordinate, axis=axis), raw) == code


def test_coordinate_messages() -> None:
    with pytest.raises(InvalidValue) as info:
        lat("135.5")
    assert info.value.message_ja == "緯度は日本国内の範囲（20〜46度）で入力してください"
    with pytest.raises(InvalidValue) as info:
        lon("34.5")
    assert info.value.message_ja == "経度は日本国内の範囲（122〜154度）で入力してください"


def test_coordinate_bad_axis() -> None:
    with pytest.raises(ValueError):
        parse_coordinate("34.5", "x")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- 団体コード

LG_OK: list[tuple[object, str, str | None]] = [
    ("29212", "292125", None),  # 宇陀市
    ("292125", "292125", None),
    ("２９２１２", "292125", None),
    (" 29212 ", "292125", None),
    (29212, "292125", None),
    (29212.0, "292125", None),
    (292125, "292125", None),
    (292125.0, "292125", None),
    ("29385", "293857", None),  # 曽爾村
    ("293857", "293857", None),
    ("01100", "011002", None),  # 札幌市
    ("011002", "011002", None),
    (1100, "011002", None),  # Excel dropped the leading zero
    (1100.0, "011002", None),
    ("01000", "010006", None),  # 北海道
    (1000, "010006", None),
    ("1100", "011002", "lg_code_zero_padded"),
    ("292125.0", "292125", None),
]


@pytest.mark.parametrize(("raw", "expected", "warning"), LG_OK, ids=repr)
def test_parse_lg_code(raw: object, expected: str, warning: str | None) -> None:
    parsed = parse_lg_code(raw)
    assert parsed.value == expected
    assert parsed.warning_code == warning


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("292124", "lg_code_check_digit"),
        (292124, "lg_code_check_digit"),
        ("011001", "lg_code_check_digit"),
        ("abc", "not_an_lg_code"),
        ("123", "not_an_lg_code"),
        ("1234567", "not_an_lg_code"),
        ("29-212", "not_an_lg_code"),
        (999, "not_an_lg_code"),
        (1_000_000, "not_an_lg_code"),
        (29212.5, "not_an_lg_code"),
        (-29212, "not_an_lg_code"),
    ],
    ids=repr,
)
def test_parse_lg_code_errors(raw: object, code: str) -> None:
    assert error_code(parse_lg_code, raw) == code


@pytest.mark.parametrize(
    ("code5", "digit"), [("29212", "5"), ("29385", "7"), ("01100", "2"), ("01000", "6"), ("13101", "6")]
)
def test_check_digit_real_codes(code5: str, digit: str) -> None:
    assert check_digit(code5) == digit


@pytest.mark.parametrize("bad", ["2921", "292125", "２９２１２", "29a12", ""])
def test_check_digit_rejects_non_code5(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


# --------------------------------------------------------------------------- pandas / numpy cells


def test_numpy_and_pandas_cells() -> None:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    for blank in (np.nan, np.float64("nan"), pd.NaT, None):
        for parser in ALL_PARSERS:
            assert parser(blank) == Parsed(None)
    assert year(np.int64(1970)).value == 1970
    assert year(np.float64(1970.0)).value == 1970
    assert year(pd.Timestamp("1971-02-01")).value == 1970
    assert a_date(pd.Timestamp("2023-07-12 09:30")).value == D
    assert a_date(np.datetime64("2023-07-12")).value == D
    assert a_date(np.int64(45119)).value == D
    assert parse_number(np.float32(12.5)).value == 12.5
    assert parse_int(np.int64(3)).value == 3
    assert parse_grade(np.int64(3)).value == 3
    assert lat(np.float64(34.5)).value == 34.5
    assert parse_lg_code(np.int64(29212)).value == "292125"


# --------------------------------------------------------------------------- InvalidValue


def test_invalid_value_attributes_and_pickle() -> None:
    exc = InvalidValue("not_a_year", "年度を入力してください", "Enter a year.")
    assert (exc.code, exc.message_ja, exc.message_en) == (
        "not_a_year",
        "年度を入力してください",
        "Enter a year.",
    )
    assert "年度を入力してください" in str(exc)
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.code, copy.message_ja, copy.message_en) == (exc.code, exc.message_ja, exc.message_en)


def test_errors_are_fresh_exceptions() -> None:
    """Cached parsing must not hand out one shared exception object."""
    seen = []
    for _ in range(2):
        with pytest.raises(InvalidValue) as info:
            year("abc")
        seen.append(info.value)
    assert seen[0] is not seen[1]


def test_parsed_is_frozen() -> None:
    p = Parsed(1)
    with pytest.raises(AttributeError):
        p.value = 2  # type: ignore[misc]


# --------------------------------------------------------------------------- properties

dates_since_meiji = st.dates(min_value=date(1868, 1, 25), max_value=TODAY)


@given(dates_since_meiji)
def test_date_round_trips(d: date) -> None:
    for text in (to_wareki(d), to_wareki(d, style="short"), d.isoformat(), f"{d.year}/{d.month}/{d.day}"):
        assert a_date(text) == Parsed(d), text
        assert a_date(fullwidth(text)) == Parsed(d), text


@given(st.dates(min_value=date(1900, 3, 1), max_value=TODAY))
def test_excel_serial_round_trips(d: date) -> None:
    serial = (d - date(1899, 12, 30)).days
    if 1868 <= serial <= 2200:  # refused as a probable bare year (see test_parse_date_errors)
        return
    assert a_date(serial).value == d
    assert a_date(float(serial) + 0.5).value == d
    assert a_date(datetime(d.year, d.month, d.day, 12)).value == d


@given(st.integers(min_value=1868, max_value=TODAY.year))
def test_year_round_trips(y: int) -> None:
    assert year(str(y)) == Parsed(y)
    assert year(y) == Parsed(y)
    assert year(float(y)) == Parsed(y)
    assert year(f"{y}年度") == Parsed(y)
    era_text = to_wareki(date(y, 12, 31)).split("年")[0] + "年"  # e.g. 昭和45年
    assert year(era_text) == Parsed(y), era_text
    short = to_wareki(date(y, 12, 31), style="short").split(".")[0]  # e.g. S45
    assert year(short) == Parsed(y), short


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_with_thousands_separator_round_trips(x: float) -> None:
    assert parse_number(f"{x:,}").value == x
    assert parse_number(fullwidth(f"{x:,}")).value == x


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_int_with_thousands_separator_round_trips(n: int) -> None:
    assert parse_int(f"{n:,}").value == n
    assert parse_number(f"{n:,}").value == float(n)


code5s = st.text(alphabet="0123456789", min_size=5, max_size=5)


@given(code5s)
def test_lg_code_from_any_code5(code5: str) -> None:
    lg = parse_lg_code(code5).value
    assert lg == code5 + check_digit(code5)
    assert parse_lg_code(lg).value == lg
    assert parse_lg_code(fullwidth(code5)).value == lg
    wrong = lg[:5] + str((int(lg[5]) + 1) % 10)
    with pytest.raises(InvalidValue) as info:
        parse_lg_code(wrong)
    assert info.value.code == "lg_code_check_digit"


@given(
    st.one_of(
        st.text(), st.text(alphabet="0123456789０１２３４５６７８９./-年月日度分秒'\"°′″元昭平令SHRⅠⅡⅢⅣ約,m ")
    )
)
def test_any_text_parses_or_raises_invalid_value(text: str) -> None:
    """Garbage must surface as InvalidValue (reported per cell), never as a crash."""
    for parser in ALL_PARSERS:
        try:
            result = parser(text)
        except InvalidValue:
            continue
        assert isinstance(result, Parsed)


@given(st.one_of(st.integers(), st.floats(), st.decimals()))
def test_any_number_parses_or_raises_invalid_value(x: object) -> None:
    for parser in ALL_PARSERS:
        try:
            result = parser(x)
        except InvalidValue:
            continue
        assert isinstance(result, Parsed)


# Every valid spelling from the tables above, with the parser that reads it.
FULLWIDTH_CASES: list[tuple[str, Callable[[Any], Parsed[Any]], str]] = (
    [("year", year, r) for r, *_ in YEAR_OK if isinstance(r, str)]
    + [("date", a_date, r) for r, *_ in DATE_OK if isinstance(r, str)]
    + [("grade", parse_grade, r) for r, _ in GRADE_OK if isinstance(r, str)]
    + [("number", partial(parse_number, unit_hint=u), r) for r, u, *_ in NUMBER_OK if isinstance(r, str)]
    + [("int", parse_int, r) for r, *_ in INT_OK if isinstance(r, str)]
    + [("coord", partial(parse_coordinate, axis=a), r) for r, a, _ in COORD_OK if isinstance(r, str)]
    + [("lg", parse_lg_code, r) for r, *_ in LG_OK if isinstance(r, str)]
)


@given(st.sampled_from(FULLWIDTH_CASES), st.data())
def test_fullwidth_input_gives_same_result(
    case: tuple[str, Callable[[Any], Parsed[Any]], str], data: Any
) -> None:
    _, parser, raw = case
    mask = data.draw(st.lists(st.booleans(), min_size=len(raw), max_size=len(raw)))
    expected = parser(raw)
    assert parser(fullwidth(raw, mask)) == expected
    assert parser(fullwidth(raw)) == expected
