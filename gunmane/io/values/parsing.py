"""Pure parsers for the cell values found in municipal infrastructure ledgers (台帳).

Ledgers reach us as Excel/CSV files typed by hand over decades: full-width digits, 和暦,
units glued to numbers, 「不明」 instead of a blank, Excel serial dates.  Every importer column
goes through one of these functions so that the acceptance rules — and the Japanese messages
shown to municipal staff when a value is refused — live in one place.

Design rules:

* unknown (blank, 不明, －, …) is ``Parsed(None)``, never 0 and never an error;
* a refused value raises :class:`InvalidValue` whose message says what was *expected*;
* a value that was accepted but reinterpreted carries a warning (code + ja/en message);
* nothing here touches Django, files or the network.  String parsing is memoised with
  ``lru_cache`` on the raw string because the importer calls these on millions of cells
  drawn from a small set of distinct strings.  Checks that depend on ``today`` or on
  caller-supplied bounds are applied outside the cache.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Generic, Literal, NamedTuple, TypeVar

from gunmane.engine.calendar import fiscal_year

__all__ = [
    "UNKNOWN_TOKENS",
    "InvalidValue",
    "Parsed",
    "check_digit",
    "grade_label",
    "is_unknown",
    "normalize_text",
    "parse_coordinate",
    "parse_date",
    "parse_grade",
    "parse_int",
    "parse_lg_code",
    "parse_number",
    "parse_year",
    "to_wareki",
]

T = TypeVar("T")

_CACHE_SIZE = 1 << 16


# --------------------------------------------------------------------------- result types


class InvalidValue(Exception):
    """A cell value that cannot be accepted.

    ``code`` is a stable snake_case id (for counting/filtering); ``message_ja`` / ``message_en``
    say what was expected.  The importer adds file/row/column/value around it.
    """

    code: str
    message_ja: str
    message_en: str

    def __init__(self, code: str, message_ja: str, message_en: str) -> None:
        # All three go to ``args`` so the exception pickles (multiprocessing importers).
        super().__init__(code, message_ja, message_en)
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.message_ja} ({self.code})"


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """An accepted cell value.  ``value`` None means unknown — never substitute 0 for it."""

    value: T | None
    warning_code: str | None = None
    warning_ja: str | None = None
    warning_en: str | None = None


class ParseError(NamedTuple):
    """An error description; cached instead of exception objects (re-raising a shared
    exception instance would keep growing its traceback)."""

    code: str
    ja: str
    en: str

    def exc(self) -> InvalidValue:
        return InvalidValue(self.code, self.ja, self.en)



class ParseWarning(NamedTuple):
    code: str
    ja: str
    en: str



def _merge_warn(first: ParseWarning | None, second: ParseWarning | None) -> ParseWarning | None:
    """Parsed carries one warning; keep the more important code and both messages."""
    if first is None:
        return second
    if second is None:
        return first
    return ParseWarning(first.code, f"{first.ja} {second.ja}", f"{first.en} {second.en}")


def _parsed(value: T | None, warn: ParseWarning | None = None) -> Parsed[T]:
    if warn is None:
        return Parsed(value)
    return Parsed(value, warn.code, warn.ja, warn.en)


# --------------------------------------------------------------------------- normalisation

# Invisible characters that survive NFKC and ``str.split`` (BOM at the start of CSVs, ZWSP).
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"))


@lru_cache(maxsize=_CACHE_SIZE)
def _normalize_str(s: str) -> str:
    s = unicodedata.normalize("NFKC", s.translate(_INVISIBLE))
    return " ".join(s.split())


def normalize_text(raw: object) -> str:
    """Canonical text of a cell: NFKC, trimmed, inner whitespace collapsed to one space.

    ``None`` and NaN (pandas' blank) give ``""``; integral floats give ``"1970"`` not
    ``"1970.0"`` because Excel stores every number as a float.
    """
    if type(raw) is str:
        return _normalize_str(raw)
    if raw is None:
        return ""
    if type(raw) is float:  # fast path for Excel numbers; the general cases follow
        return "" if raw != raw else str(int(raw)) if raw.is_integer() else repr(raw)
    if type(raw) is int:
        return str(raw)
    if isinstance(raw, str):
        return _normalize_str(str(raw))
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, numbers.Integral):
        return str(int(raw))
    if isinstance(raw, Decimal):
        if raw.is_nan():
            return ""
        return str(int(raw)) if raw.is_finite() and raw == raw.to_integral_value() else str(raw)
    if isinstance(raw, numbers.Real):
        f = float(raw)
        if math.isnan(f):
            return ""
        return str(int(f)) if f.is_integer() else repr(f)
    if isinstance(raw, datetime):
        if raw != raw:  # pandas.NaT
            return ""
        return raw.isoformat(sep=" ")
    if isinstance(raw, date):
        return raw.isoformat()
    return _normalize_str(str(raw))


_UNKNOWN_RAW = (
    "", "不明", "空欄", "未詳", "不詳", "詳細不明", "記載なし", "未記入",
    "-", "--", "---", "－", "―", "‐", "—", "–", "−", "ー", "ｰ", "ーー", "――",
    "n/a", "na", "#n/a", "null", "none", "nan", "nat",
    "?", "？", "??", "…", "...", "・",
)  # fmt: skip
UNKNOWN_TOKENS: frozenset[str] = frozenset(
    set(_UNKNOWN_RAW) | {_normalize_str(t).casefold() for t in _UNKNOWN_RAW}
)
"""Cell texts meaning "unknown".  Membership is tested on ``normalize_text(x).casefold()``;
the raw (un-normalised) spellings are included too so a plain ``x.strip() in`` also works."""

# 「不明（資料なし）」: an unknown word followed by a remark in brackets is still unknown.
_UNKNOWN_REMARK_RE = re.compile(r"(?:不明|未詳|不詳)\s*[(\[].*[)\]]")


def _is_unknown_text(s: str) -> bool:
    """``s`` must already be normalised."""
    return s.casefold() in UNKNOWN_TOKENS or _UNKNOWN_REMARK_RE.fullmatch(s) is not None


def is_unknown(raw: object) -> bool:
    """True for blank / None / NaN / 不明 / － and the other tokens in ``UNKNOWN_TOKENS``."""
    return _is_unknown_text(normalize_text(raw))


def _as_float(raw: object) -> float | None:
    """The cell's number (int, float, Decimal, numpy scalar) as float; None if not a number.
    bool is not a number here: TRUE in a numeric column is a mistake, not 1."""
    if type(raw) is float or type(raw) is int:
        return float(raw)
    if isinstance(raw, bool):
        return None
    if isinstance(raw, Decimal):
        return math.nan if raw.is_nan() else float(raw)
    if isinstance(raw, numbers.Real):
        return float(raw)
    return None


# 約12, 12程度, 1970年頃: accepted as the number with warning "approximate".
_APPROX_PREFIX_RE = re.compile(r"^(?:約|およそ|概ね|おおよそ)\s*")
_APPROX_SUFFIX_RE = re.compile(r"\s*(?:程度|前後|くらい|ぐらい|頃|ごろ)$")


def _strip_approx(s: str) -> tuple[str, bool]:
    t = _APPROX_PREFIX_RE.sub("", s, count=1)
    t = _APPROX_SUFFIX_RE.sub("", t, count=1)
    return t, t != s


def _approx_warn(shown: str) -> ParseWarning:
    return ParseWarning(
        "approximate",
        f"概数（「約」など）として {shown} を取り込みました",
        f"Approximate value; imported as {shown}.",
    )


# Kanji numerals in 和暦 dates (昭和四十五年十二月一日, 一九七〇年).
_KANJI_DIGIT = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_NUM_RE = re.compile("[〇零一二三四五六七八九十]+")


def _kanji_run(m: re.Match[str]) -> str:
    s = m.group()
    if "十" not in s:
        return "".join(str(_KANJI_DIGIT[c]) for c in s)
    tens, _, ones = s.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return s  # not a number we understand; the caller's pattern will then reject it
    return str((_KANJI_DIGIT[tens] if tens else 1) * 10 + (_KANJI_DIGIT[ones] if ones else 0))


def _kanji_to_digits(s: str) -> str:
    return _KANJI_NUM_RE.sub(_kanji_run, s)


# --------------------------------------------------------------------------- 和暦 (eras)


@dataclass(frozen=True, slots=True)
class _Era:
    name: str
    letter: str
    start: date
    end: date | None  # last day, inclusive

    @property
    def last_year(self) -> int | None:
        return None if self.end is None else self.end.year


_ERA_STARTS = (
    ("明治", "M", date(1868, 1, 25)),
    ("大正", "T", date(1912, 7, 30)),
    ("昭和", "S", date(1926, 12, 26)),
    ("平成", "H", date(1989, 1, 8)),
    ("令和", "R", date(2019, 5, 1)),
)
_ERAS: tuple[_Era, ...] = tuple(
    _Era(name, letter, start, _ERA_STARTS[i + 1][2] - timedelta(days=1) if i + 1 < len(_ERA_STARTS) else None)
    for i, (name, letter, start) in enumerate(_ERA_STARTS)
)
_ERA_BY_ALIAS: dict[str, _Era] = {}
for _era in _ERAS:
    _ERA_BY_ALIAS[_era.name] = _era
    _ERA_BY_ALIAS[_era.name[0]] = _era
    _ERA_BY_ALIAS[_era.letter.casefold()] = _era
_ERA_ALT = "明治|大正|昭和|平成|令和|明|大|昭|平|令|[mtshr]"

_MIN_YEAR = 1868  # 明治元年


def _era_of(d: date) -> _Era:
    for era in reversed(_ERAS):
        if d >= era.start:
            return era
    raise ValueError(f"{d.isoformat()} is before 明治 (1868-01-25); no 和暦 for it")


def _era_year_text(era: _Era, n: int) -> str:
    return f"{era.name}{'元' if n == 1 else n}年"


def _wareki_of_year(y: int) -> str:
    """和暦 of a western year, naming the era in force at the end of that year."""
    era = _era_of(date(y, 12, 31))
    return _era_year_text(era, y - era.start.year + 1)


def to_wareki(d: date, *, style: str = "kanji") -> str:
    """Format a date as 和暦 for display: ``令和5年7月12日`` (元年 for year 1) or, with
    ``style="short"``, ``R5.7.12``.  Both forms parse back with :func:`parse_date`."""
    if isinstance(d, datetime):
        d = d.date()
    era = _era_of(d)
    n = d.year - era.start.year + 1
    if style == "kanji":
        return f"{_era_year_text(era, n)}{d.month}月{d.day}日"
    if style == "short":
        return f"{era.letter}{n}.{d.month}.{d.day}"
    raise ValueError(f"unknown style {style!r}; use 'kanji' or 'short'")


def _era_year(alias: str, num: str) -> tuple[_Era, int] | ParseError:
    era = _ERA_BY_ALIAS[alias.casefold()]
    n = 1 if num == "元" else int(num)
    if n == 0:
        return ParseError(
            "era_year_zero",
            f"{era.name}0年はありません。和暦の年は1年（元年）から始まります",
            f"There is no year 0 of {era.name}; era years start at 1 (元年).",
        )
    return era, n


# --------------------------------------------------------------------------- years

_YEAR_EXPECTED_JA = "年度は西暦（1970）または和暦（昭和45年、S45、H元 など）で入力してください"
_YEAR_EXPECTED_EN = "Enter the year as a western year (1970) or a Japanese era year (昭和45年, S45, H元, …)."

_WESTERN_YEAR_RE = re.compile(r"(?:fy)?\s*(\d{4})(?:\.0+)?\s*(?:年度|年)?")
_ERA_YEAR_RE = re.compile(rf"({_ERA_ALT})\s*\.?\s*(元|\d{{1,2}})\s*(?:年度|年)?")
# 「昭和45年（1970年）」: both spellings given; accepted when they agree.
_PAIR_RE = re.compile(r"(.+?)\s*\((.+)\)")

_YearCore = tuple[int, ParseWarning | None, date | None]  # year, warning, source date (date_as_year)


def _not_a_year() -> ParseError:
    return ParseError("not_a_year", _YEAR_EXPECTED_JA, _YEAR_EXPECTED_EN)


def _year_too_old() -> ParseError:
    return ParseError(
        "year_too_old",
        "1868年（明治元年）以降の年度を入力してください",
        "Enter a year from 1868 (明治元年) onwards.",
    )


def _fiscal_year(d: date) -> int:
    return fiscal_year(d)


def _date_as_year_warn(fy: int) -> ParseWarning:
    return ParseWarning(
        "date_as_year",
        f"年度の欄に日付が入力されていたため、{fy}年度（4月始まり）として扱いました",
        f"A date was given where a year was expected; treated as fiscal year {fy} (April start).",
    )


def _year_core(s: str) -> _YearCore | ParseError:
    m = _WESTERN_YEAR_RE.fullmatch(s)
    if m:
        y = int(m[1])
        return _year_too_old() if y < _MIN_YEAR else (y, None, None)
    m = _ERA_YEAR_RE.fullmatch(s)
    if m:
        r = _era_year(m[1], m[2])
        if isinstance(r, ParseError):
            return r
        era, n = r
        y = era.start.year + n - 1
        last = era.last_year
        if last is not None and y > last:
            given, actual = _era_year_text(era, n), _wareki_of_year(y)
            return (
                y,
                ParseWarning(
                    "era_year_overflow",
                    f"{given}は{actual}（{y}年）として扱いました",
                    f"{given} is past the end of {era.name}; treated as {actual} ({y}).",
                ),
                None,
            )
        return y, None, None
    d = _date_core(s)
    if isinstance(d, ParseError):
        if d.code == "not_a_date":
            return _not_a_year()
        return _year_too_old() if d.code == "date_too_old" else d
    day, dwarn = d
    fy = _fiscal_year(day)
    if fy < _MIN_YEAR:
        return _year_too_old()
    return fy, _merge_warn(dwarn, _date_as_year_warn(fy)), day


def _year_from_text(s: str) -> _YearCore | ParseError | None:
    if _is_unknown_text(s):
        return None
    s, approx = _strip_approx(s.casefold())
    s = _kanji_to_digits(s)
    pair = _PAIR_RE.fullmatch(s)
    if pair:
        a, b = _year_core(pair[1]), _year_core(pair[2])
        if isinstance(a, ParseError) or isinstance(b, ParseError):
            result: _YearCore | ParseError = _not_a_year()
        elif a[0] != b[0]:
            return ParseError(
                "not_a_year",
                f"括弧の内外で年度が一致しません（{a[0]}年と{b[0]}年）。" + _YEAR_EXPECTED_JA,
                f"The two spellings of the year disagree ({a[0]} vs {b[0]}). " + _YEAR_EXPECTED_EN,
            )
        else:
            result = (a[0], _merge_warn(a[1], b[1]), a[2] or b[2])
    else:
        result = _year_core(s)
    if approx and not isinstance(result, ParseError):
        result = (result[0], _merge_warn(result[1], _approx_warn(f"{result[0]}年")), result[2])
    return result


# Cached results hold finished ``Parsed`` objects: building a frozen dataclass costs more than
# the cache lookup, and Parsed is immutable so sharing it is safe.
_YearHit = tuple[Parsed[int], date | None]  # parsed, source date (checked against today)
_NO_YEAR: _YearHit = (Parsed(None), None)


def _year_hit(r: _YearCore | ParseError | None) -> _YearHit | ParseError:
    if r is None:
        return _NO_YEAR
    if isinstance(r, ParseError):
        return r
    y, warn, source = r
    return _parsed(y, warn), source


@lru_cache(maxsize=_CACHE_SIZE)
def _year_from_str(raw: str) -> _YearHit | ParseError:
    return _year_hit(_year_from_text(_normalize_str(raw)))


@lru_cache(maxsize=_CACHE_SIZE)
def _year_from_date(d: date) -> _YearHit | ParseError:
    fy = _fiscal_year(d)
    if fy < _MIN_YEAR:
        return _year_too_old()
    return _parsed(fy, _date_as_year_warn(fy)), d


def parse_year(raw: object, *, today: date) -> Parsed[int]:
    """(Fiscal) year: ``1970``, ``1970年度``, ``昭和45年``, ``S45``, ``H元``, Excel numbers.

    A date in a year column becomes its fiscal year (April start) with warning
    ``date_as_year``.  A 和暦 year past its era's end (平成32年) is converted with warning
    ``era_year_overflow``.  Errors: ``not_a_year``, ``future_year``, ``era_year_zero``,
    ``year_too_old`` (and ``invalid_date`` / ``date_before_era`` for broken dates).
    """
    if type(raw) is str:
        r = _year_from_str(raw)
    elif isinstance(raw, date) and raw == raw:  # raw == raw excludes pandas.NaT
        r = _year_from_date(raw.date() if isinstance(raw, datetime) else raw)
    else:
        r = _year_from_str(normalize_text(raw))
    if isinstance(r, ParseError):
        raise r.exc()
    parsed, source = r
    y = parsed.value
    if y is not None and (y > today.year or (source is not None and source > today)):
        raise InvalidValue(
            "future_year",
            f"{y}年は未来の年です。{today.year}年以前の年度を入力してください",
            f"{y} is in the future; enter a year no later than {today.year}.",
        )
    return parsed


# --------------------------------------------------------------------------- dates

_DATE_EXPECTED_JA = "日付は 2023/7/12、2023年7月12日、令和5年7月12日、R5.7.12 などの形で入力してください"
_DATE_EXPECTED_EN = "Enter the date like 2023/7/12, 2023年7月12日, 令和5年7月12日 or R5.7.12."

_TIME = r"(?:(?:\s+|t)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_YMD_SEP_RE = re.compile(rf"(\d{{4}})([/.\-])(\d{{1,2}})\2(\d{{1,2}}){_TIME}")
_YMD_KANJI_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_YMD_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ERA_DATE_RE = re.compile(
    rf"({_ERA_ALT})\s*\.?\s*(元|\d{{1,2}})\s*(?:年|[./\-])\s*(\d{{1,2}})\s*(?:月|[./\-])\s*(\d{{1,2}})\s*日?"
)

_EXCEL_EPOCH = date(1899, 12, 30)  # 1900 date system, including Excel's phantom 1900-02-29
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31

_DateCore = tuple[date, ParseWarning | None]


def _date_too_old() -> ParseError:
    return ParseError(
        "date_too_old",
        "1868年（明治元年）以降の日付を入力してください",
        "Enter a date from 1868 (明治元年) onwards.",
    )


def _invalid_date(shown: str) -> ParseError:
    return ParseError(
        "invalid_date",
        f"{shown}は存在しない日付です。実在する年月日を入力してください",
        f"{shown} does not exist; enter a real calendar date.",
    )


def _western_date(y: int, mo: int, d: int) -> _DateCore | ParseError:
    if y < _MIN_YEAR:
        return _date_too_old()
    try:
        return date(y, mo, d), None
    except ValueError:
        return _invalid_date(f"{y}年{mo}月{d}日")


def _date_core(s: str) -> _DateCore | ParseError:
    """``s`` normalised, casefolded, kanji digits converted; no unknown handling."""
    m = _YMD_SEP_RE.fullmatch(s)
    if m:
        return _western_date(int(m[1]), int(m[3]), int(m[4]))
    m = _YMD_KANJI_RE.fullmatch(s) or _YMD_COMPACT_RE.fullmatch(s)
    if m:
        return _western_date(int(m[1]), int(m[2]), int(m[3]))
    m = _ERA_DATE_RE.fullmatch(s)
    if not m:
        return ParseError("not_a_date", _DATE_EXPECTED_JA, _DATE_EXPECTED_EN)
    r = _era_year(m[1], m[2])
    if isinstance(r, ParseError):
        return r
    era, n = r
    mo, dd = int(m[3]), int(m[4])
    given = f"{_era_year_text(era, n)}{mo}月{dd}日"
    try:
        d = date(era.start.year + n - 1, mo, dd)
    except ValueError:
        return _invalid_date(given)
    if d < era.start:
        return ParseError(
            "date_before_era",
            f"{given}は{era.name}の始まり（{era.start.year}年{era.start.month}月{era.start.day}日）より前です。"
            "元号を確認してください",
            f"{given} is before {era.name} began ({era.start.isoformat()}); check the era.",
        )
    if era.end is not None and d > era.end:
        actual = to_wareki(d)
        return d, ParseWarning(
            "era_year_overflow",
            f"{given}は{actual}（{d.year}年{d.month}月{d.day}日）として扱いました",
            f"{given} is past the end of {era.name}; treated as {actual} ({d.isoformat()}).",
        )
    return d, None


_NO_DATE: Parsed[date] = Parsed(None)


def _date_hit(r: _DateCore | ParseError | None) -> Parsed[date] | ParseError:
    if r is None:
        return _NO_DATE
    if isinstance(r, ParseError):
        return r
    return _parsed(r[0], r[1])


@lru_cache(maxsize=_CACHE_SIZE)
def _date_from_str(raw: str) -> Parsed[date] | ParseError:
    s = _normalize_str(raw)
    if _is_unknown_text(s):
        return _NO_DATE
    return _date_hit(_date_core(_kanji_to_digits(s.casefold())))


@lru_cache(maxsize=_CACHE_SIZE)
def _date_from_date(d: date) -> Parsed[date] | ParseError:
    return _date_too_old() if d.year < _MIN_YEAR else Parsed(d)


@lru_cache(maxsize=_CACHE_SIZE)
def _date_from_number(x: float) -> Parsed[date] | ParseError:
    """Excel serial (1900 system).  8-digit integers are read as YYYYMMDD instead."""
    if math.isfinite(x) and x.is_integer() and 10_000_000 <= x <= 99_999_999:
        return _date_hit(_date_core(str(int(x))))
    if not (math.isfinite(x) and 1 <= x <= _EXCEL_MAX_SERIAL):
        return ParseError("not_a_date", _DATE_EXPECTED_JA, _DATE_EXPECTED_EN)
    if _MIN_YEAR <= x <= 2200 and x.is_integer():
        # Serial 1970 is 1905-05-23: far likelier a bare year typed into a date column.
        return ParseError(
            "not_a_date",
            f"{int(x)}は年だけのように見えます。" + _DATE_EXPECTED_JA,
            f"{int(x)} looks like a bare year. " + _DATE_EXPECTED_EN,
        )
    return _date_from_date(_EXCEL_EPOCH + timedelta(days=math.floor(x)))


def parse_date(raw: object, *, today: date) -> Parsed[date]:
    """A calendar date: ``2023/7/12``, ``2023-07-12``, ``2023年7月12日``, ``20230712``,
    ``R5.7.12``, ``令和5年7月12日``, date/datetime objects, Excel serial numbers.

    Errors: ``not_a_date``, ``invalid_date`` (2023/2/30), ``future_date``, ``date_too_old``,
    ``era_year_zero``, ``date_before_era`` (令和元年4月1日).  A 和暦 date past its era's end
    (平成31年5月1日) is converted with warning ``era_year_overflow``.
    """
    if type(raw) is str:
        r = _date_from_str(raw)
    elif isinstance(raw, date):
        if raw != raw:  # pandas.NaT
            return _NO_DATE
        r = _date_from_date(raw.date() if isinstance(raw, datetime) else raw)
    elif (x := _as_float(raw)) is not None:
        if x != x:  # NaN: pandas' blank; kept out of the cache (every NaN is a new key)
            return _NO_DATE
        r = _date_from_number(x)
    else:
        r = _date_from_str(normalize_text(raw))
    if isinstance(r, ParseError):
        raise r.exc()
    d = r.value
    if d is not None and d > today:
        raise InvalidValue(
            "future_date",
            f"{d.year}年{d.month}月{d.day}日は未来の日付です。今日（{today.year}年{today.month}月{today.day}日）"
            "以前の日付を入力してください",
            f"{d.isoformat()} is in the future; enter a date no later than {today.isoformat()}.",
        )
    return r


# --------------------------------------------------------------------------- 健全性 grades

_GRADE_EXPECTED_JA = "健全性は Ⅰ〜Ⅳ（I〜IV、1〜4）で入力してください"
_GRADE_EXPECTED_EN = "Enter the soundness grade as Ⅰ–Ⅳ (I–IV or 1–4)."
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
_GRADE_TOKEN_RE = re.compile(r"[a-z]+|-?\d+(?:\.\d+)?")
# Checked longest-first after removing 健全性 (which would otherwise read as 健全 = I).
_GRADE_WORDS = (("緊急措置", 4), ("早期措置", 3), ("予防保全", 2), ("健全", 1))
_GRADE_LABELS = ("I", "II", "III", "IV")


def _grade_core(s: str) -> int | ParseError | None:
    if _is_unknown_text(s):
        return None
    t = s.casefold()
    found: set[int] = set()
    for tok in _GRADE_TOKEN_RE.findall(t):
        if tok[0].isalpha():
            if tok not in _ROMAN:
                return ParseError("not_a_grade", _GRADE_EXPECTED_JA, _GRADE_EXPECTED_EN)
            found.add(_ROMAN[tok])
        else:
            x = float(tok)
            if not x.is_integer():
                return ParseError("not_a_grade", _GRADE_EXPECTED_JA, _GRADE_EXPECTED_EN)
            found.add(int(x))
    t = t.replace("健全性", "")
    for word, g in _GRADE_WORDS:
        if word in t:
            found.add(g)
            break
    if not found:
        return ParseError("not_a_grade", _GRADE_EXPECTED_JA, _GRADE_EXPECTED_EN)
    if len(found) > 1:
        return ParseError(
            "not_a_grade",
            "健全性が複数書かれているか、区分と説明が一致しません。" + _GRADE_EXPECTED_JA,
            "Several different grades are given. " + _GRADE_EXPECTED_EN,
        )
    g = found.pop()
    if not 1 <= g <= 4:
        return ParseError("grade_out_of_range", _GRADE_EXPECTED_JA, _GRADE_EXPECTED_EN)
    return g


@lru_cache(maxsize=_CACHE_SIZE)
def _grade_from_str(raw: str) -> Parsed[int] | ParseError:
    r = _grade_core(_normalize_str(raw))
    return r if isinstance(r, ParseError) else Parsed(r)


def parse_grade(raw: object) -> Parsed[int]:
    """健全性 (判定区分) 1–4 from ``Ⅲ``, ``III``, ``3``, ``判定区分Ⅲ``, ``Ⅲ（早期措置段階）``,
    ``早期措置段階`` …  Errors: ``grade_out_of_range`` (0, 5, Ⅴ), ``not_a_grade``."""
    r = _grade_from_str(raw if type(raw) is str else normalize_text(raw))
    if isinstance(r, ParseError):
        raise r.exc()
    return r


def grade_label(grade: int) -> str:
    """ASCII Roman numeral for exports (``3`` → ``"III"``); ASCII so CSV consumers need no NFKC."""
    if not 1 <= grade <= 4:
        raise ValueError(f"grade must be 1..4, got {grade!r}")
    return _GRADE_LABELS[grade - 1]


# --------------------------------------------------------------------------- numbers

# Larger than any float (and "1e999999999" must not build a billion-digit int in parse_int).
_MAX_EXPONENT = 308
_NUMBER_RE = re.compile(
    r"(?P<sign>[-+−‐▲△])?\s*(?P<pre>¥)?\s*"
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?P<exp>e[-+]?\d+)?"
    r"\s*(?P<unit>[^\d\s.,+\-].*)?",
    re.IGNORECASE,
)

# unit → (dimension, factor to the dimension's base unit).  Units of the same dimension
# are converted into the column's unit_hint; counting units only match themselves.
_UNITS: dict[str, tuple[str, Decimal]] = {
    "mm": ("length", Decimal("0.001")),
    "cm": ("length", Decimal("0.01")),
    "m": ("length", Decimal(1)),
    "km": ("length", Decimal(1000)),
    "cm2": ("area", Decimal("0.0001")),
    "m2": ("area", Decimal(1)),
    "a": ("area", Decimal(100)),
    "ha": ("area", Decimal(10_000)),
    "km2": ("area", Decimal(1_000_000)),
    "m3": ("volume", Decimal(1)),
    "l": ("volume", Decimal("0.001")),
    "kg": ("mass", Decimal(1)),
    "t": ("mass", Decimal(1000)),
    "円": ("money", Decimal(1)),
    "千円": ("money", Decimal(1000)),
    "万円": ("money", Decimal(10_000)),
    "百万円": ("money", Decimal(1_000_000)),
    "億円": ("money", Decimal(100_000_000)),
    "%": ("percent", Decimal(1)),
    "年": ("years", Decimal(1)),
    "ヶ月": ("months", Decimal(1)),
    "日": ("days", Decimal(1)),
    "人": ("people", Decimal(1)),
    "台": ("vehicles", Decimal(1)),
}
for _count_unit in ("本", "基", "橋", "箇所", "か所", "カ所", "件", "径間", "車線", "戸", "棟", "施設", "箇"):
    _UNITS[_count_unit] = (_count_unit, Decimal(1))
_UNIT_ALIASES = {
    "メートル": "m", "キロメートル": "km", "km": "km", "センチ": "cm", "ミリ": "mm",
    "m^2": "m2", "平米": "m2", "平方メートル": "m2", "㎡": "m2", "km^2": "km2",
    "m^3": "m3", "立米": "m3", "立方メートル": "m3", "ℓ": "l", "リットル": "l",
    "トン": "t", "キロ": "kg", "キログラム": "kg",
    "ケ月": "ヶ月", "ヵ月": "ヶ月", "か月": "ヶ月", "カ月": "ヶ月",
    "パーセント": "%", "年間": "年", "名": "人",
}  # fmt: skip


def _canon_unit(u: str) -> str:
    u = _normalize_str(u).replace(" ", "")
    return _UNIT_ALIASES.get(u, u)


def _fmt_num(x: float | Decimal) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    if isinstance(x, Decimal):
        return format(x.normalize(), "f") if x == x.to_integral_value() else str(x)
    return repr(x)


def _not_a_number(unit_hint: str) -> ParseError:
    unit_ja = f"（単位 {unit_hint}）" if unit_hint else ""
    unit_en = f" (in {unit_hint})" if unit_hint else ""
    return ParseError(
        "not_a_number",
        f"数値{unit_ja}で入力してください（例: 12.5、1,234、12.5m）",
        f"Enter a number{unit_en}, e.g. 12.5, 1,234 or 12.5m.",
    )


_NumberCore = tuple[Decimal, ParseWarning | None]


def _number_from_str(raw: str, unit_hint: str) -> _NumberCore | ParseError | None:
    s = _normalize_str(raw)
    if _is_unknown_text(s):
        return None
    s, approx = _strip_approx(s)
    m = _NUMBER_RE.fullmatch(s)
    if not m:
        return _not_a_number(unit_hint)
    value = Decimal(m["num"].replace(",", "") + (m["exp"] or ""))  # the regex admits only valid literals
    if value.adjusted() > _MAX_EXPONENT:
        return _not_a_number(unit_hint)
    if m["sign"] and m["sign"] != "+":
        value = -value
    unit = _canon_unit(m["unit"]) if m["unit"] else ("円" if m["pre"] else "")
    hint = _canon_unit(unit_hint) if unit_hint else ""
    warn: ParseWarning | None = None
    if unit and unit != hint:
        have, want = _UNITS.get(unit), _UNITS.get(hint)
        if not hint:
            if have is None:
                return _not_a_number(unit_hint)
        elif have is not None and want is not None and have[0] == want[0]:
            value = value * have[1] / want[1]
            warn = ParseWarning(
                "unit_converted",
                f"{m['num']}{unit} を {_fmt_num(value)}{unit_hint} に換算しました",
                f"Converted {m['num']}{unit} to {_fmt_num(value)}{unit_hint}.",
            )
        else:
            return ParseError(
                "unit_mismatch",
                f"この欄の単位は {unit_hint} です。{unit} の値は入力できません。{unit_hint} の数値で入力してください",
                f"This column is in {unit_hint}; a value in {unit} cannot be used. Enter a number in {unit_hint}.",
            )
    if approx:
        warn = _merge_warn(warn, _approx_warn(f"{_fmt_num(value)}{unit_hint}"))
    return value, warn


def _number_from_value(x: int | float | Decimal, unit_hint: str) -> _NumberCore | ParseError:
    if isinstance(x, int):
        return Decimal(x), None
    if isinstance(x, float):
        return (Decimal(repr(x)), None) if math.isfinite(x) else _not_a_number(unit_hint)
    return (x, None) if x.is_finite() and x.adjusted() <= _MAX_EXPONENT else _not_a_number(unit_hint)


def _number_key(raw: object) -> str | int | float | Decimal:
    """Hashable cache key: the str itself, or the cell's number as int/float/Decimal."""
    if type(raw) is str or type(raw) is int:
        return raw
    if type(raw) is float:
        return raw if raw == raw else ""  # NaN is pandas' blank
    x = _as_float(raw)
    if x is not None:
        if math.isnan(x):
            return ""
        if isinstance(raw, numbers.Integral | Decimal):
            return int(raw) if isinstance(raw, numbers.Integral) else raw
        return x
    return normalize_text(raw)


def _number_core(key: str | int | float | Decimal, unit_hint: str) -> _NumberCore | ParseError | None:
    if isinstance(key, str):
        return _number_from_str(key, unit_hint)
    return _number_from_value(key, unit_hint)


_NO_FLOAT: Parsed[float] = Parsed(None)
_NO_INT: Parsed[int] = Parsed(None)


@lru_cache(maxsize=_CACHE_SIZE)
def _float_from(key: str | int | float | Decimal, unit_hint: str) -> Parsed[float] | ParseError:
    r = _number_core(key, unit_hint)
    if r is None:
        return _NO_FLOAT
    if isinstance(r, ParseError):
        return r
    value = float(r[0])
    return _parsed(value, r[1]) if math.isfinite(value) else _not_a_number(unit_hint)


@lru_cache(maxsize=_CACHE_SIZE)
def _int_from(key: str | int | float | Decimal) -> Parsed[int] | ParseError:
    r = _number_core(key, "")
    if r is None:
        return _NO_INT
    if isinstance(r, ParseError):
        return r
    dec, warn = r
    if dec != dec.to_integral_value():
        return ParseError("not_an_integer", "整数で入力してください（例: 3）", "Enter a whole number, e.g. 3.")
    return _parsed(int(dec), warn)


def _check_bounds(value: float | int, minimum: float | None, maximum: float | None, unit_hint: str) -> None:
    if minimum is not None and value < minimum:
        raise InvalidValue(
            "below_minimum",
            f"{_fmt_num(float(minimum))}{unit_hint}以上の数値を入力してください",
            f"Enter a number of at least {_fmt_num(float(minimum))}{unit_hint}.",
        )
    if maximum is not None and value > maximum:
        raise InvalidValue(
            "above_maximum",
            f"{_fmt_num(float(maximum))}{unit_hint}以下の数値を入力してください",
            f"Enter a number of at most {_fmt_num(float(maximum))}{unit_hint}.",
        )


def parse_number(
    raw: object, *, minimum: float | None = None, maximum: float | None = None, unit_hint: str = ""
) -> Parsed[float]:
    """A real number: ``1,234.5``, ``１，２３４``, ``12.5m``, ``350㎡``, ``約30`` (warning
    ``approximate``), ``▲5`` (negative, as in 決算書).

    ``unit_hint`` is the column's unit: a trailing unit equal to it is dropped; one of the
    same kind is converted (``12.5cm`` in an ``m`` column → 0.125, warning ``unit_converted``);
    any other unit is refused (``unit_mismatch``).  Without a hint any known unit is dropped.
    Errors: ``not_a_number``, ``below_minimum``, ``above_maximum``, ``unit_mismatch``.
    """
    r = _float_from(_number_key(raw), unit_hint)
    if isinstance(r, ParseError):
        raise r.exc()
    if r.value is not None:
        _check_bounds(r.value, minimum, maximum, unit_hint)
    return r


def parse_int(raw: object, *, minimum: int | None = None, maximum: int | None = None) -> Parsed[int]:
    """An integer (counts, 径間数 …): same forms as :func:`parse_number`, plus ``3.0`` → 3.
    Errors: ``not_a_number``, ``not_an_integer`` (3.5), ``below_minimum``, ``above_maximum``."""
    r = _int_from(_number_key(raw))
    if isinstance(r, ParseError):
        raise r.exc()
    if r.value is not None:
        _check_bounds(r.value, minimum, maximum, "")
    return r


# --------------------------------------------------------------------------- coordinates

COORD_BOUNDS = {"lat": (20.0, 46.0), "lon": (122.0, 154.0)}
_AXIS_JA = {"lat": "緯度", "lon": "経度"}
_AXIS_EN = {"lat": "Latitude", "lon": "Longitude"}
_HEMI = {
    "北緯": ("lat", 1), "南緯": ("lat", -1), "東経": ("lon", 1), "西経": ("lon", -1),
    "n": ("lat", 1), "s": ("lat", -1), "e": ("lon", 1), "w": ("lon", -1),
}  # fmt: skip
# Typographic marks people paste from Word; NFKC would map º to "o" and ″ to ′′.
_COORD_PRE = str.maketrans({"º": "°", "˚": "°", "’": "'", "‘": "'", "”": '"', "“": '"', "″": '"'})
_NUM = r"\d+(?:\.\d+)?"
_COORD_RE = re.compile(
    rf"(?P<pre>北緯|南緯|東経|西経|[nsew])?\s*(?P<neg>-)?\s*"
    rf"(?:(?P<dec>{_NUM})\s*(?:°|度)?"
    rf"|(?P<d>\d+)\s*(?:°|度)\s*(?P<m>{_NUM})\s*(?:'|′|分)"
    rf"|(?P<d2>\d+)\s*(?:°|度)\s*(?P<m2>\d+)\s*(?:'|′|分)\s*(?P<s>{_NUM})\s*(?:\"|′′|''|秒)?)"
    rf"\s*(?P<post>[nsew])?"
)


def _coord_expected(axis: str) -> ParseError:
    ja = _AXIS_JA[axis]
    ex = "34.5277、34°31′40″、34度31分40秒" if axis == "lat" else "135.9271、135°55′37″、135度55分37秒"
    return ParseError(
        "not_a_coordinate",
        f"{ja}は10進数の度または度分秒（例: {ex}）で入力してください",
        f"Enter the {_AXIS_EN[axis].lower()} in decimal degrees or degrees-minutes-seconds (e.g. {ex}).",
    )


def _coord_core(s: str, axis: str) -> float | ParseError | None:
    if _is_unknown_text(s):
        return None
    m = _COORD_RE.fullmatch(s.casefold())
    if not m or (m["pre"] and m["post"]):
        return _coord_expected(axis)
    hemi = m["pre"] or m["post"]
    sign = -1 if m["neg"] else 1
    if hemi:
        hemi_axis, hemi_sign = _HEMI[hemi]
        if hemi_axis != axis:
            return ParseError(
                "not_a_coordinate",
                f"{_AXIS_JA[axis]}の欄に{_AXIS_JA[hemi_axis]}（{hemi}）が入力されています。列を確認してください",
                f"A {_AXIS_EN[hemi_axis].lower()} ({hemi}) was given in the {_AXIS_EN[axis].lower()} column.",
            )
        sign *= hemi_sign
    if m["dec"] is not None:
        return sign * float(m["dec"])
    deg = int(m["d"] or m["d2"])
    minutes = float(m["m"] or m["m2"])
    seconds = float(m["s"] or 0)
    if minutes >= 60 or seconds >= 60:
        return _coord_expected(axis)
    return sign * (deg + minutes / 60 + seconds / 3600)


_NO_COORD: Parsed[float] = Parsed(None)


def _coord_hit(r: float | ParseError | None, axis: str) -> Parsed[float] | ParseError:
    if r is None:
        return _NO_COORD
    if isinstance(r, ParseError):
        return r
    lo, hi = COORD_BOUNDS[axis]
    if not lo <= r <= hi:
        return ParseError(
            "outside_japan",
            f"{_AXIS_JA[axis]}は日本国内の範囲（{lo:g}〜{hi:g}度）で入力してください",
            f"{_AXIS_EN[axis]} must be within Japan ({lo:g}–{hi:g} degrees).",
        )
    return Parsed(r)


@lru_cache(maxsize=_CACHE_SIZE)
def _coord_from_str(raw: str, axis: str) -> Parsed[float] | ParseError:
    return _coord_hit(_coord_core(_normalize_str(raw.translate(_COORD_PRE)), axis), axis)


@lru_cache(maxsize=_CACHE_SIZE)
def _coord_from_number(x: float, axis: str) -> Parsed[float] | ParseError:
    return _coord_hit(x, axis)


def parse_coordinate(raw: object, axis: Literal["lat", "lon"]) -> Parsed[float]:
    """Latitude/longitude in degrees: ``34.5277``, ``N34.5277``, ``北緯34.5277``, ``34°31′40″``,
    ``34度31分40.5秒``, ``34°31.5′``.  ``34-31-40`` is refused as ambiguous.

    Errors: ``outside_japan`` (lat 20–46, lon 122–154; also catches swapped columns),
    ``not_a_coordinate``.
    """
    if axis not in COORD_BOUNDS:
        raise ValueError(f"axis must be 'lat' or 'lon', got {axis!r}")
    if type(raw) is str:
        r = _coord_from_str(raw, axis)
    elif (x := _as_float(raw)) is not None:
        if x != x:  # NaN: pandas' blank; kept out of the cache (every NaN is a new key)
            return _NO_COORD
        r = _coord_from_number(x, axis)
    else:
        r = _coord_from_str(normalize_text(raw), axis)
    if isinstance(r, ParseError):
        raise r.exc()
    return r


# --------------------------------------------------------------------------- 全国地方公共団体コード

_LG_EXPECTED_JA = (
    "地方公共団体コードは5桁（例: 29212）または検査数字付きの6桁（例: 292125）で入力してください"
)
_LG_EXPECTED_EN = (
    "Enter the local government code as 5 digits (e.g. 29212) or 6 digits with check digit (e.g. 292125)."
)
_LG_STR_RE = re.compile(r"([0-9]{4,6})(?:\.0+)?")
_LgCore = str | tuple[str, ParseWarning] | ParseError


def check_digit(code5: str) -> str:
    """検査数字 of a 5-digit 団体コード (総務省 rule: weights 6..2, modulus 11)."""
    if len(code5) != 5 or not code5.isascii() or not code5.isdigit():
        raise ValueError(f"code5 must be 5 ASCII digits, got {code5!r}")
    total = sum(w * int(c) for w, c in zip((6, 5, 4, 3, 2), code5, strict=True))
    return str((11 - total % 11) % 10)


def _lg_core(digits: str, *, from_number: bool) -> _LgCore:
    if len(digits) == 6:
        expected = digits[:5] + check_digit(digits[:5])
        if expected != digits:
            return ParseError(
                "lg_code_check_digit",
                f"地方公共団体コード {digits} の検査数字（6桁目）が合いません。"
                f"5桁なら {digits[:5]}、6桁なら {expected} のはずです",
                f"The check digit (6th digit) of {digits} is wrong; expected {expected}.",
            )
        return digits
    if len(digits) == 5:
        return digits + check_digit(digits)
    if len(digits) == 4:
        code5 = "0" + digits
        if from_number:  # Excel dropped the leading zero of 01100 (北海道・青森・岩手・宮城 …)
            return code5 + check_digit(code5)
        return code5 + check_digit(code5), ParseWarning(
            "lg_code_zero_padded",
            f"4桁の {digits} は先頭の0が落ちたものとみなし {code5} として扱いました",
            f"4-digit {digits} taken as {code5} (leading zero restored).",
        )
    return ParseError("not_an_lg_code", _LG_EXPECTED_JA, _LG_EXPECTED_EN)


_NO_LG: Parsed[str] = Parsed(None)


def _lg_hit(r: _LgCore) -> Parsed[str] | ParseError:
    if isinstance(r, ParseError):
        return r
    if isinstance(r, str):
        return Parsed(r)
    return _parsed(r[0], r[1])


@lru_cache(maxsize=_CACHE_SIZE)
def _lg_from_str(raw: str) -> Parsed[str] | ParseError:
    s = _normalize_str(raw)
    if _is_unknown_text(s):
        return _NO_LG
    m = _LG_STR_RE.fullmatch(s)
    if not m:
        return ParseError("not_an_lg_code", _LG_EXPECTED_JA, _LG_EXPECTED_EN)
    return _lg_hit(_lg_core(m[1], from_number=False))


@lru_cache(maxsize=_CACHE_SIZE)
def _lg_from_number(x: float) -> Parsed[str] | ParseError:
    if not (x.is_integer() and 1000 <= x < 1_000_000):
        return ParseError("not_an_lg_code", _LG_EXPECTED_JA, _LG_EXPECTED_EN)
    return _lg_hit(_lg_core(str(int(x)), from_number=True))


def parse_lg_code(raw: object) -> Parsed[str]:
    """6-digit 全国地方公共団体コード (with check digit).

    Text keeps its zeros: 5 digits is the code without check digit (one is appended), 6 digits
    is verified (``lg_code_check_digit``).  A number (Excel cell) has lost leading zeros: 4–5
    digits are zero-padded to the 5-digit code (1100 → 01100 → 011002), 6 digits are verified.
    A 4-digit *text* is padded too, with warning ``lg_code_zero_padded``.  Note a 6-digit code
    of 北海道〜宮城 stored as a number (11002) is indistinguishable from a 5-digit code and is
    read as one.  Other input: ``not_an_lg_code``.
    """
    if type(raw) is str:
        r = _lg_from_str(raw)
    elif (x := _as_float(raw)) is not None:
        if x != x:  # NaN: pandas' blank; kept out of the cache (every NaN is a new key)
            return _NO_LG
        r = _lg_from_number(x)
    else:
        r = _lg_from_str(normalize_text(raw))
    if isinstance(r, ParseError):
        raise r.exc()
    return r


# -- shared with the per-sector scale reader (gunmane.io.values.scales): one way of reading what people write ------
CACHE_SIZE = _CACHE_SIZE
ROMAN_NUMERALS = _ROMAN
parsed_value = _parsed
normalize_str = _normalize_str
is_unknown_text = _is_unknown_text
