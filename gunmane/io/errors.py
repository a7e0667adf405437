"""The one family of gunmane.io's file errors: a file that cannot be used, said in Japanese.

    IoFileError
    ├── FileRefused          io/limits.py — over a limit or hostile; the message does not name the file
    ├── TableError           io/ledger/tabular.py — a CSV/XLSX/JSON table that cannot be read
    ├── PairsFileError       io/ledger/pairs.py — a file of inspection pairs (every issue listed)
    ├── NationalFileError    io/national/common.py — a 道路メンテナンス年報 list or an xROAD file
    ├── ScenarioFileError    io/scenario.py — a 効果試算 scenario (TOML)
    ├── ParameterFileError   io/shipped/parameters.py — a sourced-parameter table (also a ValueError)
    │   └── LccParamsError   io/shipped/lcc.py — the LCC cost tables
    ├── PointsFileError      io/districting.py — a points file for `gunmane districts`
    ├── FitFileError         io/districting.py — a deterioration fit JSON read for its repair probability
    └── TemplateError        io/shipped/surveys.py — a shipped survey template (also a ValueError)

Every member carries ``code`` (stable), ``message_ja`` (what a user reads; complete, so a web view can show
it as is: ``except IoFileError as exc: … exc.message_ja``), ``message_en`` (the Japanese when there is no
English), and where it is, when known: ``file`` (as shown to the user), ``row`` (as the user sees it,
1-based), ``column`` (an index or a name) and ``value``. ``str(exc)`` stays what each member always gave.

The CLI turns the family into exit 1 and a message on stderr (gunmane.cli.errors); the engine's errors are
the other family (gunmane.engine.errors). Cell values that are refused one by one (InvalidValue) are not
file errors: the readers report them per row.
"""

from __future__ import annotations

__all__ = ["IoFileError"]


class IoFileError(Exception):
    """A file that cannot be used (as a whole, or at a row over a limit); see the module docstring."""

    def __init__(self, code: str, message_ja: str, message_en: str | None = None, *, file: str | None = None,
                 row: int | None = None, column: int | str | None = None, value: str | None = None) -> None:
        super().__init__(message_ja)
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_ja if message_en is None else message_en
        self.file = file
        self.row = row
        self.column = column
        self.value = value

    def message(self, lang: str = "ja") -> str:
        return self.message_en if lang == "en" else self.message_ja
