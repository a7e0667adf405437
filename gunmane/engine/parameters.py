"""One way to declare a sourced parameter: a value with its unit, label, source and how strong that source is.

Every default number the engines use (effects, LCC, planning) is a :class:`Parameter`, one row of a
parameter table (the PyPSA habit). The tables are data files under ``gunmane/data/`` read by
:mod:`gunmane.io.shipped.parameters`; the engine only receives the typed objects and does no file I/O.

``status`` says how strong the source is:

- ``official``   — a law or an official rule (e.g. 道路法施行規則: bridges inspected every 5 years);
- ``published``  — a published figure (quantitative-methods.md / gunmane-policy.md, with the link);
- ``derived``    — arithmetic on published figures (the working is in the source text);
- ``assumption`` — 「仮定値 — 利用者が設定してください」: no source found; set your own;
- ``user``       — set by the user (a scenario's ``[parameters]``, ``--discount-rate`` …).

``assumption`` is not stored: it is ``status == "assumption"``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["ASSUMPTION", "STATUSES", "STATUS_LABELS", "Parameter"]

ASSUMPTION = "仮定値 — 利用者が設定してください"
STATUS_LABELS = {"official": "公式の基準", "published": "公表値", "derived": "公表値からの計算",
                 "assumption": ASSUMPTION, "user": "利用者の入力"}
STATUSES: tuple[str, ...] = tuple(STATUS_LABELS)


@dataclass(frozen=True)
class Parameter:
    """A value with its unit and source. ``value`` is a number, a text (a choice such as a work type) or a
    tuple of number pairs (a curve)."""

    key: str
    value: Any
    unit: str
    label_ja: str
    source: str
    status: str = "assumption"
    description: str = ""
    choices_ja: tuple[tuple[str, str], ...] = ()  # (value, Japanese name) of a text value chosen from a list

    @property
    def id(self) -> str:
        """The key, under the name scenario files and effects results use."""
        return self.key

    @property
    def assumption(self) -> bool:
        """True when no official rule or published figure gives the value (「仮定値」)."""
        return self.status == "assumption"

    @property
    def status_ja(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def value_text(self) -> str:
        """The value as the parameter tables show it: 1,860 / 0.01437 / 1,000,000 → 0.25、… / 道路維持工事."""
        names = dict(self.choices_ja)
        return names.get(self.value, _text(self.value)) if isinstance(self.value, str) else _text(self.value)

    def with_value(self, value: Any, source: str = "利用者の設定") -> Parameter:
        """The same parameter set by the user: the new value, the given source, status ``user``."""
        return replace(self, value=value, source=source, status="user")

    def as_json(self) -> dict[str, Any]:
        """The shape effects results carry (``parameters`` of ``gunmane effects --format json``)."""
        shown = {"id": self.key, "label_ja": self.label_ja, "value": self.value, "unit": self.unit,
                 "source": self.source, "status": self.status, "status_ja": self.status_ja}
        if self.choices_ja:  # a value chosen from a list also carries its Japanese name
            shown["value_ja"] = self.value_text
        return shown

    def as_json_brief(self) -> dict[str, Any]:
        """The shorter shape LCC and plan results carry (``gunmane lcc`` / ``gunmane plan`` JSON)."""
        return {"key": self.key, "label": self.label_ja, "value": self.value, "unit": self.unit,
                "source": self.source, "assumption": self.assumption}


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | tuple):
        return str(value)
    if isinstance(value, tuple):
        if all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return "、".join(f"{_text(a)} → {_text(b)}" for a, b in value)
        return "（" + "、".join(_text(v) for v in value) + "）"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.10g}"
