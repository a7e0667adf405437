"""Amounts of money as people type them in a budget field: 100000000, 1億, 5000万, １，０００万円, 2.5億."""

from __future__ import annotations

import math

from gunmane.io.values.parsing import normalize_text

__all__ = ["parse_yen"]

_UNITS = (("億", 1e8), ("千万", 1e7), ("百万", 1e6), ("万", 1e4), ("千", 1e3))


def parse_yen(raw: str) -> float:
    """The amount in yen; ValueError (with the Japanese reason) for anything else or a negative amount."""
    s = normalize_text(raw).replace(",", "").replace("円", "").replace(" ", "")
    mult = 1.0
    for unit, m in _UNITS:
        if s.endswith(unit):
            s, mult = s[: -len(unit)], m
            break
    try:
        value = float(s) * mult
    except ValueError:
        raise ValueError(f"「{raw}」は金額ではありません（例：100000000、1億、5000万）。") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"「{raw}」は 0 以上の金額にしてください。")
    return value
