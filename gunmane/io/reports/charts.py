"""Charts of a カルテ (karte, municipal profile sheet) rendered with matplotlib, plus the presentation
helpers that the PDF (gunmane.io.reports.karte_pdf) and Excel (gunmane.io.reports.karte_xlsx) writers share.

Charts use matplotlib's object-oriented API (``matplotlib.figure.Figure`` + the Agg canvas), never
pyplot, so rendering keeps no global state and needs no display.  All chart text uses the shipped
IPAexGothic font (gunmane.io.reports.fonts).  Unknown values (None) are never drawn as 0: a bar is left out
and labelled 「不明」, a line has a gap.
"""

from __future__ import annotations

import functools
import importlib
import io
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from gunmane.engine.indicator_types import IndicatorDef, IndicatorValue, Karte, Series
from gunmane.io.reports.pdf_style import TEXT_HEX

if TYPE_CHECKING:
    from matplotlib.axes import Axes

GroupKey = Literal["stock", "ageing", "condition", "backlog", "capacity", "reference"]

GROUP_ORDER: tuple[GroupKey, ...] = ("stock", "ageing", "condition", "backlog", "capacity", "reference")
GROUP_LABELS: dict[str, str] = {
    "stock": "ストック（施設量）",
    "ageing": "老朽化",
    "condition": "健全性（点検結果）",
    "backlog": "修繕の未着手（バックログ）",
    "capacity": "体制・財政",
    "reference": "参考（団体の概況）",
}
SCOPE_KIND_LABELS = {"national": "全国", "prefecture": "都道府県", "group": "群（広域連携）",
                     "municipality": "市区町村"}
UNKNOWN = "不明"
SYNTHETIC_WATERMARK = "合成データ（架空の施設を含む）"
SYNTHETIC_NOTICE = "【合成データ】このカルテには架空の施設（デモ用の合成データ）が含まれます。"

# Charts drawn in the PDF, most wanted first (ledger charts, then reference-only charts).
CHART_PRIORITY = ("age_distribution", "ageing_projection", "grade_distribution", "fy_trend",
                  "peer_percentiles", "backlog_ageing", "sector_stock")
LINE_SERIES = frozenset({"ageing_projection", "fy_trend"})
STACKED_SERIES = frozenset({"age_distribution", "grade_distribution", "backlog_ageing", "sector_stock"})
HORIZONTAL_SERIES = frozenset({"peer_percentiles"})

PALETTE = ("#0031d8", "#00a3bf", "#fb5b01", "#259d63", "#7f19dd", "#e8b100", "#666666")
GRADE_COLOURS = {"Ⅰ": "#259d63", "Ⅱ": "#e8b100", "Ⅲ": "#fb5b01", "Ⅳ": "#d20000"}
UNKNOWN_COLOUR = "#b3b3b3"
TEXT_COLOUR = TEXT_HEX  # the PDF text colour (gunmane.io.reports.pdf_style), so chart and page match
GRID_COLOUR = "#d9d9d9"
_RENDER_LOCK = threading.Lock()
RATIO_UNITS = frozenset({"割合", "比率", "ratio", "share"})
DIMENSIONLESS_UNITS = frozenset({"", "指数", "index", "-", "—"})  # printed without a unit


# --------------------------------------------------------------------------- shared presentation helpers


_ID_RULES: tuple[tuple[GroupKey, frozenset[str], tuple[str, ...]], ...] = (
    ("backlog", frozenset({"backlog", "started", "untreated", "pending"}), ("未着手", "未対策", "バックログ")),
    ("ageing", frozenset({"age", "ageing", "aging", "50plus", "built", "old", "older"}),
     ("50年", "経過年", "建設年", "老朽", "築")),
    ("capacity", frozenset({"engineer", "engineers", "staff", "expenditure", "budget", "spending", "cost"}),
     ("土木費", "職員", "技術職", "技術者", "予算", "維持補修費")),
    ("condition", frozenset({"grade", "iii", "iv", "inspection", "uninspected", "never", "overdue", "condition",
                             "health", "repair"}), ("健全性", "判定", "未点検", "点検期限", "Ⅲ", "Ⅳ")),
    ("stock", frozenset({"facilities", "facility", "count", "stock", "length", "bridges", "tunnels"}),
     ("施設数", "延長", "橋梁数", "施設量")),
)


@functools.cache
def _declared_groups() -> dict[str, str]:
    """Groups of the indicators declared in gunmane.engine.indicators, when that module is importable.

    Optional: the writers work without it (falling back to :func:`guess_group`); any IndicatorDef
    found in the module's globals (directly, or in a dict/list/tuple) is used.
    """
    try:
        module = importlib.import_module("gunmane.engine.indicators")
    except Exception:  # absent or broken: fall back to the id/label rules
        return {}
    found: dict[str, str] = {}
    for value in vars(module).values():
        items: Iterable[Any]
        if isinstance(value, IndicatorDef):
            items = (value,)
        elif isinstance(value, Mapping):
            items = value.values()
        elif isinstance(value, list | tuple):
            items = value
        else:
            continue
        for item in items:
            if isinstance(item, IndicatorDef):
                found[item.id] = item.group
    return found


def guess_group(indicator: IndicatorValue) -> GroupKey:
    """The group of an indicator from its id tokens and Japanese label (used when nothing declares it)."""
    tokens = set(indicator.id.lower().replace("-", "_").split("_"))
    for group, id_tokens, label_words in _ID_RULES:
        if tokens & id_tokens or any(w in indicator.label_ja for w in label_words):
            return group
    return "reference"


def indicator_group(indicator: IndicatorValue, groups: Mapping[str, str] | None = None) -> str:
    """stock / ageing / condition / backlog / capacity / reference: explicit map, declared, then guessed."""
    if groups and indicator.id in groups:
        return groups[indicator.id]
    declared = _declared_groups().get(indicator.id)
    return declared if declared in GROUP_LABELS else guess_group(indicator)


def grouped_indicators(karte: Karte, groups: Mapping[str, str] | None = None
                       ) -> list[tuple[str, list[IndicatorValue]]]:
    """Indicators in group order (stock … reference), keeping the karte's order inside a group."""
    by_group: dict[str, list[IndicatorValue]] = {}
    for ind in karte.indicators:
        by_group.setdefault(indicator_group(ind, groups), []).append(ind)
    order = [g for g in GROUP_ORDER if g in by_group] + [g for g in by_group if g not in GROUP_ORDER]
    return [(g, by_group[g]) for g in order]


SOURCE_JOINER = "／"  # how the engine joins the sources of a ratio of two sources


def source_parts(source: str) -> list[str]:
    """The separate sources in one source string (``"A／B"`` → ``["A", "B"]``)."""
    return [p.strip() for p in source.split(SOURCE_JOINER) if p.strip()]


def distinct_sources(karte: Karte) -> list[str]:
    """Every distinct source of the karte (indicators first, then series), in first-seen order.

    A source string that joins two sources with 「／」 contributes each of them; a series without
    data (e.g. sector_stock when no ledger is loaded) contributes nothing.
    """
    seen: dict[str, None] = {}
    for src in [i.source for i in karte.indicators] + [s.source for s in karte.series if s.categories]:
        for part in source_parts(src or ""):
            seen.setdefault(part, None)
    return list(seen)


def is_ratio_unit(unit: str) -> bool:
    return unit.strip().lower() in RATIO_UNITS


def format_number(value: float | None, *, decimals: int | None = None) -> str:
    """Thousands separators; integers without decimals; 「不明」 for None or NaN (never 0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNKNOWN
    v = float(value)
    if decimals is None:
        if v.is_integer() or abs(v) >= 1000:
            decimals = 0
        elif abs(v) >= 1:
            decimals = 1
        else:
            decimals = 2
    return f"{v:,.{decimals}f}"


def format_value(value: float | None, unit: str) -> str:
    """A value with its unit as printed: ``1,449,575,000円``, ``10.9%``, ``−8.0%``, ``0.34``, ``不明``.

    Shares given as a fraction (unit 割合/ratio/share, |value| ≤ 1) are printed as percent; an index
    (unit 指数) is printed without its unit; a negative sign is the minus sign U+2212.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return UNKNOWN
    if is_ratio_unit(unit) and abs(value) <= 1:
        return format_value(value * 100, "%")
    if unit == "%":
        text = f"{format_number(value, decimals=1)}%"
    else:
        text = format_number(value) + ("" if unit.strip().lower() in DIMENSIONLESS_UNITS else unit)
    return text.replace("-", "−", 1) if text.startswith("-") else text


def select_chart_series(karte: Karte, limit: int = 4) -> list[Series]:
    """The series drawn in the PDF: by :data:`CHART_PRIORITY`, then any other series, at most ``limit``."""
    by_id = {s.id: s for s in karte.series if s.categories and s.values}
    chosen = [by_id[i] for i in CHART_PRIORITY if i in by_id]
    chosen += [s for s in by_id.values() if s.id not in CHART_PRIORITY]
    return chosen[:limit]


def category_labels(series: Series, karte: Karte | None = None) -> list[str]:
    """Categories as shown: indicator ids (e.g. in peer_percentiles) become their Japanese labels."""
    names = {} if karte is None else {i.id: i.label_ja for i in karte.indicators}
    return [names.get(c, str(c)) if isinstance(c, str) else str(c) for c in series.categories]


def has_unknown(series: Series) -> bool:
    return any(v is None or (isinstance(v, float) and math.isnan(v)) for vals in series.values.values()
               for v in vals)


def mixed_scales(series: Series) -> bool:
    """True when the named value lists differ in magnitude so much that one y axis would hide some."""
    peaks = [max((abs(v) for v in vals if v is not None), default=0.0) for vals in series.values.values()]
    peaks = [p for p in peaks if p > 0]
    return len(peaks) > 1 and max(peaks) / min(peaks) > 5


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class _Ctx:
    cats: list[str]
    values: dict[str, list[float]]  # as plotted (ratios in percent), NaN for unknown
    fontsize: float
    width_pt: float


def _num(v: float | None) -> float:
    return math.nan if v is None else float(v)


def _colour_for(name: str, index: int) -> str:
    for grade, colour in GRADE_COLOURS.items():
        if name.strip() in (grade, f"健全性{grade}", f"{grade}判定"):
            return colour
    if UNKNOWN in name or "未点検" in name:
        return UNKNOWN_COLOUR
    return PALETTE[index % len(PALETTE)]


def category_colours(categories: Sequence[str], default: str) -> list[str]:
    colours = []
    for c in categories:
        if c.strip() in GRADE_COLOURS:
            colours.append(GRADE_COLOURS[c.strip()])
        elif UNKNOWN in c or "未点検" in c:
            colours.append(UNKNOWN_COLOUR)
        else:
            colours.append(default)
    return colours


def _style_axes(ax: Axes, fontsize: float) -> None:
    ax.tick_params(labelsize=fontsize, colors=TEXT_COLOUR, length=2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")
        ax.spines[side].set_linewidth(0.6)
    ax.set_axisbelow(True)


def _unit_label(series: Series) -> str:
    return "%" if is_ratio_unit(series.unit) else series.unit


def _legend(ax: Axes, ctx: _Ctx) -> None:
    """Legend above the plot, in as many columns as fit the chart's width."""
    n = len(ctx.values)
    if n < 2:
        return
    need = [len(name) * ctx.fontsize * 0.95 + 2.8 * ctx.fontsize for name in ctx.values]
    ncols = n
    while ncols > 1 and max(sum(need[i:i + ncols]) for i in range(0, n, ncols)) > ctx.width_pt * 0.92:
        ncols -= 1
    ax.legend(fontsize=ctx.fontsize * 0.9, frameon=False, ncols=ncols, loc="lower left",
              bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2, handlelength=1.4, columnspacing=1.0)


def _bar_chart(ax: Axes, series: Series, ctx: _Ctx) -> None:
    cats, values, fs = ctx.cats, ctx.values, ctx.fontsize
    x = list(range(len(cats)))
    stacked = series.id in STACKED_SERIES or len(values) == 1
    bottoms = [0.0] * len(cats)
    width = 0.7 if stacked else 0.8 / max(len(values), 1)
    for k, (name, vals) in enumerate(values.items()):
        colour = _colour_for(name, k)
        colours = category_colours(cats, colour) if len(values) == 1 else [colour] * len(cats)
        heights = [0.0 if math.isnan(v) else v for v in vals]
        if stacked:
            ax.bar(x, heights, width, bottom=bottoms, color=colours, label=name, linewidth=0)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        else:
            offs = [i - 0.4 + width * (k + 0.5) for i in x]
            ax.bar(offs, heights, width, color=colours, label=name, linewidth=0)
            for off, v in zip(offs, vals, strict=True):
                if math.isnan(v):
                    ax.text(off, 0, UNKNOWN, ha="center", va="bottom", rotation=90, fontsize=fs * 0.75,
                            color=TEXT_COLOUR)
            bottoms = [max(b, h) for b, h in zip(bottoms, heights, strict=True)]
    top = max(bottoms, default=0.0)
    ax.set_ylim(0, top * 1.15 if top > 0 else 1)
    if stacked and len(cats) <= 14:  # totals on top; 「不明」 where every part is unknown
        for i, total in enumerate(bottoms):
            all_unknown = all(math.isnan(vals[i]) for vals in values.values())
            label = UNKNOWN if all_unknown else format_number(total)
            ax.text(i, total, label, ha="center", va="bottom", fontsize=fs * 0.85, color=TEXT_COLOUR)
    longest = max((len(c) for c in cats), default=0)
    per_cat = ctx.width_pt * 0.8 / max(len(cats), 1)  # room per category along the axis, in points
    if longest * fs <= per_cat:
        ax.set_xticks(x, cats)
    elif fs * 2.2 <= per_cat:
        ax.set_xticks(x, cats, rotation=45, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(x, cats, rotation=90, ha="center")
    ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.5)
    ax.yaxis.set_major_formatter(_thousands())
    _legend(ax, ctx)


def _hbar_chart(ax: Axes, series: Series, ctx: _Ctx) -> None:
    cats, values, fs = ctx.cats, ctx.values, ctx.fontsize
    n = max(len(values), 1)
    height = 0.8 / n
    for k, (name, vals) in enumerate(values.items()):
        ys = [len(cats) - 1 - i + 0.4 - height * (k + 0.5) for i in range(len(cats))]
        widths = [0.0 if math.isnan(v) else v for v in vals]
        ax.barh(ys, widths, height, color=PALETTE[k % len(PALETTE)], label=name, linewidth=0)
        if len(cats) * n <= 24:
            for y, v in zip(ys, vals, strict=True):
                ax.text(0 if math.isnan(v) else v, y, f" {UNKNOWN if math.isnan(v) else format_number(v, decimals=0)}",
                        va="center", ha="left", fontsize=fs * 0.75, color=TEXT_COLOUR)
    ax.set_yticks(range(len(cats)), list(reversed(cats)))
    ax.set_ylim(-0.6, len(cats) - 0.4)
    if series.unit.strip() in ("パーセンタイル", "%", "百分位", "percentile") or is_ratio_unit(series.unit):
        ax.set_xlim(0, 108)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.axvline(50, color="#999999", linewidth=0.6, linestyle="--")
    ax.grid(axis="x", color=GRID_COLOUR, linewidth=0.5)
    _legend(ax, ctx)


def _line_chart(ax: Axes, series: Series, ctx: _Ctx) -> None:
    """Line chart; as an index (first known value = 100) when the lists have mixed scales."""
    cats, fs = ctx.cats, ctx.fontsize
    indexed = mixed_scales(series)
    percent = _unit_label(series) == "%" and not indexed
    x = list(range(len(cats)))
    ends: list[tuple[float, str, str]] = []  # (y, text, colour) of each line's last known point
    for k, (name, vals) in enumerate(ctx.values.items()):
        ys = vals
        if indexed:
            base = next((v for v in vals if not math.isnan(v) and v != 0), math.nan)
            ys = [v / base * 100 for v in vals]
        colour = PALETTE[k % len(PALETTE)]
        ax.plot(x, ys, marker="o" if len(x) <= 12 else None, markersize=2.2, linewidth=1.3, color=colour,
                label=name)
        last = next((i for i in reversed(x) if not math.isnan(ys[i])), None)
        if last is not None and not indexed:
            ends.append((ys[last], format_value(vals[last], "%" if percent else ""), colour))
    if ends:
        _end_labels(ax, ends, len(x) - 1, fs, span=100.0 if percent else None)
    ticks = _year_ticks(series.categories) or x[::max(1, math.ceil(len(cats) / 6))]
    ax.set_xticks(ticks, [cats[i] for i in ticks])
    ax.set_xlim(-0.3, len(x) - 1 + (0.18 * len(x) + 0.4 if ends else 0.3))
    ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.5)
    if percent:
        ax.set_ylim(0, 100)
    else:
        ax.yaxis.set_major_formatter(_thousands())
    _legend(ax, ctx)


def _year_ticks(categories: Sequence[Any]) -> list[int]:
    """Tick positions on round years (every 5 or 10) when the categories are more than 7 integer years."""
    if len(categories) <= 7 or not all(isinstance(c, int) and 1900 <= c <= 2200 for c in categories):
        return []
    step = 5 if len(categories) <= 35 else 10
    return [i for i, c in enumerate(categories) if c % step == 0]


def _end_labels(ax: Axes, ends: list[tuple[float, str, str]], x_last: int, fontsize: float,
                span: float | None) -> None:
    """Value labels right of the last points, pushed apart so that they never overlap."""
    lo, hi = (0.0, span) if span else ax.get_ylim()
    gap = (hi - lo) * 0.075
    placed: list[float] = []
    for y, text, colour in sorted(ends, key=lambda e: e[0]):
        pos = y if not placed else max(y, placed[-1] + gap)
        placed.append(pos)
        ax.annotate(text, (x_last, y), xytext=(x_last + 0.25, pos), textcoords="data", va="center",
                    ha="left", fontsize=fontsize * 0.85, color=colour)


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:g}")


def chart_kind(series: Series) -> Literal["line", "bar", "hbar"]:
    """How a series is drawn (and which native chart the Excel sheet gets)."""
    if series.id in LINE_SERIES:
        return "line"
    if series.id in HORIZONTAL_SERIES:
        return "hbar"
    if series.id in STACKED_SERIES:
        return "bar"
    numeric_x = all(isinstance(c, int | float) for c in series.categories)
    return "line" if numeric_x and len(series.categories) > 3 else "bar"


def y_axis_label(series: Series) -> str:
    if chart_kind(series) == "line" and mixed_scales(series):
        return f"指数（{series.categories[0]}＝100）"
    return _unit_label(series)


def render_chart_png(series: Series, width_pt: float, height_pt: float, *, dpi: int = 200,
                     fontsize: float = 6.5, categories: Sequence[str] | None = None) -> bytes:
    """The chart of one series as PNG bytes, sized in points (1/72 in) for placement in a PDF.

    ``categories`` overrides the category labels shown (see :func:`category_labels`).
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from gunmane.io.reports.fonts import register_matplotlib_font

    factor = 100.0 if is_ratio_unit(series.unit) else 1.0
    ctx = _Ctx(cats=list(categories) if categories is not None else [str(c) for c in series.categories],
               values={name: [_num(v) * factor for v in vals] for name, vals in series.values.items()},
               fontsize=fontsize, width_pt=width_pt)
    family = register_matplotlib_font()
    rc: dict[str, Any] = {"font.family": family, "axes.unicode_minus": False, "text.color": TEXT_COLOUR,
          "axes.labelcolor": TEXT_COLOUR, "font.size": fontsize}
    with _RENDER_LOCK, rc_context(cast(Any, rc)):  # rcParams are global: one chart at a time
        fig = Figure(figsize=(width_pt / 72, height_pt / 72), dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)
        fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02)  # type: ignore[union-attr, call-arg]
        ax = fig.add_subplot()
        _style_axes(ax, fontsize)
        kind = chart_kind(series)
        if kind == "line":
            _line_chart(ax, series, ctx)
        elif kind == "hbar":
            _hbar_chart(ax, series, ctx)
        else:
            _bar_chart(ax, series, ctx)
        if kind == "hbar":
            ax.set_xlabel(y_axis_label(series), fontsize=fontsize)
        else:
            ax.set_ylabel(y_axis_label(series), fontsize=fontsize)
            if series.x_label:
                ax.set_xlabel(series.x_label, fontsize=fontsize)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()
