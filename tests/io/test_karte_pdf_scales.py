"""The カルテ PDF's table per inspection scale (gunmane.io.reports.karte_pdf): only when a scope is not road structures
alone (for road structures the 健全性 chart is that table and the PDF stays as it was), each grade as its manual names
it, 未点検, and the facilities at or beyond the scale's repair trigger. Hand-built karten, no database."""

from __future__ import annotations

import io
from datetime import date, datetime

from gunmane.engine.indicator_types import Karte, Scope, ScopeKind, Series
from gunmane.io.reports.karte_pdf import karte_pdf, scale_due, scale_series
from tests import pdf_checks

LEDGER = "施設台帳（gunmane）"
ROAD = Series("grades-I-IV", "健全性の分布（橋梁、最新の判定）", "施設", ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "未点検"],
              {"施設数": [120.0, 80.0, 12.0, 1.0, 3.0]}, LEDGER, x_label="健全性")
PARK = Series("grades-park-AD", "公園施設の健全度の分布（遊具、最新の判定）", "施設",
              ["健全度A", "健全度B", "健全度C", "健全度D", "未点検"], {"施設数": [6.0, 16.0, 10.0, 3.0, 1.0]}, LEDGER,
              x_label="公園施設の健全度")
SEWER = Series("grades-sewer-urg", "下水道管路の緊急度の分布（管渠、最新の判定）", "施設",
               ["劣化なし", "緊急度Ⅲ", "緊急度Ⅱ", "緊急度Ⅰ", "未点検"], {"施設数": [1234.0, 2.0, 5.0, 1.0, 2.0]}, LEDGER,
               x_label="下水道管路の緊急度")


def _karte(*series: Series) -> Karte:
    return Karte(scope=Scope(ScopeKind.MUNICIPALITY, "292125", "宇陀市", ("292125",)), fiscal_year=2024,
                 as_of=date(2025, 3, 31), indicators=[], series=list(series), has_ledger=True,
                 assumptions=["点検の判定区分は分野ごとの要領の尺度です。"])


def _pdf_text(karte: Karte) -> str:
    buf = io.BytesIO()
    karte_pdf(karte, buf, generated_at=datetime(2025, 11, 27, 9, 30))
    return pdf_checks.text(buf.getvalue())


def test_scale_table_only_beyond_road_structures() -> None:
    assert scale_series(_karte(ROAD)) == []
    assert "分野ごとの判定区分" not in _pdf_text(_karte(ROAD))
    assert [s.id for s in scale_series(_karte(ROAD, PARK, SEWER))] == ["grades-I-IV", "grades-park-AD",
                                                                       "grades-sewer-urg"]
    assert scale_due(ROAD) == ("措置の目安（Ⅲ）以上", 13)
    assert scale_due(PARK) == ("措置の目安（健全度C）以上", 13)
    assert scale_due(SEWER) == ("措置の目安（緊急度Ⅱ）以上", 6)
    lines = [line.strip() for line in _pdf_text(_karte(ROAD, PARK, SEWER)).splitlines()]
    table = lines.index("分野ごとの判定区分（各分野の尺度）")  # (a scale's chart on page 1 has the same title)
    at = lines.index(SEWER.label_ja, table)
    assert lines[at + 1:at + 7] == ["劣化なし 1,234", "緊急度Ⅲ 2", "緊急度Ⅱ 5", "緊急度Ⅰ 1", "未点検 2",
                                    "措置の目安（緊急度Ⅱ）以上 6"]
    at = lines.index(PARK.label_ja, table)
    assert lines[at + 1:at + 7] == ["健全度A 6", "健全度B 16", "健全度C 10", "健全度D 3", "未点検 1",
                                    "措置の目安（健全度C）以上 13"]
