"""The lot design (gunmane.engine.lots) as map files a GIS or Google Earth opens, and as a PNG map.

- GeoJSON (RFC 7946, WGS84 lon/lat): the features of :func:`gunmane.io.scenario.lots_geojson` (facilities by
  lot, lot summaries, inspection day tours), each facility with its name and its municipality's name, plus each
  lot's area and each member's area as polygons (``kind`` = ``lot_area`` | ``member_area``).
- KML 2.2: one Folder per lot named 「ロット1（拠点：宇陀市）」 with one Placemark per facility (its name,
  municipality and lot), the lot's area and its day tours; written with xml.etree (valid XML, UTF-8).
- PNG: the same map drawn with matplotlib in the shipped Japanese font (gunmane.io.reports.fonts).

gunmane ships no municipal boundary polygons, so an *area* is the convex hull of the facilities with
coordinates (of a member, or of a lot) — a drawing aid, not a boundary; the files say so in their description.
Names come from the caller (the web passes the ledger's facility names and the members' names); an unknown
name falls back to the facility's id.
"""

from __future__ import annotations

import io
import math
import threading
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from gunmane.io.scenario import lots_geojson as _base_geojson

__all__ = ["AREA_NOTE", "SYNTHETIC_NOTE", "LotMapNames", "Label", "convex_hull", "facility_rows", "lot_name", "lots_geojson",
           "lots_kml", "lots_png", "member_areas", "lot_areas", "place_labels"]

AREA_NOTE = "区域は施設の位置を囲む凸包（作図の目安）で、行政界ではありません。"
SYNTHETIC_NOTE = "合成データ（架空の施設）を含みます。"
KML_NS = "http://www.opengis.net/kml/2.2"
PALETTE = ("#0017c1", "#d15b00", "#1a7f37", "#8b0000", "#6a1b9a", "#00838f", "#5d4037", "#c2185b", "#455a64")
_RENDER_LOCK = threading.Lock()
Point = tuple[float, float]


@dataclass(frozen=True)
class LotMapNames:
    """Names for the map: facility id → facility name, 団体コード → municipality name."""

    facilities: Mapping[str, str] = field(default_factory=dict)
    members: Mapping[str, str] = field(default_factory=dict)

    def facility(self, fid: Any) -> str:
        return self.facilities.get(str(fid)) or f"施設 {fid}"

    def member(self, code: Any) -> str:
        return self.members.get(str(code)) or str(code)


def lot_name(lot: int, base: str, names: LotMapNames) -> str:
    return f"ロット{lot}（拠点：{names.member(base)}）"


def colour_of(index: int) -> str:
    return PALETTE[index % len(PALETTE)] if index < len(PALETTE) else _extra_colour(index - len(PALETTE))


def _extra_colour(k: int) -> str:
    """Colours beyond the palette: hues a golden angle apart, dark enough for white labels and a light background."""
    import colorsys

    r, g, b = colorsys.hls_to_rgb((0.61803398875 * (k + 1)) % 1.0, 0.36, 0.75)
    return "#{:02x}{:02x}{:02x}".format(*(round(v * 255) for v in (r, g, b)))


def distinct_colours(groups: Mapping[Any, Sequence[Point]], *, margin: float = 0.06) -> dict[Any, str]:
    """A colour for each group of points such that neighbouring groups never share one.

    Neighbours: bounding boxes that overlap once each is widened by ``margin`` of the whole extent. Greedy
    colouring, most neighbours first (Welsh–Powell): each group takes the first palette colour no neighbour has,
    and only a group with nine coloured neighbours goes beyond the palette. Colouring by index alone repeated the
    palette every nine districts, so two adjacent districts could look like one (#14).
    """
    boxes = {k: (min(x for x, _ in pts), min(y for _, y in pts), max(x for x, _ in pts), max(y for _, y in pts))
             for k, pts in groups.items() if pts}
    if not boxes:
        return {}
    span = max(max(b[2] for b in boxes.values()) - min(b[0] for b in boxes.values()),
               max(b[3] for b in boxes.values()) - min(b[1] for b in boxes.values()), 1e-9)
    pad = margin * span
    keys = list(boxes)
    near: dict[Any, set[Any]] = {k: set() for k in keys}
    for i, a in enumerate(keys):
        ax0, ay0, ax1, ay1 = boxes[a]
        for b in keys[i + 1:]:
            bx0, by0, bx1, by1 = boxes[b]
            if ax0 - pad <= bx1 and bx0 - pad <= ax1 and ay0 - pad <= by1 and by0 - pad <= ay1:
                near[a].add(b)
                near[b].add(a)
    chosen: dict[Any, int] = {}
    for k in sorted(keys, key=lambda k: (-len(near[k]), keys.index(k))):
        taken = {chosen[n] for n in near[k] if n in chosen}
        chosen[k] = next(c for c in range(len(keys) + 1) if c not in taken)
    return {k: colour_of(chosen[k]) if k in chosen else PALETTE[0] for k in groups}


# -- geometry ----------------------------------------------------------------------------------------------
def convex_hull(points: Sequence[Point]) -> list[Point]:
    """The convex hull (Andrew's monotone chain), counter-clockwise, not closed; fewer than 3 distinct points
    come back as they are (a point or a segment)."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[Point] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[Point] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def facility_rows(design: Any) -> list[dict[str, Any]]:
    """The facilities of the optimised partition that have coordinates: facility, member, lat, lon, lot, base."""
    if design.best is None or not {"lat", "lon", "lot"} <= set(design.assignment.columns):
        return []
    out = []
    for r in design.assignment.itertuples(index=False):
        lat, lon = r.lat, r.lon
        if lat is None or lon is None or lat != lat or lon != lon:
            continue
        out.append({"facility": str(r.facility), "member": str(r.member), "lat": float(lat), "lon": float(lon),
                    "lot": int(r.lot), "base": str(r.base)})
    return out


def _hulls(rows: list[dict[str, Any]], key: str) -> dict[Any, list[Point]]:
    groups: dict[Any, list[Point]] = {}
    for r in rows:
        groups.setdefault(r[key], []).append((r["lon"], r["lat"]))
    return {k: convex_hull(v) for k, v in sorted(groups.items())}


def member_areas(rows: list[dict[str, Any]]) -> dict[str, list[Point]]:
    """Each member's area as the convex hull of its facilities, (lon, lat) points."""
    return _hulls(rows, "member")


def lot_areas(rows: list[dict[str, Any]]) -> dict[int, list[Point]]:
    """Each lot's area as the convex hull of its facilities, (lon, lat) points."""
    return _hulls(rows, "lot")


def _ring(hull: list[Point]) -> dict[str, Any] | None:
    if len(hull) < 3:
        return None
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in [*hull, hull[0]]]]}


# -- GeoJSON -----------------------------------------------------------------------------------------------
def lots_geojson(design: Any, names: LotMapNames, *, synthetic: bool = False) -> dict[str, Any]:
    """A FeatureCollection: facilities (with names and lot), lots, day tours, lot areas and member areas."""
    doc = _base_geojson(design)
    for f in doc["features"]:
        p = f["properties"]
        if p.get("kind") == "facility":
            p["name"] = names.facility(p["facility"])
            p["municipality"] = names.member(p["member"])
            p["base_name"] = names.member(p["base"])
        elif p.get("kind") in ("lot", "route"):
            p["base_name"] = names.member(p["base"])
    rows = facility_rows(design)
    bases = {r["lot"]: r["base"] for r in rows}
    for lot, hull in lot_areas(rows).items():
        if geom := _ring(hull):
            doc["features"].append({"type": "Feature", "geometry": geom, "properties": {
                "kind": "lot_area", "lot": lot, "name": lot_name(lot, bases[lot], names)}})
    for code, hull in member_areas(rows).items():
        if geom := _ring(hull):
            doc["features"].append({"type": "Feature", "geometry": geom, "properties": {
                "kind": "member_area", "member": code, "municipality": names.member(code)}})
    doc.setdefault("properties", {})["note"] = AREA_NOTE + (SYNTHETIC_NOTE if synthetic else "")
    return doc


# -- KML ---------------------------------------------------------------------------------------------------
def _kml_colour(hex_rgb: str, alpha: str = "ff") -> str:
    """#rrggbb → KML's aabbggrr."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"{alpha}{b}{g}{r}"


def _coords(points: Sequence[Sequence[float]]) -> str:
    return " ".join(f"{float(p[0]):.6f},{float(p[1]):.6f},0" for p in points)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{KML_NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def lots_kml(design: Any, names: LotMapNames, title: str, *, synthetic: bool = False) -> bytes:
    """KML 2.2 (UTF-8): a Folder per lot with a Placemark per facility, the lot's area and its day tours."""
    ET.register_namespace("", KML_NS)
    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = _sub(root, "Document")
    _sub(doc, "name", title)
    _sub(doc, "description", f"ロット設計の結果（1ロット＝1契約）。{AREA_NOTE}{SYNTHETIC_NOTE if synthetic else ''}")
    rows = facility_rows(design)
    lots = sorted({r["lot"] for r in rows})
    for i, lot in enumerate(lots):
        style = _sub(doc, "Style")
        style.set("id", f"lot{lot}")
        _sub(_sub(style, "IconStyle"), "color", _kml_colour(colour_of(i)))
        _sub(_sub(style, "LineStyle"), "color", _kml_colour(colour_of(i)))
        _sub(_sub(style, "PolyStyle"), "color", _kml_colour(colour_of(i), "33"))
    summary = {x.id: x for x in design.best.lots} if design.best is not None else {}
    areas = lot_areas(rows)
    for lot in lots:
        part = [r for r in rows if r["lot"] == lot]
        folder = _sub(doc, "Folder")
        _sub(folder, "name", lot_name(lot, part[0]["base"], names))
        if (s := summary.get(lot)) is not None:
            _sub(folder, "description", f"施設 {s.facilities:,} 件、予定価格（年）{round(s.price_yen / 1000):,} 千円、"
                                        f"移動 {round(s.travel_km):,} km、不調・不落の確率 {s.failure_probability:.0%}")
        for r in part:
            pm = _sub(folder, "Placemark")
            _sub(pm, "name", names.facility(r["facility"]))
            _sub(pm, "description", f"{names.member(r['member'])}／{lot_name(lot, r['base'], names)}")
            _sub(pm, "styleUrl", f"#lot{lot}")
            _sub(_sub(pm, "Point"), "coordinates", _coords([(r["lon"], r["lat"])]))
        hull = areas.get(lot, [])
        if len(hull) >= 3:
            pm = _sub(folder, "Placemark")
            _sub(pm, "name", f"ロット{lot}の区域（凸包）")
            _sub(pm, "styleUrl", f"#lot{lot}")
            ring = _sub(_sub(_sub(_sub(pm, "Polygon"), "outerBoundaryIs"), "LinearRing"), "coordinates")
            ring.text = _coords([*hull, hull[0]])
        for rt in design.routes:
            if int(rt["lot"]) != lot:
                continue
            pm = _sub(folder, "Placemark")
            _sub(pm, "name", f"ロット{lot}の点検巡回 {rt['day']}日目（{rt['sites']} 施設、{rt['km']:.1f} km）")
            _sub(pm, "styleUrl", f"#lot{lot}")
            _sub(_sub(pm, "LineString"), "coordinates", _coords(rt["coordinates"]))
    buf = io.BytesIO()
    ET.ElementTree(root).write(buf, encoding="utf-8", xml_declaration=True)
    return buf.getvalue()


# -- label placement ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Label:
    """A label placed on the map: its text, anchor point (text start, baseline) and box (x0, y0, x1, y1)."""

    text: str
    x: float
    y: float
    box: tuple[float, float, float, float]
    kind: str = ""


def text_width(text: str, size: float) -> float:
    """An upper estimate of a text's width: full-width characters 1 em, others 0.62 em."""
    return sum(size if ord(ch) > 0x2E7F else 0.62 * size for ch in text)


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(items: Sequence[tuple[str, float, float, str]], *, size: float, width: float, height: float,
                 obstacles: Sequence[tuple[float, float, float, float]] = (), gap: float = 4.0,
                 pad: float = 2.0) -> tuple[list[Label], list[str]]:
    """Greedy placement: for each (text, x, y, kind) in order, try the positions right, left, above, below and
    the four diagonals of the point (then twice as far), keep the first box inside the map that overlaps no
    placed label or obstacle. Returns the placed labels and the texts that could not be placed."""
    placed: list[Label] = []
    skipped: list[str] = []
    taken = list(obstacles)
    for text, x, y, kind in items:
        w, h = text_width(text, size) + 2 * pad, size * 1.2 + 2 * pad
        spot = None
        for k in (1.0, 2.0, 3.5):
            g = gap * k
            for dx, dy in ((g, -h / 2), (-g - w, -h / 2), (-w / 2, -g - h), (-w / 2, g), (g, -g - h),
                           (-g - w, -g - h), (g, g), (-g - w, g)):
                box = (x + dx, y + dy, x + dx + w, y + dy + h)
                if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
                    continue
                if any(_overlaps(box, t) for t in taken):
                    continue
                spot = box
                break
            if spot:
                break
        if spot is None:
            skipped.append(text)
            continue
        taken.append(spot)
        placed.append(Label(text, round(spot[0] + pad, 1), round(spot[3] - pad - size * 0.25, 1),
                            tuple(round(v, 1) for v in spot), kind))  # type: ignore[arg-type]
    return placed, skipped


# -- PNG ---------------------------------------------------------------------------------------------------
def lots_png(design: Any, names: LotMapNames, offices: Mapping[str, tuple[float, float]], title: str, *,
             synthetic: bool = False) -> bytes:
    """The lot map as a PNG (1600 px wide): member areas, lot areas, day tours, facilities, offices (■) and
    names in the shipped Japanese font; lat/lon axes (equirectangular around the group)."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    from gunmane.io.reports.fonts import register_matplotlib_font

    rows = facility_rows(design)
    family = register_matplotlib_font()
    lots = sorted({r["lot"] for r in rows})
    colour = {lot: colour_of(i) for i, lot in enumerate(lots)}
    with _RENDER_LOCK, rc_context(cast(Any, {"font.family": family, "axes.unicode_minus": False, "font.size": 9})):
        fig = Figure(figsize=(8, 6.4), dpi=200, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for hull in member_areas(rows).values():
            if len(hull) >= 3:
                ax.add_patch(Polygon(hull, closed=True, facecolor="#607080", alpha=0.08, edgecolor="#607080",
                                     linestyle="--", linewidth=0.8))
        for lot, hull in lot_areas(rows).items():
            if len(hull) >= 3:
                ax.add_patch(Polygon(hull, closed=True, fill=False, edgecolor=colour[lot], linewidth=1.2))
        for rt in design.routes:
            xs, ys = zip(*[(c[0], c[1]) for c in rt["coordinates"]], strict=True)
            ax.plot(xs, ys, color=colour.get(int(rt["lot"]), "#999"), linewidth=0.4, alpha=0.4)
        for lot in lots:
            part = [r for r in rows if r["lot"] == lot]
            ax.scatter([r["lon"] for r in part], [r["lat"] for r in part], s=5, color=colour[lot],
                       label=lot_name(lot, part[0]["base"], names), zorder=3)
        lon0 = min((r["lon"] for r in rows), default=0.0)
        lat0 = min((r["lat"] for r in rows), default=0.0)
        lon1 = max((r["lon"] for r in rows), default=1.0)
        lat1 = max((r["lat"] for r in rows), default=1.0)
        for code, (lat, lon) in offices.items():
            if lat0 - 0.05 <= lat <= lat1 + 0.05 and lon0 - 0.05 <= lon <= lon1 + 0.05:
                ax.scatter([lon], [lat], marker="s", s=30, color="#222", zorder=4)
                ax.annotate(names.member(code), (lon, lat), xytext=(5, 4), textcoords="offset points", fontsize=9, zorder=5)
        ax.set_aspect(1 / max(math.cos(math.radians((lat0 + lat1) / 2)), 0.1))
        ax.set_xlabel("経度")
        ax.set_ylabel("緯度")
        ax.set_title(title)
        if lots:
            ax.legend(loc="best", fontsize=8)
        fig.supxlabel(f"点は施設、■は庁舎、線は点検の巡回経路。{AREA_NOTE}{SYNTHETIC_NOTE if synthetic else ''}",
                      fontsize=7, color="#555")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", facecolor="white")
    return buf.getvalue()
