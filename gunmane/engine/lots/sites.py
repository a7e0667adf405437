"""Where lots are based and how far their facilities are: great-circle distances (the districting engine's
haversine, R = 6,371 km) on facility coordinates, and the bases a design may use.

Cells (facilities of one member merged on a grid to keep the model small) are placed at the centroid of their
facilities' latitudes and longitudes, so a cell-to-base distance is the haversine distance from that centroid.
Bases are the members' offices, plus — when some of a member's facilities lie farther than the reach limit from
every office, or farther apart than the diameter limit — field bases at the far facilities, which split that
member into lots that each meet the limits (the feasible start)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gunmane.engine.districting.geo import distance_matrix

__all__ = ["Place", "field_bases", "km_between"]


@dataclass(frozen=True)
class Place:
    """A base: the member whose lot it is, where it is (lat/lon, and x/y km on the plane used for the map tours),
    and whether it is the member's office or a field base at a cell of far facilities."""

    member: str
    lat: float
    lon: float
    x: float
    y: float
    office: bool = True


def km_between(lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray) -> np.ndarray:
    """Haversine km from each point a (rows) to each point b (columns), with
    :func:`gunmane.engine.districting.geo.distance_matrix` on the two sets stacked."""
    lat_a, lon_a = np.asarray(lat_a, dtype=float), np.asarray(lon_a, dtype=float)
    lat_b, lon_b = np.asarray(lat_b, dtype=float), np.asarray(lon_b, dtype=float)
    if lat_a.size == 0 or lat_b.size == 0:
        return np.zeros((lat_a.size, lat_b.size))
    d = distance_matrix(np.concatenate([lat_a, lat_b]), np.concatenate([lon_a, lon_b]))
    return d[: lat_a.size, lat_a.size:]


def field_bases(cells: pd.DataFrame, places: dict[str, Place], reach_km: float,
                diameter_km: float) -> tuple[dict[str, Place], list[str | None]]:
    """Field bases that split every member wider than the limits, so that each cell has a lot within reach.

    Per member, greedily: the cells within ``reach_km`` of some office (and, with a diameter limit, within
    ``diameter_km`` of every cell already grouped at that office) stay at the offices; of the rest, the cell
    farthest from the member's office becomes a field base and takes every remaining cell within the reach (and the
    diameter) of it; repeat until every cell is in a group. Each group then meets the reach and diameter limits by
    construction, so a start that puts each group in one lot breaks at most the lot-size limits.

    Returns the field bases (key ``"<団体コード>#<k>"``) and, per cell, the key of its field base (None: an office)."""
    out: dict[str, Place] = {}
    start: list[str | None] = [None] * len(cells)
    lat, lon = cells["lat"].to_numpy(float), cells["lon"].to_numpy(float)
    xs, ys = cells["x"].to_numpy(float), cells["y"].to_numpy(float)
    member = cells["member"].astype(str).to_numpy()
    for code in dict.fromkeys(member.tolist()):
        idx = np.flatnonzero(member == code)
        groups = split_member(lat[idx], lon[idx], [p for p in places.values() if p.office], places.get(code),
                              reach_km, diameter_km)
        for k, (seed, grouped) in enumerate(g for g in groups if g[0] >= 0):
            u, key = int(idx[seed]), f"{code}#{k + 2}"
            out[key] = Place(code, float(lat[u]), float(lon[u]), float(xs[u]), float(ys[u]),
                             office=False)
            for w in idx[grouped].tolist():
                start[w] = key
    return out, start


def split_member(lat: np.ndarray, lon: np.ndarray, offices: list[Place], own: Place | None, reach_km: float,
                 diameter_km: float) -> list[tuple[int, np.ndarray]]:
    """Groups of one member's cells: (−1, cells kept for the offices) first, then (seed cell, its cells) per field
    base. Cells within reach of an office are kept there unless a diameter limit forces them out."""
    n = lat.size
    pair = distance_matrix(lat, lon) if diameter_km > 0 else None
    to_office = km_between(lat, lon, np.array([p.lat for p in offices]), np.array([p.lon for p in offices]))
    left = np.ones(n, dtype=bool)
    groups: list[tuple[int, np.ndarray]] = []
    reached = to_office.min(axis=1) <= reach_km if offices else np.zeros(n, dtype=bool)
    if reached.any():
        order = np.argsort(to_office.min(axis=1))
        kept = _grow([int(u) for u in order if reached[u]], pair, diameter_km)
        left[kept] = False
        groups.append((-1, np.array(kept, dtype=np.int64)))
    home = (own.lat, own.lon) if own is not None else (float(lat.mean()), float(lon.mean()))
    from_home = km_between(lat, lon, np.array([home[0]]), np.array([home[1]]))[:, 0]
    while left.any():
        seed = int(np.flatnonzero(left)[np.argmax(from_home[left])])
        d_seed = km_between(lat, lon, lat[[seed]], lon[[seed]])[:, 0]
        near = [int(u) for u in np.argsort(d_seed) if left[u] and d_seed[u] <= reach_km]
        members = _grow(near, pair, diameter_km)
        left[members] = False
        groups.append((seed, np.array(members, dtype=np.int64)))
    return groups


def _grow(candidates: list[int], pair: np.ndarray | None, diameter_km: float) -> list[int]:
    """The candidates taken in order, each only if within the diameter of every one taken before (all without a
    diameter limit)."""
    if pair is None:
        return candidates
    taken: list[int] = []
    for u in candidates:
        if all(pair[u, t] <= diameter_km for t in taken):
            taken.append(u)
    return taken
