"""How much work a file may cause before we refuse it (issue #11 §3 "Hostile and broken files").

Every importer reads files that anyone with an editor's login (or a survey link) can send. A 1 MB XLSX can
declare a sheet that inflates to gigabytes, a 50 MB CSV can be one line, a JSON can nest a million deep, a
64 KB CSV can make Python's ``csv.Sniffer`` run for minutes. The readers call the checks here *before* and
*while* reading, and refuse within seconds and in bounded memory with a Japanese message that names the limit.

Limits are settings: :class:`Limits` holds the defaults; every field can be overridden by an environment
variable ``GUNMANE_LIMIT_<FIELD>`` (e.g. ``GUNMANE_LIMIT_ROWS=2000000``), and code (tests, the web settings)
can use :func:`override`. No Django here (io layer).

XLSX is checked in three layers, because openpyxl reads some parts whole and some as a stream:

1. :func:`inspect_xlsx`, before openpyxl opens the file: the declared sizes in the zip directory (Python's
   zipfile never inflates a member beyond its declared size, so these bound the work), the actual inflated
   bytes counted while streaming every XML part once, XML entity declarations (billion laughs — openpyxl
   also uses defusedxml, see :func:`defusedxml_active`), over-long texts, the number of rows and of shared
   strings, and the number of elements of every part that openpyxl parses whole (styles, workbook …);
2. the sheet's ``dimension`` (:func:`check_dimension`), by the caller;
3. while reading (:func:`install_openpyxl_guard`): openpyxl's sheet and shared-string parsers see their XML
   through a guard that counts cells per row, rows, strings, and elements that openpyxl keeps in memory.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import IO, Any

from gunmane.io.errors import IoFileError

__all__ = [
    "ENV_PREFIX",
    "HEADER_ALLOWANCE",
    "MB",
    "FileRefused",
    "Limits",
    "LineBudget",
    "XlsxFacts",
    "check_dimension",
    "check_file_size",
    "check_nesting",
    "csv_error",
    "csv_lines",
    "current",
    "defusedxml_active",
    "inspect_xlsx",
    "install_openpyxl_guard",
    "json_problem",
    "load_json",
    "override",
    "refusal_from_exception",
    "too_many_columns",
    "too_many_rows",
]

ENV_PREFIX = "GUNMANE_LIMIT_"
MB = 1_000_000
HEADER_ALLOWANCE = 20  # rows above the data (titles, notes, a two-row header) not counted as data rows


@dataclass(frozen=True)
class Limits:
    """The limits; each field is also the environment variable ``GUNMANE_LIMIT_<FIELD upper case>``."""

    file_mb: float = 300  # any input file on disk (a 1,000,000-row facility CSV is about 170 MB)
    xlsx_unpacked_mb: float = 200  # an XLSX inflated (sum of every part; declared and actually read)
    rows: int = 1_000_000  # data rows of a table
    columns: int = 500  # columns of a table (cells in a row)
    field_chars: int = 100_000  # characters in one CSV field (one cell)
    row_chars: int = 1_000_000  # characters in one CSV row (all its fields and separators)
    nesting_depth: int = 64  # JSON / TOML arrays and objects inside each other
    json_mb: float = 50  # JSON read whole (Python objects take ~6× the file)
    toml_mb: float = 5  # a scenario file
    xlsx_parts: int = 10_000  # files inside the XLSX zip
    xlsx_part_elements: int = 250_000  # elements of a part openpyxl parses whole (styles.xml, workbook.xml …)
    xlsx_shared_strings: int = 2_000_000  # distinct texts of a workbook (openpyxl keeps them all in memory)
    xlsx_kept_elements: int = 500_000  # elements outside rows that openpyxl's sheet parser keeps in memory

    @classmethod
    def from_env(cls, environ: Any = None) -> Limits:
        """Defaults, overridden by ``GUNMANE_LIMIT_*`` variables (a value that is not a positive number is ignored)."""
        env = os.environ if environ is None else environ
        changes: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            try:
                value = float(raw) if f.type in (float, "float") else int(raw)
            except ValueError:
                continue
            if value > 0:
                changes[f.name] = value
        return replace(cls(), **changes)

    @property
    def file_bytes(self) -> int:
        return int(self.file_mb * MB)

    @property
    def xlsx_unpacked_bytes(self) -> int:
        return int(self.xlsx_unpacked_mb * MB)


_override: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("gunmane_limits", default=None)


def current() -> Limits:
    """The limits in force: an :func:`override` if one is active, else the defaults with the environment."""
    return _override.get() or Limits.from_env()


@contextlib.contextmanager
def override(**changes: Any) -> Iterator[Limits]:
    """Use other limits inside a ``with`` block (tests; a web setting): ``with override(rows=10): …``."""
    limits = replace(current(), **changes)
    token = _override.set(limits)
    try:
        yield limits
    finally:
        _override.reset(token)


class FileRefused(IoFileError):
    """A file refused because reading it would cost more than a limit allows, or because it is hostile.

    ``message_ja`` does not name the file: each reader puts it in front as its own messages do (TableError,
    its sibling in the family, is the refusal with the file's name: gunmane.io.ledger.tabular.refused). ``row``
    and ``column`` say where, when known (row as the user sees it, 1-based). Not a ValueError on purpose:
    openpyxl wraps ValueErrors raised while it reads, and this must reach the reader unchanged.
    """

    column: int | None  # the column's index

    def __init__(self, code: str, message_ja: str, message_en: str, *, row: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(code, message_ja, message_en, row=row, column=column)


def _mb(n: float) -> str:
    return f"{n / MB:,.1f}"


def _limit_mb(mb: float) -> str:
    return f"{mb:g}"


# -- any file ------------------------------------------------------------------------------------------
def check_file_size(path: Path, limit_mb: float | None = None, *, what: str = "ファイル") -> int:
    """The size of ``path`` in bytes; FileRefused when it is over ``limit_mb`` (default: ``file_mb``)."""
    mb = current().file_mb if limit_mb is None else limit_mb
    size = path.stat().st_size
    if size > mb * MB:
        raise FileRefused(
            "file_too_large",
            f"{what}の大きさ（{_mb(size)} MB）が上限（{_limit_mb(mb)} MB）を超えています。ファイルを分けて取り込んでください。",
            f"The file ({_mb(size)} MB) is larger than the limit ({_limit_mb(mb)} MB); split it.")
    return size


# -- CSV ---------------------------------------------------------------------------------------------------
@dataclass
class LineBudget:
    """What :func:`csv_lines` has fed to ``csv.reader`` since the last row: characters, and whether a ``'``."""

    chars: int = 0
    quote: bool = False
    row: int = 1  # the row the reader is on (1-based, as the user sees it)

    def next_row(self) -> bool:
        """Start counting the next row; True if the row just read had an apostrophe (it may need unescaping)."""
        quote = self.quote
        self.chars = 0
        self.quote = False
        self.row += 1
        return quote


def csv_lines(fh: IO[str], budget: LineBudget, limits: Limits | None = None) -> Iterator[str]:
    """The lines of a text file for ``csv.reader``, refusing a row longer than ``row_chars`` before it is built.

    ``csv.reader`` builds a whole row (a list of every field) before it can be checked: a 50 MB line of commas
    would be 50 million fields. Lines are read with a length cap, and the characters since the last row
    (``budget``, reset by the caller after each row) are counted, so quoted fields spanning lines count too.
    Sets the csv module's field limit to ``field_chars`` (a process-wide setting, always set to this value).
    """
    lim = limits or current()
    csv.field_size_limit(lim.field_chars)
    readline = fh.readline
    cap = lim.row_chars
    while line := readline(cap + 1):
        budget.chars += len(line)
        if budget.chars > cap:
            raise FileRefused(
                "row_too_long",
                f"{budget.row}行目: 1行の長さが上限（{cap:,}文字）を超えています。改行のない巨大なファイルか、"
                "引用符（\"）の閉じ忘れではないか確認してください。",
                f"Row {budget.row}: longer than the limit ({cap:,} characters).", row=budget.row)
        if "'" in line:
            budget.quote = True
        yield line


def csv_error(exc: csv.Error, row: int, limits: Limits | None = None) -> FileRefused:
    """A ``csv.Error`` (field larger than the limit, a stray quote …) as a Japanese refusal naming the row."""
    lim = limits or current()
    if "field larger than field limit" in str(exc):
        return FileRefused(
            "field_too_long",
            f"{row}行目: 1つのセルの文字数が上限（{lim.field_chars:,}文字）を超えています。"
            "引用符（\"）の閉じ忘れがないか確認してください。",
            f"Row {row}: a field is longer than the limit ({lim.field_chars:,} characters).", row=row)
    return FileRefused("csv_unreadable",
                       f"{row}行目: CSV の区切り・引用符（\"）を読み取れません（{exc}）。",
                       f"Row {row}: cannot parse the CSV ({exc}).", row=row)


def too_many_rows(rows: int, limit: int, *, where: str = "") -> FileRefused:
    at = f"（{where}）" if where else ""
    return FileRefused("too_many_rows",
                       f"行数が上限（{limit:,}行）を超えています{at}。ファイルを分けて取り込んでください。",
                       f"More rows than the limit ({limit:,}){' (' + where + ')' if where else ''}; split the file.",
                       row=rows)


def too_many_columns(columns: int, limit: int, *, row: int | None = None, at_least: bool = False) -> FileRefused:
    at = f"{row}行目: " if row else ""
    count = f"{columns:,}列以上" if at_least else f"{columns:,}列"
    return FileRefused("too_many_columns",
                       f"{at}列数（{count}）が上限（{limit:,}列）を超えています。不要な列を削除してください。",
                       f"{'Row ' + str(row) + ': ' if row else ''}{columns:,} columns, more than the limit ({limit:,}).",
                       row=row, column=columns)


# -- JSON and nesting -----------------------------------------------------------------------------------
def check_nesting(value: Any, limit: int | None = None) -> None:
    """FileRefused when arrays/objects nest deeper than ``nesting_depth`` (checked without recursion)."""
    depth_limit = current().nesting_depth if limit is None else limit
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > depth_limit:
            raise _too_deep(depth_limit)
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


def _too_deep(limit: int) -> FileRefused:
    return FileRefused("nesting_too_deep",
                       f"入れ子（[ ] や {{ }}）の深さが上限（{limit}段）を超えています。",
                       f"Arrays/objects nest deeper than the limit ({limit}).")


def json_problem(exc: ValueError) -> tuple[str, str]:
    """(Japanese, English) for why a text is not JSON: where the parser stopped, or a number too long to read."""
    if isinstance(exc, json.JSONDecodeError):
        return (f"{exc.lineno}行目・{exc.colno}文字目で JSON の書き方が正しくありません（{exc.msg}）。"
                "ファイルが途中で切れていないか確認してください", f"line {exc.lineno}, column {exc.colno}: {exc.msg}")
    return "桁数が多すぎる数値があります", str(exc)


def load_json(path: Path) -> Any:
    """Parse a JSON file (UTF-8, a BOM allowed) within the size and nesting limits.

    Raises FileRefused for the limits, UnicodeDecodeError or ValueError (json.JSONDecodeError, a number with
    too many digits) for what is not JSON — the caller words those.
    """
    lim = current()
    check_file_size(path, lim.json_mb, what="JSON ファイル")
    text = path.read_bytes().decode("utf-8-sig")
    try:
        data = json.loads(text)
    except RecursionError as exc:  # the C scanner recurses per level: deep nesting ends here, not in a crash
        raise _too_deep(lim.nesting_depth) from exc
    check_nesting(data, lim.nesting_depth)
    return data


# -- XLSX -----------------------------------------------------------------------------------------------
MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_BLOCK = 1 << 20
_TAIL = 32  # bytes carried between blocks so that patterns across a block boundary are seen
_NS_DECL = re.compile(rb'xmlns:([A-Za-z_][\w.\-]*)\s*=\s*["\']' + re.escape(MAIN_NS) + rb'["\']')
_WHOLE_PARSED = ("[Content_Types].xml", "xl/styles.xml", "docProps/core.xml", "docProps/custom.xml")


def _unreadable(detail_ja: str, detail_en: str, code: str = "xlsx_unreadable") -> FileRefused:
    return FileRefused(code, f"Excel ファイル（.xlsx）として読めません（{detail_ja}）。Excel で開いて .xlsx 形式で保存し直してください。",
                       f"Cannot read as an .xlsx workbook ({detail_en}).")


def _unpacked_too_large(size: int, limit_mb: float, *, declared: bool) -> FileRefused:
    how = "展開すると" if declared else "展開した結果"
    return FileRefused(
        "xlsx_unpacked_too_large",
        f"展開後の大きさが上限（{_limit_mb(limit_mb)} MB）を超えています（{how} {_mb(size)} MB）。"
        "Excel ファイルを分けるか、CSV で保存して取り込んでください。",
        f"The unpacked workbook ({_mb(size)} MB) is larger than the limit ({_limit_mb(limit_mb)} MB).")


def _xml_entities() -> FileRefused:
    return FileRefused(
        "xml_entities",
        "Excel ファイルの中に XML の実体宣言（DOCTYPE・ENTITY）があります。安全のため読みません"
        "（Excel はこれを書きません）。Excel で開いて .xlsx 形式で保存し直してください。",
        "The workbook contains XML entity declarations (DOCTYPE/ENTITY); refused for safety.")


def _value_too_long(part: str, limit: int) -> FileRefused:
    return FileRefused(
        "field_too_long",
        f"Excel ファイルの部品「{part}」に、上限（{limit:,}文字）を超える長さの値があります。",
        f"Part {part}: a value longer than the limit ({limit:,} characters).")


@dataclass
class _PartScan:
    """Counts of one XML part of the zip, from one streamed pass over its bytes."""

    name: str
    size: int = 0
    elements: int = 0  # '<' characters: tags, an upper bound of the elements
    rows: int = 0
    strings: int = 0


def _count(buf: bytes, start: int, pattern: bytes) -> int:
    """Occurrences of ``pattern`` in ``buf`` that end after ``start`` (the carried tail was counted before)."""
    return buf.count(pattern, max(0, start - len(pattern) + 1))


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, lim: Limits, budget: list[int],
               prefixes: tuple[bytes, ...] = (b"",)) -> _PartScan | None:
    """One pass over a part's inflated bytes (never held whole); None if it is not XML (images, binaries).

    ``budget`` is the number of inflated bytes still allowed for the whole workbook (decremented). A text or
    attribute value is bounded by looking at the distance between '<' characters across blocks: a value is
    refused when it is longer than ``field_chars`` × 8 bytes (``&#26045;`` is 8 bytes for one character), or
    longer than one block (1 MB) within a block.
    """
    scan = _PartScan(info.filename)
    rows = [b"<" + p + b"row" for p in prefixes]
    row_breaks = [b"<" + p + b"rowBreaks" for p in prefixes]
    strings = [b"<" + p + b"si" for p in prefixes]
    max_run = lim.field_chars * 8 + 1024
    run = 0
    tail = b""
    found_prefixes: set[bytes] = set()
    with zf.open(info) as fh:
        first = True
        while block := fh.read(_BLOCK):
            budget[0] -= len(block)
            if budget[0] < 0:
                raise _unpacked_too_large(lim.xlsx_unpacked_bytes - budget[0], lim.xlsx_unpacked_mb,
                                          declared=False)
            if first:
                head = block.lstrip(b"\xef\xbb\xbf \t\r\n")
                if block.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
                    raise _unreadable(f"部品「{info.filename}」が UTF-16", f"part {info.filename} is UTF-16")
                if not head.startswith(b"<"):
                    return None  # not XML: openpyxl never parses it (or fails at its first byte)
                first = False
            scan.size += len(block)
            buf = tail + block
            start = len(tail)
            scan.elements += block.count(b"<")
            scan.rows += sum(_count(buf, start, p) for p in rows) - sum(_count(buf, start, p) for p in row_breaks)
            scan.strings += sum(_count(buf, start, p) for p in strings)
            if _count(buf, start, b"<!DOCTYPE") or _count(buf, start, b"<!ENTITY"):
                raise _xml_entities()
            if _count(buf, start, b"<![CDATA["):
                raise _unreadable(f"部品「{info.filename}」に Excel が書かない CDATA があります",
                                  f"part {info.filename} has CDATA")
            if b"xmlns:" in buf:
                found_prefixes.update(m[1] for m in _NS_DECL.finditer(buf))
            last = block.rfind(b"<")
            if last < 0:
                run += len(block)
            else:
                run += block.find(b"<")
                if run > max_run:
                    raise _value_too_long(info.filename, lim.field_chars)
                run = len(block) - last - 1
            if run > max_run:
                raise _value_too_long(info.filename, lim.field_chars)
            tail = buf[-_TAIL:]
    extra = tuple(p + b":" for p in sorted(found_prefixes) if p + b":" not in prefixes)
    if extra:  # rows and strings written as <x:row>: count them too (rare: a second pass)
        budget[0] += scan.size
        return _scan_part(zf, info, lim, budget, (*prefixes, *extra))
    return scan


def _stream_parsed(zf: zipfile.ZipFile) -> set[str]:
    """Parts that openpyxl (read-only) reads as a stream: the worksheets and the shared strings — as openpyxl
    finds them — minus any part that something else also reads whole (a hostile file could point its
    workbook or a chart at the same part)."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.packaging.relationship import get_dependents, get_rels_path
    from openpyxl.reader import excel
    from openpyxl.xml.constants import SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    manifest: Any = Manifest
    package: Any = manifest.from_tree(fromstring(zf.read("[Content_Types].xml")))
    workbook: str = excel._find_workbook_part(package).PartName[1:]  # type: ignore[attr-defined]
    streamed: set[str] = set()
    shared = package.find(SHARED_STRINGS)
    if shared is not None:
        streamed.add(shared.PartName[1:])
    names = set(zf.namelist())
    whole = {*_WHOLE_PARSED, workbook}
    for rels_name in (n for n in names if n.endswith(".rels")):
        whole.add(rels_name)
        dependents: Any = get_dependents(zf, rels_name)
        for rel in dependents:
            if rel.TargetMode == "External":
                continue
            if rels_name == get_rels_path(workbook) and rel.Type.endswith("/worksheet"):
                streamed.add(rel.target)
            elif not rel.Type.endswith(("/worksheet", "/sharedStrings")):
                whole.add(rel.target)
    return streamed - whole


@dataclass(frozen=True)
class XlsxFacts:
    """What :func:`inspect_xlsx` learned: inflated size and the largest row count of any part."""

    unpacked_bytes: int
    rows: int
    strings: int


def inspect_xlsx(path: Path) -> XlsxFacts:
    """Check an XLSX before openpyxl opens it; FileRefused when it is over a limit, hostile or not a zip.

    Reads the zip directory (declared sizes), then streams every XML part once (C-speed counts, nothing held).
    """
    lim = current()
    check_file_size(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise _unreadable("zip 形式ではありません", f"not a zip file: {type(exc).__name__}") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > lim.xlsx_parts:
            raise FileRefused("xlsx_too_many_parts",
                              f"Excel ファイルの中のファイル数（{len(infos):,}）が上限（{lim.xlsx_parts:,}）を超えています。",
                              f"{len(infos):,} files inside the workbook, more than the limit ({lim.xlsx_parts:,}).")
        declared = sum(i.file_size for i in infos)
        if declared > lim.xlsx_unpacked_bytes:
            raise _unpacked_too_large(declared, lim.xlsx_unpacked_mb, declared=True)
        budget = [lim.xlsx_unpacked_bytes]
        scans: list[_PartScan] = []
        try:
            for info in infos:
                scan = _scan_part(zf, info, lim, budget)
                if scan is not None:
                    scans.append(scan)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, zlib.error) as exc:
            # a bad CRC (a member inflating beyond its declared size stops there), truncation, encryption …
            raise _unreadable(f"壊れているか暗号化されています: {type(exc).__name__}",
                              f"damaged or encrypted: {type(exc).__name__}") from exc
        rows_limit = lim.rows + HEADER_ALLOWANCE
        most_rows = max((s.rows for s in scans), default=0)
        if most_rows > rows_limit:
            raise too_many_rows(most_rows, lim.rows, where=f"シートに約{most_rows:,}行")
        strings = max((s.strings for s in scans), default=0)
        if strings > lim.xlsx_shared_strings:
            raise FileRefused("too_many_strings",
                              f"Excel ファイルの文字列の種類（約{strings:,}）が上限（{lim.xlsx_shared_strings:,}）を超えています。"
                              "CSV で保存して取り込んでください。",
                              f"About {strings:,} distinct texts, more than the limit ({lim.xlsx_shared_strings:,}).")
        big = [s for s in scans if s.elements > lim.xlsx_part_elements]
        if big:
            small_enough = {s.name for s in scans if s.elements <= lim.xlsx_part_elements}
            if "[Content_Types].xml" not in small_enough or any(
                    n.endswith(".rels") and n not in small_enough for n in (s.name for s in scans)):
                streamed: set[str] = set()
            else:
                try:
                    streamed = _stream_parsed(zf)
                except Exception:  # noqa: BLE001 — a layout we cannot follow: nothing is exempt
                    streamed = set()
            for s in big:
                if s.name not in streamed:
                    raise FileRefused(
                        "xlsx_part_too_complex",
                        f"Excel ファイルの部品「{s.name}」の要素数（約{s.elements:,}）が上限（{lim.xlsx_part_elements:,}）を"
                        "超えています（書式などが極端に多いファイルです）。Excel で開いて保存し直すか、CSV で保存してください。",
                        f"Part {s.name} has about {s.elements:,} elements, more than the limit "
                        f"({lim.xlsx_part_elements:,}).")
        return XlsxFacts(lim.xlsx_unpacked_bytes - budget[0], most_rows, strings)


def check_dimension(max_row: int | None, max_column: int | None, *, header_rows: int = 0,
                    sheet: str = "") -> None:
    """The sheet's declared ``dimension`` (openpyxl's max_row / max_column) against the row and column limits."""
    lim = current()
    where = f"シート「{sheet}」" if sheet else ""
    if max_column and max_column > lim.columns:
        raise FileRefused("too_many_columns",
                          f"{where}の列数（{max_column:,}列）が上限（{lim.columns:,}列）を超えています。不要な列を削除してください。",
                          f"Sheet {sheet}: {max_column:,} columns, more than the limit ({lim.columns:,}).",
                          column=max_column)
    if max_row and max_row - header_rows > lim.rows + HEADER_ALLOWANCE:
        raise too_many_rows(max_row, lim.rows, where=f"{where}{max_row:,}行" if where else f"{max_row:,}行")


def defusedxml_active() -> bool:
    """Whether openpyxl parses with defusedxml (refuses XML entities itself), as it does when it is installed."""
    from openpyxl import DEFUSEDXML

    return bool(DEFUSEDXML)


def refusal_from_exception(exc: BaseException) -> FileRefused | None:
    """A FileRefused for an exception openpyxl raised while reading (ours, or defusedxml's in its cause chain)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, FileRefused):
            return cur
        if type(cur).__module__.startswith("defusedxml"):
            return _xml_entities()
        if isinstance(cur, RecursionError):  # openpyxl builds its objects from deeply nested XML recursively
            return FileRefused("xlsx_too_complex", "Excel ファイルの要素の入れ子が深すぎます。Excel で開いて保存し直してください。",
                               "XML elements nested too deeply.")
        cur = cur.__cause__ or cur.__context__
    return None


# -- while openpyxl reads ----------------------------------------------------------------------------------
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _SHEET_DATA, _SI = (_SHEET_NS + t for t in ("row", "c", "sheetData", "si"))
# Elements of a cell or a shared string (values, formulas, rich text runs and their fonts, phonetic guides):
# they are freed with their row or string; any other element is kept by openpyxl until the end.
_TEXT_PARTS = frozenset(_SHEET_NS + t for t in (
    "t", "r", "rPr", "rPh", "phoneticPr", "b", "i", "u", "strike", "condense", "extend", "outline", "shadow",
    "vertAlign", "sz", "color", "rFont", "family", "charset", "scheme"))
_CELL_PARTS = _TEXT_PARTS | frozenset(_SHEET_NS + t for t in ("c", "v", "f", "is"))
_installed = False


def _guard_sheet(events: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """openpyxl's sheet parser, watched: cells per row, rows (and their numbers), elements kept in memory.

    openpyxl clears each row after parsing it but keeps every element it does not know, and the shells of
    the rows: those are counted. So are the elements of the row being built: a row of 50 million cells is
    refused at the first cell over the limit, not after it is built.
    """
    lim = current()
    cells_limit = lim.columns
    per_row = lim.columns * 64 + 10_000  # a cell with rich text has a dozen elements
    rows_limit = lim.rows + HEADER_ALLOWANCE
    rows = cells = parts = kept = last = 0  # last: the Excel number of the last row read
    for event, element in events:
        tag = element.tag
        if tag == _ROW:
            rows += 1
            number = element.get("r")
            last = int(number) if number is not None and number.isdigit() else last + 1
            if rows > rows_limit or last > rows_limit:
                raise too_many_rows(rows, lim.rows, where=f"{last:,}行目")
            cells = parts = 0
        elif tag in _CELL_PARTS:
            parts += 1
            if tag == _CELL:
                cells += 1
                if cells > cells_limit:
                    raise too_many_columns(cells, cells_limit, row=last + 1, at_least=True)
            if parts > per_row:
                raise _too_complex("row", per_row)
        else:
            kept += 1
            if kept > lim.xlsx_kept_elements:
                raise _too_complex("sheet", lim.xlsx_kept_elements)
        yield event, element


def _guard_strings(events: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """openpyxl's shared-string parser, watched: strings, elements per string, elements kept outside strings."""
    lim = current()
    strings = parts = kept = 0
    for event, element in events:
        tag = element.tag
        if tag == _SI:
            strings += 1
            if strings > lim.xlsx_shared_strings:
                raise FileRefused("too_many_strings",
                                  f"Excel ファイルの文字列の種類が上限（{lim.xlsx_shared_strings:,}）を超えています。"
                                  "CSV で保存して取り込んでください。",
                                  f"More distinct texts than the limit ({lim.xlsx_shared_strings:,}).")
            parts = 0
        elif tag in _TEXT_PARTS:
            parts += 1
            if parts > 10_000:
                raise _too_complex("string", 10_000)
        else:
            kept += 1
            if kept > lim.xlsx_kept_elements:
                raise _too_complex("strings", lim.xlsx_kept_elements)
        yield event, element


def _too_complex(where: str, limit: int) -> FileRefused:
    what = {"row": "1行の要素", "sheet": "シートの行以外の要素", "string": "1つの文字列の要素",
            "strings": "文字列表の要素"}[where]
    return FileRefused("xlsx_too_complex",
                       f"Excel ファイルの{what}の数が上限（{limit:,}）を超えています。Excel で開いて保存し直すか、"
                       "CSV で保存してください。",
                       f"Too many XML elements ({where}; limit {limit:,}).")


def _wrap(original: Callable[..., Any], guard: Callable[[Iterator[Any]], Iterator[Any]]) -> Callable[..., Any]:
    def iterparse(source: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return guard(original(source, *args, **kwargs))

    iterparse.__wrapped__ = original  # type: ignore[attr-defined]
    iterparse.gunmane_guard = True  # type: ignore[attr-defined]
    return iterparse


def install_openpyxl_guard() -> None:
    """Route openpyxl's streaming XML parsers (worksheets, shared strings) through the guards above.

    openpyxl looks ``iterparse`` up in the module of each parser at call time, so replacing that name is enough;
    done once per process (idempotent). tests/io/test_hostile_files.py fails if a new openpyxl stops using it.
    """
    global _installed
    if _installed:
        return
    from openpyxl.reader import strings as strings_module
    from openpyxl.worksheet import _reader as sheet_module

    for module, guard in ((sheet_module, _guard_sheet), (strings_module, _guard_strings)):
        current_parse = module.iterparse
        if not getattr(current_parse, "gunmane_guard", False):
            module.iterparse = _wrap(current_parse, guard)  # type: ignore[attr-defined]
    _installed = True
