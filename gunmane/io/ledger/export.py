"""Write ledger records back out as CSV, XLSX or JSON — in a shape that imports back unchanged.

CSV and XLSX use the canonical Japanese headers of gunmane.io.ledger.schema (so the file is also a
filled-in template); JSON uses the canonical English keys with ISO dates and grades "I"–"IV". A grade is
written on its facility type's scale (a record's ``scale``: 「C」 on a park, 「緊急度Ⅱ」 on a sewer pipe), as
the importer reads it back.
Synthetic records are labelled: the 合成データ column says はい, and XLSX exports carry a notice row
above the header when any record is synthetic. Every text cell of CSV and XLSX goes through
gunmane.io.safe_cells (a name such as ``=HYPERLINK(…)`` is written ``'=HYPERLINK(…)``); the importer
takes that apostrophe off again (gunmane.io.ledger.tabular), so an export still imports back unchanged.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import IO, Any

from gunmane.io.ledger.grades import ROAD_SCALE, scale_by_id
from gunmane.io.ledger.schema import COLUMNS, LedgerKind
from gunmane.io.safe_cells import safe_cell, safe_csv_writer, safe_row
from gunmane.io.values.parsing import grade_label

ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}
SYNTHETIC_NOTICE = "このファイルには合成データ（架空の施設）が含まれます。実在の施設・点検結果ではありません。"


def export_keys(kind: LedgerKind) -> list[str]:
    return [c.key for c in COLUMNS[kind]]


def to_json_record(kind: LedgerKind, rec: dict[str, Any]) -> dict[str, Any]:
    """Canonical English keys; dates ISO 8601; grade "I"–"IV"; attributes as an object."""
    out: dict[str, Any] = {}
    for key in export_keys(kind):
        value = rec.get(key)
        if key == "grade" and value is not None and not isinstance(value, str):  # (text: already as written)
            value = _written_grade(rec, value, json=True)
        elif isinstance(value, date):
            value = value.isoformat()
        out[key] = value
    if kind == LedgerKind.FACILITIES:
        out["attributes"] = rec.get("attributes") or {}
    return out


def _written_grade(rec: dict[str, Any], value: Any, *, json: bool = False) -> str:
    """A stored grade (its index) as the record's scale writes it: 「Ⅲ」 (JSON "III") on road structures,
    「C」 on a park, 「緊急度Ⅱ」 on a sewer pipe, 「a」 on a river structure."""
    sid = rec.get("scale") or ROAD_SCALE
    if sid == ROAD_SCALE:
        return grade_label(int(value)) if json else ROMAN[int(value)]
    sc = scale_by_id(sid)
    try:
        g = sc.grade(int(value))
    except ValueError:
        return str(value)
    return g.token or g.label if json else g.label  # JSON: the ASCII token ("II" = 緊急度Ⅱ on a sewer pipe)


def write_json(kind: LedgerKind, records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Stream a JSON array (records may be many: never build the whole list)."""
    n = 0
    out.write("[")
    for rec in records:
        out.write(",\n" if n else "\n")
        out.write(json.dumps(to_json_record(kind, rec), ensure_ascii=False))
        n += 1
    out.write("\n]\n")
    return n


def _cell(key: str, value: Any) -> Any:
    if value is None:
        return "不明" if key == "built_year" else ""
    if key == "grade":
        return ROMAN[int(value)]
    if key == "measured_value":
        return value
    if key == "is_synthetic":
        return "はい" if value else ""
    if isinstance(value, date):
        return value.strftime("%Y/%m/%d")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _table(kind: LedgerKind, records: Iterable[dict[str, Any]], attribute_names: Sequence[str]
           ) -> tuple[list[str], Iterable[list[Any]]]:
    cols = COLUMNS[kind]
    headers = [c.header for c in cols] + list(attribute_names)

    def rows() -> Iterable[list[Any]]:
        for rec in records:
            row = [_written_grade(rec, rec[c.key]) if c.key == "grade" and rec.get(c.key) is not None
                   else _cell(c.key, rec.get(c.key)) for c in cols]
            attrs = rec.get("attributes") or {}
            row += [attrs.get(name, "") for name in attribute_names]
            yield row

    return headers, rows()


def write_csv(kind: LedgerKind, records: Iterable[dict[str, Any]], out: IO[str], *,
              attribute_names: Sequence[str] = ()) -> int:
    """CSV for Excel: the caller opens `out` with utf-8-sig (BOM) or cp932."""
    headers, rows = _table(kind, records, attribute_names)
    writer = safe_csv_writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
    return n


def write_xlsx(kind: LedgerKind, records: Iterable[dict[str, Any]], out: IO[bytes], *,
               attribute_names: Sequence[str] = (), synthetic: bool = False, title: str = "") -> int:
    """An .xlsx with one sheet (write-only mode: constant memory for large ledgers)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    ws = wb.create_sheet({LedgerKind.FACILITIES: "施設", LedgerKind.INSPECTIONS: "点検",
                          LedgerKind.MEASURES: "措置"}[kind])
    headers, rows = _table(kind, records, attribute_names)
    if synthetic:
        notice = WriteOnlyCell(ws, value=f"【合成データ】{SYNTHETIC_NOTICE}")
        notice.font = Font(bold=True, color="9C0006")
        ws.append([notice])
    if title:
        ws.append([safe_cell(title)])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=safe_cell(h))  # free attribute names come from users' files
        cell.font = bold
        cell.fill = fill
        header_cells.append(cell)
    ws.append(header_cells)
    n = 0
    for row in rows:
        ws.append(safe_row(row))
        n += 1
    wb.save(out)
    return n


def to_bytes_xlsx(kind: LedgerKind, records: Iterable[dict[str, Any]], **kw: Any) -> bytes:
    buf = io.BytesIO()
    write_xlsx(kind, records, buf, **kw)
    return buf.getvalue()
