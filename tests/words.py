"""What a person reads in a page or a file, and the internal words that must never be in it (issue #12 §3).

A municipal engineer takes our pages and files to the council or to a contract. Names of our notes, evidence
tags, English code words, command lines, snake_case identifiers, a 団体コード where a name belongs, empty
brackets and formulas are words of the developers, not of the reader. `readable_text` turns a response (HTML,
JSON, CSV, XLSX, Word, PDF) into the text a person sees; `internal_words` names each offending word with a
little context. tests/web/test_words.py renders every page for every role and every download through these.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

# ------------------------------------------------------------------------------------------------ readable text

#: elements whose content nobody reads (scripts, styles) — their text is not checked
_HIDDEN = {"script", "style", "template", "noscript"}
#: elements that end a line (so a doubled word across two table cells or paragraphs is not "back-to-back")
_BLOCK = {"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
          "header", "footer", "nav", "table", "thead", "tbody", "dt", "dd", "option", "caption", "figcaption",
          "label", "summary", "details", "ul", "ol", "dl", "main", "aside", "form", "fieldset", "legend", "title",
          "textarea", "pre", "button", "select"}


class _Text(HTMLParser):
    """The text of an HTML page without tags, attributes, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def xlsx_text(content: bytes) -> str:
    """Every cell value, one row a line, cells separated by a tab; booleans as Excel shows them (TRUE/FALSE
    is what a reader sees, and it is a code word in a table meant for people)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    lines: list[str] = []
    for ws in wb.worksheets:
        lines.append(str(ws.title))
        for row in ws.iter_rows(values_only=True):
            cells = []
            for v in row:
                if v is None:
                    continue
                cells.append(str(v))  # True/False stay True/False: the check names them
            if cells:
                lines.append("\t".join(cells))
    return "\n".join(lines)


def docx_text(content: bytes) -> str:
    """Paragraphs and table cells of a Word file (headers and footers included)."""
    from docx import Document

    d = Document(io.BytesIO(content))
    lines = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            lines.append("\t".join(c.text for c in row.cells))
    for section in d.sections:
        lines += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(lines)


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def csv_text(content: bytes) -> str:
    for enc in ("utf-8-sig", "cp932"):
        try:
            raw = content.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raw = content.decode("utf-8", "replace")
    return "\n".join("\t".join(row) for row in csv.reader(io.StringIO(raw)))


def readable_text(content: bytes, content_type: str) -> tuple[str, str]:
    """(kind, text): what a person reads in a response body, by what the body is."""
    ct = content_type.split(";")[0].strip().lower()
    if content.startswith(b"%PDF"):
        return "pdf", pdf_text(content)
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            names = set(z.namelist())
        if "word/document.xml" in names:
            return "docx", docx_text(content)
        if "xl/workbook.xml" in names:
            return "xlsx", xlsx_text(content)
        return "zip", ""
    if ct.startswith("image/") or content.startswith(b"\x89PNG"):
        return "image", ""  # a picture: its words are drawn from the same data the page shows
    if ct == "application/toml":
        return "toml", content.decode("utf-8", "replace")
    if ct == "text/csv":
        return "csv", csv_text(content)
    if ct == "application/json":
        # JSON feeds the page's scripts (map data, progress); its keys are code. The words a person reads
        # from it (labels) are rendered into the page and checked there.
        return "json", ""
    text = content.decode("utf-8", "replace")
    if ct == "text/html" or text.lstrip().startswith("<"):
        return "html", html_text(text)
    return "text", text


# ------------------------------------------------------------------------------------------------ the denylist


@dataclass(frozen=True)
class Finding:
    word: str      # the rule's name (stable: the KNOWN_ELSEWHERE key)
    excerpt: str   # the offending text with a little context
    match: str = ""  # the offending text itself


#: CLI subcommands (a web page must not tell a user to type a command)
SUBCOMMANDS = ("init", "refdata", "import", "fetch", "costing", "effects", "lots", "lcc", "plan", "documents",
               "backup", "restore", "export", "template", "karte", "deterioration", "groups", "demo", "serve",
               "manage")
_A = r"(?<![A-Za-z0-9_])"   # an ASCII word boundary that also holds next to Japanese text
_Z = r"(?![A-Za-z0-9_])"

#: rule name → pattern. Each is an internal word a reader must not meet (the issue names them).
RULES: dict[str, re.Pattern[str]] = {
    "notes": re.compile(r"quantitative-methods|gunmane-policy|DESIGN\.md|\.md\s*§|[A-Za-z_-]+\.md" + _Z),
    "evidence-tag": re.compile(r"\[V\d\]|" + _A + r"V[0-9]" + _Z),
    "issue-number": re.compile(r"(?<![&\w])#\d+" + _Z),
    "english": re.compile(_A + r"(?:excluded|higher_is\w*|hazard\.\w*|HiGHS|Status|None|nan|NaN|True|False"
                          r"|road/bridge|Optimal|INFEASIBLE)" + _Z),
    "command-line": re.compile(_A + r"gunmane\s+(?:" + "|".join(SUBCOMMANDS) + r")" + _Z + r"|--params|--[a-z]+-[a-z]+"),
    "snake_case": re.compile(_A + r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+" + _Z),
    "empty-brackets": re.compile(r"（\s*）|\(\s*\)|「\s*」"),
    "formula": re.compile(r"[⌈⌉⌊⌋]"),
    # the same word (two characters or more, not a number) twice in a row on one line: 「仮定値 仮定値」
    # (a tab separates two table cells: 「不明」 in two columns is not a doubled label)
    "doubled": re.compile(r"(?<![^\s])([^\s\d.,%／/（）()・:：]{2,})[ \u3000]+\1(?![^\s])"),
}
_URL = re.compile(r"https?://[^\s）)」、。]+")
_CODE = re.compile(r"(?<![0-9A-Za-z.,])(\d{6})(?![0-9A-Za-z.,])")


def internal_words(text: str, names_by_code: Mapping[str, str] | None = None) -> list[Finding]:
    """Every internal word of the denylist in the text; a 団体コード of ``names_by_code`` counts when the
    municipality's name is not within a few characters of it (a code alone where a name belongs) and the code is
    not labelled 「団体コード」 on a page that names the municipality."""
    out: list[Finding] = []
    for rule, pattern in RULES.items():
        # an address a reader types or opens (https://…/yobohozen_maint_index.html) is not an identifier of ours
        searched = _URL.sub(lambda m: " " * len(m.group(0)), text) if rule == "snake_case" else text
        for m in pattern.finditer(searched):
            out.append(Finding(rule, _excerpt(text, m.start(), m.end()), m.group(0)))
    for m in _CODE.finditer(text):
        name = (names_by_code or {}).get(m.group(1))
        if name is None:
            continue
        near = text[max(0, m.start() - 40):m.end() + 40]
        labelled = "コード" in text[max(0, m.start() - 12):m.start()] and _short(name) in text
        if _short(name) not in near and not labelled:
            out.append(Finding("bare-code", _excerpt(text, m.start(), m.end()), m.group(0)))
    return out


def _short(name: str) -> str:
    """「奈良県宇陀市」→「宇陀市」: a page may name the municipality without its prefecture."""
    for suffix in ("都", "道", "府", "県"):
        head, sep, tail = name.partition(suffix)
        if sep and tail and len(head) <= 3:
            return tail
    return name


def _excerpt(text: str, start: int, end: int, around: int = 25) -> str:
    return text[max(0, start - around):end + around].replace("\n", "⏎")


def summarize(findings: Iterable[tuple[str, Finding]]) -> str:
    lines = sorted({f"{where} [{f.word}] …{f.excerpt}…" for where, f in findings})
    return "\n".join(lines)
