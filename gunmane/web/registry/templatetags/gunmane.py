"""Template filters for numbers the way Japanese reports print them, and grade badges."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html

register = template.Library()

GRADE_ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}
GRADE_TEXT = {1: "健全", 2: "予防保全段階", 3: "早期措置段階", 4: "緊急措置段階"}


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
def grade_badge(grade: int | None, short: bool = False) -> str:
    if grade is None:
        return format_html('<span class="muted">{}</span>', "未点検")
    label = GRADE_ROMAN[grade] if short else f"{GRADE_ROMAN[grade]} {GRADE_TEXT[grade]}"
    return format_html('<span class="grade grade--{}" title="{}">{}</span>', grade, GRADE_TEXT[grade], label)


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
