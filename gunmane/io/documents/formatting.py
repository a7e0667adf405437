"""Numbers, money, shares and dates as a Japanese municipal document prints them.

Kept separate from gunmane.io.reports.charts (which imports matplotlib) so that generating a document stays
light.  Unknown values print 「不明」, never 0; negative numbers use the minus sign U+2212.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date

from gunmane.io.values.parsing import to_wareki

__all__ = ["UNKNOWN", "date_label", "fiscal_year_label", "fmt_change", "fmt_count", "fmt_diff", "fmt_int",
           "fmt_length", "fmt_pct", "fmt_sen", "fmt_yen", "rounded_shares", "wareki_year"]

UNKNOWN = "不明"
MINUS = "−"


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def _signed(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


def fmt_int(v: float | None, unit: str = "") -> str:
    """``27,000`` (+ unit); 「不明」 for None."""
    if v is None or _missing(v):
        return UNKNOWN
    return _signed(f"{round(v):,}") + unit


def fmt_count(v: float | None, unit: str = "") -> str:
    """Expected counts (年平均・期間の期待件数) with one decimal always, so that a whole number prints like its
    neighbours in the same column (``998.0件`` beside ``1,079.8件``, as on the 効果試算 page)."""
    if v is None or _missing(v):
        return UNKNOWN
    return _signed(f"{v:,.1f}") + unit


def fmt_yen(v: float | None) -> str:
    """``¥1,234,567`` (rounded to the yen)."""
    if v is None or _missing(v):
        return UNKNOWN
    text = f"{round(v):,}"
    return f"{MINUS}¥{text[1:]}" if text.startswith("-") else f"¥{text}"


def fmt_sen(v: float | None) -> str:
    """Large amounts in 千円 as budget documents print them: ``1,235千円`` (rounded)."""
    if v is None or _missing(v):
        return UNKNOWN
    return _signed(f"{round(v / 1000):,}") + "千円"


def fmt_pct(share: float | None, decimals: int = 1) -> str:
    """A share given as a fraction (0–1) as ``12.3%``."""
    if share is None or _missing(share):
        return UNKNOWN
    return _signed(f"{share * 100:.{decimals}f}") + "%"


def fmt_diff(base: float, new: float, fmt: Callable[[float], str]) -> str:
    """The signed difference ``new − base`` printed by ``fmt``: ``+1,234件``, ``−5,000千円``."""
    d = new - base
    if abs(d) < 1e-9:
        return "±" + fmt(0.0)
    return ("+" if d > 0 else MINUS) + fmt(abs(d))


def fmt_change(base: float, new: float) -> str:
    """The relative change ``(new − base) / base`` (``−12.3%``); 「—」 when the base is 0."""
    if base == 0:
        return "—"
    r = (new - base) / base
    return ("+" if r > 0 else "") + fmt_pct(r)


def fmt_length(v: float | None) -> str:
    if v is None or _missing(v):
        return UNKNOWN
    return f"{v:,.1f}"


def wareki_year(y: int) -> str:
    """和暦 of a (fiscal) year, ``令和9年`` (元年 for the first year of an era)."""
    text = to_wareki(date(y, 12, 31))
    return text[: text.index("年") + 1]


def fiscal_year_label(fy: int) -> str:
    """``令和9年度（2027年度）`` — the 和暦 first, as municipal schedules print fiscal years."""
    return f"{wareki_year(fy)}度（{fy}年度）"


def date_label(d: date) -> str:
    """``令和8年11月27日（2026年11月27日）``."""
    return f"{to_wareki(d)}（{d.year}年{d.month}月{d.day}日）"


def rounded_shares(shares: Sequence[float], decimals: int = 1) -> list[float]:
    """Shares (fractions summing to 1) as percentages rounded so that the printed values add up to
    exactly 100 (largest-remainder method) — a cost-share table whose column sums to 99.9% invites
    questions from every member's finance section."""
    unit = 10 ** decimals
    scaled = [s * 100 * unit for s in shares]
    floors = [math.floor(x + 1e-9) for x in scaled]
    missing = round(100 * unit) - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: scaled[i] - floors[i], reverse=True)
    for i in order[: max(0, missing)]:
        floors[i] += 1
    return [f / unit for f in floors]
