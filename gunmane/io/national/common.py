"""Shared pieces of the national-data readers (道路メンテナンス年報 lists and xROAD): the error of a file that
cannot be read, text normalised for matching, and the resolution of road-manager names to 団体コード.

Pure: no Django, no network. The reference data (all local governments) is read from the package.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from gunmane.io.errors import IoFileError
from gunmane.io.issues import Issue
from gunmane.io.shipped import refdata

__all__ = [
    "ManagerResolution",
    "ManagerResolver",
    "NationalFileError",
    "fiscal_year_midpoint_month",
    "match_text",
]

# An inspection known only to its fiscal year is dated on 1 October of that year (the middle of the
# April–March 年度), so that intervals between two such inspections are whole years.
fiscal_year_midpoint_month = 10


class NationalFileError(IoFileError):
    """The file as a whole cannot be read (wrong layout, not JSON, an error envelope …).

    ``issue`` is the whole story (a report lists it as one of its errors); ``message_ja`` says it in one line
    naming the file, the row and the column, ``str()`` as the issue does.
    """

    def __init__(self, issue: Issue) -> None:
        where_ja, where_en = (f" {issue.row}行目", f" row {issue.row}") if issue.row else ("", "")
        shown = f"「{issue.column}」" if issue.column else ""
        super().__init__(issue.code, f"{issue.file or ''}{where_ja}{shown}: {issue.message_ja}",
                         f"{issue.file or ''}{where_en}{shown}: {issue.message_en}", file=issue.file,
                         row=issue.row or None, column=issue.column or None, value=issue.value or None)
        self.issue = issue

    def __str__(self) -> str:
        return str(self.issue)


_KANA_SHIFT = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}  # katakana → hiragana
_SMALL_KE = str.maketrans({"ヶ": "ケ", "ヵ": "カ", "ゖ": "け", "ゕ": "か"})
_DROP = re.compile(r"[\s()\[\]「」『』・･.,，、。\-‐－ー―]")


@lru_cache(maxsize=1 << 18)
def match_text(raw: str) -> str:
    """Text for matching only (the original is kept): NFKC (half-width katakana becomes full-width),
    ケ/ヶ unified, katakana as hiragana, no spaces, brackets, dots or long-vowel marks, lower case.

    ``(ｳｷﾊﾅﾊﾞｼ)`` (xROAD) and ``うきはなばし`` (年報) give the same text.
    """
    s = unicodedata.normalize("NFKC", raw or "").translate(_SMALL_KE)
    s = s.translate(_KANA_SHIFT)
    return _DROP.sub("", s).casefold()


# -- managers ------------------------------------------------------------------------------------------

# Managers that are not local governments, by what their names say (categories counted in the report).
NON_LG_CATEGORIES: tuple[tuple[str, str, str, re.Pattern[str]], ...] = (
    ("expressway", "高速道路会社", "expressway company",
     re.compile(r"高速道路|NEXCO|ネクスコ|首都高|阪神高速|本州四国連絡|道路株式会社", re.IGNORECASE)),
    ("national", "国の機関", "national government office",
     re.compile(r"国土交通省|整備局|開発局|開発建設部|総合事務局|国道事務所|河川国道|道路事務所|工事事務所")),
    ("corporation", "道路公社", "road corporation", re.compile(r"公社")),
    ("joint_board", "一部事務組合・広域連合", "joint board", re.compile(r"組合|広域連合|企業団|協議会")),
    ("company", "会社・団体", "company or body", re.compile(r"株式会社|（株）|\(株\)|有限会社|財団|機構")),
)
NON_LG_LABEL = {key: ja for key, ja, _, _ in NON_LG_CATEGORIES}


@dataclass(frozen=True, slots=True)
class ManagerResolution:
    """What a manager name is: a local government (lg_code), a non-LG manager (category) or unresolved."""

    lg_code: str | None
    status: str  # prefecture | municipality | elsewhere | non_lg | ambiguous | unresolved
    category: str = ""  # for non_lg: expressway | national | corporation | joint_board | company
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Gov:
    lg_code: str
    name: str
    kind: str
    pref_code: str
    pref_name: str
    area_km2: float | None
    lat: float | None
    lon: float | None


class ManagerResolver:
    """Resolve 管理者名 (+ the prefecture where the bridge is) to a 団体コード with the reference data.

    A prefecture is found by its name; a municipality by (prefecture, name), its name possibly written with
    the prefecture in front (宮城県白石市). A municipality name that is not in the given prefecture but is
    unique in Japan resolves with status ``elsewhere`` (a bridge on a border); several → ``ambiguous``.
    """

    def __init__(self, rows: Iterable[refdata.MunicipalityRow] | None = None) -> None:
        self.govs: dict[str, _Gov] = {}
        self._pref_by_name: dict[str, str] = {}
        self._pref_code_by_name: dict[str, str] = {}
        self._pref_name_by_code: dict[str, str] = {}
        self._muni: dict[tuple[str, str], str] = {}
        self._muni_anywhere: dict[str, list[str]] = {}
        for r in rows if rows is not None else refdata.municipalities():
            self.govs[r.lg_code] = _Gov(r.lg_code, r.name, r.kind, r.pref_code, r.pref_name, r.area_km2,
                                        r.office_lat, r.office_lon)
            self._pref_code_by_name[match_text(r.pref_name)] = r.pref_code
            self._pref_name_by_code[r.pref_code] = r.pref_name
            if r.kind == "prefecture":
                self._pref_by_name[match_text(r.name)] = r.lg_code
            else:
                self._muni[(r.pref_code, match_text(r.name))] = r.lg_code
                self._muni_anywhere.setdefault(match_text(r.name), []).append(r.lg_code)
        self._cache: dict[tuple[str, str], ManagerResolution] = {}

    def prefecture_code(self, name: str) -> str | None:
        """The 2-digit code of a prefecture name (宮城県 → 04), None if it is not one of the 47."""
        return self._pref_code_by_name.get(match_text(name))

    def prefecture_name(self, code: str) -> str | None:
        return self._pref_name_by_code.get(code)

    def resolve(self, manager: str, prefecture: str) -> ManagerResolution:
        key = (manager, prefecture)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._resolve(manager, prefecture)
        return hit

    def _resolve(self, manager: str, prefecture: str) -> ManagerResolution:
        m = match_text(manager)
        if not m:
            return ManagerResolution(None, "unresolved")
        if m in self._pref_by_name:
            return ManagerResolution(self._pref_by_name[m], "prefecture")
        pref_code = self.prefecture_code(prefecture) or ""
        name = m
        for pname, pcode in self._pref_code_by_name.items():  # 宮城県白石市 → (04, 白石市)
            if m.startswith(pname) and len(m) > len(pname):
                name, pref_code = m[len(pname):], pcode
                break
        lg = self._muni.get((pref_code, name))
        if lg is not None:
            return ManagerResolution(lg, "municipality")
        for key, _ja, _en, pattern in NON_LG_CATEGORIES:
            if pattern.search(unicodedata.normalize("NFKC", manager)):
                return ManagerResolution(None, "non_lg", key)
        anywhere = self._muni_anywhere.get(name, [])
        if len(anywhere) == 1:
            return ManagerResolution(anywhere[0], "elsewhere")
        if len(anywhere) > 1:
            return ManagerResolution(None, "ambiguous", candidates=tuple(anywhere))
        return ManagerResolution(None, "unresolved")
