"""Render a :class:`~gunmane.io.documents.blocks.Doc` as a Word document (python-docx).

Made to be edited by municipal staff in Word on Japanese Windows: A4 portrait, margins as in
municipal documents; the East Asian font set explicitly (``w:eastAsia`` 游明朝 for text, 游ゴシック for
headings) with MS 明朝 / MS ゴシック declared as alternatives in the font table for older Word; Japanese
as the East Asian language; headings as real 見出し 1–3 (navigation pane); tables as Word tables
(「表 (格子)」) with a repeated header row; page x / y in the footer.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from lxml import etree

from gunmane.io.documents.blocks import Bullets, Doc, Heading, Note, Para, Table
from gunmane.io.reports.pdf_style import MUTED_HEX, NOTE_COLOURS, PRIMARY_HEX, SUBTLE_HEX, TINT_HEX

__all__ = ["render_docx"]

MINCHO = "游明朝"
GOTHIC = "游ゴシック"
ALT_NAMES = {MINCHO: "MS 明朝", GOTHIC: "MS ゴシック"}
LATIN = "Century"
BODY_PT = 10.5
MARGIN_X_MM = 22.0
TEXT_WIDTH_MM = 210.0 - 2 * MARGIN_X_MM
_ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
          "right": WD_ALIGN_PARAGRAPH.RIGHT}


def _word(hex_colour: str) -> str:
    """``#0017c1`` (the PDF style) as Word writes colours: ``0017C1``."""
    return hex_colour.lstrip("#").upper()


# The colours of the PDF version (gunmane.io.reports.pdf_style), so that both files of a document look alike.
_NOTE_COLOUR = {kind: _word(fg) for kind, (fg, _bg) in NOTE_COLOURS.items()}
_NOTE_FILL = {kind: _word(bg) for kind, (_fg, bg) in NOTE_COLOURS.items()}
HEAD_FILL = _word(TINT_HEX)
TOTAL_FILL = _word(SUBTLE_HEX)
HEADING_RGB = RGBColor.from_string(_word(PRIMARY_HEX))
MUTED_RGB = RGBColor.from_string(_word(MUTED_HEX))


def _set_fonts(rpr_owner: Any, east_asia: str, latin: str = LATIN) -> None:
    """Set ascii/hAnsi/eastAsia fonts on a style or run, dropping theme fonts that would override them."""
    rpr = rpr_owner.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:cs"), latin)


def _set_lang(style: ParagraphStyle) -> None:
    rpr = style.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "ja-JP")


def _font_table_alternatives(document: Any) -> None:
    """Declare 游明朝 / 游ゴシック in the font table with their MS alternatives (w:altName), so Word
    without the Yu fonts substitutes the MS ones instead of a random face."""
    part = next((r.target_part for r in document.part.rels.values() if r.reltype.endswith("/fontTable")), None)
    if part is None:
        return
    root = etree.fromstring(part.blob)
    for name, alt in ALT_NAMES.items():
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        alt_el = etree.SubElement(font, qn("w:altName"))
        alt_el.set(qn("w:val"), alt)
        charset = etree.SubElement(font, qn("w:charset"))
        charset.set(qn("w:val"), "80")  # SHIFTJIS_CHARSET
        family = etree.SubElement(font, qn("w:family"))
        family.set(qn("w:val"), "roman" if name == MINCHO else "modern")
        pitch = etree.SubElement(font, qn("w:pitch"))
        pitch.set(qn("w:val"), "variable")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _setup_styles(document: Any) -> None:
    styles = document.styles
    normal = styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _set_fonts(normal.element, MINCHO)
    _set_lang(normal)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.15
    for level, size in ((1, 14.0), (2, 12.0), (3, 11.0)):
        st = styles[f"Heading {level}"]
        _set_fonts(st.element, GOTHIC, GOTHIC)
        st.font.size = Pt(size)
        st.font.bold = True
        st.font.color.rgb = HEADING_RGB
        st.paragraph_format.space_before = Pt(14 if level == 1 else 8)
        st.paragraph_format.space_after = Pt(4)
    for name, size in (("Title", 18.0), ("Subtitle", 10.5)):
        st = styles[name]
        _set_fonts(st.element, GOTHIC, GOTHIC)
        st.font.size = Pt(size)
        st.font.color.rgb = HEADING_RGB if name == "Title" else MUTED_RGB
        st.font.italic = False
    for name, size in (("Table Text", 9.0), ("Table Text Small", 8.0)):
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = normal
        st.font.size = Pt(size)
        st.paragraph_format.space_after = Pt(0)
        st.paragraph_format.line_spacing = 1.0
    for name in ("Header", "Footer", "Caption", "List Bullet"):
        _set_fonts(styles[name].element, MINCHO if name != "Caption" else GOTHIC)
    _font_table_alternatives(document)


def _page_setup(document: Any) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(22)
    section.left_margin, section.right_margin = Mm(MARGIN_X_MM), Mm(MARGIN_X_MM)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)


def _styled(document: Any, text: str, style_id: str) -> Any:
    """A paragraph with a built-in style set by its id (python-docx's lookup by name scans every style
    on each call, which dominated the rendering time)."""
    paragraph = document.add_paragraph(text)
    paragraph._p.style = style_id
    return paragraph


def _field(paragraph: Any, instr: str) -> None:
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def _header_footer(document: Any, doc: Doc) -> None:
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = doc.running_title + ("　【合成データ】" if doc.synthetic else "")
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for run in header.runs:
        run.font.size = Pt(8)
        run.font.color.rgb = MUTED_RGB
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(footer, "PAGE")
    footer.add_run(" / ")
    _field(footer, "NUMPAGES")
    footer.add_run(" ページ")


def _shade(cell: Any, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_JC = {"center": "center", "right": "right"}


def _sub(parent: Any, tag: str, **attrs: str) -> Any:
    el = etree.SubElement(parent, qn(tag))
    for key, value in attrs.items():
        el.set(qn(f"w:{key}"), value)
    return el


def _cell(tr: Any, text: str, width_twips: int, align: str, style_id: str, *, bold: bool, fill: str | None) -> None:
    """One table cell written as XML directly: python-docx's per-property API costs ~2 ms a cell, which
    made a 300-facility specification take seconds."""
    tc = _sub(tr, "w:tc")
    tcpr = _sub(tc, "w:tcPr")
    _sub(tcpr, "w:tcW", w=str(width_twips), type="dxa")
    if fill:
        _sub(tcpr, "w:shd", val="clear", color="auto", fill=fill)
    p = _sub(tc, "w:p")
    ppr = _sub(p, "w:pPr")
    _sub(ppr, "w:pStyle", val=style_id)
    if align in _JC:
        _sub(ppr, "w:jc", val=_JC[align])
    r = _sub(p, "w:r")
    if bold:
        _sub(_sub(r, "w:rPr"), "w:b")
    for k, line in enumerate(text.split("\n")):
        if k:
            _sub(r, "w:br")
        t = _sub(r, "w:t")
        t.text = line
        t.set(_XML_SPACE, "preserve")


def _table(document: Any, t: Table, width_mm: float) -> None:
    if t.caption:
        _styled(document, t.caption, "Caption")
    table = document.add_table(rows=0, cols=len(t.header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    twips = [round(width_mm * w * 1440 / 25.4) for w in t.relative_widths()]
    for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), twips, strict=True):
        col.set(qn("w:w"), str(w))
    style_id = "TableTextSmall" if t.small else "TableText"
    tbl = table._tbl
    head = _sub(tbl, "w:tr")
    _sub(_sub(head, "w:trPr"), "w:tblHeader", val="true")  # repeated on every page
    for k, text in enumerate(t.header):
        _cell(head, text, twips[k], "center", style_id, bold=True, fill=HEAD_FILL)
    first_total = len(t.rows) - t.total_rows
    for r, row in enumerate(t.rows):
        total = r >= first_total
        tr = _sub(tbl, "w:tr")
        _sub(_sub(tr, "w:trPr"), "w:cantSplit", val="true")
        for k, text in enumerate(row):
            _cell(tr, text, twips[k], t.column_align(k), style_id, bold=total, fill=TOTAL_FILL if total else None)
    document.add_paragraph().paragraph_format.space_after = Pt(2)


def _note(document: Any, n: Note, width_mm: float) -> None:
    """A note as a one-cell shaded table: it stays a box when staff edit the text in Word."""
    table = document.add_table(rows=1, cols=1)
    table.style = document.styles["Table Grid"]
    cell = table.rows[0].cells[0]
    cell.width = Mm(width_mm)
    _shade(cell, _NOTE_FILL[n.kind])
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(n.text)
    run.font.size = Pt(9.5)
    run.font.color.rgb = RGBColor.from_string(_NOTE_COLOUR[n.kind])
    run.bold = n.kind == "notice"
    document.add_paragraph().paragraph_format.space_after = Pt(0)


def render_docx(doc: Doc) -> bytes:
    """The document as .docx bytes."""
    document = Document()
    _setup_styles(document)
    _page_setup(document)
    _header_footer(document, doc)
    props = document.core_properties
    props.title, props.subject = doc.title, doc.subject or doc.title
    props.author = props.last_modified_by = doc.author
    props.keywords = "、".join(doc.keywords)
    props.language = "ja-JP"
    text_mm = TEXT_WIDTH_MM

    _styled(document, doc.title, "Title")
    for line in doc.meta:
        _styled(document, line, "Subtitle").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for block in doc.blocks:
        if isinstance(block, Heading):
            _styled(document, block.text, f"Heading{min(max(block.level, 1), 3)}")
        elif isinstance(block, Para):
            p = document.add_paragraph(block.text)
            p.alignment = _ALIGN[block.align]
            char = Pt(9 if block.small else BODY_PT)
            if block.indent or block.hanging:
                p.paragraph_format.left_indent = int(char * (block.indent + block.hanging))
                p.paragraph_format.first_line_indent = -int(char * block.hanging)
            if block.small:
                for run in p.runs:
                    run.font.size = Pt(9)
        elif isinstance(block, Bullets):
            for item in block.items:
                p = document.add_paragraph(f"{block.mark}{item}")
                p.paragraph_format.left_indent = Pt(BODY_PT * 2)
                p.paragraph_format.first_line_indent = -Pt(BODY_PT)
                p.paragraph_format.space_after = Pt(1)
        elif isinstance(block, Table):
            _table(document, block, text_mm)
        elif isinstance(block, Note):
            _note(document, block, text_mm)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
