"""A generated document as a small, neutral list of blocks — heading, paragraph, bullets, table, note.

Each writer (policy, agreement, spec) builds its document once as a :class:`Doc`; render_docx and
render_pdf turn the same blocks into Word and PDF.  That keeps the two formats identical (same
headings, same tables, same numbers) and each writer free of layout code.  All text is final
(numbers already formatted); renderers only lay it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = ["Block", "Bullets", "Doc", "Heading", "Note", "Para", "Table", "number_tables"]

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Heading:
    """A real heading (Word 見出し 1–3, a PDF bookmark) so the navigation pane lists it."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Para:
    text: str
    align: Align = "left"
    indent: float = 0.0          # left indent in characters (full-width)
    hanging: float = 0.0         # hanging indent in characters (numbered clauses: 「2　…」)
    small: bool = False


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    mark: str = "・"


@dataclass(frozen=True)
class Table:
    """A table with one header row; ``align`` is one letter per column (l / c / r); ``widths`` are
    relative; the last ``total_rows`` rows are totals (emphasised)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()
    align: str = ""
    caption: str = ""
    total_rows: int = 0
    small: bool = False

    def __post_init__(self) -> None:
        n = len(self.header)
        if any(len(r) != n for r in self.rows):
            raise ValueError("table rows must have as many cells as the header")
        if self.widths and len(self.widths) != n:
            raise ValueError("widths must have one value per column")
        if self.align and len(self.align) != n:
            raise ValueError("align must have one letter per column")

    def column_align(self, k: int) -> Align:
        letter = self.align[k] if self.align else "l"
        return {"l": "left", "c": "center", "r": "right"}[letter]  # type: ignore[return-value]

    def relative_widths(self) -> tuple[float, ...]:
        w = self.widths or (1.0,) * len(self.header)
        total = sum(w)
        return tuple(x / total for x in w)


@dataclass(frozen=True)
class Note:
    """A boxed remark: ``notice`` (synthetic data, red), ``draft`` (review by the legal section),
    ``warning`` (a configuration to check), ``info``."""

    text: str
    kind: Literal["notice", "draft", "warning", "info"] = "info"


Block = Heading | Para | Bullets | Table | Note


@dataclass(frozen=True)
class Doc:
    """The whole document: a title block, then the blocks.  ``running_title`` is the page header."""

    title: str
    meta: tuple[str, ...]                 # lines under the title: 版, 作成日, 群の名前 …
    running_title: str
    blocks: tuple[Block, ...]
    subject: str = ""
    synthetic: bool = False
    keywords: tuple[str, ...] = field(default=())
    author: str = ""                      # 作成者 (the person and organisation); the file's author property

    def headings(self) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading)]


def number_tables(blocks: list[Block] | tuple[Block, ...], prefix: str = "表") -> tuple[Block, ...]:
    """Number the captions of the tables in order (表1、表2 …), so that optional sections (no effect
    estimate yet, no lots) never leave a gap in the numbering."""
    out: list[Block] = []
    n = 0
    for b in blocks:
        if isinstance(b, Table) and b.caption:
            n += 1
            b = replace(b, caption=f"{prefix}{n}　{b.caption}")
        out.append(b)
    return tuple(out)
