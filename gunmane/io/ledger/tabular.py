"""Read the tables municipalities really have: CSV (UTF-8, UTF-8 with BOM, CP932) and XLSX.

Streams rows so that a 1,000,000-row file never sits in memory whole. The header row is found
within the first rows (titles, notes and two-row headers with merged cells are common in
municipal Excel ledgers); row numbers are the ones the user sees in Excel.

Hostile and broken files are refused with a TableError, before and while reading, within the limits of
gunmane.io.limits (size, inflated size, rows, columns, field length, nesting). A cell that our own exports
wrote as ``'=…`` (formula neutralised, gunmane.io.safe_cells) is read back as ``=…``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from gunmane.io import limits
from gunmane.io.errors import IoFileError
from gunmane.io.limits import FileRefused
from gunmane.io.safe_cells import unescape_cell

HEADER_SEARCH_ROWS = 10
SNIFF_CHARS = 64 * 1024
ENCODING_CHUNK = 1 << 20
# Sheets of our own template that explain the input and must never be imported.
GUIDE_SHEETS = ("記入例", "入力ルール")

# A header matcher maps a header text (as written) to a canonical column key, or None.
HeaderMatcher = Callable[[str], str | None]


class TableError(IoFileError):
    """The file as a whole cannot be read (not a row-level problem); ``row``/``column`` say where when known.

    Raised by open_table, and also while the rows are read (a row over a limit deep in the file). The message
    names the file (a FileRefused, which does not, becomes one through :func:`refused`).
    """

    column: int | None  # the column's index

    def __init__(self, code: str, message_ja: str, message_en: str, *, row: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(code, message_ja, message_en, row=row, column=column)


def refused(name: str, exc: FileRefused) -> TableError:
    """A limit's refusal as the TableError of file ``name``."""
    return TableError(exc.code, f"{name}: {exc.message_ja}", f"{name}: {exc.message_en}", row=exc.row,
                      column=exc.column)


@dataclass(frozen=True)
class HeaderColumn:
    """One column of the located header: its index, the text as written and the matched key."""

    index: int
    text: str
    key: str | None


@dataclass
class Table:
    """A table ready to stream: where the header is, what it says, and its data rows."""

    path: Path
    file_format: str  # csv | xlsx | json
    encoding: str
    sheet: str | None
    header_rows: tuple[int, ...]
    columns: list[HeaderColumn]
    rows_estimate: int
    _rows: Callable[[], Iterator[tuple[int, Sequence[Any]]]] = field(repr=False)

    def rows(self) -> Iterator[tuple[int, Sequence[Any]]]:
        """Yield (Excel row number, cell values) for every non-blank data row."""
        for chunk in self.chunks():
            yield from chunk

    def chunks(self, size: int = 5000) -> Iterator[list[tuple[int, Sequence[Any]]]]:
        """The rows of rows(), `size` at a time (the last list may be shorter): never the whole table.

        Lists rather than a row per call because a generator step per row costs as much as reading it.
        """
        source = self._rows()
        text_only = self.file_format == "csv"
        while True:
            kept: list[tuple[int, Sequence[Any]]] = []
            while len(kept) < size and (batch := list(islice(source, size - len(kept)))):
                if text_only:  # cells are str: a row is kept when its first cell, or else all joined, has text
                    kept += [item for item in batch if (r := item[1]) and (r[0].strip() or "".join(r).strip())]
                else:
                    kept += [item for item in batch if _nonblank(item[1])]
            if not kept:
                return
            yield kept

    @property
    def keys(self) -> dict[str, HeaderColumn]:
        out: dict[str, HeaderColumn] = {}
        for col in self.columns:
            if col.key and col.key not in out:
                out[col.key] = col
        return out


def _nonblank(values: Sequence[Any]) -> bool:
    return any(v is not None and (not isinstance(v, str) or v.strip()) for v in values)


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else CP932; UTF-16 with its BOM.

    Written by hand because statistical detectors (chardet, charset-normalizer) sometimes call short
    Japanese CP932 files Shift_JIS variants or even Latin encodings; a strict UTF-8 check over the
    whole file (streamed) is exact and the other encodings Japanese office software writes are CP932
    and, for Excel's 「Unicode テキスト」, UTF-16 with a byte-order mark.
    """
    with path.open("rb") as fh:
        return detect_stream_encoding(fh)


def detect_stream_encoding(fh: BinaryIO) -> str:
    """:func:`detect_encoding` of an open, seekable binary file (an upload), read from its start; the
    position afterwards is unspecified.  TableError (``unknown_encoding``) when no encoding fits."""
    fh.seek(0)
    if fh.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        fh.seek(0)
        if (bad := _first_undecodable(fh, "utf-16")) is None:
            return "utf-16"
        raise TableError(
            "unknown_encoding",
            f"UTF-16 のファイルですが、{bad}バイト目付近を読み取れません。"
            "UTF-8 または Shift_JIS（CP932）で保存し直してください。",
            f"A UTF-16 file that cannot be decoded near byte {bad}.")
    fh.seek(0)
    bom = fh.read(3) == codecs.BOM_UTF8
    if not bom:
        fh.seek(0)
    if (bad := _first_undecodable(fh, "utf-8", offset=3 if bom else 0)) is None:
        return "utf-8-sig" if bom else "utf-8"
    if bom:  # a UTF-8 signature, then bytes that are not UTF-8: no other encoding starts so
        raise TableError(
            "unknown_encoding",
            f"UTF-8（BOM付き）のファイルですが、{bad}バイト目付近に UTF-8 ではない文字があります。"
            "UTF-8 または Shift_JIS（CP932）で保存し直してください。",
            f"A UTF-8 file (with BOM) with non-UTF-8 bytes near byte {bad}.")
    fh.seek(0)
    if (bad := _first_undecodable(fh, "cp932")) is None:
        return "cp932"
    raise TableError(
        "unknown_encoding",
        f"文字コードを判別できません（{bad}バイト目付近）。UTF-8 または Shift_JIS（CP932）で保存してください。",
        f"Cannot tell the text encoding (near byte {bad}); save as UTF-8 or CP932.")


def decode_text(data: bytes) -> str:
    """The text of a small file held in memory (a pasted or uploaded CSV), in the encoding
    :func:`detect_encoding` would choose for it (byte-order mark removed); TableError as it raises."""
    return data.decode(detect_stream_encoding(io.BytesIO(data)))


def _first_undecodable(fh: BinaryIO, encoding: str, *, offset: int = 0) -> int | None:
    """The byte position (from the file's start) where ``encoding`` first fails, or None if the rest of the
    file decodes; streamed in chunks so that a large file is never held whole."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        while chunk := fh.read(ENCODING_CHUNK):
            decoder.decode(chunk)
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return offset + exc.start
    return None


def _count_lines(path: Path, encoding: str = "utf-8") -> int:
    n = 0
    if encoding == "utf-16":  # a 0x0A byte is also half of many characters (上 is 0A 4E): count in text
        with path.open(encoding=encoding, newline="") as text:
            while part := text.read(ENCODING_CHUNK):
                n += part.count("\n")
        return n
    with path.open("rb") as fh:
        while chunk := fh.read(ENCODING_CHUNK):
            n += chunk.count(b"\n")
    return n


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class _HeaderGuess:
    score: int
    rows: tuple[int, ...]  # 0-based indexes into the sampled rows
    columns: list[HeaderColumn]


def locate_header(sample: Sequence[Sequence[Any]], match: HeaderMatcher) -> _HeaderGuess | None:
    """Find the header among the first rows: one row, or two rows (a merged group label above).

    A two-row header wins when joining the rows recognises more columns than either row alone, or as
    many as the upper row when the lower row is a continuation (units such as "(m)" and no numbers).
    For two-row headers each column is tried as the lower text, the upper text and both joined, and
    the upper row's merged label is carried right over the columns it spans.
    """
    rows = list(sample[:HEADER_SEARCH_ROWS + 1])
    singles = [[HeaderColumn(j, _text(v), match(_text(v)) if _text(v) else None) for j, v in enumerate(row)]
               for row in rows]
    best: _HeaderGuess | None = None
    for i in range(min(len(rows), HEADER_SEARCH_ROWS)):
        candidates = [_HeaderGuess(_score(singles[i]), (i,), singles[i])]
        if i + 1 < len(rows):
            double = _two_row_header(rows[i], rows[i + 1], match)
            s2, upper, lower = _score(double), _score(singles[i]), _score(singles[i + 1])
            if s2 > max(upper, lower) or (s2 == upper > lower and _continuation(rows[i + 1], singles[i])):
                candidates.append(_HeaderGuess(s2, (i, i + 1), double))
        for guess in candidates:
            if best is None or guess.score > best.score or (
                    guess.score == best.score and len(guess.rows) > len(best.rows) and guess.rows[0] == best.rows[0]):
                best = guess
    if best is None or best.score < 2:
        return None
    return best


def _continuation(lower: Sequence[Any], upper: list[HeaderColumn]) -> bool:
    """A row under the header that only adds units or short sub-labels, such as "(m)" under 延長.

    It has no numbers, no long texts, and is blank under at least half of the recognised columns
    (a data row fills the ID and name columns).
    """
    for v in lower:
        if isinstance(v, (int, float)):
            return False
        text = _text(v).replace(",", "")
        if len(text) > 8:
            return False
        try:
            float(text)
            return False
        except ValueError:
            pass
    known = [c for c in upper if c.key]
    blank = [c for c in known if c.index >= len(lower) or not _text(lower[c.index])]
    return bool(known) and 2 * len(blank) >= len(known)


def _score(columns: list[HeaderColumn]) -> int:
    return len({c.key for c in columns if c.key})


def _two_row_header(upper: Sequence[Any], lower: Sequence[Any], match: HeaderMatcher) -> list[HeaderColumn]:
    width = max(len(upper), len(lower))
    carried = ""
    columns: list[HeaderColumn] = []
    for j in range(width):
        top = _text(upper[j]) if j < len(upper) else ""
        bottom = _text(lower[j]) if j < len(lower) else ""
        if top:
            carried = top
        elif bottom:
            top = carried  # merged cell spanning to the right: openpyxl leaves the others empty
        else:
            carried = ""
        candidates = [t for t in (bottom, top, f"{top}{bottom}") if t]
        key = None
        for cand in candidates:
            key = match(cand)
            if key:
                break
        text = " ".join(t for t in (_text(upper[j]) if j < len(upper) else "", bottom) if t) or top
        columns.append(HeaderColumn(j, text, key))
    return columns


def open_table(path: Path, match: HeaderMatcher, *, display_name: str | None = None) -> Table:
    """Open a CSV, XLSX or JSON file and locate its header; raise TableError when it cannot.

    OSErrors about the path itself (missing, a directory, no permission) are left to the caller, who knows
    what the path was called on its command line or form.
    """
    name = display_name or path.name
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _open_xlsx(path, match, name)
        if suffix == ".xls":
            raise TableError(
                "xls_not_supported",
                f"{name}: 古い Excel 形式（.xls）は読めません。Excel で「.xlsx」形式で保存し直してください。",
                f"{name}: legacy .xls is not supported; save as .xlsx.",
            )
        if suffix == ".json":
            return _open_json(path, match, name)
        return _open_csv(path, match, name)
    except FileRefused as exc:
        raise refused(name, exc) from exc


def _no_header(name: str) -> TableError:
    return TableError(
        "header_not_found",
        f"{name}: 先頭{HEADER_SEARCH_ROWS}行の中に見出し行（団体コード・施設ID・施設名 など）が見つかりません。"
        "テンプレートの見出しを使ってください。",
        f"{name}: no header row (団体コード, 施設ID, 施設名 …) in the first {HEADER_SEARCH_ROWS} rows.",
    )


def _sniff(head: str) -> dict[str, Any]:
    """The delimiter (, TAB ;) that splits the first rows most consistently into more than one column.

    Not csv.Sniffer: its quote-guessing regex takes minutes on 64 KB of ``,"`` (a file anyone can upload);
    this parses the sample once per candidate with the C reader (linear time). Ties go to the comma.
    """
    best: tuple[int, int] = (0, 0)
    chosen: dict[str, Any] = {"delimiter": ","}
    budget = limits.LineBudget()
    for delimiter in (",", "\t", ";"):
        counts: list[int] = []
        try:
            reader = csv.reader(limits.csv_lines(io.StringIO(head), budget), delimiter=delimiter)
            for row in islice(reader, HEADER_SEARCH_ROWS + 5):
                budget.next_row()
                if any(c.strip() for c in row):
                    counts.append(len(row))
        except (csv.Error, FileRefused):
            pass
        budget.next_row()
        if not counts:
            continue
        width = max(set(counts), key=lambda n: (counts.count(n), n))
        score = (counts.count(width), width) if width > 1 else (0, 0)
        if score > best:
            best = score
            spaced = head.count(delimiter + " ") >= max(1, head.count(delimiter)) * 0.9
            chosen = {"delimiter": delimiter, "skipinitialspace": spaced}
    return chosen


def _csv_rows(fh: Any, dialect: dict[str, Any], name: str, lim: limits.Limits,
              first_row: int = 1) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) of a CSV stream within the limits; TableError naming the row when over one."""
    budget = limits.LineBudget(row=first_row)
    reader = csv.reader(limits.csv_lines(fh, budget, lim), csv.excel, **dialect)
    columns = lim.columns
    try:
        for row in reader:
            number = budget.row
            if budget.next_row():
                row = [unescape_cell(c) for c in row]
            if len(row) > columns:
                raise limits.too_many_columns(len(row), columns, row=number)
            yield number, row
    except csv.Error as exc:
        raise refused(name, limits.csv_error(exc, budget.row, lim)) from exc
    except FileRefused as exc:
        raise refused(name, exc) from exc
    except UnicodeDecodeError as exc:  # detect_encoding read the whole file: only if it changed since
        raise TableError("unknown_encoding", f"{name}: {budget.row}行目で文字コードを読み取れません（{exc.encoding}）。",
                         f"{name}: row {budget.row} cannot be decoded as {exc.encoding}.", row=budget.row) from exc


def _open_csv(path: Path, match: HeaderMatcher, name: str) -> Table:
    lim = limits.current()
    limits.check_file_size(path)
    try:
        encoding = detect_encoding(path)
    except TableError as exc:
        raise TableError(exc.code, f"{name}: {exc.message_ja}", f"{name}: {exc.message_en}") from exc
    with path.open(encoding=encoding, newline="") as fh:
        head = fh.read(SNIFF_CHARS)
    dialect = _sniff(head)
    with path.open(encoding=encoding, newline="") as fh:
        sample = [row for _, row in islice(_csv_rows(fh, dialect, name, lim), HEADER_SEARCH_ROWS + 1)]
    guess = locate_header(sample, match)
    if guess is None:
        raise _no_header(name)
    header_end = guess.rows[-1]
    lines = _count_lines(path, encoding)
    if lines - header_end - 1 > lim.rows:  # lines ≥ rows: a quoted field may span lines, never the reverse
        raise refused(name, limits.too_many_rows(lines, lim.rows, where=f"{lines:,}行"))

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        with path.open(encoding=encoding, newline="") as fh:
            source = _csv_rows(fh, dialect, name, lim)
            last = header_end + 1 + lim.rows
            for number, row in islice(source, header_end + 1, None):
                if number > last:
                    raise refused(name, limits.too_many_rows(number, lim.rows))
                yield number, row

    return Table(path, "csv", encoding if encoding in ("cp932", "utf-8", "utf-16") else "utf-8-sig", None, tuple(r + 1 for r in guess.rows), guess.columns,
                 max(0, lines - header_end - 1), rows)


def _xlsx_failure(name: str, exc: BaseException) -> TableError:
    """What openpyxl raised, as a TableError: a limit or defusedxml's refusal by name, anything else unreadable."""
    refusal = limits.refusal_from_exception(exc)
    if refusal is not None:
        return refused(name, refusal)
    return TableError(
        "xlsx_unreadable",
        f"{name}: Excel ファイルとして開けません（{type(exc).__name__}）。ファイルが壊れていないか確認してください。",
        f"{name}: cannot open as an Excel workbook ({type(exc).__name__}).",
    )


def _xlsx_rows(sheet: Any, first: int, name: str, lim: limits.Limits,
               max_row: int | None = None) -> Iterator[tuple[int, list[Any]]]:
    """(Excel row number, values) from ``first``: rows and columns within the limits, our ``'=`` undone."""
    columns = lim.columns
    last = first + lim.rows + limits.HEADER_ALLOWANCE
    try:
        for number, values in enumerate(sheet.iter_rows(min_row=first, max_row=max_row, values_only=True),
                                        start=first):
            if number > last:
                raise limits.too_many_rows(number, lim.rows)
            if len(values) > columns and any(v is not None for v in values[columns:]):
                raise limits.too_many_columns(len(values), columns, row=number)
            row = list(values)
            for j, v in enumerate(row):
                if v.__class__ is str and v[:1] == "'":
                    row[j] = unescape_cell(v)
            yield number, row
    except TableError:
        raise
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many kinds on a broken part; all mean "unreadable"
        raise _xlsx_failure(name, exc) from exc


def _open_xlsx(path: Path, match: HeaderMatcher, name: str) -> Table:
    from openpyxl import load_workbook  # imported here: costly, and CSV users never need it

    lim = limits.current()
    limits.inspect_xlsx(path)  # sizes, inflated bytes, entities, rows, strings: before openpyxl opens it
    limits.install_openpyxl_guard()  # and while it reads
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, a limit …
        raise _xlsx_failure(name, exc) from exc
    try:
        best: tuple[_HeaderGuess, str] | None = None
        sheets = [ws for ws in wb.worksheets if not any(g in ws.title for g in GUIDE_SHEETS)] or wb.worksheets
        for ws in sheets:
            limits.check_dimension(ws.max_row, ws.max_column, sheet=ws.title)
            sample = [r for _, r in _xlsx_rows(ws, 1, name, lim, max_row=HEADER_SEARCH_ROWS + 1)]
            guess = locate_header(sample, match)
            if guess and (best is None or guess.score > best[0].score):
                best = (guess, ws.title)
        if best is None:
            raise _no_header(name)
        guess, title = best
        ws = wb[title]
        max_row = ws.max_row or 0
    finally:
        wb.close()
    header_end = guess.rows[-1] + 1  # Excel row number of the last header row

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 — the same file opened a moment ago: a limit, or it changed
            raise _xlsx_failure(name, exc) from exc
        try:
            yield from _xlsx_rows(book[title], header_end + 1, name, lim)
        finally:
            book.close()

    return Table(path, "xlsx", "xlsx", title, tuple(r + 1 for r in guess.rows), guess.columns,
                 max(0, max_row - header_end), rows)


def _open_json(path: Path, match: HeaderMatcher, name: str) -> Table:
    """A JSON list of objects with canonical keys (what `gunmane export --format json` writes)."""
    lim = limits.current()
    try:
        data = limits.load_json(path)
    except UnicodeDecodeError as exc:
        raise TableError("json_invalid", f"{name}: JSON として読めません（UTF-8 ではありません。{exc.start}バイト目）。",
                         f"{name}: not valid JSON (not UTF-8 at byte {exc.start}).") from exc
    except ValueError as exc:  # json.JSONDecodeError, or a number with more digits than Python converts
        ja, en = limits.json_problem(exc)
        raise TableError("json_invalid", f"{name}: JSON として読めません（{ja}）。",
                         f"{name}: not valid JSON ({en}).") from exc
    if isinstance(data, dict):
        data = data.get("items") or data.get("rows") or []
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise TableError("json_shape", f"{name}: JSON はオブジェクトの配列にしてください。",
                         f"{name}: JSON must be a list of objects.")
    if len(data) > lim.rows:
        raise refused(name, limits.too_many_rows(len(data), lim.rows))
    data = [_flatten_attributes(obj) for obj in data]
    keys: list[str] = []
    seen: set[str] = set()
    for obj in data:
        for k in obj:
            if k not in seen:
                seen.add(k)
                keys.append(k)
                if len(keys) > lim.columns:
                    raise refused(name, limits.too_many_columns(len(keys), lim.columns, at_least=True))
    columns = [HeaderColumn(j, k, match(k)) for j, k in enumerate(keys)]
    if _score(columns) < 2 and data:
        raise _no_header(name)

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        for i, obj in enumerate(data, start=1):
            yield i, [_json_cell(obj.get(k)) for k in keys]

    return Table(path, "json", "utf-8", None, (0,), columns, len(data), rows)


def _flatten_attributes(obj: dict[str, Any]) -> dict[str, Any]:
    """Exports nest free attributes under "attributes"; as columns they import back into attributes."""
    attrs = obj.get("attributes")
    if not isinstance(attrs, dict):
        return obj
    flat = {k: v for k, v in obj.items() if k != "attributes"}
    for k, v in attrs.items():
        flat.setdefault(str(k), v)
    return flat


def _json_cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value
