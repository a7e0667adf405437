"""gunmane's one library of template tags and filters (``{% load gunmane %}``), for every app's pages:
numbers the way Japanese reports print them, grade badges, sortable headers, indicator values and
percentiles, chart tables, and the small lookups the survey pages use."""

from __future__ import annotations

import math
import re
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html

from gunmane.engine.deterioration import EXCLUSION_REASONS
from gunmane.engine.indicator_types import IndicatorDef, IndicatorValue, Karte, Series
from gunmane.engine.indicators.definitions import INDICATOR_BY_ID
from gunmane.engine.scales import Scale
from gunmane.io.documents.formatting import fmt_sen
from gunmane.io.ledger.grades import band_of, grade_long, grade_short, scale_by_id
from gunmane.io.reports.lcc_xlsx import GRADE_LABELS_JA, type_name

register = template.Library()

# --------------------------------------------------------------------------- numbers, grades, sortable headers



@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.1086 → '10.9%'; None → '' (unknown stays blank)."""
    if value is None or value == "":
        return ""
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def per(numerator: Any, denominator: Any) -> str:
    """numerator / denominator with thousands separators, or '' when either is unknown or zero."""
    if numerator in (None, "") or not denominator:
        return ""
    return intcomma(round(float(numerator) / float(denominator)))


@register.simple_tag
def grade_badge(grade: int | None, short: bool = False, scale: Scale | str | None = None) -> str:
    """A grade as a badge, on its scale (a Scale or its id; the road 健全性 Ⅰ〜Ⅳ when none): 「Ⅲ 早期措置段階」,
    「健全度C 全体的に劣化」, 「緊急度Ⅱ 中度」. Its colour is the grade's common band, so that the colours mean
    the same urgency across sectors."""
    if grade is None:
        return format_html('<span class="muted">{}</span>', "未点検")
    sc = scale if isinstance(scale, Scale) else scale_by_id(scale)
    band = band_of(sc, grade)
    if band is None:
        return format_html("{}", grade)
    label = grade_short(sc, grade) if short else grade_long(sc, grade)
    return format_html('<span class="grade grade--{}" title="{}">{}</span>', band, sc.grade(int(grade)).name, label)


@register.filter
def grade_on(grade: int | None, scale: Scale | str | None) -> str:
    """A grade as text on its scale: 「Ⅲ」「健全度C」「緊急度Ⅱ」 (blank when unknown)."""
    sc = scale if isinstance(scale, Scale) else scale_by_id(scale)
    return grade_short(sc, grade)


@register.filter
def unknown(value: Any, text: str = "不明") -> Any:
    """Show 不明 for None (never 0)."""
    return text if value is None or value == "" else value


@register.simple_tag(takes_context=True)
def sort_th(context: dict[str, Any], field: str, label: str, css: str = "") -> str:
    """A sortable column header: links toggle ascending/descending and keep the other filters."""
    request = context["request"]
    current = request.GET.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    if current == field:
        params["sort"], aria = f"-{field}", "ascending"
    elif current == f"-{field}":
        params["sort"], aria = field, "descending"
    else:
        params["sort"], aria = field, "none"
    # app.css draws the ▲▼ mark from aria-sort.
    return format_html('<th class="{} sortable" aria-sort="{}"><a href="?{}">{}</a></th>',
                       css, aria, params.urlencode(), label)


# --------------------------------------------------------------------------- indicators, カルテ and lifecycle


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


@register.filter
def unit_num(value: Any, unit: str = "") -> str:
    """A number rounded for its unit (財政力指数 to two decimals, % to one), blank for unknown."""
    return format_number(value, 1, unit)


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
        '{}', f"{float(pct):.0f}", f"{float(pct):.0f}",
        format_html('<span class="sr-only">（{}）</span>', note) if note else "")


def category_label(category: Any) -> Any:
    """A chart category as a reader names it: an indicator id (the peer-position chart) → its label,
    a facility type code 「road/bridge」 → 「橋梁」; anything else (a year, a grade, an age band) unchanged."""
    if isinstance(category, str):
        d = INDICATOR_BY_ID.get(category)
        if d is not None:
            return d.label_ja
        if re.fullmatch(r"[a-z_]+/[a-z_]+", category):
            return type_name(category.split("/", 1)[1])
    return category


def readable_series(series: Series) -> dict[str, Any]:
    """A series' JSON for the page's charts, with its categories named for the reader (karte.js draws them)."""
    data = series.as_json()
    data["categories"] = [category_label(c) for c in series.categories]
    return data


@register.filter
def series_rows(series: Series) -> list[tuple[Any, list[Any]]]:
    return [(category_label(cat), [vals[i] for vals in series.values.values()])
            for i, cat in enumerate(series.categories)]


@register.filter
def get(row: dict[str, Any], key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else None


@register.filter
def peer_pct(row: dict[str, Any], key: str) -> str:
    value = row.get(f"{key}__peer_pct") if isinstance(row, dict) else None
    return "" if value is None or _is_unknown(value) else f"{float(value):.0f}"


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
def sen(yen: Any) -> str:
    """Yen in 千円 exactly as the group documents print it (io.documents.formatting.fmt_sen): the same figure
    reads the same on the 効果試算 page, its Excel and the 実施方針・協定書."""
    try:
        v = float(yen)
    except (TypeError, ValueError):
        return "—"
    return fmt_sen(v) if math.isfinite(v) else "—"


@register.filter
def sen_num(yen: Any) -> str:
    """Yen in 千円 as a bare number, for a column whose header says （千円）: the same rounding as ``sen``."""
    text = sen(yen)
    return text.removesuffix("千円")


@register.filter
def name_of(code: Any, names: Any) -> str:
    """A municipality's name for its 団体コード (the code itself only when the name is unknown)."""
    return str((names or {}).get(str(code), code))


@register.filter
def names_of(codes: Any, names: Any) -> str:
    """Municipality names for a list of 団体コード, joined with 「・」."""
    return "・".join(name_of(c, names) for c in (codes or []))


@register.filter
def grade_label(label: Any) -> str:
    """Model grade label (I, II, III, IV, III+IV) → Ⅰ–Ⅳ."""
    return GRADE_LABELS_JA.get(str(label), str(label))


@register.filter
def facility_type_name(code: Any) -> str:
    return type_name(str(code))


# --------------------------------------------------------------------------- survey pages


@register.filter
def at(values: Any, index: int) -> Any:
    """values[index], or "" when the list is shorter (an attribute left blank)."""
    try:
        return values[int(index)]
    except (IndexError, KeyError, TypeError, ValueError):
        return ""


@register.filter
def number(value: Any) -> str:
    """1200 → 「1,200」, 2.345 → 「2.3」; None → 「—」."""
    if value is None:
        return "—"
    v = float(value)
    return f"{int(v):,}" if v.is_integer() else f"{v:,.1f}"


@register.filter
def source_text(p: Any) -> str:
    """A parameter's source beside its 根拠の種類: an assumption's source starts with 「仮定値 —」, which the
    badge next to it already says, so the table reads 「仮定値｜利用者が設定してください」, not 「仮定値 仮定値 — …」."""
    def get(key: str) -> Any:
        return p.get(key) if isinstance(p, dict) else getattr(p, key, None)

    source = str(get("source") or "")
    if get("status") == "assumption" or get("assumption") is True:
        source = re.sub(r"^仮定値\s*[—–-]\s*", "", source).strip() or source
    return source
