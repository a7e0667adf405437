"""Cells that a spreadsheet will not run: the one guard against formula (CSV) injection for every file we write.

A facility named ``=HYPERLINK("http://…","開く")`` or ``=cmd|' /C calc'!A0`` becomes a live formula when an
export is opened in Excel; so do texts starting with ``+``, ``-``, ``@``, a TAB or a CR. Following the OWASP
rule, such a *text* cell gets one leading apostrophe (``'=…``), which Excel shows as text and never evaluates.
Real numbers stay numbers (a negative number stored as a number is not text). The stored value is not
changed: only the written cell is.

* :func:`safe_cell` / :func:`safe_row` — for CSV rows and write-only workbooks (the cells as they are written);
* :func:`safe_csv_writer` — a ``csv.writer`` whose every row passes through :func:`safe_row` (rows of raw
  values: a cell must go through :func:`safe_cell` once, as ``'=x`` typed by a user becomes ``''=x``);
* :func:`neutralise_workbook` — for an ordinary openpyxl workbook, just before ``save``: every text cell,
  including those openpyxl turned into formulas because they began with ``=``;
* :func:`unescape_cell` — the way back for importers: exactly one apostrophe that we put before a trigger
  character is taken off again, so that an export imports back unchanged (a text that itself begins with
  ``'=`` is written ``''=`` and comes back as ``'=``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from typing import IO, Any

__all__ = [
    "FORMULA_TRIGGERS",
    "neutralise_workbook",
    "safe_cell",
    "safe_csv_writer",
    "safe_row",
    "sheet_title",
    "unescape_cell",
]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    """A trigger first, or apostrophes and then a trigger (``'=x`` typed by a user must survive the way back)."""
    first = text[:1]
    if first in FORMULA_TRIGGERS:
        return True
    return first == "'" and text.lstrip("'")[:1] in FORMULA_TRIGGERS


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written to a spreadsheet cell: a text starting with a trigger gets a leading ``'``.

    Anything that is not a ``str`` (numbers, dates, None, bool) is returned unchanged. A text that already
    starts with apostrophes before a trigger (``'=x``) gets one more, so that :func:`unescape_cell` gives it
    back exactly: ``unescape_cell(safe_cell(s)) == s`` for every text.
    """
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through :func:`safe_cell` (non-text cells, e.g. openpyxl WriteOnlyCells, pass as they are)."""
    return [safe_cell(v) for v in values]


def unescape_cell(value: Any) -> Any:
    """Undo :func:`safe_cell` for a cell read back from our own CSV or XLSX: ``'=SUM(1)`` → ``=SUM(1)``.

    Exactly one apostrophe is removed, and only from a text of apostrophes followed by a trigger character;
    ``'abc`` stays ``'abc``.
    """
    if isinstance(value, str) and value[:1] == "'" and _needs_quote(value[1:]):
        return value[1:]
    return value


class _SafeWriter:
    """A ``csv.writer`` look-alike that neutralises every row it writes."""

    def __init__(self, out: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self._writer.writerow(safe_row(row))


def safe_csv_writer(out: IO[str], **kwargs: Any) -> _SafeWriter:
    """``csv.writer(out, **kwargs)`` whose rows pass through :func:`safe_row` (CSV opened in Excel)."""
    return _SafeWriter(out, **kwargs)


def neutralise_workbook(wb: Any) -> int:
    """Neutralise every text cell of an ordinary (not write-only) openpyxl workbook; returns how many changed.

    Call it just before ``wb.save``. openpyxl stores a text that starts with ``=`` as a formula cell; our
    writers never write formulas on purpose, so such a cell is text that came from a user and is written
    back as text with the apostrophe. Merged cells (no value) are skipped. A text that already starts with
    an apostrophe is left alone — it cannot run, and it may be a cell that went through :func:`safe_cell`
    already (these workbooks are read by people, never imported back, so no exact way back is needed).
    """
    changed = 0
    for ws in getattr(wb, "worksheets", ()):
        cells: Sequence[Any] = list(getattr(ws, "_cells", {}).values())  # only cells that exist: no new ones
        for cell in cells:
            value = cell.value
            if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
                cell.value = "'" + value  # openpyxl: data type becomes "s" (no longer "f")
                changed += 1
    return changed


_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_title(label: str, taken: set[str], fallback: str = "シート") -> str:
    """A sheet name Excel accepts for ``label`` (no []:*?/\\, no leading or trailing apostrophe, ≤ 31 characters),
    distinct from those in ``taken`` (「(2)」「(3)」… added) and then added to it."""
    base = _BAD_SHEET_CHARS.sub("・", label).strip("'") or fallback
    name = base[:31]
    k = 2
    while name in taken:
        suffix = f"({k})"
        name = base[: 31 - len(suffix)] + suffix
        k += 1
    taken.add(name)
    return name

