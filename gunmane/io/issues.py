"""What a reader or an importer says about the data: an error, a warning or a skipped row, with where and why.

One type for every import (ledger files, 道路メンテナンス年報 lists, xROAD files): the readers here make
them, the registry's importers add their own (unknown municipality, no permission, blank cell kept …) and
keep them on the ImportRecord as `as_dict()`.

Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Issue:
    """An error, a warning or a skipped row about one cell (row 0: about a whole file).

    `file` names the file where one import reads several (national data: 年報 lists of several years, xROAD
    files); an import of one file (a ledger) leaves it None and its issues do not name it — in `as_dict()`
    neither, so that each keeps the shape its reports and stored ImportRecords have always had.
    """

    row: int
    column: str
    value: str
    code: str
    message_ja: str
    message_en: str
    file: str | None = None

    def as_dict(self, lang: str = "ja") -> dict[str, Any]:
        shown: dict[str, Any] = {} if self.file is None else {"file": self.file}
        shown.update(row=self.row, column=self.column, value=self.value, code=self.code,
                     message=self.message_en if lang == "en" else self.message_ja)
        return shown

    def __str__(self) -> str:
        where = f"{self.row}行目" if self.row else "ファイル"
        column = f"「{self.column}」" if self.column else ""
        text = f"{where}{column} 値「{self.value}」: {self.message_ja}"
        return text if self.file is None else f"{self.file} {text}"
