"""How a grade is named on its own scale, and the label of the common band — pure, for every layer.

「Ⅲ」 on road structures, 「健全度C」 on a park, 「緊急度Ⅱ」 on a sewer pipe, 「評価d」 on a river structure:
the manual's label, with the scale's word in front where the label is a bare letter or digit (「C」 alone
reads as a road 健全性 to most people). gunmane.io.ledger.grades re-exports these for pages, the API and
exports; the カルテ's per-scale tables (engine.indicators) use them too.
"""

from __future__ import annotations

from gunmane.engine.scales import Scale

__all__ = ["BAND_LABEL", "BAND_NAMES", "grade_long", "grade_short"]

BAND_LABEL = "共通の緊急度区分（分野横断の比較用）"
"""The label of the common band (the same text as gunmane.io.values.scales.BAND_LABEL; a test checks)."""

BAND_NAMES = {1: "対応不要", 2: "経過観察・予防保全", 3: "措置が必要", 4: "緊急に措置"}
"""The bands' names (those of gunmane/data/scales/bands.toml; a test checks)."""


def grade_short(sc: Scale, index: int | None) -> str:
    """「Ⅲ」「健全度C」「緊急度Ⅱ」「評価d」 (blank when unknown; the number itself when not on the scale)."""
    if index is None:
        return ""
    try:
        label = sc.label(int(index))
    except ValueError:
        return str(index)
    if label.isascii():
        return f"{sc.name.split()[0]}{label}"
    return label


def grade_long(sc: Scale, index: int | None) -> str:
    """The short label and the grade's name: 「Ⅲ 早期措置段階」「健全度C 全体的に劣化」."""
    if index is None:
        return ""
    short = grade_short(sc, index)
    try:
        name = sc.grade(int(index)).name
    except ValueError:
        return short
    return short if name == short else f"{short} {name}"
