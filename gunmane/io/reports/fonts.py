"""The Japanese font shipped with gunmane (IPAexGothic), registered with reportlab and matplotlib.

Generated PDFs and charts must render Japanese on any machine — a municipal PC inside LGWAN has no
guarantee of any system font — so both the PDF writer (gunmane.io.reports.karte_pdf) and the chart renderer
(gunmane.io.reports.charts) use only the TrueType font in ``gunmane/fonts/ipaexg.ttf``
(licence and origin: gunmane/fonts/PROVENANCE.md).  Registration is idempotent.
"""

from __future__ import annotations

import functools
import tempfile
from importlib.resources import files
from pathlib import Path

FONT_NAME = "IPAexGothic"  # the name registered with reportlab (and the font's own family name)
FONT_FILE = "ipaexg.ttf"


class FontMissing(RuntimeError):
    """The shipped font file is absent (a broken installation)."""


@functools.cache
def font_path() -> Path:
    """The filesystem path of the shipped ``ipaexg.ttf``.

    gunmane/fonts is package data without an ``__init__.py``; when the package is installed as a
    zip the file is copied once to a temporary directory, because both reportlab and matplotlib
    need a real path.
    """
    resource = files("gunmane").joinpath("fonts", FONT_FILE)
    if isinstance(resource, Path):
        if not resource.is_file():
            raise FontMissing(f"日本語フォント {resource} が見つかりません（gunmane の再インストールが必要です）。")
        return resource
    if not resource.is_file():
        raise FontMissing(f"日本語フォント gunmane/fonts/{FONT_FILE} が見つかりません。")
    target = Path(tempfile.mkdtemp(prefix="gunmane-font-")) / FONT_FILE
    target.write_bytes(resource.read_bytes())
    return target


@functools.cache
def register_reportlab_font() -> str:
    """Register IPAexGothic with reportlab (embedded as a subset in every PDF); returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_path())))
    return FONT_NAME


@functools.cache
def register_matplotlib_font() -> str:
    """Add IPAexGothic to matplotlib's font manager; returns the family name to use for all chart text."""
    from matplotlib import font_manager

    path = str(font_path())
    font_manager.fontManager.addfont(path)
    return str(font_manager.FontProperties(fname=path).get_name())
