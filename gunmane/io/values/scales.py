"""Each sector's inspection scale, loaded from ``gunmane/data/scales``, and the reader for what people write.

``parse_scale_grade(raw, scale)`` is :func:`gunmane.io.values.parsing.parse_grade` for any scale: it reads
「健全度C」「ｃ」「C判定」 on 公園施設, 「緊急度Ⅱ」「Ⅱ」「2」「中度」 on 下水道管路, 「Ⅲ-1」「MCI 3.5」「3.5」 on 舗装 …,
returns ``Parsed`` (value = the grade's index, 1 = best) and raises ``InvalidValue`` with a Japanese message
naming the scale and what it accepts.  On the road scale it reads exactly what ``parse_grade`` reads.

Reading rules (the same as ``parse_grade``): the text is NFKC-normalised (full width, Ⅰ〜Ⅳ → I〜IV) and
case-folded; kanji around the grade (健全度, 判定, ランク …) are ignored; a grade's descriptive words
(早期措置段階, 中度, 要監視 …) count as that grade; two different grades in one cell are refused.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from gunmane.engine.scales import (
    Band,
    MeasuredBin,
    MeasuredScale,
    Scale,
    ScaleGrade,
    Source,
    grade_of_measured,
)
from gunmane.io.shipped.vocab import facility_type
from gunmane.io.values.parsing import (
    CACHE_SIZE as _CACHE_SIZE,
)
from gunmane.io.values.parsing import (
    ROMAN_NUMERALS as _ROMAN,
)
from gunmane.io.values.parsing import (
    Parsed,
    ParseError,
    ParseWarning,
    normalize_text,
)
from gunmane.io.values.parsing import (
    is_unknown_text as _is_unknown_text,
)
from gunmane.io.values.parsing import (
    normalize_str as _normalize_str,
)
from gunmane.io.values.parsing import (
    parsed_value as _parsed,
)

__all__ = [
    "BAND_LABEL",
    "ScaleReading",
    "ScaleDataError",
    "bands",
    "parse_scale_grade",
    "read_scale_value",
    "scale",
    "scale_for_facility_type",
    "scales",
]

_DIR = "scales"
_BANDS_FILE = "bands.toml"
_NOTATIONS = ("roman", "letter", "digit", "none")


class ScaleDataError(ValueError):
    """A scale file is inconsistent (a programming error in shipped data; the tests load every file)."""


# --------------------------------------------------------------------------- loading


def _grade(scale_id: str, index: int, row: Mapping[str, Any]) -> ScaleGrade:
    band = int(row["band"])
    if not 1 <= band <= 4:
        raise ScaleDataError(f"{scale_id}: band of {row['label']!r} must be 1..4")
    return ScaleGrade(
        scale_id=scale_id, index=index, label=str(row["label"]), name=str(row["name"]),
        definition=str(row["definition"]), band=band, token=str(row.get("token", "")),
        words=tuple(row.get("words", ())), spellings=tuple(row.get("spellings", ())),
    )


def _index(grades: tuple[ScaleGrade, ...], ref: str, scale_id: str) -> int:
    for g in grades:
        if ref in (g.token, g.label):
            return g.index
    raise ScaleDataError(f"{scale_id}: {ref!r} names no grade")


def scale_from_toml(data: Mapping[str, Any]) -> Scale:
    """A :class:`Scale` from one parsed scale file (exposed so a user's own scale file can be read)."""
    sid = str(data["id"])
    if len(sid) > 10:  # the ledger's FacilityType.health_scale column holds 10 characters
        raise ScaleDataError(f"{sid}: a scale id has at most 10 characters")
    notation = str(data["notation"])
    if notation not in _NOTATIONS:
        raise ScaleDataError(f"{sid}: notation must be one of {_NOTATIONS}")
    grades = tuple(_grade(sid, i, row) for i, row in enumerate(data.get("grades", ()), start=1))
    tokens = [g.token.casefold() for g in grades if g.token]
    if len(set(tokens)) != len(tokens) or len({g.label for g in grades}) != len(grades):
        raise ScaleDataError(f"{sid}: grade labels and tokens must be unique")
    trigger = _index(grades, str(data["trigger"]), sid) if "trigger" in data else None
    measured = None
    if "measured" in data:
        m = data["measured"]
        measured = MeasuredScale(
            name=str(m["name"]), long_name=str(m["long_name"]), min=float(m["min"]), max=float(m["max"]),
            higher_is_better=bool(m["higher_is_better"]),
            bins=tuple(MeasuredBin(float(b["lower"]), _index(grades, str(b["grade"]), sid)) for b in m["bins"]),
            verified=bool(m["verified"]), verification=str(m["verification"]).strip(),
        )
    src = data["source"]
    return Scale(
        id=sid, name=str(data["name"]), subject=str(data["subject"]), accepted=str(data["accepted"]),
        notation=notation, grades=grades, trigger=trigger,
        source=Source(str(src["title"]), str(src["publisher"]), int(src["year"]), str(src["section"]),
                      str(src.get("url", ""))),
        verified=bool(data["verified"]), verification=str(data["verification"]).strip(),
        strip_words=tuple(data.get("strip_words", ())), subgrade_suffix=bool(data.get("subgrade_suffix", False)),
        measured=measured, legal_life_years=int(data["legal_life_years"]) if "legal_life_years" in data else None,
    )


def _files() -> list[tuple[str, str]]:
    folder = resources.files("gunmane.data").joinpath(_DIR)
    return sorted((f.name, f.read_text(encoding="utf-8")) for f in folder.iterdir()
                  if f.name.endswith(".toml") and f.name != _BANDS_FILE)


@cache
def scales() -> dict[str, Scale]:
    """Every shipped scale by id."""
    out: dict[str, Scale] = {}
    for name, text in _files():
        s = scale_from_toml(tomllib.loads(text))
        if s.id in out:
            raise ScaleDataError(f"{name}: scale id {s.id!r} is declared twice")
        out[s.id] = s
    return out


def scale(scale_id: str) -> Scale:
    """The shipped scale with this id (KeyError names the known ids)."""
    try:
        return scales()[scale_id]
    except KeyError:
        raise KeyError(f"no scale {scale_id!r}; known: {', '.join(sorted(scales()))}") from None


def scale_for_facility_type(code: str) -> Scale:
    """The scale a facility type's inspections use (its ``health_scale`` in facility_types.csv)."""
    return scale(facility_type(code).health_scale)


@cache
def _bands_data() -> dict[str, Any]:
    return tomllib.loads(resources.files("gunmane.data").joinpath(_DIR, _BANDS_FILE).read_text(encoding="utf-8"))


def bands() -> tuple[Band, ...]:
    """The four levels of the common urgency band, 1 (対応不要) … 4 (緊急に措置)."""
    return tuple(Band(int(b["band"]), str(b["name"]), str(b["definition"])) for b in _bands_data()["bands"])


BAND_LABEL = "共通の緊急度区分（分野横断の比較用）"
"""The label every cross-sector view must show next to the band (the same text as bands.toml's ``label``)."""


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class ScaleReading:
    """A reading on a scale: the grade's index (1 = best) and, for 舗装 MCI, the measured value it came from."""

    grade: int
    measured: float | None = None


_TOKEN_RE = re.compile(r"[a-z]+|-?\d+(?:\.\d+)?")
# 「Ⅲ-1」「III－2」: the sub-division of 舗装 診断区分Ⅲ (read as Ⅲ).
_SUBGRADE_RE = re.compile(r"(?<![a-z])(i{1,3}|iv)\s*[-‐−]\s*[12](?!\d)")
_MEASURED_RE = re.compile(r"([a-z]+)?\s*[:=]?\s*(-?\d+(?:\.\d+)?)")


def _shown(s: str) -> str:
    return s if len(s) <= 20 else s[:20] + "…"


def _expected(sc: Scale, s: str) -> ParseError:
    return ParseError("not_a_grade", f"{sc.subject}は {sc.accepted} で書いてください（「{_shown(s)}」は読めません）",
                f"Enter the grade on scale {sc.id} as {', '.join(g.token or g.label for g in sc.grades)}.")


def _out_of_range(sc: Scale, s: str) -> ParseError:
    e = _expected(sc, s)
    return ParseError("grade_out_of_range", e.ja, e.en)


def _token_grades(sc: Scale) -> dict[str, int]:
    """Token (case-folded; roman numerals and digits as their number) → grade index."""
    out: dict[str, int] = {}
    for g in sc.grades:
        if not g.token:
            continue
        t = g.token.casefold()
        out[str(_ROMAN[t]) if sc.notation == "roman" else t] = g.index
    return out


def _word_grades(sc: Scale) -> list[tuple[str, int]]:
    """Descriptive words, longest first, then worst grade first (as parse_grade: 緊急措置 before 健全)."""
    pairs = [(w.casefold(), g.index) for g in sc.grades for w in g.words]
    return sorted(pairs, key=lambda p: (-len(p[0]), -p[1]))


def _token_value(sc: Scale, tok: str) -> str | None:
    """The lookup key of one token, or None when the token cannot be a grade on this notation."""
    if tok[0].isalpha():
        if sc.notation == "roman":
            return str(_ROMAN[tok]) if tok in _ROMAN else None
        if sc.notation == "letter":
            return tok if len(tok) == 1 else None
        return None
    if sc.notation == "letter":
        return None
    x = float(tok)
    return str(int(x)) if x.is_integer() else None


def _measured(sc: Scale, t: str, shown: str, as_measured: bool) -> ScaleReading | ParseError | None:
    """「MCI 3.5」「3.5」「2.0」「7」 on a scale with a measured value; None when the text is a grade instead
    (a bare integer that is one of the grades, unless the column is known to hold the measured value)."""
    m = sc.measured
    if m is None:
        return None
    mm = _MEASURED_RE.fullmatch(t)
    name = m.name.casefold()
    if mm is None:
        return _expected(sc, shown) if name in t else None
    word, num = mm.group(1), float(mm.group(2))
    if word is not None and word != name:
        return None
    explicit = word is not None
    grade_like = not as_measured and "." not in mm.group(2) and str(int(num)) in _token_grades(sc)
    if not explicit and grade_like:
        return None  # 「2」 is 診断区分Ⅱ, not MCI 2
    if not m.min <= num <= m.max:
        return ParseError("measured_out_of_range",
                    f"{m.name}は {m.min:g}〜{m.max:g} の数値です（「{_shown(shown)}」は範囲外です）",
                    f"{m.name} must be within {m.min:g}–{m.max:g}.")
    return ScaleReading(grade_of_measured(sc, num), num)


def _grade_core(sc: Scale, s: str, shown: str, as_measured: bool = False) -> ScaleReading | ParseError | None:
    """``s`` is the normalised cell text, ``shown`` the text as typed (quoted in messages)."""
    if _is_unknown_text(s):
        return None
    if not sc.graded:
        life = f"法定耐用年数 {sc.legal_life_years} 年" if sc.legal_life_years else "経過年数"
        return ParseError("not_graded", f"{sc.subject}には点検の判定区分がありません（布設年度から{life}と比べて評価します）",
                    f"{sc.id} has no inspection grades; condition is judged from age.")
    t = s.casefold()
    if sc.subgrade_suffix:
        t = _SUBGRADE_RE.sub(r"\1", t)
    r = _measured(sc, t, shown, as_measured)
    if r is not None:
        return r
    tokens = _token_grades(sc)
    found: set[int | str] = set()  # grade indexes, and the keys of grades this scale does not have
    for tok in _TOKEN_RE.findall(t):
        key = _token_value(sc, tok)
        if key is None:
            return _expected(sc, shown)
        found.add(tokens.get(key, key))
    for w in sc.strip_words:
        t = t.replace(w.casefold(), "")
    for word, index in _word_grades(sc):
        if word in t:
            found.add(index)
            break
    if not found:
        return _expected(sc, shown)
    if len(found) > 1:
        e = _expected(sc, shown)
        return ParseError("not_a_grade", f"{sc.subject}が複数書かれているか、区分と説明が一致しません。" + e.ja,
                    "Several different grades are given. " + e.en)
    g = found.pop()
    if isinstance(g, str):
        return _out_of_range(sc, shown)
    return ScaleReading(g)


@lru_cache(maxsize=_CACHE_SIZE)
def _from_str(raw: str, sc: Scale, as_measured: bool = False) -> Parsed[ScaleReading] | ParseError:
    r = _grade_core(sc, _normalize_str(raw), raw.strip(), as_measured)
    if isinstance(r, ParseError):
        return r
    if r is not None and r.measured is not None and sc.measured is not None:
        m = sc.measured
        label = sc.label(r.grade)
        note = "（gunmane の既定の区切り。国の換算表はありません）" if not m.verified else ""
        return _parsed(r, ParseWarning("measured_binned",
                                f"{m.name} {r.measured:g} を{sc.subject}「{label}」として読みました{note}",
                                f"Read {m.name} {r.measured:g} as grade {label} of {sc.id}."))
    return Parsed(r)


def read_scale_value(raw: object, scale: Scale, *, as_measured: bool = False) -> Parsed[ScaleReading]:
    """The grade (and measured value, for 舗装 MCI) a cell gives on ``scale``.  ``Parsed(None)`` for unknown.

    In a mixed column a bare 「2」 is 診断区分Ⅱ and 「2.0」 is MCI 2.0; Excel stores 2.0 as the number 2, so a
    column known to hold MCI (its header says MCI) must be read with ``as_measured=True``."""
    r = _from_str(raw if type(raw) is str else normalize_text(raw), scale, as_measured)
    if isinstance(r, ParseError):
        raise r.exc()
    return r


@lru_cache(maxsize=_CACHE_SIZE)
def _grade_from_str(raw: str, sc: Scale) -> Parsed[int] | ParseError:
    r = _from_str(raw, sc)
    if isinstance(r, ParseError) or r.value is None:
        return r  # type: ignore[return-value]  # an error, or Parsed(None) which is a Parsed[int] too
    return Parsed(r.value.grade, r.warning_code, r.warning_ja, r.warning_en)


def parse_scale_grade(raw: object, scale: Scale) -> Parsed[int]:
    """The grade's index (1 = best) on ``scale``, as :func:`~gunmane.io.values.parsing.parse_grade` returns
    the 健全性.  Errors: ``not_a_grade``, ``grade_out_of_range``, ``measured_out_of_range``, ``not_graded``."""
    r = _grade_from_str(raw if type(raw) is str else normalize_text(raw), scale)
    if isinstance(r, ParseError):
        raise r.exc()
    return r
