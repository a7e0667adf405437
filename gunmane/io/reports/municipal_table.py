"""The table of municipalities and their indicators (見える化 「市区町村の一覧」) as CSV or a workbook.

Columns: 団体コード, 団体名, 都道府県コード, 区分, then one column per indicator headed 「label（unit）」.
The CSV ends with a blank line and the sources; the workbook has the sources and definitions on a second
sheet 「出典」.  Unknown values are blank, never 0.  Every text cell is neutralised against formula
injection (gunmane.io.safe_cells).  No Django: the web app passes the rows as plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO, Any

from openpyxl import Workbook

from gunmane.engine.indicator_types import IndicatorDef
from gunmane.io.safe_cells import neutralise_workbook, safe_csv_writer

__all__ = ["LEADING_HEADERS", "municipal_table_csv", "municipal_table_header", "municipal_table_xlsx"]

LEADING_HEADERS = ("団体コード", "団体名", "都道府県コード", "区分")


def municipal_table_header(indicators: Sequence[IndicatorDef]) -> list[str]:
    return [*LEADING_HEADERS, *(f"{d.label_ja}（{d.unit}）" for d in indicators)]


def _cell(value: Any) -> Any:
    """A whole number as one (a count read into a column with blanks is a float: 94.0 is written 94)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def municipal_table_csv(out: IO[str], indicators: Sequence[IndicatorDef], rows: Iterable[Sequence[Any]]) -> None:
    """``rows`` are [code, name, prefecture code, kind, *one value per indicator] (None for unknown)."""
    w = safe_csv_writer(out, lineterminator="\r\n")
    w.writerow(municipal_table_header(indicators))
    w.writerows([_cell(v) for v in row] for row in rows)
    w.writerow([])
    w.writerow(["出典：" + " / ".join(sorted({d.source for d in indicators}))])


def municipal_table_xlsx(out: IO[bytes], indicators: Sequence[IndicatorDef], rows: Iterable[Sequence[Any]]) -> None:
    """The same rows as :func:`municipal_table_csv` on sheet 「市区町村」, the indicators' definitions on 「出典」."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "市区町村"
    ws.append(municipal_table_header(indicators))
    for row in rows:
        ws.append([_cell(v) for v in row])
    ws.freeze_panes = "C2"
    src = wb.create_sheet("出典")
    for d in indicators:
        src.append([d.id, d.label_ja, d.unit, d.definition_ja, d.source])
    neutralise_workbook(wb)
    wb.save(out)
