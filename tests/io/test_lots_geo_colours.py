"""District and lot colours: neighbours never share one, however many districts (the palette has nine)."""

from __future__ import annotations

from gunmane.io.reports.lots_geo import PALETTE, colour_of, distinct_colours


def test_a_grid_of_twenty_districts_has_no_two_neighbours_alike() -> None:
    # 5 × 4 districts of points, each a small square; neighbours touch (as districts of one map do)
    groups = {k + 1: [(x + dx, y + dy) for dx in (0.0, 0.9) for dy in (0.0, 0.9)]
              for k, (x, y) in enumerate((float(i), float(j)) for j in range(4) for i in range(5))}
    colours = distinct_colours(groups)
    assert set(colours) == set(groups)
    for a, (ax, ay) in ((k, pts[0]) for k, pts in groups.items()):
        for b, (bx, by) in ((k, pts[0]) for k, pts in groups.items()):
            if a < b and abs(ax - bx) <= 1 and abs(ay - by) <= 1:  # adjacent, also diagonally
                assert colours[a] != colours[b], (a, b)
    # a grid needs four colours, all from the palette: by index, district 10 would repeat district 1's colour
    assert set(colours.values()) <= set(PALETTE) and len(set(colours.values())) <= 5


def test_far_apart_districts_may_share_and_many_neighbours_go_beyond_the_palette() -> None:
    far = distinct_colours({1: [(0.0, 0.0)], 2: [(100.0, 100.0)]})
    assert far[1] == far[2] == PALETTE[0]
    crowded = distinct_colours({k: [(0.0, 0.0), (1.0, 1.0)] for k in range(12)})  # twelve overlapping districts
    assert len(set(crowded.values())) == 12
    assert colour_of(9) not in PALETTE and colour_of(9) != colour_of(10) and colour_of(9).startswith("#")
