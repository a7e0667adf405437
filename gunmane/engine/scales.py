"""Inspection scales: each sector's own official grades, ordered good → bad, and the common urgency band.

Every sector grades its facilities on the scale of its national manual (道路構造物 健全性 Ⅰ〜Ⅳ, 舗装 診断区分
Ⅰ〜Ⅲ, 下水道 緊急度, 公園施設 健全度 A〜D …).  The scales are declared as data in ``gunmane/data/scales``
(read by :mod:`gunmane.io.values.scales`); this module holds the pure objects and the arithmetic on them.

A grade is identified by its *index*: 1 is the best grade of its scale and ``len(scale.grades)`` the worst,
whatever the scale's own labels say (on 下水道 緊急度 the worst grade is 緊急度Ⅰ; on 砂防 健全度 it is A).
Indexes of different scales are not comparable; the *band* (1–4, the common urgency band) is, and only
for views that set sectors side by side, always labelled as such.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "Band",
    "MeasuredBin",
    "MeasuredScale",
    "Scale",
    "ScaleGrade",
    "Source",
    "grade_of_measured",
    "is_repair_due",
    "to_band",
    "worst",
]


@dataclass(frozen=True)
class Band:
    """One level of the common urgency band (共通の緊急度区分), used only across sectors."""

    band: int
    name: str
    definition: str


@dataclass(frozen=True)
class Source:
    """Where a scale is defined: the manual (title, publisher, year, section) and the page it was checked on."""

    title: str
    publisher: str
    year: int
    section: str
    url: str = ""


@dataclass(frozen=True)
class ScaleGrade:
    """One grade of a scale: ``index`` 1 (best) … n (worst), its label as written in the manual, its band."""

    scale_id: str
    index: int
    label: str
    name: str
    definition: str
    band: int
    token: str = ""
    words: tuple[str, ...] = ()
    spellings: tuple[str, ...] = ()


@dataclass(frozen=True)
class MeasuredBin:
    """Values ``>= lower`` (and below the next bin's lower bound) fall on ``grade`` (an index)."""

    lower: float
    grade: int


@dataclass(frozen=True)
class MeasuredScale:
    """A measured value read onto a scale's grades (舗装 MCI 0–10 → 診断区分)."""

    name: str
    long_name: str
    min: float
    max: float
    higher_is_better: bool
    bins: tuple[MeasuredBin, ...]
    verified: bool
    verification: str


@dataclass(frozen=True)
class Scale:
    """A sector's inspection scale.  ``grades`` run from good to bad; ``trigger`` is the index of the grade
    at which the manual calls for repair.  A scale with no grades (水道管路) is judged by age instead:
    ``legal_life_years`` is the statutory useful life."""

    id: str
    name: str
    subject: str
    accepted: str
    notation: str  # "roman" | "letter" | "digit" | "none"
    grades: tuple[ScaleGrade, ...]
    trigger: int | None
    source: Source
    verified: bool
    verification: str
    strip_words: tuple[str, ...] = ()
    subgrade_suffix: bool = False
    measured: MeasuredScale | None = None
    legal_life_years: int | None = None

    def __post_init__(self) -> None:
        if [g.index for g in self.grades] != list(range(1, len(self.grades) + 1)):
            raise ValueError(f"{self.id}: grades must be listed good → bad with indexes 1..n")
        if self.trigger is not None and not 1 <= self.trigger <= len(self.grades):
            raise ValueError(f"{self.id}: the repair trigger must be one of the grades")

    def __hash__(self) -> int:
        # Readers memoise on (text, scale): hash the id, not every grade (equality still compares all fields).
        return hash(self.id)

    @property
    def graded(self) -> bool:
        return bool(self.grades)

    def grade(self, index: int) -> ScaleGrade:
        """The grade at ``index`` (1 = best); ValueError names the scale and the valid range."""
        if not (isinstance(index, int) and 1 <= index <= len(self.grades)):
            raise ValueError(f"{self.id}: grade index must be 1..{len(self.grades)}, got {index!r}")
        return self.grades[index - 1]

    def label(self, index: int) -> str:
        """The manual's label of a grade (``3`` on 公園施設 → ``"C"``)."""
        return self.grade(index).label

    def index_of_label(self, label: str) -> int:
        for g in self.grades:
            if g.label == label or (g.token and g.token == label):
                return g.index
        raise ValueError(f"{self.id}: no grade labelled {label!r}")


def to_band(scale: Scale, index: int) -> int:
    """The common urgency band (1–4) of a grade, for cross-sector views only."""
    return scale.grade(index).band


def is_repair_due(scale: Scale, index: int) -> bool:
    """True when the grade is at or beyond the scale's repair trigger."""
    if scale.trigger is None:
        return False
    return scale.grade(index).index >= scale.trigger


def worst(indexes: Iterable[int | None]) -> int | None:
    """The worst (highest) index among those known, or None.  Indexes must be of one scale."""
    known = [i for i in indexes if i is not None]
    return max(known) if known else None


def grade_of_measured(scale: Scale, value: float) -> int:
    """The grade a measured value falls on (舗装 MCI 3.5 → index 2 = Ⅱ), by the scale's bins.

    ValueError when the scale has no measured value, or the value is outside its range."""
    m = scale.measured
    if m is None:
        raise ValueError(f"{scale.id}: no measured value is defined on this scale")
    if math.isnan(value) or not m.min <= value <= m.max:
        raise ValueError(f"{scale.id}: {m.name} must be within {m.min:g}..{m.max:g}, got {value!r}")
    # The bin is the one with the highest lower bound not above the value (whichever end is good).
    below = [b for b in m.bins if b.lower <= value]
    if not below:
        raise ValueError(f"{scale.id}: {value!r} falls in no {m.name} bin")
    return max(below, key=lambda b: b.lower).grade
