"""Template helpers for indicator values, percentiles and chart tables."""

from __future__ import annotations

import math
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html

from gunmane.engine.indicator_types import IndicatorDef, IndicatorValue, Karte, Series
from gunmane.web.registry.models import MunicipalityKind

register = template.Library()
KINDS = dict(MunicipalityKind.choices)


def _is_unknown(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_number(value: Any, digits: int = 1, unit: str = "") -> str:
    if _is_unknown(value):
        return ""
    v = float(value)
    if unit == "%":
        return f"{v:.1f}"
    if unit == "指数":
        return f"{v:.2f}"
    if v.is_integer() or abs(v) >= 1000:
        return intcomma(int(round(v)))
    return intcomma(f"{v:.{digits}f}")


@register.filter
def num(value: Any, digits: int = 1) -> str:
    """A number with thousands separators; blank for unknown (never 0)."""
    if _is_unknown(value):
        return ""
    if int(digits) == 0:
        return intcomma(int(round(float(value))))
    return format_number(value, int(digits))


@register.simple_tag
def indicator_value(value: IndicatorValue) -> str:
    if _is_unknown(value.value):
        return format_html('<span class="muted">{}</span>', "不明")
    return format_html("{} <span class=\"unit\">{}</span>", format_number(value.value, unit=value.unit), value.unit)


@register.simple_tag
def percentile_bar(pct: float | None, d: IndicatorDef | None) -> str:
    """A bar 0–100 with the number; the note says whether high is good or bad for this indicator."""
    if _is_unknown(pct):
        return format_html('<span class="muted">{}</span>', "—")
    assert pct is not None
    note = {"worse": "高いほど課題", "better": "高いほど良好"}.get(d.higher_is if d else "neutral", "")
    return format_html(
        '<span class="pct"><span class="pct__bar" data-width-pct="{}"></span></span> <span class="pct__value">{}</span>'
        '<span class="sr-only">（{}）</span>', f"{float(pct):.0f}", f"{float(pct):.0f}", note)


@register.filter
def series_rows(series: Series) -> list[tuple[Any, list[Any]]]:
    return [(cat, [vals[i] for vals in series.values.values()]) for i, cat in enumerate(series.categories)]


@register.filter
def get(row: dict[str, Any], key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else None


@register.filter
def peer_pct(row: dict[str, Any], key: str) -> str:
    value = row.get(f"{key}__peer_pct") if isinstance(row, dict) else None
    return "" if _is_unknown(value) else f"{float(value):.0f}"


@register.filter
def kind_ja(kind: str) -> str:
    return KINDS.get(kind, kind)


@register.filter
def indicator_or_none(karte: Karte, indicator_id: str) -> IndicatorValue | None:
    try:
        return karte.indicator(indicator_id)
    except KeyError:
        return None


POOLING_LABELS = {"pooled": "群で1つの推定", "separate": "団体ごとに別々の推定", "hierarchical": "群でまとめて団体差を含む推定"}


@register.filter
def pooling_label(key: str) -> str:
    return POOLING_LABELS.get(str(key), str(key))


@register.filter
def exclusion_label(key: str) -> str:
    from gunmane.engine.deterioration import EXCLUSION_REASONS

    return EXCLUSION_REASONS.get(str(key), str(key))


@register.filter(name="exp")
def exp_filter(value: Any) -> float | None:
    try:
        return math.exp(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


@register.filter
def index(seq: Any, i: int) -> Any:
    try:
        return seq[int(i)]
    except (IndexError, TypeError, ValueError):
        return ""


@register.filter
def grade_ja(grade: Any) -> str:
    """1-based grade number → Ⅰ–Ⅳ."""
    try:
        return "ⅠⅡⅢⅣ"[int(grade) - 1]
    except (IndexError, TypeError, ValueError):
        return str(grade)


@register.filter
def oku(yen: Any) -> str:
    """Yen as people read budgets: 12.3億円, 4,560万円, 80万円."""
    try:
        v = float(yen)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    if abs(v) >= 1e8:
        return f"{v / 1e8:,.2f}億円"
    if abs(v) >= 1e4:
        return f"{v / 1e4:,.0f}万円"
    return f"{v:,.0f}円"


@register.filter
def grade_label(label: Any) -> str:
    """Model grade label (I, II, III, IV, III+IV) → Ⅰ–Ⅳ."""
    from gunmane.io.reports.lcc_xlsx import GRADE_LABELS_JA

    return GRADE_LABELS_JA.get(str(label), str(label))


@register.filter
def facility_type_name(code: Any) -> str:
    from gunmane.io.reports.lcc_xlsx import type_name

    return type_name(str(code))
