"""PDF checks with pypdf (a pip package) instead of poppler-utils' pdftotext, pdfinfo and pdffonts, so that the
suite runs where poppler is not installed (issue #15 §1). pypdf reads the Japanese of our reportlab PDFs (IPAex
fonts embedded as TrueType subsets with a ToUnicode map) as written; only spaces and line breaks differ from
pdftotext's, so the tests compare texts with white space removed."""

from __future__ import annotations

import io

from pypdf import PdfReader

A4_PT = (595.276, 841.89)  # as pdfinfo prints it: 595.276 x 841.89 pts (A4)


def reader(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def text(content: bytes, page: int | None = None) -> str:
    """The text of every page, or of page ``page`` (1-based), in content-stream order."""
    pages = reader(content).pages
    chosen = pages if page is None else [pages[page - 1]]
    return "\n".join(p.extract_text() or "" for p in chosen)


def fonts(content: bytes) -> dict[str, bool]:
    """Base font name (subset prefix removed) → embedded (a font file in its descriptor), over every page."""
    found: dict[str, bool] = {}
    for page in reader(content).pages:
        resources = page.get("/Resources")
        table = resources.get_object().get("/Font") if resources is not None else None
        for ref in (table.get_object().values() if table is not None else []):
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            inner = descendants.get_object()[0].get_object() if descendants else font
            descriptor = inner.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            name = str(font.get("/BaseFont", "")).lstrip("/")
            name = name.split("+", 1)[1] if len(name) > 7 and name[6] == "+" else name
            found[name] = found.get(name, False) or embedded
    return found


def page_sizes(content: bytes) -> list[tuple[float, float]]:
    """Width and height of every page in points, rounded as pdfinfo prints them."""
    return [(round(float(p.mediabox.width), 3), round(float(p.mediabox.height), 3)) for p in reader(content).pages]
