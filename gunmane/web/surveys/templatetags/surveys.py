"""Small template filters for the survey pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


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
